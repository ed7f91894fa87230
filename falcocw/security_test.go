package falcocw_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// TestNoSecretsInLogs runs flushes that succeed, fail, retry and are
// rejected, with debug logging, and searches everything falcocw logged for
// the access key, the secret key, the session token and every request
// signature.
func TestNoSecretsInLogs(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateDeliveryStream("archive")
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true",
		"delivery_stream", "archive", "flush_timeout", "1s")
	t.Setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLEsessionTOKENdoNotLog")
	in2, logs2 := newInstance(t, srv, "log_group_name", "g2", "log_stream_name", "s", "auto_create_group", "true", "flush_timeout", "1s")
	data := samples.Chunk(chunk.FormatV2, time.Now(), samples.Bodies(samples.Records())...)
	for _, code := range []string{"", "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "InvalidParameterException", "ThrottlingException"} {
		srv.SetFault(func(op string, _ []byte) (int, string) {
			if code == "" {
				return 0, ""
			}
			return 400, code
		})
		for _, i := range []*falcocw.Instance{in, in2} {
			res := i.Flush(context.Background(), "falco", data)
			logs.log(0, res.Summary()) // the line the plugin logs for it
		}
	}
	in.Close(time.Second)
	in2.Close(time.Second)
	all := logs.String() + "\n" + logs2.String()
	secrets := []string{os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), "FwoGZXIvYXdzEXAMPLEsessionTOKENdoNotLog"}
	secrets = append(secrets, srv.Signatures()...)
	if len(srv.Signatures()) < 10 {
		t.Fatalf("only %d signed requests seen", len(srv.Signatures()))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("the log contains a secret (%.6s...)", s)
		}
	}
	if !strings.Contains(all, "AccessDeniedException") {
		t.Error("the failures were not logged at all; the test proves nothing")
	}
}

// TestTLSVerification: a certificate that does not verify is refused,
// unless the user names that endpoint in tls_skip_verify, which the log
// then reports at warn level.
func TestTLSVerification(t *testing.T) {
	srv := fakeaws.NewTLS()
	defer srv.Close()
	srv.CreateLogGroup("g")
	data := samples.Chunk(chunk.FormatV2, time.Now(), map[string]any{"log": samples.Lines("alerts.jsonl")[0]})

	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "flush_timeout", "1s")
	res := in.Flush(context.Background(), "t", data)
	if res.Status != falcocw.Retry || !strings.Contains(res.Summary(), "certificate") {
		t.Errorf("self-signed endpoint accepted: %s\n%s", res.Summary(), logs)
	}
	in, logs = newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "tls_skip_verify", srv.URL)
	if res := in.Flush(context.Background(), "t", data); res.Status != falcocw.OK {
		t.Errorf("with tls_skip_verify: %s\n%s", res.Summary(), logs)
	}
	if !strings.Contains(logs.String(), "warn TLS certificate verification is OFF for "+srv.URL) {
		t.Errorf("no warning:\n%s", logs)
	}
}

// TestMemoryLimit: a flush that would take the instance over memory_limit
// answers Retry with a clear line, while a flush already running goes on.
func TestMemoryLimit(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateLogGroup("g")
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_stream", "true", "memory_limit", "16M",
		"destination_wait", "10s") // the endpoint answers every call in 0.7 s, stream creation included
	big := map[string]any{"rule": "Big", "priority": "Notice", "output": strings.Repeat("x", 200000)}
	var bodies []map[string]any
	for i := 0; i < 15; i++ {
		bodies = append(bodies, big)
	}
	bigChunk := samples.Chunk(chunk.FormatV2, time.Now(), bodies...) // 3 MB: 18 MB at peak
	srv.SetFaults(fakeaws.Faults{Slow: 1, SlowDelay: 700 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Add(1)
	var first falcocw.Result
	go func() { defer wg.Done(); first = in.Flush(context.Background(), "t", bigChunk) }()
	time.Sleep(200 * time.Millisecond)
	second := in.Flush(context.Background(), "t", bigChunk)
	wg.Wait()
	if first.Status != falcocw.OK {
		t.Errorf("the running flush: %s", first.Summary())
	}
	if second.Status != falcocw.Retry || !strings.Contains(logs.String(), "memory_limit 16 MiB reached") {
		t.Errorf("the flush over the limit: %s\n%s", second.Summary(), logs)
	}
	srv.SetFaults(fakeaws.Faults{})
	if res := in.Flush(context.Background(), "t", bigChunk); res.Status != falcocw.OK {
		t.Errorf("once memory is free: %s", res.Summary())
	}
}
