// Package firehose delivers records to Amazon Kinesis Data Firehose with
// PutRecordBatch, in batches that respect that API's limits, resending
// exactly the records a batch reports as failed.
package firehose

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// PutRecordBatch limits, from the Firehose API reference.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 4 * 1024 * 1024
	MaxRecordBytes  = 1000 * 1024
)

// Batches cuts records into batches of at most MaxBatchRecords records and
// MaxBatchBytes bytes. Every record must be at most MaxRecordBytes long.
func Batches(records [][]byte) [][][]byte {
	var out [][][]byte
	start, size := 0, 0
	for i, r := range records {
		if i > start && (i-start >= MaxBatchRecords || size+len(r) > MaxBatchBytes) {
			out = append(out, records[start:i])
			start, size = i, 0
		}
		size += len(r)
	}
	if start < len(records) {
		out = append(out, records[start:])
	}
	return out
}

// Sink puts records into delivery streams. It is safe for concurrent use.
type Sink struct {
	client *firehose.Client
}

// New returns a sink using client.
func New(client *firehose.Client) *Sink { return &Sink{client: client} }

// Put sends records to the delivery stream. Records that a batch reports
// as failed (FailedPutCount) are sent again, with backoff, until all are
// accepted or ctx ends. It returns how many were accepted.
func (s *Sink) Put(ctx context.Context, stream string, records [][]byte) (int, error) {
	accepted := 0
	for _, batch := range Batches(records) {
		n, err := s.putBatch(ctx, stream, batch)
		accepted += n
		if err != nil {
			return accepted, err
		}
	}
	return accepted, nil
}

func (s *Sink) putBatch(ctx context.Context, stream string, batch [][]byte) (int, error) {
	accepted := 0
	pending := batch
	for attempt := 0; ; attempt++ {
		in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: make([]types.Record, len(pending))}
		for i, r := range pending {
			in.Records[i] = types.Record{Data: r}
		}
		out, err := s.client.PutRecordBatch(ctx, in)
		if err != nil {
			return accepted, err
		}
		failed := aws.ToInt32(out.FailedPutCount)
		if failed == 0 {
			return accepted + len(pending), nil
		}
		var again [][]byte
		var lastErr string
		for i, r := range out.RequestResponses {
			if i < len(pending) && r.ErrorCode != nil {
				again = append(again, pending[i])
				lastErr = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
			}
		}
		if len(again) == 0 { // FailedPutCount without per-record errors: resend all
			again = pending
		}
		accepted += len(pending) - len(again)
		pending = again
		backoff := time.Duration(min(1<<attempt, 20)) * 50 * time.Millisecond
		backoff = backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return accepted, fmt.Errorf("%d of %d records still failing when the flush deadline passed (last: %s): %w",
				len(pending), len(batch), lastErr, ctx.Err())
		case <-time.After(backoff):
		}
	}
}
