package realhost_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/parquet-go/parquet-go"

	"github.com/falcocw/falcocw/internal/ocsfcheck"
	"github.com/falcocw/falcocw/internal/parquetread"
	"github.com/falcocw/falcocw/internal/realhost"
)

const lakeBucket = "aws-security-data-lake-eu-west-1-falcocw"

var lakeKey = regexp.MustCompile(`^ext/falco/1\.0/region=eu-west-1/accountId=123456789012/eventDay=\d{8}/seg-\d{19}-[0-9a-f]{12}\.parquet$`)

// lakeObjects reads every object of the lake's bucket in moto.
func lakeObjects(t *testing.T, c *s3.Client) (keys []string, bodies [][]byte) {
	t.Helper()
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(lakeBucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		for _, o := range page.Contents {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(lakeBucket), Key: o.Key})
			must(t, err)
			b, err := io.ReadAll(out.Body)
			out.Body.Close()
			must(t, err)
			keys = append(keys, aws.ToString(o.Key))
			bodies = append(bodies, b)
		}
	}
	return keys, bodies
}

// rowsIn counts the rows the objects' Parquet footers declare.
func rowsIn(t *testing.T, bodies [][]byte) int {
	n := 0
	for _, b := range bodies {
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("an object is not Parquet: %v", err)
		}
		n += int(f.NumRows())
	}
	return n
}

func lakeConfig(dir, url string) string {
	var b strings.Builder
	realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5", "storage.path", dir+"/flb-storage/", "storage.sync", "full")
	realhost.Section(&b, "INPUT", "Name", "tail", "Path", dir+"/falco.log", "Tag", "falco.node", "Read_from_Head", "On",
		"DB", dir+"/tail.db", "storage.type", "filesystem", "Refresh_Interval", "1")
	realhost.Section(&b, "OUTPUT", "Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", url,
		"route.1", "* -> securitylake:"+lakeBucket+"/ext/falco/1.0",
		"securitylake_flush_interval", "2s", "journal_path", dir+"/falcocw-journal",
		"workers", "2", "Retry_Limit", "no_limits")
	return b.String()
}

// TestSecurityLakeMoto: real Fluent Bit routes numbered alerts to a
// Security Lake custom source in moto's S3, and is killed (SIGKILL) in the
// middle, while findings wait in its spool for their object; a second
// Fluent Bit, on the same storage and journal_path, reads the rest. Every
// alert lands once, in Parquet objects in Security Lake's layout that
// hyparquet reads, every row a valid OCSF 1.1.0 Detection Finding, the
// account from STS.
func TestSecurityLakeMoto(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	schema, err := ocsfcheck.Load()
	must(t, err)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			url := realhost.StartMoto(t)
			ctx := context.Background()
			c := s3.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: motoCreds}, func(o *s3.Options) {
				o.BaseEndpoint, o.UsePathStyle = aws.String(url), true
			})
			must(t, err2(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(lakeBucket),
				CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})))
			alerts := realhost.NumberedAlerts(3000)
			third := len(alerts) / 3
			dir := t.TempDir()
			appendAlerts := func(as []realhost.Alert) {
				f, err := os.OpenFile(dir+"/falco.log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
				must(t, err)
				for _, a := range as {
					_, err = f.WriteString(a.Line + "\n")
					must(t, err)
				}
				f.Close()
			}
			appendAlerts(alerts[:third])
			conf := realhost.WriteFile(t, dir, "fluent-bit.conf", lakeConfig(dir, url))

			one := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			if !realhost.Until(60*time.Second, func() bool { _, b := lakeObjects(t, c); return len(b) > 0 }) {
				t.Fatalf("no object in 60 s:\n%s", one.Log())
			}
			// The second third is read and kept in the spool, waiting for
			// its object, when Fluent Bit is killed.
			appendAlerts(alerts[third : 2*third])
			realhost.Until(20*time.Second, func() bool {
				segs, _ := filepath.Glob(dir + "/falcocw-journal/*-securitylake/seg-*.spool")
				for _, s := range segs {
					if st, err := os.Stat(s); err == nil && st.Size() > 100<<10 {
						return true
					}
				}
				return false
			})
			_ = syscall.Kill(-one.Pid(), syscall.SIGKILL)
			one.Wait(10 * time.Second)
			_, bodies := lakeObjects(t, c)
			beforeKill := rowsIn(t, bodies)
			appendAlerts(alerts[2*third:])
			two := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			realhost.Until(90*time.Second, func() bool { _, b := lakeObjects(t, c); return rowsIn(t, b) >= len(alerts) })
			time.Sleep(3 * time.Second) // replays that would double land now
			two.Stop(30 * time.Second)

			keys, bodies := lakeObjects(t, c)
			files := parquetread.Read(t, bodies...)
			seen := map[string]int{}
			problems := 0
			for i, file := range files {
				if !lakeKey.MatchString(keys[i]) {
					t.Errorf("object %s is not in Security Lake's layout", keys[i])
				}
				if bad := parquetread.RepeatedOutsideList(file.Schema); len(bad) > 0 {
					t.Errorf("%s: repeated fields outside a LIST: %v", keys[i], bad)
				}
				for _, r := range file.Rows {
					parquetread.Compact(r)
					if p := schema.Check("detection_finding", r); len(p) > 0 {
						if problems++; problems <= 3 {
							t.Errorf("%s: not a valid Detection Finding: %v", keys[i], p)
						}
					}
					u, _ := r["unmapped"].(map[string]any)
					seen[u["falco.uuid"].(string)]++
					if md := r["metadata"].(map[string]any); md["tenant_uid"] != "123456789012" {
						t.Errorf("tenant_uid %v, want moto's account from STS", md["tenant_uid"])
					}
				}
			}
			missing, dups := 0, 0
			for _, a := range alerts {
				switch seen[a.UUID] {
				case 0:
					missing++
				case 1:
				default:
					dups++
				}
			}
			resumed := regexp.MustCompile(`\d+ findings of the run before, in \d+ spool segments`).FindString(two.Log())
			t.Logf("Fluent Bit %s: %d alerts; %d rows in objects when killed; after the restart %d objects, %d rows: %d missing, %d duplicated, %d invalid rows; the second run found: %q",
				bin.Version, len(alerts), beforeKill, len(keys), rowsIn(t, bodies), missing, dups, problems, resumed)
			if missing+dups > 0 || len(seen) != len(alerts) {
				t.Errorf("%d missing, %d duplicated, %d distinct of %d\n%s", missing, dups, len(seen), len(alerts), two.Log())
			}
			if beforeKill == 0 || beforeKill >= 2*third || resumed == "" {
				t.Errorf("the kill should fall while findings wait in the spool: %d rows were written before it; the second run found %q", beforeKill, resumed)
			}
		})
	}
}
