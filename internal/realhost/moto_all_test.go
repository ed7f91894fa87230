package realhost_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"

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
			reads := newMotoReads(t, url, cfg)
			queue := reads.queue
			sn := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(url) })
			topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("falco-response")})
			must(t, err)
			snsQueue, snsQueueARN := queue("falco-sns")
			must(t, err2(sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(snsQueueARN),
				Attributes: map[string]string{"RawMessageDelivery": "true"}})))
			must(t, err2(reads.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("falco-audit"), ShardCount: aws.Int32(1)})))
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

			cw := reads.cw
			hub := securityhub.NewFromConfig(cfg, func(o *securityhub.Options) { o.BaseEndpoint = aws.String(url) })
			// Queues and streams are read once each, as they drain; the
			// log group, the bucket and the findings are read whole.
			readKinesis := func() { reads.kinesis("kinesis:falco-audit", "falco-audit") }
			drain := reads.drain
			whole := func() uuidCounts {
				out := reads.counted()
				reads.logGroup(out, "/falco/alerts")
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
			ebBody := eventDetail(t)
			fb := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			last := collect(fb, want, func() uuidCounts {
				drain("sns", snsQueue, snsBody)
				drain("eventbridge:falco", ebQueue, ebBody)
				readKinesis()
				return whole()
			})
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
