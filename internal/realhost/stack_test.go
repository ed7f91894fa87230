package realhost_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/falcocw/falcocw/internal/realhost"
)

// deployStack creates deploy/cloudformation/falcocw.yaml with its defaults
// in moto's CloudFormation and returns its outputs once CREATE_COMPLETE.
func deployStack(t *testing.T, url string, cfg aws.Config) map[string]string {
	t.Helper()
	ctx := context.Background()
	body, err := os.ReadFile(filepath.Join(root, "deploy", "cloudformation", "falcocw.yaml"))
	must(t, err)
	cf := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.BaseEndpoint = aws.String(url) })
	_, err = cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("falcocw"), TemplateBody: aws.String(string(body)),
		Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityNamedIam}})
	must(t, err)
	var stack cftypes.Stack
	realhost.Until(60*time.Second, func() bool {
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("falcocw")})
		if err != nil || len(out.Stacks) == 0 {
			return false
		}
		stack = out.Stacks[0]
		return !strings.HasSuffix(string(stack.StackStatus), "_IN_PROGRESS")
	})
	if stack.StackStatus != cftypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	outputs := map[string]string{}
	for _, o := range stack.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return outputs
}

// TestStackMoto deploys the CloudFormation stack with its defaults into
// moto, configures falcocw from the stack's outputs alone (as the README's
// quick starts do, auto_create_group off: the stack made the groups), and
// has real Fluent Bit deliver numbered alerts into the resources the stack
// created: the log groups (read back with FilterLogEvents), the SNS topic
// (through an SQS subscription), the EventBridge bus (a rule to SQS), the
// Kinesis stream, and the archive bucket behind the Firehose stream, plus
// EMF metric records in the metrics group. moto's CloudFormation does not
// make AWS::KinesisFirehose::DeliveryStream (nor alarms, the dashboard,
// the topic policy): the test makes the delivery stream itself, to the
// stack's bucket.
func TestStackMoto(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	bin := bins[len(bins)-1]
	url := realhost.StartMoto(t)
	ctx := context.Background()
	cfg := aws.Config{Region: "eu-west-1", Credentials: motoCreds}
	out := deployStack(t, url, cfg)
	for _, k := range []string{"AlertsLogGroup", "CriticalLogGroup", "MetricsLogGroup", "MetricsNamespace", "Cluster", "FirehoseStream", "ArchiveBucket",
		"TopicArn", "EventBus", "KinesisStream", "PolicyArn", "TaskRoleArn"} {
		if out[k] == "" {
			t.Fatalf("the stack has no output %s: %v", k, out)
		}
	}
	t.Logf("stack outputs: %v", out)

	// What the stack made, as it made it.
	reads := newMotoReads(t, url, cfg)
	cw := reads.cw
	groups, err := cw.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/falco/")})
	must(t, err)
	for _, g := range groups.LogGroups {
		if aws.ToString(g.LogGroupName) == out["AlertsLogGroup"] && aws.ToInt32(g.RetentionInDays) != 90 {
			t.Errorf("alerts group retention %d, want the default 90", aws.ToInt32(g.RetentionInDays))
		}
	}
	if len(groups.LogGroups) != 3 {
		t.Errorf("log groups %d, want 3 (alerts, critical, metrics)", len(groups.LogGroups))
	}
	im := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })
	role, err := im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(out["TaskRoleArn"][strings.LastIndex(out["TaskRoleArn"], "/")+1:])})
	must(t, err)
	if !strings.Contains(aws.ToString(role.Role.AssumeRolePolicyDocument), "ecs-tasks.amazonaws.com") {
		t.Errorf("task role trust: %s", aws.ToString(role.Role.AssumeRolePolicyDocument))
	}
	// moto's CloudFormation does not attach a role's ManagedPolicyArns;
	// internal/deploytest checks the template attaches the policy.
	pol, err := im.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(out["PolicyArn"])})
	must(t, err)
	doc, err := im.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: pol.Policy.Arn, VersionId: pol.Policy.DefaultVersionId})
	must(t, err)
	if d := aws.ToString(doc.PolicyVersion.Document); !strings.Contains(d, "logs:PutLogEvents") || strings.Contains(d, "null") {
		t.Errorf("the policy as made: %s", d)
	}

	fh := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(url) })
	_, err = fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(out["FirehoseStream"]),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + out["ArchiveBucket"]), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose")}})
	must(t, err)
	queue := reads.queue
	sn := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(url) })
	snsQueue, snsQueueARN := queue("stack-sns")
	must(t, err2(sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(out["TopicArn"]), Protocol: aws.String("sqs"), Endpoint: aws.String(snsQueueARN),
		Attributes: map[string]string{"RawMessageDelivery": "true"}})))
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(url) })
	// moto's EventBridge cannot deliver to an SNS target (its PutEvents
	// fails with NotImplementedError), so the stack's example rule loses
	// its target here; AWS delivers it.
	rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String(out["EventBus"])})
	must(t, err)
	for _, r := range rules.Rules {
		_, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: r.Name, EventBusName: aws.String(out["EventBus"]), Ids: []string{"topic"}})
		must(t, err)
	}
	if len(rules.Rules) != 1 {
		t.Errorf("rules on the stack's bus: %d, want its example rule", len(rules.Rules))
	}
	ebQueue, ebQueueARN := queue("stack-events")
	must(t, err2(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("test-all"), EventBusName: aws.String(out["EventBus"]),
		EventPattern: aws.String(`{"source":["falco"]}`)})))
	must(t, err2(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("test-all"), EventBusName: aws.String(out["EventBus"]),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(ebQueueARN)}}})))

	alerts := realhost.NumberedAlerts(300)
	want := realhost.Expect{}
	var lines []string
	for _, a := range alerts {
		lines = append(lines, a.Line)
		want.Add("cloudwatch:"+out["AlertsLogGroup"], a.UUID)
		want.Add("firehose", a.UUID)
		if a.Critical() {
			want.Add("cloudwatch:"+out["CriticalLogGroup"], a.UUID)
			want.Add("sns", a.UUID)
		}
		if a.Critical() || a.Priority == "Error" {
			want.Add("eventbridge", a.UUID)
		}
		if a.Source == "k8s_audit" {
			want.Add("kinesis", a.UUID)
		}
	}
	dir := t.TempDir()
	path := realhost.WriteFile(t, dir, "falco.log", strings.Join(lines, "\n")+"\n")
	var b strings.Builder
	realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5")
	realhost.Section(&b, "INPUT", "Name", "tail", "Path", path, "Tag", "falco.node", "Read_from_Head", "On")
	realhost.Section(&b, "OUTPUT", "Name", "falcocw", "Match", "falco.*", "region", out["Region"], "endpoint", url,
		"cluster", out["Cluster"], "log_group_name", out["AlertsLogGroup"], "log_stream_name", "{hostname}",
		"delivery_stream", out["FirehoseStream"],
		"route.1", "priority>=Critical -> cloudwatch:"+out["CriticalLogGroup"]+":{hostname} continue",
		"route.2", "priority>=Critical -> sns:"+out["TopicArn"]+" continue",
		"route.3", "priority>=Error -> eventbridge:"+out["EventBus"]+" continue",
		"route.4", "source=k8s_audit -> kinesis:"+out["KinesisStream"]+" continue",
		"metrics_namespace", out["MetricsNamespace"], "metrics_log_group", out["MetricsLogGroup"],
		"workers", "1", "Retry_Limit", "False")
	conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())

	drain := reads.drain
	snsBody := func(s string) string { return s }
	ebBody := eventDetail(t)
	readKinesis := func() { reads.kinesis("kinesis", out["KinesisStream"]) }
	whole := func() uuidCounts {
		all := reads.counted()
		reads.logGroup(all, out["AlertsLogGroup"])
		reads.logGroup(all, out["CriticalLogGroup"])
		for _, l := range realhost.S3Lines(t, url, out["ArchiveBucket"]) {
			all.add(t, "firehose", l)
		}
		return all
	}
	fb := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
	last := collect(fb, want, func() uuidCounts {
		drain("sns", snsQueue, snsBody)
		drain("eventbridge", ebQueue, ebBody)
		readKinesis()
		return whole()
	})
	missing, dups, extra, notes := want.Compare(last)
	metrics, err := cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(out["MetricsLogGroup"])})
	must(t, err)
	t.Logf("Fluent Bit %s configured from the stack's outputs: %d alerts, %d deliveries expected into the stack's resources; %d missing, %d duplicated, %d unexpected; %d EMF records in %s",
		bin.Version, len(alerts), want.Count(), missing, dups, extra, len(metrics.Events), out["MetricsLogGroup"])
	if missing+dups+extra > 0 {
		t.Errorf("deliveries differ:\n%s\n%s", strings.Join(notes, "\n"), fb.Log())
	}
	if len(metrics.Events) == 0 || !strings.Contains(aws.ToString(metrics.Events[0].Message), `"Namespace":"`+out["MetricsNamespace"]+`"`) {
		t.Errorf("no EMF record of namespace %s in the stack's metrics group", out["MetricsNamespace"])
	}
	if strings.Contains(fb.Log(), "[error]") {
		t.Errorf("errors in the log:\n%s", fb.Log())
	}
}
