// Package sns publishes events to Amazon SNS topics with PublishBatch, for
// alerts that must trigger an automated response: each message is the
// Falco event JSON, and its message attributes (priority, rule, source,
// hostname, tags) let subscription filter policies such as
// {"priority": ["Critical", "Error"]} pick the alerts each Lambda
// function or queue receives.
package sns

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/batch"
	"github.com/falcocw/falcocw/falcocw/dest"
)

// PublishBatch limits, from the SNS API reference.
const (
	MaxBatchEntries = 10
	// MaxBatchBytes bounds a whole batch: messages and attributes together.
	MaxBatchBytes = 256 * 1024
	// MaxAttributes is the most message attributes one message may carry.
	MaxAttributes = 10
	// MaxMessageBytes is the room left for a message after its attributes
	// (at most AttributeBudget bytes) in a single-entry batch.
	MaxMessageBytes = MaxBatchBytes - AttributeBudget
	// AttributeBudget bounds the bytes of one message's attributes.
	AttributeBudget = 4 * 1024
)

// IAMActions are the IAM actions this package calls (PublishBatch is
// authorised by sns:Publish).
var IAMActions = []string{"sns:Publish"}

// Attribute is one message attribute: a String, or a String.Array written
// as a JSON array.
type Attribute struct {
	Name, Type, Value string
}

// Message is one SNS message. ID is the caller's, reported back by
// PublishBatch.
type Message struct {
	ID         int
	Body       []byte
	Attributes []Attribute
}

// Size is what the message counts toward the batch limit.
func (m Message) Size() int {
	n := len(m.Body)
	for _, a := range m.Attributes {
		n += len(a.Name) + len(a.Type) + len(a.Value)
	}
	return n
}

// Batches cuts messages into batches of at most MaxBatchEntries messages
// and MaxBatchBytes bytes. Every message must fit alone.
func Batches(msgs []Message) [][]Message {
	return batch.Cut(msgs, MaxBatchEntries, MaxBatchBytes, Message.Size, nil)
}

// Sink publishes to SNS topics. It is safe for concurrent use.
type Sink struct {
	dest.KeepsNothing
	client *sns.Client
}

// New returns a sink using client.
func New(client *sns.Client) *Sink { return &Sink{client: client} }

// PermanentError reports entries SNS refused for their content
// (SenderFault), which no retry can deliver.
type PermanentError struct {
	IDs  []int
	Code string
	Msg  string
}

// Permanent marks the error as one no retry can cure.
func (e *PermanentError) Permanent() bool { return true }

func (e *PermanentError) Error() string {
	return fmt.Sprintf("SNS refused %d messages: %s: %s", len(e.IDs), e.Code, e.Msg)
}

// PublishBatch publishes one batch (as Batches cut it) to the topic.
// Entries that fail on SNS's side are published again, with backoff and
// jitter, until all are accepted or the flush deadline; entries refused for
// their content end in a *PermanentError. It returns the IDs accepted,
// also when it fails.
func (s *Sink) PublishBatch(ctx context.Context, topic string, batch []Message) (accepted []int, err error) {
	pending := batch
	var refused *PermanentError
	for attempt := 0; ; attempt++ {
		in := &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: make([]types.PublishBatchRequestEntry, len(pending))}
		byEntry := map[string]Message{}
		for i, m := range pending {
			id := strconv.Itoa(m.ID)
			byEntry[id] = m
			e := types.PublishBatchRequestEntry{Id: aws.String(id), Message: aws.String(string(m.Body))}
			if len(m.Attributes) > 0 {
				e.MessageAttributes = make(map[string]types.MessageAttributeValue, len(m.Attributes))
				for _, a := range m.Attributes {
					e.MessageAttributes[a.Name] = types.MessageAttributeValue{DataType: aws.String(a.Type), StringValue: aws.String(a.Value)}
				}
			}
			in.PublishBatchRequestEntries[i] = e
		}
		out, err := s.client.PublishBatch(ctx, in)
		if err != nil {
			return accepted, err
		}
		for _, ok := range out.Successful {
			if m, found := byEntry[aws.ToString(ok.Id)]; found {
				accepted = append(accepted, m.ID)
				delete(byEntry, aws.ToString(ok.Id))
			}
		}
		var again []Message
		var lastErr string
		throttled := false
		for _, f := range out.Failed {
			m, found := byEntry[aws.ToString(f.Id)]
			if !found {
				continue
			}
			delete(byEntry, aws.ToString(f.Id))
			if f.SenderFault {
				if refused == nil {
					refused = &PermanentError{Code: aws.ToString(f.Code), Msg: aws.ToString(f.Message)}
				}
				refused.IDs = append(refused.IDs, m.ID)
				continue
			}
			again = append(again, m)
			lastErr = aws.ToString(f.Code) + ": " + aws.ToString(f.Message)
			throttled = throttled || awserr.ThrottleCode(aws.ToString(f.Code), 0)
		}
		if throttled {
			awsclient.EntriesThrottled(ctx)
		}
		for _, m := range byEntry { // neither successful nor failed: send again
			again = append(again, m)
		}
		if len(again) == 0 {
			if refused != nil {
				return accepted, refused
			}
			return accepted, nil
		}
		pending = again
		if err := awsclient.TooLate(ctx); err != nil {
			return accepted, fmt.Errorf("%d of %d messages failed (last: %s) and %w", len(pending), len(batch), lastErr, err)
		}
		if err := awsclient.PauseBeforeResend(ctx, attempt); err != nil {
			return accepted, fmt.Errorf("%d of %d messages still failing when the flush deadline passed (last: %s): %w",
				len(pending), len(batch), lastErr, err)
		}
	}
}
