// Package kinesis delivers events to Amazon Kinesis Data Streams with
// PutRecords, in batches that respect that API's limits, each record under
// a partition key filled from a template, resending exactly the records a
// batch reports as failed (ProvisionedThroughputExceededException, ...).
package kinesis

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/batch"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// PutRecords limits, from the Kinesis Data Streams API reference: at most
// 500 records and 5 MiB per call, 1 MiB per record counting its partition
// key, partition keys of 1 to 256 characters.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 5 * 1024 * 1024
	MaxRecordBytes  = 1024 * 1024
	MaxKeyBytes     = 256
)

// IAMActions are the IAM actions this package calls.
var IAMActions = []string{"kinesis:PutRecords"}

// Record is one Kinesis record. ID is the caller's, reported back by
// PutBatch.
type Record struct {
	ID   int
	Data []byte
	Key  string // the partition key
}

// Len is what the record counts toward the limits: its data and key.
func (r Record) Len() int { return len(r.Data) + len(r.Key) }

// Batches cuts records into batches within PutRecords' limits. Every
// record must be at most MaxRecordBytes long (its Len).
func Batches(records []Record) [][]Record {
	return batch.Cut(records, MaxBatchRecords, MaxBatchBytes, Record.Len, nil)
}

// Sink puts records into data streams. It is safe for concurrent use.
type Sink struct {
	dest.KeepsNothing
	client *kinesis.Client
	opts   Options
}

// New returns a sink using client.
func New(client *kinesis.Client, o Options) *Sink { return &Sink{client: client, opts: o} }

func bodySize(stream string, records []Record) int {
	n := 64 + len(stream)
	for _, r := range records {
		n += 32 + jsonstr.Base64Len(len(r.Data)) + 2*len(r.Key)
	}
	return n
}

// AppendBody appends the JSON body of PutRecords for records, as the
// Kinesis API (JSON 1.1) defines it: each record's data in base64.
func AppendBody(b []byte, stream string, records []Record) []byte {
	b = append(b, `{"StreamName":`...)
	b = jsonstr.Append(b, stream)
	b = append(b, `,"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Data":"`...)
		b = jsonstr.AppendBase64(b, r.Data)
		b = append(b, `","PartitionKey":`...)
		b = jsonstr.Append(b, r.Key)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// PutBatch sends one batch (as Batches cut it) to the stream. Records the
// answer reports as failed (FailedRecordCount: throughput exceeded, an
// internal failure) are sent again, with backoff and jitter, until all are
// accepted or the flush deadline passes. It returns the IDs of the
// accepted records, also when it fails.
func (s *Sink) PutBatch(ctx context.Context, stream string, batch []Record) (accepted []int, err error) {
	accepted, _, err = awsclient.Resend(ctx, batch, func(r Record) int { return r.ID }, "records", nil, func(pending []Record) (map[int]awsclient.EntryError, error) {
		// A minimal input for the SDK; the records go in a body written
		// here at once (see awsclient.WithBody).
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: []types.PutRecordsRequestEntry{}}
		out, err := awsclient.CallWithBody(bodySize(stream, pending), func(b []byte) []byte { return AppendBody(b, stream, pending) },
			func(withBody func(*middleware.Stack) error) (*kinesis.PutRecordsOutput, error) {
				return s.client.PutRecords(ctx, in, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, withBody) })
			})
		if err != nil || aws.ToInt32(out.FailedRecordCount) == 0 {
			return nil, err
		}
		return awsclient.EntryErrors(len(pending), out.Records,
			func(r types.PutRecordsResultEntry) string { return aws.ToString(r.ErrorCode) },
			func(r types.PutRecordsResultEntry) string { return aws.ToString(r.ErrorMessage) }), nil
	})
	return accepted, err
}
