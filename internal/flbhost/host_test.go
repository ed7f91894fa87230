package flbhost_test

import (
	"debug/elf"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/flbhost"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"
)

var soPath, hostPath string

// TestMain builds the plugin with go build -buildmode=c-shared and the C
// host once for all tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flbhost")
	if err != nil {
		panic(err)
	}
	if soPath, err = flbhost.BuildPlugin(dir); err == nil {
		hostPath, err = flbhost.BuildHost(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testCredentials are fake, but shaped like real ones so that a leak into
// the log would be found.
var testCredentials = append(fakeaws.Env(),
	"FALCOCW_ARENA_POISON=1", // an event used after its flush shows up as garbage
)

// verifyingServer is a fake AWS endpoint that checks the SigV4 signature
// of every request made with testCredentials, as AWS does.
func verifyingServer() *fakeaws.Server {
	return fakeaws.NewVerifying()
}

func startHost(t *testing.T) *flbhost.Host {
	t.Helper()
	h, err := flbhost.Start(hostPath, soPath, testCredentials)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Kill)
	if h.Name != "falcocw" {
		t.Fatalf("registered as %q, want falcocw", h.Name)
	}
	return h
}

func props(kv ...string) []flbhost.Property {
	var p []flbhost.Property
	for i := 0; i+1 < len(kv); i += 2 {
		p = append(p, flbhost.Property{Key: kv[i], Value: kv[i+1]})
	}
	return p
}

func TestExportedSymbols(t *testing.T) {
	f, err := elf.Open(soPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF {
			have[s.Name] = true
		}
	}
	for _, want := range []string{"FLBPluginRegister", "FLBPluginInit", "FLBPluginFlushCtx", "FLBPluginExitCtx", "FLBPluginExit"} {
		if !have[want] {
			t.Errorf("%s is not exported by the .so", want)
		}
	}
}

// splitChunks lays records out in chunks of about size bytes, as Fluent
// Bit's buffer does.
func splitChunks(f chunk.Format, recs []samples.Record, size int) [][]byte {
	var out [][]byte
	var cur []byte
	base := time.Now()
	for i, r := range recs {
		var err error
		cur, err = chunk.Append(cur, f, base.Add(time.Duration(i)*time.Millisecond), r.Body)
		if err != nil {
			panic(err)
		}
		if len(cur) >= size {
			out = append(out, cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// TestTwoInstancesBothFormats: two falcocw outputs with different settings
// in one Fluent Bit, one fed Fluent Bit 1.x records and the other 2.x
// records, each delivering every sample alert once to the destination its
// routes name.
func TestTwoInstancesBothFormats(t *testing.T) {
	h := startHost(t)
	recs := samples.Records()
	type inst struct {
		srv    *fakeaws.Server
		id     int
		format chunk.Format
	}
	var insts []inst
	for _, f := range []chunk.Format{chunk.FormatV1, chunk.FormatV2} {
		srv := verifyingServer()
		t.Cleanup(srv.Close)
		srv.CreateDeliveryStream("falco-mitre")
		id, ret, err := h.Init(props(append([]string{"endpoint", srv.URL, "falcocw_log_level", "debug"}, sampletest.RoutingConfig...)...))
		if err != nil || ret != flbhost.FLBOK {
			t.Fatalf("init: ret %d, %v\n%s", ret, err, h.Log())
		}
		insts = append(insts, inst{srv, id, f})
	}
	for _, in := range insts {
		chunks := splitChunks(in.format, recs, 4096)
		for i, c := range chunks {
			ret, err := h.Flush(in.id, "falco.var.log.containers", c)
			if err != nil || ret != flbhost.FLBOK {
				t.Fatalf("instance %d chunk %d: ret %d, %v\n%s", in.id, i, ret, err, h.Log())
			}
		}
	}
	for _, in := range insts {
		for _, p := range sampletest.CheckRoutedOnce(in.srv, recs, 1) {
			t.Errorf("instance %d (format %d): %s", in.id, in.format, p)
		}
	}
	for _, in := range insts {
		if ret, err := h.ExitCtx(in.id); err != nil || ret != flbhost.FLBOK {
			t.Errorf("exitctx: %d %v", ret, err)
		}
	}
	if ret, err := h.Exit(); err != nil || ret != flbhost.FLBOK {
		t.Errorf("exit: %d %v", ret, err)
	}
	log := h.Log()
	for _, c := range testCredentials[:3] {
		_, secret, _ := strings.Cut(c, "=")
		if strings.Contains(log, secret) {
			t.Errorf("the plugin's log contains a credential (%s...)", secret[:6])
		}
	}
	for _, in := range insts {
		for _, sig := range in.srv.Signatures() {
			if strings.Contains(log, sig) {
				t.Errorf("the plugin's log contains a request signature")
			}
		}
	}
	if !strings.Contains(log, "[output:falcocw:falcocw.0]") || !strings.Contains(log, "[output:falcocw:falcocw.1]") {
		t.Errorf("log lines do not name their instance:\n%s", log)
	}
}

// TestInvalidConfigFailsInit: FLBPluginInit fails with one log line that
// names the property, the value and what is allowed.
func TestInvalidConfigFailsInit(t *testing.T) {
	h := startHost(t)
	_, ret, err := h.Init(props("log_group_name", "falco", "log_stream_name", "s", "auto_create_group", "perhaps"))
	if err != nil {
		t.Fatal(err)
	}
	if ret != flbhost.FLBError {
		t.Fatalf("init returned %d for a bad configuration", ret)
	}
	var errors []string
	for _, l := range strings.Split(h.Log(), "\n") {
		if strings.Contains(l, "[error]") {
			errors = append(errors, l)
		}
	}
	if len(errors) != 1 || !strings.Contains(errors[0], `auto_create_group`) || !strings.Contains(errors[0], `"perhaps"`) ||
		!strings.Contains(errors[0], "true or false") {
		t.Errorf("want one error line naming the property, value and allowed values; got:\n%s", h.Log())
	}
	// A good instance still starts beside the failed one.
	srv := verifyingServer()
	defer srv.Close()
	if _, ret, err := h.Init(props("endpoint", srv.URL, "log_group_name", "falco", "log_stream_name", "s")); err != nil || ret != flbhost.FLBOK {
		t.Errorf("good init after a bad one: %d %v", ret, err)
	}
}

// TestRetryAndErrorCodes: the return codes Fluent Bit sees for a chunk AWS
// cannot take now (FLB_RETRY) and one with nothing deliverable lost
// (malformed bytes: FLB_ERROR after the good records are delivered).
func TestRetryAndErrorCodes(t *testing.T) {
	h := startHost(t)
	srv := verifyingServer()
	defer srv.Close()
	srv.CreateLogGroup("g")
	id, ret, err := h.Init(props("endpoint", srv.URL, "log_group_name", "g", "log_stream_name", "s", "flush_timeout", "1s", "probe_interval", "100ms",
		// past flush_timeout and the SDK's last backoff (up to 2 s): the
		// failing request is answered while the flush waits
		"destination_wait", "5s"))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatal(ret, err)
	}
	alert := samples.Chunk(chunk.FormatV2, time.Now(), map[string]any{"log": samples.Lines("alerts.jsonl")[0]})
	srv.SetFault(func(op string, _ []byte) (int, string) { return 503, "ServiceUnavailableException" })
	if ret, _ := h.Flush(id, "t", alert); ret != flbhost.FLBRetry {
		t.Errorf("endpoint failing: ret %d, want FLB_RETRY", ret)
	}
	srv.SetFault(nil)
	time.Sleep(150 * time.Millisecond) // Fluent Bit retries later: by then the destination is probed again
	if ret, _ := h.Flush(id, "t", alert); ret != flbhost.FLBOK {
		t.Errorf("endpoint back: ret %d, want FLB_OK\n%s", ret, h.Log())
	}
	broken := append(append([]byte{}, alert...), 0xc1, 0x00)
	if ret, _ := h.Flush(id, "t", broken); ret != flbhost.FLBError {
		t.Errorf("chunk ending in garbage: ret %d, want FLB_ERROR", ret)
	}
	if n := len(srv.Events("g", "s")); n != 2 {
		t.Errorf("%d events delivered, want 2 (the good record of the broken chunk too)", n)
	}
	if ret, _ := h.Flush(id, "t", nil); ret != flbhost.FLBOK {
		t.Errorf("empty chunk: ret %d", ret)
	}
}

// TestSNSThroughPlugin: the .so publishes critical alerts to SNS with
// their attributes, exactly once each, while the endpoint fails some
// entries one by one.
func TestSNSThroughPlugin(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:falco-response"
	srv := verifyingServer()
	defer srv.Close()
	srv.CreateTopic(topic)
	srv.SetFaults(fakeaws.Faults{Seed: 11, RecordFailure: 0.2})
	h := startHost(t)
	id, ret, err := h.Init(props("endpoint", srv.URL, "route.1", "priority>=Critical -> sns:"+topic, "route.2", "* -> drop"))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatalf("init %d %v\n%s", ret, err, h.Log())
	}
	var bodies []map[string]any
	want := map[string]bool{}
	for i, a := range numberedAlerts(600) {
		bodies = append(bodies, a)
		switch a["priority"] {
		case "Critical", "Alert", "Emergency":
			want["a-"+strconv.Itoa(i)] = true
		}
	}
	for _, c := range chunksOf(bodies, 64*1024) {
		if ret, err := h.Flush(id, "falco", c); err != nil || ret != flbhost.FLBOK {
			t.Fatalf("flush %d %v\n%s", ret, err, h.Log())
		}
	}
	got := map[string]int{}
	for _, m := range srv.Messages(topic) {
		ev := samples.DecodeJSON(m.Body)
		got[ev["uuid"].(string)]++
		if m.Attributes["priority"][1] != ev["priority"] || m.Attributes["rule"][1] != ev["rule"] {
			t.Fatalf("attributes %v", m.Attributes)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d alerts published, want %d", len(got), len(want))
	}
	for u, n := range got {
		if n != 1 || !want[u] {
			t.Errorf("%s published %d times (expected: %v)", u, n, want[u])
		}
	}
	if srv.Injected().RecordFailure == 0 || len(srv.Violations()) > 0 {
		t.Errorf("faults %+v, violations %v", srv.Injected(), srv.Violations())
	}
}

// TestPanicStaysInside: a panic inside a flush is recovered, logged with
// its stack, answered FLB_RETRY, and the plugin goes on working.
func TestPanicStaysInside(t *testing.T) {
	h, err := flbhost.Start(hostPath, soPath, append(append([]string{}, testCredentials...), "FALCOCW_PANIC_ON_TAG=boom"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Kill()
	srv := verifyingServer()
	defer srv.Close()
	id, ret, err := h.Init(props("endpoint", srv.URL, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true"))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatal(ret, err)
	}
	c := samples.Chunk(chunk.FormatV2, time.Now(), map[string]any{"log": samples.Lines("alerts.jsonl")[0]})
	if ret, err := h.Flush(id, "boom", c); err != nil || ret != flbhost.FLBRetry {
		t.Fatalf("panicking flush: ret %d, %v\n%s", ret, err, h.Log())
	}
	if !strings.Contains(h.Log(), "internal error (please report it)") || !strings.Contains(h.Log(), "goroutine") {
		t.Errorf("the panic is not logged with its stack:\n%s", h.Log())
	}
	if ret, err := h.Flush(id, "falco", c); err != nil || ret != flbhost.FLBOK {
		t.Errorf("after the panic: ret %d, %v", ret, err)
	}
	if _, err := h.Exit(); err != nil {
		t.Error(err)
	}
}
