package realhost_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/falcocw/falcocw/internal/realhost"
	"github.com/falcocw/falcocw/internal/sampletest"
)

// dockerPiece is how much of a line Docker's log driver puts in one
// record: a longer line goes out as several, each marked partial_message.
const dockerPiece = 16 * 1024

// sizedAlert makes an alert's line exactly n bytes long with a long
// command line (proc.cmdline), as Falco prints a rule that shows one. It
// returns the alert and the command line's length.
func sizedAlert(t *testing.T, a realhost.Alert, n int) (realhost.Alert, int) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.Line), &m); err != nil {
		t.Fatal(err)
	}
	fields, _ := m["output_fields"].(map[string]any)
	if fields == nil {
		fields = map[string]any{}
		m["output_fields"] = fields
	}
	fields["proc.cmdline"] = ""
	base, _ := json.Marshal(m)
	if len(base) > n {
		t.Fatalf("alert %s is %d bytes without a command line, over %d", a.UUID, len(base), n)
	}
	cmdline := "sh -c " + strings.Repeat("x", n-len(base)-len("sh -c "))
	fields["proc.cmdline"] = cmdline
	b, _ := json.Marshal(m)
	if len(b) != n {
		t.Fatalf("alert %s: %d bytes, want %d", a.UUID, len(b), n)
	}
	a.Line = string(b)
	return a, len(cmdline)
}

// dockerRecords are the records Docker's fluentd log driver sends for one
// line of a container's stdout: the line itself, or, over 16 KiB, its
// pieces with partial_message, partial_id, partial_ordinal and
// partial_last, as strings. Each record is a JSON object on a line of its
// own, for the feeder's tail input to parse.
func dockerRecords(b *strings.Builder, line, containerID, containerName string) {
	rec := func(m map[string]string) {
		m["container_id"], m["container_name"], m["source"] = containerID, containerName, "stdout"
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	if len(line) <= dockerPiece {
		rec(map[string]string{"log": line})
		return
	}
	sum := sha256.Sum256([]byte(containerID + line))
	id := hex.EncodeToString(sum[:])
	for i := 0; len(line) > 0; i++ {
		n := min(dockerPiece, len(line))
		rec(map[string]string{"log": line[:n], "partial_message": "true", "partial_id": id,
			"partial_ordinal": fmt.Sprint(i + 1), "partial_last": fmt.Sprint(n == len(line))})
		line = line[n:]
	}
}

// dockerFeederConfig is a second Fluent Bit that sends the records of
// each file over forward as Docker's fluentd log driver does, under the
// tag "<container>-firelens-<task id>".
func dockerFeederConfig(port int, parsers string, files map[string]string) string {
	var b strings.Builder
	realhost.Section(&b, "SERVICE", "Flush", "1", "Parsers_File", parsers)
	for container, path := range files {
		realhost.Section(&b, "INPUT", "Name", "tail", "Path", path, "Read_from_Head", "On", "Parser", "docker_json",
			"Buffer_Chunk_Size", "64k", "Buffer_Max_Size", "1M", "Tag", container+"-firelens-"+firelensTask)
	}
	realhost.Section(&b, "OUTPUT", "Name", "forward", "Match", "*", "Host", "127.0.0.1", "Port", itoa(port))
	return b.String()
}

// TestFireLensLongAlerts runs the log router as ECS configures it from
// examples/ecs-task-definition.json (with the file its firelensConfiguration
// includes), fed over forward with alerts of 16 KiB + 1 byte, 40 KB and
// 300 KB that Docker's log driver split into pieces, among ordinary alerts,
// Falco's other lines, and another container's lines (one of them split
// too): every alert arrives once and whole, or, over a destination's limit,
// cut with falcocw's mark and a log line; no piece arrives on its own.
func TestFireLensLongAlerts(t *testing.T) {
	bins := realhost.Require(t)
	realhost.Plugin(t)
	_, container := firelensOptions(t)
	alerts := realhost.NumberedAlerts(90)
	sizes := []int{dockerPiece + 1, 40_000, 300_000}
	cmdlines := map[string]int{} // uuid → length of its command line
	big := map[int]int{}         // size → alerts of it
	// Two alerts of each size go to Firehose too (mitre_ tags: its limit
	// is 1,000 KiB a record) and two to CloudWatch only (256 KB an event).
	type kind struct {
		size  int
		mitre bool
	}
	made := map[kind]int{}
	for i := 2; i < len(alerts); i += 3 {
		for _, n := range sizes {
			k := kind{n, alerts[i].HasTagPrefix("mitre_")}
			if made[k] < 2 {
				made[k]++
				big[n]++
				alerts[i], cmdlines[alerts[i].UUID] = sizedAlert(t, alerts[i], n)
				break
			}
		}
	}
	for _, n := range sizes {
		if made[kind{n, true}] != 2 || made[kind{n, false}] != 2 {
			t.Fatalf("the workload lacks alerts of %d bytes: %v", n, made)
		}
	}
	var falco, app strings.Builder
	const falcoID, appID = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d1e0f5a4b"
	for i, a := range alerts {
		dockerRecords(&falco, a.Line, falcoID, "/ecs-falco-7-falco-a8b0c1d2e3f4")
		if i%10 == 0 {
			for _, n := range realhost.Noise() {
				dockerRecords(&falco, n, falcoID, "/ecs-falco-7-falco-a8b0c1d2e3f4")
			}
			dockerRecords(&app, fmt.Sprintf(`{"level":"info","msg":"request %d served"}`, i), appID, "/ecs-falco-7-app-c1d2e3f4a5b6")
		}
		if i == 45 { // the other container prints a long line too
			dockerRecords(&app, `{"level":"debug","dump":"`+strings.Repeat("y", 50_000)+`"}`, appID, "/ecs-falco-7-app-c1d2e3f4a5b6")
		}
	}

	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			t.Parallel()
			srv := realhost.NewEndpoint(t)
			srv.CreateDeliveryStream("falco-mitre-archive")
			want := firelensExpect(alerts)
			log := runFireLensFed(t, bin, srv.URL, func(dir string, port int, name string) string {
				if name != container {
					t.Fatalf("feeder for %s, want %s", name, container)
				}
				parsers := realhost.WriteFile(t, dir, "parsers.conf", "[PARSER]\n    Name docker_json\n    Format json\n")
				return dockerFeederConfig(port, parsers, map[string]string{
					container: realhost.WriteFile(t, dir, "falco.json", falco.String()),
					"app":     realhost.WriteFile(t, dir, "app.json", app.String()),
				})
			}, func() bool { return srv.Stored() >= want.Count() })

			missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
			t.Logf("Fluent Bit %s: %d alerts over forward (%d of 16 KiB + 1 byte, %d of 40 KB, %d of 300 KB, split by Docker's log driver): %d deliveries expected, %d missing, %d duplicated, %d unexpected",
				bin.Version, len(alerts), big[sizes[0]], big[sizes[1]], big[sizes[2]], want.Count(), missing, dups, extra)
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
			}
			got, err := sampletest.Delivered(srv)
			if err != nil {
				t.Fatal(err)
			}
			whole, cut := 0, 0
			for dest, events := range got {
				for _, e := range events {
					id, _ := e["uuid"].(string)
					n, isBig := cmdlines[id]
					if !isBig {
						continue
					}
					fields, _ := e["output_fields"].(map[string]any)
					cmdline, _ := fields["proc.cmdline"].(string)
					switch {
					case len(cmdline) == n:
						whole++
					case e["falcocw_truncated"] == true && strings.HasPrefix(dest, "cloudwatch:") && n > 256*1024:
						cut++ // over CloudWatch's 256 KB an event: cut, and marked
					default:
						t.Errorf("%s: alert %s arrived with a command line of %d bytes, want %d (truncated mark: %v)", dest, id, len(cmdline), n, e["falcocw_truncated"])
					}
				}
			}
			if cut == 0 || whole == 0 {
				t.Errorf("%d long alerts whole and %d cut to CloudWatch's limit: want both", whole, cut)
			}
			if !strings.Contains(log, "delivered truncated") {
				t.Errorf("the 300 KB alerts cut for CloudWatch are not noted in the log")
			}
			if strings.Contains(log, "partial_message") || strings.Contains(log, "cut short") {
				t.Errorf("falcocw saw pieces of lines: the included file did not join them:\n%s", log[max(0, len(log)-3000):])
			}
			t.Logf("long alerts: %d deliveries whole, %d cut to CloudWatch's 256 KB with the mark", whole, cut)
		})
	}
}
