package realhost_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/falcocw/falcocw/internal/realhost"
)

// motoReads reads back, through AWS's own read APIs in moto, what falcocw
// delivered: SQS queues (subscribed to a topic, or a rule's target) and
// Kinesis streams drain as they are read, so what they held is kept in
// got; log groups are read whole each time.
type motoReads struct {
	t     *testing.T
	ctx   context.Context
	sqs   *sqs.Client
	kin   *kinesis.Client
	cw    *cloudwatchlogs.Client
	iters map[string]*string
	got   uuidCounts
}

func newMotoReads(t *testing.T, url string, cfg aws.Config) *motoReads {
	base := aws.String(url)
	return &motoReads{t: t, ctx: context.Background(), iters: map[string]*string{}, got: uuidCounts{},
		sqs: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = base }),
		kin: kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = base }),
		cw:  cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = base })}
}

// queue creates an SQS queue and returns its URL and ARN.
func (r *motoReads) queue(name string) (string, string) {
	q, err := r.sqs.CreateQueue(r.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	must(r.t, err)
	a, err := r.sqs.GetQueueAttributes(r.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	must(r.t, err)
	return aws.ToString(q.QueueUrl), a.Attributes["QueueArn"]
}

// drain reads a queue to its end, counting each message's event (body
// gives it from the message) at dest.
func (r *motoReads) drain(dest, qurl string, body func(string) string) {
	for {
		out, err := r.sqs.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MaxNumberOfMessages: 10})
		if err != nil || len(out.Messages) == 0 {
			return
		}
		for _, m := range out.Messages {
			r.got.add(r.t, dest, body(aws.ToString(m.Body)))
			_, _ = r.sqs.DeleteMessage(r.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(qurl), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

// kinesis reads a one-shard stream from where it last stopped, counting
// each record at dest.
func (r *motoReads) kinesis(dest, stream string) {
	if r.iters[stream] == nil {
		it, err := r.kin.GetShardIterator(r.ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
		must(r.t, err)
		r.iters[stream] = it.ShardIterator
	}
	for {
		out, err := r.kin.GetRecords(r.ctx, &kinesis.GetRecordsInput{ShardIterator: r.iters[stream]})
		must(r.t, err)
		r.iters[stream] = out.NextShardIterator
		for _, rec := range out.Records {
			r.got.add(r.t, dest, string(rec.Data))
		}
		if len(out.Records) == 0 {
			return
		}
	}
}

// logGroup counts every event of a log group at dest ("cloudwatch:GROUP"),
// into out; a group not created yet has none.
func (r *motoReads) logGroup(out uuidCounts, group string) {
	p := cloudwatchlogs.NewFilterLogEventsPaginator(r.cw, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			return
		}
		for _, e := range page.Events {
			out.add(r.t, "cloudwatch:"+group, aws.ToString(e.Message))
		}
	}
}

// counted returns a copy of what the queues and streams held so far.
func (r *motoReads) counted() uuidCounts {
	out := uuidCounts{}
	for k, v := range r.got {
		out[k] = map[string]int{}
		for id, n := range v {
			out[k][id] = n
		}
	}
	return out
}

// eventDetail is the alert an EventBridge event carries as its detail,
// the event as a rule delivers it to SQS.
func eventDetail(t *testing.T) func(string) string {
	return func(s string) string {
		var ev struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(s), &ev); err != nil || ev.Source != "falco" || ev.DetailType != "Falco Alert" {
			t.Errorf("EventBridge event %.300s: %v", s, err)
		}
		return string(ev.Detail)
	}
}

// collect polls (it reads what arrived so far) until the deliveries reach
// want's count or 90 s pass, lets 2 s more for anything extra, stops
// Fluent Bit and reads once more.
func collect(fb *realhost.Process, want realhost.Expect, poll func() uuidCounts) uuidCounts {
	realhost.Until(90*time.Second, func() bool { return poll().total() >= want.Count() })
	time.Sleep(2 * time.Second)
	fb.Stop(20 * time.Second)
	return poll()
}
