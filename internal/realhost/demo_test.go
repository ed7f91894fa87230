package realhost_test

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/falcocw/falcocw/internal/realhost"
)

// TestDemo runs make demo's program through each real Fluent Bit, named
// by FLUENT_BIT as a user would.
func TestDemo(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			cmd := exec.Command("go", "run", "./cmd/falcocw-demo", "-plugin", so)
			cmd.Dir = root
			cmd.Env = append(cmd.Environ(), "FLUENT_BIT="+bin.Path)
			out, err := cmd.CombinedOutput()
			text := string(out)
			if err != nil {
				t.Fatalf("demo failed: %v\n%s", err, text)
			}
			if !strings.Contains(text, "through "+bin.Path) {
				t.Errorf("the demo did not run %s:\n%.2000s", bin.Path, text)
			}
			// A new user's first sight is the table, not a wall of
			// warnings, whatever the date (the samples' times follow now).
			warnings := 0
			for _, l := range strings.Split(text, "\n") {
				if strings.Contains(l, "[ warn]") || strings.Contains(l, "[error]") {
					warnings++
				}
			}
			if warnings > 1 {
				t.Errorf("the demo printed %d warning or error lines:\n%.3000s", warnings, text)
			}
			// The table: every destination with its count.
			n := 0
			for _, m := range regexp.MustCompile(`(?m)^((?:cloudwatch|firehose|sns|eventbridge|kinesis):\S+|securityhub)\s+(\d+)`).FindAllStringSubmatch(text, -1) {
				c, _ := strconv.Atoi(m[2])
				n += c
			}
			t.Logf("Fluent Bit %s: make demo delivered %d events", bin.Version, n)
			if n < 300 || !strings.Contains(text, "one event as stored in CloudWatch Logs") || !strings.Contains(text, "one message as published to SNS") ||
				!strings.Contains(text, "one event as put on EventBridge") || !strings.Contains(text, "one finding as imported into Security Hub") ||
				!strings.Contains(text, "one row as written to Security Lake, read back from its Parquet object") {
				t.Errorf("the demo's report is incomplete (%d events):\n%s", n, text)
			}
		})
	}
}
