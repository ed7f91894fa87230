package config

import (
	"strconv"
	"strings"

	"github.com/falcocw/falcocw/falcocw/route"
)

// Property names, following AWS's own Fluent Bit plugins where the meaning
// is the same.
const (
	PropRegion           = "region"
	PropLogGroupName     = "log_group_name"
	PropLogStreamName    = "log_stream_name"
	PropLogStreamPrefix  = "log_stream_prefix"
	PropAutoCreateGroup  = "auto_create_group"
	PropAutoCreateStream = "auto_create_stream"
	PropLogRetentionDays = "log_retention_days"
	PropDeliveryStream   = "delivery_stream"
	PropRoleARN          = "role_arn"
	PropExternalID       = "external_id"
	PropEndpoint         = "endpoint"
	PropSTSEndpoint      = "sts_endpoint"
	PropLogKey           = "log_key"
	PropNonFalco         = "non_falco"
	PropFlushTimeout     = "flush_timeout"
	PropMaxConcurrency   = "max_concurrency"
	PropDestinationWait  = "destination_wait"
	PropProbeInterval    = "probe_interval"
	// PropLogLevel sets falcocw's own log level. Fluent Bit keeps an
	// output's "log_level" to itself and never passes it to a Go plugin,
	// hence the prefix; FLB_LOG_LEVEL in the environment is the fallback,
	// as for AWS's Go plugins.
	PropLogLevel         = "falcocw_log_level"
	PropRoutePrefix      = "route."
	PropTLSSkipVerify    = "tls_skip_verify"
	PropCluster          = "cluster"
	PropMetricsNamespace = "metrics_namespace"
	PropMetricsDims      = "metrics_dimensions"
	PropMetricsGroup     = "metrics_log_group"
	PropMetricsStream    = "metrics_log_stream"
	PropMemoryLimit      = "memory_limit"
	PropJournalPath      = "journal_path"
	PropKinesisKey       = "kinesis_partition_key"
	PropLogGroupClass    = "log_group_class"
	PropLogGroupKMSKey   = "log_group_kms_key_id"
	PropLogGroupTags     = "log_group_tags"
	// PropNewLogGroupTags is AWS's Go plugin's name for log_group_tags.
	PropNewLogGroupTags   = "new_log_group_tags"
	PropEventBridgeSource = "eventbridge_source"
	PropSecurityHubAcct   = "securityhub_account_id"
	PropSecurityHubSev    = "securityhub_severity"
)

// Type says how a property's value is read.
type Type string

// The types of properties.
const (
	TypeString   Type = "string"
	TypeTemplate Type = "template" // a name with {variables}
	TypeBool     Type = "bool"
	TypeInt      Type = "int"
	TypeDuration Type = "duration"
	TypeSize     Type = "size"
	TypeURL      Type = "url"
	TypeEnum     Type = "enum"
	TypeRoute    Type = "route"
)

// Property declares one property: the single place its name, type,
// default, bounds and help are written. Parse reads defaults and bounds
// from it; the known-name check, falcocw check, Fluent Bit's config_map
// (plugin/) and the README's reference table (a test compares them) all
// come from Table.
type Property struct {
	Name    string
	Type    Type
	Default string // as written in a configuration; "" when none
	// Min and Max bound an int, duration or size, as written.
	Min, Max string
	Help     string
}

// Table lists every property falcocw reads; route.N stands for route.1 to
// route.MaxRoutes.
var Table = []Property{
	{Name: PropRegion, Type: TypeString, Help: "AWS region (else AWS_REGION from the environment)"},
	{Name: PropLogGroupName, Type: TypeTemplate, Help: "default CloudWatch Logs group (a template)"},
	{Name: PropLogStreamName, Type: TypeTemplate, Help: "default CloudWatch Logs stream (a template, e.g. {hostname})"},
	{Name: PropLogStreamPrefix, Type: TypeString, Help: "default stream as this prefix plus the Fluent Bit tag"},
	{Name: PropAutoCreateGroup, Type: TypeBool, Default: "false", Help: "create missing log groups"},
	{Name: PropAutoCreateStream, Type: TypeBool, Default: "true", Help: "create missing log streams"},
	{Name: PropLogRetentionDays, Type: TypeEnum, Help: "retention set on the log groups falcocw creates"},
	{Name: PropLogGroupClass, Type: TypeEnum, Help: "log class of the log groups falcocw creates: STANDARD or INFREQUENT_ACCESS"},
	{Name: PropLogGroupKMSKey, Type: TypeString, Help: "ARN of the KMS key encrypting the log groups falcocw creates"},
	{Name: PropLogGroupTags, Type: TypeString, Help: "tags of the log groups falcocw creates: key=value,..."},
	{Name: PropNewLogGroupTags, Type: TypeString, Help: "log_group_tags under AWS's Go plugin's name"},
	{Name: PropDeliveryStream, Type: TypeTemplate, Help: "default Kinesis Data Firehose delivery stream"},
	{Name: PropKinesisKey, Type: TypeTemplate, Default: "{hostname}", Help: "partition key of each Kinesis Data Streams record (a template)"},
	{Name: PropEventBridgeSource, Type: TypeString, Default: "falco", Help: "source of the events put on eventbridge: buses"},
	{Name: PropSecurityHubAcct, Type: TypeString, Help: "account of the Security Hub findings (default: the credentials' account, from STS)"},
	{Name: PropSecurityHubSev, Type: TypeString, Help: "Security Hub severity label per priority, overriding the defaults: Warning=HIGH,..."},
	{Name: PropRoutePrefix + "N", Type: TypeRoute, Help: "routing rule: MATCH... -> DESTINATION [continue]"},
	{Name: PropNonFalco, Type: TypeString, Default: "drop", Help: "where records that are not Falco alerts go: drop, default or a destination"},
	{Name: PropLogKey, Type: TypeString, Default: "log", Help: "record key holding Falco's JSON line"},
	{Name: PropRoleARN, Type: TypeString, Help: "IAM role to assume for every AWS call"},
	{Name: PropExternalID, Type: TypeString, Help: "external ID for role_arn"},
	{Name: PropEndpoint, Type: TypeURL, Help: "endpoint URL for every AWS service (VPC endpoints, tests)"},
	{Name: PropSTSEndpoint, Type: TypeURL, Help: "STS endpoint URL (for role_arn)"},
	{Name: PropFlushTimeout, Type: TypeDuration, Default: "20s", Min: "1s", Max: "5m", Help: "longest a request is retried (throttling, 5xx, refused connections) before its events go back to Fluent Bit's retry"},
	{Name: PropDestinationWait, Type: TypeDuration, Default: "2s", Min: "100ms", Max: "1m", Help: "longest a flush waits for a destination's next answer; past it the destination counts as down: its events go back to Fluent Bit's retry, the requests in flight go on and their answers are kept"},
	{Name: PropProbeInterval, Type: TypeDuration, Default: "5s", Min: "100ms", Max: "5m", Help: "how often a destination that is down is sent one request to learn whether it is back"},
	{Name: PropMaxConcurrency, Type: TypeInt, Default: "16", Min: "1", Max: "64", Help: "AWS requests each destination (kind and name) has in flight"},
	{Name: PropTLSSkipVerify, Type: TypeString, Help: "endpoints whose TLS certificate is not verified (tests only)"},
	{Name: PropCluster, Type: TypeString, Help: "cluster name in every event (default: FireLens ecs_cluster)"},
	{Name: PropMetricsNamespace, Type: TypeString, Help: "CloudWatch metrics namespace; turns on Embedded Metric Format records"},
	{Name: PropMetricsDims, Type: TypeString, Default: "cluster,priority;cluster,rule", Help: "metric dimension sets"},
	{Name: PropMetricsGroup, Type: TypeString, Default: "/falco/metrics", Help: "log group of the metric records"},
	{Name: PropMetricsStream, Type: TypeString, Default: "falcocw", Help: "log stream of the metric records"},
	{Name: PropMemoryLimit, Type: TypeSize, Default: "256M", Min: "16M", Max: "64G", Help: "memory falcocw may hold for flushes and retries"},
	{Name: PropJournalPath, Type: TypeString, Help: "directory where deliveries are written down, so chunks replayed after a restart are not sent twice"},
	{Name: PropLogLevel, Type: TypeEnum, Default: "info", Help: "falcocw's own log level: error, warn, info, debug"},
}

// EndpointProperty is the property overriding the endpoint of a kind of
// destination: cloudwatch_endpoint, firehose_endpoint, sns_endpoint.
func EndpointProperty(k route.Kind) string { return string(k) + "_endpoint" }

func endpointProperties() []string {
	var out []string
	for _, k := range route.Kinds() {
		out = append(out, EndpointProperty(k.Kind))
	}
	return out
}

// The endpoint property of every kind of destination joins the table: a
// new kind needs no entry here.
func init() {
	for _, k := range route.Kinds() {
		Table = append(Table, Property{Name: EndpointProperty(k.Kind), Type: TypeURL, Help: k.Syntax + " endpoint URL (VPC endpoints, tests)"})
	}
	Properties = propertyNames()
}

// spec returns the table's entry for name.
func spec(name string) Property {
	for _, p := range Table {
		if p.Name == name {
			return p
		}
	}
	panic("config: property " + name + " is not in Table")
}

// Properties lists every property falcocw reads, besides route.N.
var Properties []string

func propertyNames() []string {
	var out []string
	for _, p := range Table {
		if p.Type != TypeRoute {
			out = append(out, p.Name)
		}
	}
	return out
}

// Known is a property falcocw reads, with its one-line help.
type Known struct {
	Name, Help string
}

// KnownNames lists every property falcocw reads, route.1 to
// route.MaxRoutes included: what Fluent Bit checks a section against when
// it can (see plugin/).
func KnownNames() []Known {
	out := make([]Known, 0, len(Table)+MaxRoutes)
	for _, p := range Table {
		help := p.Help
		if p.Default != "" {
			help += " (default " + p.Default + ")"
		}
		if p.Type != TypeRoute {
			out = append(out, Known{p.Name, help})
			continue
		}
		for i := 1; i <= MaxRoutes; i++ {
			out = append(out, Known{strings.TrimSuffix(p.Name, "N") + strconv.Itoa(i), help})
		}
	}
	return out
}
