package footprint

import (
	"runtime"
	"testing"

	_ "github.com/falcocw/falcocw/falcocw" // the core, as the plugin links it
)

// MaxInitHeap bounds the Go heap live once the core's packages are
// initialised and nothing has run. It is 1.1 MB on linux/amd64 and arm64
// with the AWS SDK's service packages go.mod pins; the schema-based
// serialisers of later CloudWatch Logs, Firehose, Kinesis and EventBridge
// releases build 1.6 MB of tables at init, whether a destination of the
// kind is configured or not.
const MaxInitHeap = 1.5e6

func TestInitHeap(t *testing.T) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("Go heap live after the core's init: %.2f MB (in use %.2f MB)", float64(m.HeapAlloc)/1e6, float64(m.HeapInuse)/1e6)
	if m.HeapAlloc > MaxInitHeap {
		t.Errorf("the core's packages hold %.2f MB of heap at init, more than %.1f MB: a dependency now builds tables at init "+
			"(see go.mod's note on the AWS SDK's service packages; `go test -memprofile` of a program that only imports them shows which)",
			float64(m.HeapAlloc)/1e6, MaxInitHeap/1e6)
	}
}
