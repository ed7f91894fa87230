// Package fakeaws is an AWS-protocol endpoint for tests, the demo and the
// bench: an HTTP server speaking the JSON 1.1 protocol of CloudWatch Logs
// and Kinesis Data Firehose, the query protocol of SNS, and S3's PutObject
// (REST, path-style), as the real
// services do, and checking SigV4 signatures, so that the SDK's real
// serialisation, signing and retry code runs against it. It answers faults
// (throttling, 500s, resets, slow answers, failed records) as each service
// does.
//
// It enforces the documented limits of PutLogEvents, PutRecordBatch and
// PublishBatch and
// refuses a request that breaks one (recording it as a violation, which a
// test can assert never happens), keeps what it accepts in memory, and
// answers with an x-amzn-RequestId header. It is not a mock of falcocw's
// code: it knows nothing about Falco.
package fakeaws

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits enforced, from the API references.
const (
	LogsMaxBatchEvents   = 10000
	LogsMaxBatchBytes    = 1048576
	LogsEventOverhead    = 26
	LogsMaxEventBytes    = 256 * 1024
	LogsMaxSpan          = 24 * time.Hour
	FirehoseMaxRecords   = 500
	FirehoseMaxBatch     = 4 * 1024 * 1024
	FirehoseMaxRecordLen = 1000 * 1024
)

// LogEvent is one event CloudWatch Logs accepted.
type LogEvent struct {
	Timestamp int64
	Message   string
}

// Faults makes the server misbehave as AWS sometimes does, at random, at
// the given rates (0 to 1), on every operation.
type Faults struct {
	Seed        uint64
	Throttle    float64 // answered 400 ThrottlingException
	ServerError float64 // answered 500 InternalFailure
	Reset       float64 // connection closed without an answer, before the request is processed
	Slow        float64 // answered after SlowDelay; not processed if the client has given up by then
	SlowDelay   time.Duration
	// RecordFailure is the rate of Firehose records failed one by one in
	// a 200 answer (FailedPutCount), as Firehose does under load.
	RecordFailure float64
	// Down answers every request 503 ServiceUnavailableException.
	Down bool
	// Ops, when set, limits the faults to these operations
	// ("PutRecordBatch"): one destination fails, the others answer.
	Ops []string
}

// FaultCounts counts the faults injected, by kind.
type FaultCounts struct {
	Throttle, ServerError, Reset, Slow, RecordFailure, Down int
}

// Fault lets a test make an operation fail: return a non-zero HTTP status
// and an error code to answer with, or 0 to serve the call normally.
type Fault func(op string, body []byte) (status int, code string)

// Server is a running fake endpoint.
type Server struct {
	*httptest.Server
	mu         sync.Mutex
	groups     map[string]map[string][]LogEvent // group → stream → events
	retention  map[string]int32
	streams    map[string][][]byte // delivery stream → records
	violations []string
	calls      map[string]int
	fault      Fault
	faults     Faults
	quotas     map[string]*bucket
	rng        *mrand.Rand
	injected   FaultCounts
	deleted    map[string][]LogEvent // "group:stream" → events of deleted groups
	signatures []string
	secrets    map[string]string // access key → secret key, for VerifySignatures
	verified   int
	topics     map[string][]SNSMessage
	kinesis    map[string][]KinesisRecord // data stream → records
	objects    map[string][]byte          // S3: BUCKET/KEY → body
	buckets    map[string]bool
	assumed    []AssumedRole
	signers    map[string][]string       // operation → access keys that signed it
	buses      map[string][]BusEvent     // event bus → events
	findings   map[string]*StoredFinding // Security Hub finding Id → finding
	groupOpts  map[string]GroupOptions   // log group → what CreateLogGroup set
	hubTokens  float64
	hubLast    time.Time
	// AutoCreate makes PutLogEvents and PutRecordBatch accept unknown
	// groups, streams and delivery streams, creating them.
	AutoCreate bool
	// Light makes the server do as little as it can, for benchmarks of
	// the client: data calls are read, counted and answered success,
	// without being decoded, checked or kept.
	Light       bool
	lightEvents int64
}

// Stored counts every event the endpoint holds: log events, Firehose and
// Kinesis records, SNS messages, events on buses, and Security Hub
// findings as often as they were imported.
func (s *Server) Stored() int {
	n := 0
	for _, m := range []map[string]int{s.LogStreams(), s.DeliveryStreams(), s.Topics(), s.KinesisStreams(), s.EventBuses()} {
		for _, c := range m {
			n += c
		}
	}
	for _, f := range s.Findings() {
		n += f.Imports
	}
	return n
}

// LightCount returns the events and records a Light server acknowledged.
func (s *Server) LightCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lightEvents
}

// New starts a server on 127.0.0.1.
func New() *Server {
	s := newServer()
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTLS starts a server on 127.0.0.1 speaking HTTPS with a self-signed
// certificate, which a client verifying certificates refuses.
func NewTLS() *Server {
	s := newServer()
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

func newServer() *Server {
	return &Server{groups: map[string]map[string][]LogEvent{}, retention: map[string]int32{},
		streams: map[string][][]byte{}, calls: map[string]int{}, deleted: map[string][]LogEvent{}, rng: mrand.New(mrand.NewPCG(1, 1)),
		topics: map[string][]SNSMessage{}}
}

// Signatures returns the SigV4 signatures of the requests received, so a
// test can check that none of them reaches a log.
func (s *Server) Signatures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.signatures...)
}

// SetFault installs f (nil removes it).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// SetFaults installs random faults (the zero Faults removes them).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.rng = mrand.New(mrand.NewPCG(f.Seed, f.Seed+1))
}

// Injected returns the faults injected so far.
func (s *Server) Injected() FaultCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injected
}

// AllEvents returns every event CloudWatch accepted, by "group:stream",
// including those of groups deleted since.
func (s *Server) AllEvents() map[string][]LogEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]LogEvent{}
	for k, ev := range s.deleted {
		out[k] = append(out[k], ev...)
	}
	for g, streams := range s.groups {
		for st, ev := range streams {
			out[g+":"+st] = append(out[g+":"+st], ev...)
		}
	}
	return out
}

// CreateLogGroup creates a log group, as an operator would beforehand.
func (s *Server) CreateLogGroup(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[name] == nil {
		s.groups[name] = map[string][]LogEvent{}
	}
}

// DeleteLogGroup deletes a log group and its streams.
// Its events stay countable through AllEvents.
func (s *Server) DeleteLogGroup(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st, ev := range s.groups[name] {
		s.deleted[name+":"+st] = append(s.deleted[name+":"+st], ev...)
	}
	delete(s.groups, name)
}

// CreateDeliveryStream creates a Firehose delivery stream.
func (s *Server) CreateDeliveryStream(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[name]; !ok {
		s.streams[name] = [][]byte{}
	}
}

// Events returns the events of a log stream.
func (s *Server) Events(group, stream string) []LogEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogEvent(nil), s.groups[group][stream]...)
}

// LogStreams returns "group/stream" → event count for every stream.
func (s *Server) LogStreams() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for g, streams := range s.groups {
		for st, ev := range streams {
			out[g+":"+st] = len(ev)
		}
	}
	return out
}

// Records returns the records of a delivery stream.
func (s *Server) Records(stream string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.streams[stream]...)
}

// DeliveryStreams returns every delivery stream and its record count.
func (s *Server) DeliveryStreams() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for n, r := range s.streams {
		out[n] = len(r)
	}
	return out
}

// Retention returns the retention set on a group (0 if none).
func (s *Server) Retention(group string) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retention[group]
}

// Violations lists every request that broke an API limit.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Calls returns how many times each operation was called.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

type apiError struct {
	status int
	code   string
	msg    string
}

var lightBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reqID := newID()
	w.Header().Set("x-amzn-RequestId", reqID)
	target := r.Header.Get("X-Amz-Target")
	_, op, _ := strings.Cut(target, ".")
	if target == "" { // Security Hub speaks REST: the operation is the path
		if op = hubOp(r.URL.Path); op != "" {
			target = "securityhub." + op
		}
	}
	s3 := target == "" && r.Method == http.MethodPut // S3 speaks REST, path-style here: PUT /BUCKET/KEY
	if s3 {
		op, target = "PutObject", "s3.PutObject"
	}
	var body []byte
	var err error
	if s.Light { // a pooled buffer: in a benchmark, the client's allocations are the ones to see
		buf := lightBuffers.Get().(*bytes.Buffer)
		defer lightBuffers.Put(buf)
		buf.Reset()
		_, err = buf.ReadFrom(io.LimitReader(r.Body, 16<<20))
		body = buf.Bytes()
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, 16<<20))
	}
	// SNS speaks the query protocol: a form in, XML out.
	var form url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ = url.ParseQuery(string(body))
		op = form.Get("Action")
		target = "query." + op
		w.Header().Set("Content-Type", "text/xml")
	} else {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	}
	writeError := func(w http.ResponseWriter, e apiError) {
		if s3 {
			writeS3Error(w, e, reqID)
		} else if form != nil {
			writeQueryError(w, e, reqID)
		} else {
			writeJSONError(w, e)
		}
	}
	if err != nil {
		writeError(w, apiError{400, "SerializationException", err.Error()})
		return
	}
	if (r.Method != http.MethodPost && !s3) || op == "" {
		writeError(w, apiError{400, "UnknownOperationException", "want POST with X-Amz-Target"})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, apiError{403, "MissingAuthenticationTokenException", "request is not signed with SigV4"})
		return
	}
	if !s.Light {
		if why := s.checkSignature(r, body); why != "" {
			writeError(w, apiError{403, "InvalidSignatureException", why})
			return
		}
	}
	s.mu.Lock()
	if _, sig, ok := strings.Cut(r.Header.Get("Authorization"), "Signature="); ok && len(s.signatures) < 10000 {
		s.signatures = append(s.signatures, sig)
	}
	s.calls[op]++
	if cred, _, ok := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="), "/"); ok && !s.Light {
		if s.signers == nil {
			s.signers = map[string][]string{}
		}
		if len(s.signers[op]) < 10000 {
			s.signers[op] = append(s.signers[op], cred)
		}
	}
	fault := s.fault
	action := s.pickFault(op)
	slowDelay := s.faults.SlowDelay
	s.mu.Unlock()
	switch action {
	case "down":
		writeError(w, apiError{503, "ServiceUnavailableException", "injected: service down"})
		return
	case "throttle":
		writeError(w, throttleError(op))
		return
	case "server":
		writeError(w, apiError{500, "InternalFailure", "injected: internal failure"})
		return
	case "reset":
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				conn.Close()
				return
			}
		}
	case "slow":
		select {
		case <-time.After(slowDelay):
		case <-r.Context().Done():
			return // the client gave up: the request is never processed
		}
	}
	if !s.quotaCall(op) {
		writeError(w, throttleError(op))
		return
	}
	if fault != nil {
		if status, code := fault(op, body); status != 0 {
			writeError(w, apiError{status, code, "injected fault"})
			return
		}
	}
	if s.Light {
		switch op {
		case "PutLogEvents":
			n := bytes.Count(body, []byte(`"timestamp":`))
			s.mu.Lock()
			s.lightEvents += int64(n)
			s.mu.Unlock()
			_, _ = w.Write([]byte(`{"nextSequenceToken":"1"}`))
			return
		case "PutRecordBatch":
			n := bytes.Count(body, []byte(`"Data":`))
			s.mu.Lock()
			s.lightEvents += int64(n)
			s.mu.Unlock()
			var b bytes.Buffer
			b.WriteString(`{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[`)
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"RecordId":"r"}`)
			}
			b.WriteString("]}")
			_, _ = w.Write(b.Bytes())
			return
		}
	}
	var out any
	var aerr *apiError
	switch target {
	case "Logs_20140328.PutLogEvents":
		out, aerr = s.putLogEvents(body)
	case "Logs_20140328.CreateLogGroup":
		out, aerr = s.createLogGroup(body)
	case "Logs_20140328.CreateLogStream":
		out, aerr = s.createLogStream(body)
	case "Logs_20140328.DescribeLogStreams":
		out, aerr = s.describeLogStreams(body)
	case "Logs_20140328.PutRetentionPolicy":
		out, aerr = s.putRetentionPolicy(body)
	case "Firehose_20150804.PutRecordBatch":
		out, aerr = s.putRecordBatch(body)
	case "Kinesis_20131202.PutRecords":
		out, aerr = s.putRecords(body)
	case "AWSEvents.PutEvents":
		out, aerr = s.putEvents(body)
	case "securityhub.BatchImportFindings":
		out, aerr = s.batchImportFindings(body)
	case "s3.PutObject":
		if aerr = s.putObject(r, body); aerr == nil {
			w.Header().Set("ETag", `"`+newID()+`"`)
			return
		}
	case "query.AssumeRole":
		_, _ = io.WriteString(w, s.assumeRole(form, reqID))
		return
	case "query.GetCallerIdentity":
		_, _ = io.WriteString(w, getCallerIdentity(reqID))
		return
	case "query.PublishBatch":
		var xml string
		xml, aerr = s.publishBatch(form, reqID)
		if aerr == nil {
			_, _ = io.WriteString(w, xml)
			return
		}
	default:
		aerr = &apiError{400, "UnknownOperationException", "operation not supported by fakeaws: " + target}
	}
	if aerr != nil {
		writeError(w, *aerr)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// pickFault draws the fault for one request; s.mu is held.
// throttleError is how each service says "too many requests", from the API
// references: Firehose answers 400 ServiceUnavailableException ("Slow
// down."), SNS 400 Throttling in its query protocol, CloudWatch Logs 400
// ThrottlingException.
func throttleError(op string) apiError {
	switch op {
	case "PutRecordBatch", "PutRecord":
		return apiError{400, "ServiceUnavailableException", "injected: Slow down."}
	case "PutRecords": // Kinesis Data Streams
		return apiError{400, "ProvisionedThroughputExceededException", "injected: Rate exceeded for stream"}
	case "Publish", "PublishBatch":
		return apiError{400, "Throttling", "injected: Rate exceeded"}
	case "BatchImportFindings":
		return apiError{429, "TooManyRequestsException", "injected: Rate exceeded"}
	case "PutObject":
		return apiError{503, "SlowDown", "injected: Please reduce your request rate."}
	}
	return apiError{400, "ThrottlingException", "injected: Rate exceeded"}
}

func (s *Server) pickFault(op string) string {
	f := s.faults
	if len(f.Ops) > 0 && !slices.Contains(f.Ops, op) {
		return ""
	}
	if f.Down {
		s.injected.Down++
		return "down"
	}
	x := s.rng.Float64()
	for _, c := range []struct {
		rate float64
		name string
		n    *int
	}{{f.Throttle, "throttle", &s.injected.Throttle}, {f.ServerError, "server", &s.injected.ServerError},
		{f.Reset, "reset", &s.injected.Reset}, {f.Slow, "slow", &s.injected.Slow}} {
		if x < c.rate {
			*c.n++
			return c.name
		}
		x -= c.rate
	}
	return ""
}

func writeQueryError(w http.ResponseWriter, e apiError, reqID string) {
	w.WriteHeader(e.status)
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		kind, e.code, html.EscapeString(e.msg), reqID)
}

func writeJSONError(w http.ResponseWriter, e apiError) {
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) violation(op, msg string) *apiError {
	s.mu.Lock()
	s.violations = append(s.violations, op+": "+msg)
	s.mu.Unlock()
	return &apiError{400, "InvalidParameterException", msg}
}

func (s *Server) putLogEvents(body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		LogEvents     []struct {
			Timestamp *int64  `json:"timestamp"`
			Message   *string `json:"message"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	const op = "PutLogEvents"
	if !utf8.Valid(body) { // CloudWatch refuses the whole batch
		return nil, s.violation(op, "request holds invalid UTF-8")
	}
	n := len(in.LogEvents)
	if n == 0 || n > LogsMaxBatchEvents {
		return nil, s.violation(op, fmt.Sprintf("%d events; want 1 to %d", n, LogsMaxBatchEvents))
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil || e.Message == nil {
			return nil, s.violation(op, fmt.Sprintf("event %d lacks timestamp or message", i))
		}
		l := len(*e.Message) + LogsEventOverhead
		if l > LogsMaxEventBytes {
			return nil, s.violation(op, fmt.Sprintf("event %d is %d bytes; the limit is %d", i, l, LogsMaxEventBytes))
		}
		size += l
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, s.violation(op, fmt.Sprintf("event %d is older than event %d: events must be in chronological order", i, i-1))
		}
	}
	if size > LogsMaxBatchBytes {
		return nil, s.violation(op, fmt.Sprintf("batch is %d bytes; the limit is %d", size, LogsMaxBatchBytes))
	}
	if span := time.Duration(*in.LogEvents[n-1].Timestamp-*in.LogEvents[0].Timestamp) * time.Millisecond; span > LogsMaxSpan {
		return nil, s.violation(op, fmt.Sprintf("batch spans %s; the limit is 24h", span))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[in.LogGroupName]
	if !ok && s.AutoCreate {
		g = map[string][]LogEvent{}
		s.groups[in.LogGroupName] = g
	}
	if !ok && !s.AutoCreate {
		return nil, &apiError{400, "ResourceNotFoundException", "The specified log group does not exist."}
	}
	if _, ok := g[in.LogStreamName]; !ok && !s.AutoCreate {
		return nil, &apiError{400, "ResourceNotFoundException", "The specified log stream does not exist."}
	}
	now := time.Now()
	var tooOld, tooNew *int
	for i, e := range in.LogEvents {
		t := time.UnixMilli(*e.Timestamp)
		switch {
		case t.Before(now.Add(-14 * 24 * time.Hour)):
			j := i + 1
			tooOld = &j
			continue
		case t.After(now.Add(2 * time.Hour)):
			if tooNew == nil {
				j := i
				tooNew = &j
			}
			continue
		}
		g[in.LogStreamName] = append(g[in.LogStreamName], LogEvent{Timestamp: *e.Timestamp, Message: *e.Message})
	}
	out := map[string]any{"nextSequenceToken": newID()}
	if tooOld != nil || tooNew != nil {
		info := map[string]int{}
		if tooOld != nil {
			info["tooOldLogEventEndIndex"] = *tooOld
		}
		if tooNew != nil {
			info["tooNewLogEventStartIndex"] = *tooNew
		}
		out["rejectedLogEventsInfo"] = info
	}
	return out, nil
}

// GroupOptions are what CreateLogGroup set on a group.
type GroupOptions struct {
	Class, KMSKeyID string
	Tags            map[string]string
}

// GroupOptionsOf returns what CreateLogGroup set on a group.
func (s *Server) GroupOptionsOf(group string) GroupOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groupOpts[group]
}

func (s *Server) createLogGroup(body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string            `json:"logGroupName"`
		LogGroupClass string            `json:"logGroupClass"`
		KmsKeyID      string            `json:"kmsKeyId"`
		Tags          map[string]string `json:"tags"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.LogGroupName == "" {
		return nil, &apiError{400, "InvalidParameterException", "logGroupName is required"}
	}
	switch in.LogGroupClass {
	case "", "STANDARD", "INFREQUENT_ACCESS":
	default:
		return nil, s.violation("CreateLogGroup", "logGroupClass "+in.LogGroupClass)
	}
	if in.KmsKeyID != "" && !strings.HasPrefix(in.KmsKeyID, "arn:") {
		return nil, s.violation("CreateLogGroup", "kmsKeyId must be a key ARN: "+in.KmsKeyID)
	}
	if len(in.Tags) > 50 {
		return nil, s.violation("CreateLogGroup", "more than 50 tags")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[in.LogGroupName]; ok {
		return nil, &apiError{400, "ResourceAlreadyExistsException", "The specified log group already exists"}
	}
	s.groups[in.LogGroupName] = map[string][]LogEvent{}
	if s.groupOpts == nil {
		s.groupOpts = map[string]GroupOptions{}
	}
	s.groupOpts[in.LogGroupName] = GroupOptions{Class: in.LogGroupClass, KMSKeyID: in.KmsKeyID, Tags: in.Tags}
	return struct{}{}, nil
}

func (s *Server) createLogStream(body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.LogGroupName == "" || in.LogStreamName == "" {
		return nil, &apiError{400, "InvalidParameterException", "logGroupName and logStreamName are required"}
	}
	if strings.ContainsAny(in.LogStreamName, ":*") {
		return nil, s.violation("CreateLogStream", "log stream names may not contain : or *")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[in.LogGroupName]
	if !ok {
		return nil, &apiError{400, "ResourceNotFoundException", "The specified log group does not exist."}
	}
	if _, ok := g[in.LogStreamName]; ok {
		return nil, &apiError{400, "ResourceAlreadyExistsException", "The specified log stream already exists"}
	}
	g[in.LogStreamName] = nil
	return struct{}{}, nil
}

// describeLogStreams is what AWS's Go plugin asks at start: the streams of
// a group whose names start with a prefix.
func (s *Server) describeLogStreams(body []byte) (any, *apiError) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[in.LogGroupName]
	if !ok {
		return nil, &apiError{400, "ResourceNotFoundException", "The specified log group does not exist."}
	}
	streams := []map[string]any{}
	for _, name := range SortedKeys(lens(g)) {
		if strings.HasPrefix(name, in.LogStreamNamePrefix) {
			streams = append(streams, map[string]any{"logStreamName": name, "arn": "arn:aws:logs:eu-west-1:123456789012:log-group:" + in.LogGroupName + ":log-stream:" + name})
		}
	}
	return map[string]any{"logStreams": streams}, nil
}

func lens(g map[string][]LogEvent) map[string]int {
	out := make(map[string]int, len(g))
	for k, v := range g {
		out[k] = len(v)
	}
	return out
}

func (s *Server) putRetentionPolicy(body []byte) (any, *apiError) {
	var in struct {
		LogGroupName    string `json:"logGroupName"`
		RetentionInDays int32  `json:"retentionInDays"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[in.LogGroupName]; !ok {
		return nil, &apiError{400, "ResourceNotFoundException", "The specified log group does not exist."}
	}
	s.retention[in.LogGroupName] = in.RetentionInDays
	return struct{}{}, nil
}

func (s *Server) putRecordBatch(body []byte) (any, *apiError) {
	var in struct {
		DeliveryStreamName string `json:"DeliveryStreamName"`
		Records            []struct {
			Data string `json:"Data"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	const op = "PutRecordBatch"
	if n := len(in.Records); n == 0 || n > FirehoseMaxRecords {
		return nil, s.violation(op, fmt.Sprintf("%d records; want 1 to %d", n, FirehoseMaxRecords))
	}
	data := make([][]byte, len(in.Records))
	size := 0
	for i, r := range in.Records {
		b, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			return nil, &apiError{400, "SerializationException", "record data is not base64"}
		}
		if len(b) > FirehoseMaxRecordLen {
			return nil, s.violation(op, fmt.Sprintf("record %d is %d bytes; the limit is %d", i, len(b), FirehoseMaxRecordLen))
		}
		size += len(b)
		data[i] = b
	}
	if size > FirehoseMaxBatch {
		return nil, s.violation(op, fmt.Sprintf("batch is %d bytes; the limit is %d", size, FirehoseMaxBatch))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[in.DeliveryStreamName]; !ok && !s.AutoCreate {
		return nil, &apiError{400, "ResourceNotFoundException", "Firehose " + in.DeliveryStreamName + " not found."}
	}
	resp := make([]map[string]string, len(data))
	failed := 0
	for i, d := range data {
		if s.faults.RecordFailure > 0 && s.rng.Float64() < s.faults.RecordFailure {
			s.injected.RecordFailure++
			failed++
			resp[i] = map[string]string{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected: Slow down."}
			continue
		}
		s.streams[in.DeliveryStreamName] = append(s.streams[in.DeliveryStreamName], d)
		resp[i] = map[string]string{"RecordId": newID()}
	}
	return map[string]any{"FailedPutCount": failed, "Encrypted": false, "RequestResponses": resp}, nil
}

// SortedKeys returns m's keys in order, for printing.
func SortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SNSMessage is one message SNS accepted, with its attributes (name →
// [data type, value]).
type SNSMessage struct {
	Body       string
	Attributes map[string][2]string
}

// SNS limits enforced.
const (
	SNSMaxBatch      = 10
	SNSMaxBatchBytes = 256 * 1024
	SNSMaxAttributes = 10
)

// CreateTopic creates an SNS topic, named by its ARN.
func (s *Server) CreateTopic(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[arn]; !ok {
		s.topics[arn] = []SNSMessage{}
	}
}

// Messages returns the messages a topic accepted.
func (s *Server) Messages(arn string) []SNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SNSMessage(nil), s.topics[arn]...)
}

// Topics returns every topic and its message count.
func (s *Server) Topics() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for t, m := range s.topics {
		out[t] = len(m)
	}
	return out
}

func (s *Server) publishBatch(form url.Values, reqID string) (string, *apiError) {
	const op = "PublishBatch"
	topic := form.Get("TopicArn")
	type entry struct {
		id  string
		msg SNSMessage
	}
	var entries []entry
	size := 0
	for i := 1; ; i++ {
		p := fmt.Sprintf("PublishBatchRequestEntries.member.%d.", i)
		id := form.Get(p + "Id")
		if id == "" {
			break
		}
		m := SNSMessage{Body: form.Get(p + "Message"), Attributes: map[string][2]string{}}
		size += len(m.Body)
		for j := 1; ; j++ {
			a := fmt.Sprintf("%sMessageAttributes.entry.%d.", p, j)
			name := form.Get(a + "Name")
			if name == "" {
				break
			}
			typ, val := form.Get(a+"Value.DataType"), form.Get(a+"Value.StringValue")
			if val == "" {
				return "", s.violation(op, fmt.Sprintf("attribute %s of entry %s has an empty value", name, id))
			}
			m.Attributes[name] = [2]string{typ, val}
			size += len(name) + len(typ) + len(val)
		}
		if len(m.Attributes) > SNSMaxAttributes {
			return "", s.violation(op, fmt.Sprintf("entry %s has %d attributes; the limit is %d", id, len(m.Attributes), SNSMaxAttributes))
		}
		if !utf8.ValidString(m.Body) {
			return "", s.violation(op, "message is not valid UTF-8")
		}
		entries = append(entries, entry{id, m})
	}
	if n := len(entries); n == 0 || n > SNSMaxBatch {
		return "", s.violation(op, fmt.Sprintf("%d entries; want 1 to %d", n, SNSMaxBatch))
	}
	if size > SNSMaxBatchBytes {
		return "", s.violation(op, fmt.Sprintf("batch is %d bytes; the limit is %d", size, SNSMaxBatchBytes))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[topic]; !ok {
		return "", &apiError{404, "NotFound", "Topic does not exist"}
	}
	var ok, failed strings.Builder
	for _, e := range entries {
		if s.faults.RecordFailure > 0 && s.rng.Float64() < s.faults.RecordFailure {
			s.injected.RecordFailure++
			fmt.Fprintf(&failed, "<member><Id>%s</Id><Code>InternalError</Code><Message>injected</Message><SenderFault>false</SenderFault></member>", html.EscapeString(e.id))
			continue
		}
		s.topics[topic] = append(s.topics[topic], e.msg)
		fmt.Fprintf(&ok, "<member><Id>%s</Id><MessageId>%s</MessageId></member>", html.EscapeString(e.id), newID())
	}
	return fmt.Sprintf(`<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>%s</Successful><Failed>%s</Failed></PublishBatchResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishBatchResponse>`,
		ok.String(), failed.String(), reqID), nil
}
