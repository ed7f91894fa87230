package realhost_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/falcocw/falcocw/internal/realhost"
)

const kmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// TestAllDestinationsMoto: one real Fluent Bit routes numbered alerts to
// every kind of destination in moto, and every alert is read back, once,
// through AWS's own read APIs: CloudWatch Logs FilterLogEvents (from a
// group falcocw created with its KMS key and tags), the S3 bucket behind
// the Firehose stream, an SQS queue subscribed to the SNS topic, Kinesis
// GetRecords, an SQS queue an EventBridge rule targets (so the rule's
// pattern on detail.priority is tested too), and Security Hub GetFindings
// (the account found through STS GetCallerIdentity).
//
// The versions run in turn, each with its own moto: three Fluent Bits
// and three motos at once on a 2-core machine made moto answer slower
// than flush_timeout.
func TestAllDestinationsMoto(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			url := realhost.StartMoto(t)
			ctx := context.Background()
			cfg := aws.Config{Region: "eu-west-1", Credentials: motoCreds}
			bucket := "falco-archive"
			firehoseToS3(t, url, cfg, "falco-mitre", bucket)
			sq := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(url) })
			queue := func(name string) (string, string) {
				q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
				must(t, err)
				a, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
				must(t, err)
				return aws.ToString(q.QueueUrl), a.Attributes["QueueArn"]
			}
			sn := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(url) })
			topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("falco-response")})
			must(t, err)
			snsQueue, snsQueueARN := queue("falco-sns")
			must(t, err2(sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(snsQueueARN),
				Attributes: map[string]string{"RawMessageDelivery": "true"}})))
			kin := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(url) })
			must(t, err2(kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("falco-audit"), ShardCount: aws.Int32(1)})))
			eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(url) })
			must(t, err2(eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("falco")})))
			ebQueue, ebQueueARN := queue("falco-response")
			// Only errors and worse reach the rule's target: the pattern
			// matches on the event's detail, as a user's rule would.
			must(t, err2(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("falco-errors"), EventBusName: aws.String("falco"),
				EventPattern: aws.String(`{"source":["falco"],"detail-type":["Falco Alert"],"detail":{"priority":["Error","Critical","Alert","Emergency"]}}`)})))
			must(t, err2(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("falco-errors"), EventBusName: aws.String("falco"),
				Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(ebQueueARN)}}})))

			alerts := realhost.NumberedAlerts(604)
			var lines []string
			want := realhost.Expect{}
			for _, a := range alerts {
				lines = append(lines, a.Line)
				want.Add("cloudwatch:/falco/alerts", a.UUID)
				if a.HasTagPrefix("mitre_") {
					want.Add("firehose:falco-mitre", a.UUID)
				}
				if a.Critical() {
					want.Add("sns", a.UUID)
				}
				if a.Source == "k8s_audit" {
					want.Add("kinesis:falco-audit", a.UUID)
				}
				if a.Critical() || a.Priority == "Error" {
					want.Add("eventbridge:falco", a.UUID)
				}
				if a.Priority == "Alert" || a.Priority == "Emergency" || a.Priority == "Critical" {
					want.Add("securityhub", a.UUID)
				}
			}
			dir := t.TempDir()
			path := realhost.WriteFile(t, dir, "falco.log", strings.Join(lines, "\n")+"\n")
			var b strings.Builder
			realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5")
			realhost.Section(&b, "INPUT", "Name", "tail", "Path", path, "Tag", "falco.node", "Read_from_Head", "On")
			realhost.Section(&b, "OUTPUT", "Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", url,
				"log_group_name", "/falco/alerts", "log_stream_name", "{hostname}", "auto_create_group", "true",
				"log_group_class", "INFREQUENT_ACCESS", "log_group_tags", "team=security,env=test", "log_group_kms_key_id", kmsKey,
				"route.1", "priority>=Critical -> sns:"+aws.ToString(topic.TopicArn)+" continue",
				"route.2", "tag=mitre_* -> firehose:falco-mitre continue",
				"route.3", "source=k8s_audit -> kinesis:falco-audit continue",
				"route.4", "priority>=Error -> eventbridge:falco continue",
				"route.5", "priority>=Critical -> securityhub continue",
				"workers", "1", "Retry_Limit", "False")
			conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())

			cw := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) })
			hub := securityhub.NewFromConfig(cfg, func(o *securityhub.Options) { o.BaseEndpoint = aws.String(url) })
			got := uuidCounts{}
			// Queues and streams are read once each, as they drain; the
			// log group, the bucket and the findings are read whole.
			drain := func(dest, qurl string, body func(string) string) {
				for {
					out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MaxNumberOfMessages: 10})
					if err != nil || len(out.Messages) == 0 {
						return
					}
					for _, m := range out.Messages {
						got.add(t, dest, body(aws.ToString(m.Body)))
						_, _ = sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(qurl), ReceiptHandle: m.ReceiptHandle})
					}
				}
			}
			var shardIter *string
			readKinesis := func() {
				if shardIter == nil {
					it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("falco-audit"),
						ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
					must(t, err)
					shardIter = it.ShardIterator
				}
				for {
					out, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: shardIter})
					must(t, err)
					shardIter = out.NextShardIterator
					for _, r := range out.Records {
						got.add(t, "kinesis:falco-audit", string(r.Data))
					}
					if len(out.Records) == 0 {
						return
					}
				}
			}
			whole := func() uuidCounts {
				out := uuidCounts{}
				for k, v := range got {
					out[k] = v
				}
				p := cloudwatchlogs.NewFilterLogEventsPaginator(cw, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/falco/alerts")})
				for p.HasMorePages() {
					page, err := p.NextPage(ctx)
					if err != nil {
						break // not created yet
					}
					for _, e := range page.Events {
						out.add(t, "cloudwatch:/falco/alerts", aws.ToString(e.Message))
					}
				}
				for _, l := range realhost.S3Lines(t, url, bucket) {
					out.add(t, "firehose:falco-mitre", l)
				}
				fp := securityhub.NewGetFindingsPaginator(hub, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
				for fp.HasMorePages() {
					page, err := fp.NextPage(ctx)
					if err != nil {
						t.Fatalf("GetFindings: %v", err)
					}
					for _, f := range page.Findings {
						out.addID("securityhub", f.ProductFields["falco/uuid"])
						if aws.ToString(f.AwsAccountId) != "123456789012" || f.Severity == nil || f.Severity.Label == "" || aws.ToString(f.Title) == "" {
							t.Errorf("finding %s: account %s, severity %v, title %q", aws.ToString(f.Id), aws.ToString(f.AwsAccountId), f.Severity, aws.ToString(f.Title))
						}
					}
				}
				return out
			}
			snsBody := func(s string) string { return s }
			ebBody := func(s string) string { // the event as EventBridge delivers it: the alert is its detail
				var ev struct {
					Source     string          `json:"source"`
					DetailType string          `json:"detail-type"`
					Detail     json.RawMessage `json:"detail"`
				}
				if err := json.Unmarshal([]byte(s), &ev); err != nil || ev.Source != "falco" || ev.DetailType != "Falco Alert" {
					t.Errorf("EventBridge event %.300s: %v", s, err)
				}
				return string(ev.Detail)
			}
			fb := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			var last uuidCounts
			realhost.Until(90*time.Second, func() bool {
				drain("sns", snsQueue, snsBody)
				drain("eventbridge:falco", ebQueue, ebBody)
				readKinesis()
				last = whole()
				return last.total() >= want.Count()
			})
			time.Sleep(2 * time.Second)
			fb.Stop(20 * time.Second)
			drain("sns", snsQueue, snsBody)
			drain("eventbridge:falco", ebQueue, ebBody)
			readKinesis()
			last = whole()
			missing, dups, extra, notes := want.Compare(last)
			per := map[string]int{}
			for d, ids := range last {
				per[d] = len(ids)
			}
			t.Logf("Fluent Bit %s against moto: %d alerts, %d deliveries expected over 6 kinds (%v); %d missing, %d duplicated, %d unexpected",
				bin.Version, len(alerts), want.Count(), per, missing, dups, extra)
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s\n%s", strings.Join(notes, "\n"), fb.Log())
			}
			groups, err := cw.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/falco/alerts")})
			must(t, err)
			// moto keeps the KMS key and the tags of CreateLogGroup, not its
			// class (TestGroupOptions checks that against the fake).
			if len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].KmsKeyId) != kmsKey {
				t.Errorf("log group as created: %+v", groups.LogGroups)
			} else {
				tags, err := cw.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(strings.TrimSuffix(aws.ToString(groups.LogGroups[0].Arn), ":*"))})
				if err != nil || tags.Tags["team"] != "security" || tags.Tags["env"] != "test" {
					t.Errorf("log group tags %v %v", tags, err)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// err2 keeps the error of a call whose result the test does not need.
func err2[T any](_ T, err error) error { return err }
