package falcocw_test

import (
	"context"
	"testing"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

// TestFlushAllocatesLittlePerAlert holds the flush to its allocation
// budget: the alerts, their events and the plan come from the flush's
// scratch, reused from flush to flush, so that what a flush allocates is
// per request (the SDK, the endpoint in this process) and per unusual
// alert (extra keys), not per alert. Three heap objects per alert made a
// collection every few flushes and a heap that grew between them; this
// counts objects, not time, so it holds on a slow machine.
func TestFlushAllocatesLittlePerAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("flushes 2 MiB chunks")
	}
	srv := fakeaws.New()
	srv.Light = true
	defer srv.Close()
	in, _ := newInstance(t, srv, "log_group_name", "/falco/alerts", "log_stream_name", "{hostname}",
		"auto_create_group", "true", "falcocw_log_level", "warn")
	data, n := benchChunk(t, "tail")
	allocs := testing.AllocsPerRun(5, func() {
		if res := in.Flush(context.Background(), "falco", data); res.Status != falcocw.OK {
			t.Fatal(res.Summary())
		}
	})
	// Measured: 0.96 per alert (the 9 of 151 samples with a key Falco
	// does not define take 2 each, the SDK and the endpoint about 700 per
	// request); 2.9 when each alert, its event and its plan item were
	// allocated.
	if perAlert := allocs / float64(n); perAlert > 1.5 {
		t.Errorf("a flush of %d alerts allocated %.0f objects, %.2f per alert; want at most 1.5 (the per-alert objects come from the flush's scratch)", n, allocs, perAlert)
	} else {
		t.Logf("%d alerts: %.0f objects per flush, %.2f per alert", n, allocs, perAlert)
	}
}
