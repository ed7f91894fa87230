package fakeaws

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strings"
)

// MaxObjectBytes is the largest object one PutObject takes (5 GB).
const MaxObjectBytes = 5 << 30

// putObject stores an object sent path-style (PUT /BUCKET/KEY), as S3
// does: the body's length must be the Content-Length signed, the bucket
// must exist when buckets were created (CreateBucket), and a key written
// again is replaced.
func (s *Server) putObject(r *http.Request, body []byte) *apiError {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return &apiError{400, "InvalidRequest", "want PUT /BUCKET/KEY (path-style)"}
	}
	if r.ContentLength >= 0 && int64(len(body)) != r.ContentLength {
		return s.violation("PutObject", "body shorter than its Content-Length")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets != nil && !s.buckets[bucket] {
		return &apiError{404, "NoSuchBucket", "The specified bucket does not exist"}
	}
	if s.objects == nil {
		s.objects = map[string][]byte{}
	}
	s.objects[bucket+"/"+key] = append([]byte(nil), body...)
	return nil
}

// CreateBucket makes a bucket; once one is made, PutObject to any other
// answers NoSuchBucket.
func (s *Server) CreateBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]bool{}
	}
	s.buckets[name] = true
}

// Objects returns the objects of a bucket, by key.
func (s *Server) Objects(bucket string) map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.objects {
		if b, key, _ := strings.Cut(k, "/"); b == bucket {
			out[key] = v
		}
	}
	return out
}

// ObjectKeys returns a bucket's keys, sorted.
func (s *Server) ObjectKeys(bucket string) []string {
	var keys []string
	for k := range s.Objects(bucket) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeS3Error(w http.ResponseWriter, e apiError, reqID string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: e.code, Message: e.msg, RequestID: reqID})
}
