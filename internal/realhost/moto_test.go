package realhost_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/realhost"
)

var motoCreds = credentials.NewStaticCredentialsProvider(fakeaws.AccessKey, fakeaws.SecretKey, fakeaws.SessionToken)

// TestFireLensMoto runs the FireLens scenario against moto, an AWS
// emulator written by others, on every Fluent Bit: alerts read back through
// CloudWatch Logs' FilterLogEvents and from the S3 bucket behind the
// Firehose stream, each exactly once where the example's routes send it.
func TestFireLensMoto(t *testing.T) {
	bins := realhost.Require(t)
	realhost.Plugin(t)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			t.Parallel()
			url := realhost.StartMoto(t)
			ctx := context.Background()
			cfg := aws.Config{Region: "eu-west-1", Credentials: motoCreds}
			bucket := "falco-archive"
			firehoseToS3(t, url, cfg, "falco-mitre-archive", bucket)
			cw := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) })
			alerts, lines := firelensAlerts()
			want := firelensExpect(alerts)
			read := func() uuidCounts {
				got := uuidCounts{}
				for _, group := range []string{"/falco/alerts", "/falco/critical"} {
					p := cloudwatchlogs.NewFilterLogEventsPaginator(cw, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
					for p.HasMorePages() {
						page, err := p.NextPage(ctx)
						if err != nil {
							break // the group is not there yet
						}
						for _, e := range page.Events {
							got.add(t, "cloudwatch:"+group+":"+aws.ToString(e.LogStreamName), aws.ToString(e.Message))
						}
					}
				}
				for _, l := range realhost.S3Lines(t, url, bucket) {
					got.add(t, "firehose:falco-mitre-archive", l)
				}
				return got
			}
			runFireLens(t, bin, url, lines, func() bool { return read().total() >= want.Count() })
			missing, dups, extra, notes := want.Compare(read())
			t.Logf("Fluent Bit %s against moto: %d deliveries expected, %d missing, %d duplicated, %d unexpected", bin.Version, want.Count(), missing, dups, extra)
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
			}
		})
	}
}

// firehoseToS3 creates, in moto, an S3 bucket and a Firehose delivery
// stream writing to it, read back with realhost.S3Lines.
func firehoseToS3(t *testing.T, url string, cfg aws.Config, stream, bucket string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url+"/"+bucket, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("creating bucket: %v %v", resp, err)
	}
	fh := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := fh.CreateDeliveryStream(context.Background(), &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + bucket), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"),
		},
	}); err != nil {
		t.Fatal(err)
	}
}

// uuidCounts is what a test read back from moto: destination → uuid →
// copies.
type uuidCounts map[string]map[string]int

// add counts one delivered event (its JSON) at dest by its uuid.
func (c uuidCounts) add(t *testing.T, dest, event string) {
	var m map[string]any
	if json.Unmarshal([]byte(event), &m) != nil {
		t.Errorf("%s: not JSON: %.200s", dest, event)
		return
	}
	id, _ := m["uuid"].(string)
	c.addID(dest, id)
}

// addID counts one delivery of the alert uuid at dest.
func (c uuidCounts) addID(dest, uuid string) {
	if c[dest] == nil {
		c[dest] = map[string]int{}
	}
	c[dest][uuid]++
}

// total counts every delivery.
func (c uuidCounts) total() int {
	n := 0
	for _, ids := range c {
		for _, k := range ids {
			n += k
		}
	}
	return n
}
