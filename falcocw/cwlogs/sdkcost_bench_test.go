package cwlogs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/cwlogs"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

// BenchmarkSendSDK and BenchmarkSendRaw measure what the SDK's operation
// stack (validation, endpoint resolution, retry, signing, user agent,
// deserialisation: about 30 middlewares) adds to one PutLogEvents call:
// SDK is the Sink's own call of one event, Raw the same body signed with
// the SDK's signer and posted with the same HTTP client. Both include the
// loopback endpoint's work, in the same process. The difference, times
// the calls of a run (a call per megabyte of events), says whether
// writing the call without the SDK would pay (PERFORMANCE.md: it would not).
func BenchmarkSendSDK(b *testing.B) {
	srv, a := lightEndpoint(b)
	s := cwlogs.New(cwlogs.NewClient(a, srv.URL), cwlogs.Options{AutoCreateGroup: true, AutoCreateStream: true}, b.Logf)
	target := route.Target{Kind: cwlogs.Kind, Name: "/falco/new", Stream: "node-a"}
	items := []dest.Item{{ID: 0, Time: time.Now(), Payload: []byte(`{"rule":"r"}`)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(_ int, format string, args ...any) { b.Logf(format, args...) }}, target, items)
		if o := s.Send(context.Background(), target, reqs[0]); o.Err != nil {
			b.Fatal(o.Err)
		}
		s.Release(reqs)
	}
}

func BenchmarkSendRaw(b *testing.B) {
	srv, a := lightEndpoint(b)
	_, hc := a.Endpoint(srv.URL)
	body := []byte(`{"logGroupName":"/falco/new","logStreamName":"node-a","logEvents":[{"timestamp":1764400000000,"message":"{\"rule\":\"r\"}"}]}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	signer := v4.NewSigner()
	creds, err := a.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", srv.URL+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
		if err := signer.SignHTTP(context.Background(), creds, req, hash, "logs", a.Region, time.Now()); err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// lightEndpoint starts a loopback endpoint that only acknowledges (closed
// with the benchmark), and the AWS configuration to reach it.
func lightEndpoint(b *testing.B) (*fakeaws.Server, *awsclient.AWS) {
	fakeaws.SetEnv(b)
	srv := fakeaws.NewTLS()
	srv.Light = true
	b.Cleanup(srv.Close)
	a, err := awsclient.New(context.Background(), awsclient.Options{TLSSkipVerify: []string{srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	return srv, a
}
