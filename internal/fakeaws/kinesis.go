package fakeaws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Kinesis Data Streams' PutRecords limits, from its API reference.
const (
	KinesisMaxRecords   = 500
	KinesisMaxBatch     = 5 * 1024 * 1024
	KinesisMaxRecordLen = 1024 * 1024 // data and partition key
	KinesisMaxKeyLen    = 256
)

// KinesisRecord is one record a data stream accepted.
type KinesisRecord struct {
	Data         []byte
	PartitionKey string
}

// CreateKinesisStream creates a data stream.
func (s *Server) CreateKinesisStream(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kinesis == nil {
		s.kinesis = map[string][]KinesisRecord{}
	}
	if _, ok := s.kinesis[name]; !ok {
		s.kinesis[name] = []KinesisRecord{}
	}
}

// KinesisRecords returns the records of a data stream.
func (s *Server) KinesisRecords(name string) []KinesisRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]KinesisRecord(nil), s.kinesis[name]...)
}

// KinesisStreams returns every data stream and its record count.
func (s *Server) KinesisStreams() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for n, r := range s.kinesis {
		out[n] = len(r)
	}
	return out
}

// putRecords is Kinesis_20131202.PutRecords: limits enforced, records
// failed one by one at the RecordFailure rate with
// ProvisionedThroughputExceededException, as a stream over its shards'
// throughput answers.
func (s *Server) putRecords(body []byte) (any, *apiError) {
	var in struct {
		StreamName string `json:"StreamName"`
		Records    []struct {
			Data         string `json:"Data"`
			PartitionKey string `json:"PartitionKey"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	const op = "PutRecords"
	if n := len(in.Records); n == 0 || n > KinesisMaxRecords {
		return nil, s.violation(op, fmt.Sprintf("%d records; want 1 to %d", n, KinesisMaxRecords))
	}
	recs := make([]KinesisRecord, len(in.Records))
	size := 0
	for i, r := range in.Records {
		b, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			return nil, &apiError{400, "SerializationException", "record data is not base64"}
		}
		if n := utf8.RuneCountInString(r.PartitionKey); n < 1 || n > KinesisMaxKeyLen {
			return nil, s.violation(op, fmt.Sprintf("record %d has a partition key of %d characters; want 1 to %d", i, n, KinesisMaxKeyLen))
		}
		if n := len(b) + len(r.PartitionKey); n > KinesisMaxRecordLen {
			return nil, s.violation(op, fmt.Sprintf("record %d is %d bytes with its key; the limit is %d", i, n, KinesisMaxRecordLen))
		}
		size += len(b) + len(r.PartitionKey)
		recs[i] = KinesisRecord{Data: b, PartitionKey: r.PartitionKey}
	}
	if size > KinesisMaxBatch {
		return nil, s.violation(op, fmt.Sprintf("batch is %d bytes; the limit is %d", size, KinesisMaxBatch))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kinesis == nil {
		s.kinesis = map[string][]KinesisRecord{}
	}
	if _, ok := s.kinesis[in.StreamName]; !ok && !s.AutoCreate {
		return nil, &apiError{400, "ResourceNotFoundException", "Stream " + in.StreamName + " under account 123456789012 not found."}
	}
	resp := make([]map[string]string, len(recs))
	failed := 0
	quota := s.quotaRecords(op, len(recs))
	for i, r := range recs {
		if quota != nil && !quota[i] {
			failed++
			resp[i] = map[string]string{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream " + in.StreamName + " under account 123456789012."}
			continue
		}
		if s.faults.RecordFailure > 0 && s.rng.Float64() < s.faults.RecordFailure {
			s.injected.RecordFailure++
			failed++
			resp[i] = map[string]string{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "injected: Rate exceeded for shard shardId-000000000000"}
			continue
		}
		s.kinesis[in.StreamName] = append(s.kinesis[in.StreamName], r)
		resp[i] = map[string]string{"SequenceNumber": newID(), "ShardId": "shardId-000000000000"}
	}
	return map[string]any{"FailedRecordCount": failed, "Records": resp}, nil
}
