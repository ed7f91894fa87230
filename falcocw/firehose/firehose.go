// Package firehose delivers records to Amazon Kinesis Data Firehose with
// PutRecordBatch, in batches that respect that API's limits, resending
// exactly the records a batch reports as failed.
package firehose

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/batch"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// PutRecordBatch limits, from the Firehose API reference.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 4 * 1024 * 1024
	MaxRecordBytes  = 1000 * 1024
)

// IAMActions are the IAM actions this package calls.
var IAMActions = []string{"firehose:PutRecordBatch"}

// Record is one Firehose record. ID is the caller's, reported back by
// PutBatch.
type Record struct {
	ID   int
	Data []byte
	// Newline sends a "\n" after Data, as the archives behind a delivery
	// stream (S3, OpenSearch) want one record per line, without copying
	// Data to append it.
	Newline bool
}

// Len is the length of the record as sent.
func (r Record) Len() int {
	if r.Newline {
		return len(r.Data) + 1
	}
	return len(r.Data)
}

// Batches cuts records into batches of at most MaxBatchRecords records and
// MaxBatchBytes bytes. Every record must be at most MaxRecordBytes long
// (its Len).
func Batches(records []Record) [][]Record {
	return batch.Cut(records, MaxBatchRecords, MaxBatchBytes, Record.Len, nil)
}

// Sink puts records into delivery streams. It is safe for concurrent use.
type Sink struct {
	dest.KeepsNothing
	client *firehose.Client
}

// New returns a sink using client.
func New(client *firehose.Client) *Sink { return &Sink{client: client} }

// bodySize is the length of the records' body, give or take the stream
// name's escapes.
func bodySize(stream string, records []Record) int {
	n := 64 + len(stream)
	for _, r := range records {
		n += 12 + jsonstr.Base64Len(r.Len())
	}
	return n
}

// AppendBody appends the JSON body of PutRecordBatch for records, as the
// Firehose API (JSON 1.1) defines it: each record's data in base64.
func AppendBody(b []byte, stream string, records []Record) []byte {
	b = append(b, `{"DeliveryStreamName":`...)
	b = jsonstr.Append(b, stream)
	b = append(b, `,"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Data":"`...)
		b = appendBase64(b, r)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// appendBase64 appends the base64 of the record as sent. With Newline, the
// bytes of Data up to a multiple of three are encoded in place, and the
// rest with the newline from a small copy: base64 of a whole number of
// three-byte groups joins the base64 of what follows seamlessly.
func appendBase64(b []byte, r Record) []byte {
	if !r.Newline {
		return jsonstr.AppendBase64(b, r.Data)
	}
	whole := len(r.Data) - len(r.Data)%3
	b = jsonstr.AppendBase64(b, r.Data[:whole])
	var tail [3]byte
	n := copy(tail[:], r.Data[whole:])
	tail[n] = '\n'
	return jsonstr.AppendBase64(b, tail[:n+1])
}

// PutBatch sends one batch (as Batches cut it) to the delivery stream.
// Records that the answer reports as failed (FailedPutCount) are sent
// again, with backoff and jitter, until all are accepted or ctx ends. It
// returns the IDs of the accepted records, also when it fails.
func (s *Sink) PutBatch(ctx context.Context, stream string, batch []Record) (accepted []int, err error) {
	accepted, _, err = awsclient.Resend(ctx, batch, func(r Record) int { return r.ID }, "records", nil, func(pending []Record) (map[int]awsclient.EntryError, error) {
		// A minimal input for the SDK; the records go in a body written
		// here at once (see awsclient.WithBody).
		in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: []types.Record{}}
		out, err := awsclient.CallWithBody(bodySize(stream, pending), func(b []byte) []byte { return AppendBody(b, stream, pending) },
			func(withBody func(*middleware.Stack) error) (*firehose.PutRecordBatchOutput, error) {
				return s.client.PutRecordBatch(ctx, in, func(o *firehose.Options) { o.APIOptions = append(o.APIOptions, withBody) })
			})
		if err != nil || aws.ToInt32(out.FailedPutCount) == 0 {
			return nil, err
		}
		return awsclient.EntryErrors(len(pending), out.RequestResponses,
			func(r types.PutRecordBatchResponseEntry) string { return aws.ToString(r.ErrorCode) },
			func(r types.PutRecordBatchResponseEntry) string { return aws.ToString(r.ErrorMessage) }), nil
	})
	return accepted, err
}
