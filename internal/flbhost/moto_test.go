package flbhost_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	snsapi "github.com/aws/aws-sdk-go-v2/service/sns"
	sqsapi "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/flbhost"
	"github.com/falcocw/falcocw/internal/realhost"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"
)

// motoURL returns the moto server to test against, skipping the test when
// none answers (unless FALCOCW_REQUIRE_MOTO is set, as CI sets it).
func motoURL(t *testing.T) string {
	url := os.Getenv("FALCOCW_MOTO_URL")
	if url == "" {
		url = "http://127.0.0.1:5055"
	}
	resp, err := http.Get(url + "/moto-api/")
	if err == nil {
		resp.Body.Close()
		return url
	}
	if os.Getenv("FALCOCW_REQUIRE_MOTO") != "" {
		t.Fatalf("moto is required but does not answer at %s: %v", url, err)
	}
	t.Skipf("SKIPPED: moto does not answer at %s (start it with scripts/moto.sh start)", url)
	return ""
}

func motoPost(t *testing.T, url string) {
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func motoAWS() aws.Config {
	return aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider(fakeaws.AccessKey, fakeaws.SecretKey, fakeaws.SessionToken)}
}

// TestMoto delivers the samples through the .so to moto, an independent
// AWS emulator: MITRE-tagged alerts to a Firehose stream writing to S3,
// the rest to a CloudWatch log group the plugin creates, and reads both
// back through AWS's own APIs.
func TestMoto(t *testing.T) {
	url := motoURL(t)
	motoPost(t, url+"/moto-api/reset")
	ctx := context.Background()
	bucket := "falco-archive"
	req, _ := http.NewRequest(http.MethodPut, url+"/"+bucket, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("creating bucket: %v %v", resp, err)
	}
	fh := firehose.NewFromConfig(motoAWS(), func(o *firehose.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("falco-mitre"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + bucket),
			RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose"),
		},
	}); err != nil {
		t.Fatal(err)
	}

	h := startHost(t)
	id, ret, err := h.Init(props("endpoint", url, "log_group_name", "/falco/alerts", "log_stream_name", "{source}",
		"auto_create_group", "true", "route.1", "tag=mitre_* -> firehose:falco-mitre"))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatalf("init %d %v\n%s", ret, err, h.Log())
	}
	recs := samples.Records()
	for _, c := range splitChunks(chunk.FormatV2, recs, 16384) {
		if ret, err := h.Flush(id, "falco", c); err != nil || ret != flbhost.FLBOK {
			t.Fatalf("flush %d %v\n%s", ret, err, h.Log())
		}
	}

	// What should have gone where, by rule and time.
	wantCW, wantFH := map[string]int{}, map[string]int{}
	for _, r := range recs {
		a := sampletest.AlertOf(r)
		if a == nil {
			continue
		}
		k := fmt.Sprint(a["rule"], "|", a["time"])
		mitre := false
		tags, _ := a["tags"].([]any)
		for _, tag := range tags {
			mitre = mitre || strings.HasPrefix(tag.(string), "mitre_")
		}
		if mitre {
			wantFH[k]++
		} else {
			wantCW[k]++
		}
	}

	// CloudWatch Logs, through FilterLogEvents.
	cw := cloudwatchlogs.NewFromConfig(motoAWS(), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) })
	gotCW := map[string]int{}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(cw, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/falco/alerts")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			m := samples.DecodeJSON(aws.ToString(e.Message))
			gotCW[fmt.Sprint(m["rule"], "|", m["time"])]++
		}
	}
	// Firehose, through the S3 bucket behind it.
	gotFH := map[string]int{}
	for _, line := range realhost.S3Lines(t, url, bucket) {
		m := samples.DecodeJSON(line)
		gotFH[fmt.Sprint(m["rule"], "|", m["time"])]++
	}
	for name, pair := range map[string][2]map[string]int{"CloudWatch": {wantCW, gotCW}, "Firehose/S3": {wantFH, gotFH}} {
		want, got := pair[0], pair[1]
		total := 0
		for k, n := range want {
			total += n
			if got[k] != n {
				t.Errorf("%s: %s arrived %d times, want %d", name, k, got[k], n)
			}
		}
		for k := range got {
			if want[k] == 0 {
				t.Errorf("%s: unexpected %s", name, k)
			}
		}
		t.Logf("%s: %d alerts expected, %d distinct read back", name, total, len(got))
	}
	if _, err := h.Exit(); err != nil {
		t.Error(err)
	}
}

// TestMotoSNS publishes every sample alert through the .so to an SNS topic
// in moto whose SQS subscription has the filter policy
// {"priority": ["Critical", "Error"]}, and reads the queue back: exactly
// the critical and error alerts arrive, with their message attributes.
func TestMotoSNS(t *testing.T) {
	url := motoURL(t)
	motoPost(t, url+"/moto-api/reset")
	ctx := context.Background()
	snsc := snsapi.NewFromConfig(motoAWS(), func(o *snsapi.Options) { o.BaseEndpoint = aws.String(url) })
	sqsc := sqsapi.NewFromConfig(motoAWS(), func(o *sqsapi.Options) { o.BaseEndpoint = aws.String(url) })
	topic, err := snsc.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: aws.String("falco-response")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: aws.String("falco-critical")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqsc.GetQueueAttributes(ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint:   aws.String(qa.Attributes["QueueArn"]),
		Attributes: map[string]string{"FilterPolicy": `{"priority": ["Critical", "Error"]}`}}); err != nil {
		t.Fatal(err)
	}

	h := startHost(t)
	id, ret, err := h.Init(props("endpoint", url, "route.1", "* -> sns:"+aws.ToString(topic.TopicArn)))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatalf("init %d %v\n%s", ret, err, h.Log())
	}
	want := map[string]int{}
	var bodies []map[string]any
	for _, l := range samples.Lines("alerts.jsonl") {
		bodies = append(bodies, map[string]any{"log": l})
		a := samples.DecodeJSON(l)
		if p := a["priority"]; p == "Critical" || p == "Error" {
			want[fmt.Sprint(a["rule"], "|", a["time"])]++
		}
	}
	if ret, err := h.Flush(id, "falco", samples.Chunk(chunk.FormatV2, time.Now(), bodies...)); err != nil || ret != flbhost.FLBOK {
		t.Fatalf("flush %d %v\n%s", ret, err, h.Log())
	}
	got := map[string]int{}
	for empty := 0; empty < 2; {
		out, err := sqsc.ReceiveMessage(ctx, &sqsapi.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range out.Messages {
			var env struct {
				Message           string
				MessageAttributes map[string]struct{ Type, Value string }
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("not an SNS notification: %v", err)
			}
			ev := samples.DecodeJSON(env.Message)
			got[fmt.Sprint(ev["rule"], "|", ev["time"])]++
			if a := env.MessageAttributes["priority"]; a.Type != "String" || a.Value != ev["priority"] {
				t.Errorf("priority attribute %+v for %v", a, ev["priority"])
			}
			if a := env.MessageAttributes["rule"]; a.Value != ev["rule"] {
				t.Errorf("rule attribute %+v", a)
			}
			if _, ok := ev["tags"]; ok && env.MessageAttributes["tags"].Type != "String.Array" {
				t.Errorf("tags attribute %+v", env.MessageAttributes["tags"])
			}
			_, _ = sqsc.DeleteMessage(ctx, &sqsapi.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
		}
	}
	total := 0
	for k, n := range want {
		total += n
		if got[k] != n {
			t.Errorf("%s arrived %d times, want %d", k, got[k], n)
		}
	}
	for k := range got {
		if want[k] == 0 {
			t.Errorf("%s passed the filter policy but is neither Critical nor Error", k)
		}
	}
	t.Logf("SNS → SQS with filter policy: %d Critical/Error alerts expected, %d received", total, len(got))
}
