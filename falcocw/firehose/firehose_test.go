package firehose_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/falcocw/falcocw/falcocw/firehose"
)

func TestBatchesRespectLimits(t *testing.T) {
	var records []firehose.Record
	for i := 0; i < 1203; i++ {
		records = append(records, firehose.Record{ID: i, Data: []byte("small\n")})
	}
	for i := 0; i < 9; i++ {
		records = append(records, firehose.Record{ID: 2000 + i, Data: bytes.Repeat([]byte("b"), firehose.MaxRecordBytes)})
	}
	total := 0
	for _, b := range firehose.Batches(records) {
		size := 0
		for _, r := range b {
			size += len(r.Data)
		}
		if len(b) > firehose.MaxBatchRecords || size > firehose.MaxBatchBytes {
			t.Errorf("batch of %d records, %d bytes breaks a limit", len(b), size)
		}
		total += len(b)
	}
	if total != len(records) {
		t.Errorf("%d records batched, want %d", total, len(records))
	}
}

func TestBody(t *testing.T) {
	records := []firehose.Record{{Data: []byte("{\"a\":1}\n")}, {Data: []byte{0, 255, 10}}}
	var got struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	d := json.NewDecoder(bytes.NewReader(firehose.AppendBody(nil, "falco-archive", records)))
	d.DisallowUnknownFields()
	if err := d.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.DeliveryStreamName != "falco-archive" || len(got.Records) != 2 {
		t.Fatalf("%+v", got)
	}
	for i, r := range records {
		if !bytes.Equal(got.Records[i].Data, r.Data) {
			t.Errorf("record %d: %q", i, got.Records[i].Data)
		}
	}
}

// TestBodyNewline: a record with Newline is sent as its data and "\n",
// whatever its length modulo three (where the encoding joins its parts).
func TestBodyNewline(t *testing.T) {
	var records []firehose.Record
	for n := 0; n < 8; n++ {
		records = append(records, firehose.Record{ID: n, Data: []byte(`{"k":"abcdefg"}`)[:n], Newline: true})
	}
	records = append(records, firehose.Record{Data: []byte{0, 255, 10, 3}, Newline: true})
	var got struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	if err := json.Unmarshal(firehose.AppendBody(nil, "s", records), &got); err != nil {
		t.Fatal(err)
	}
	for i, r := range records {
		want := append(append([]byte{}, r.Data...), '\n')
		if !bytes.Equal(got.Records[i].Data, want) {
			t.Errorf("record of %d bytes: sent %q, want %q", len(r.Data), got.Records[i].Data, want)
		}
		if r.Len() != len(want) {
			t.Errorf("Len %d, want %d", r.Len(), len(want))
		}
	}
}
