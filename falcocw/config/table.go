package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/route"
)

// Property names, following AWS's own Fluent Bit plugins where the meaning
// is the same.
const (
	PropRegion          = "region"
	PropRoleARN         = "role_arn"
	PropExternalID      = "external_id"
	PropEndpoint        = "endpoint"
	PropSTSEndpoint     = "sts_endpoint"
	PropLogKey          = "log_key"
	PropNonFalco        = "non_falco"
	PropFlushTimeout    = "flush_timeout"
	PropMaxConcurrency  = "max_concurrency"
	PropAdaptivePace    = "adaptive_pace"
	PropDestinationWait = "destination_wait"
	PropProbeInterval   = "probe_interval"
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

// Property declares one property: its name, type, default, bounds and
// help. The known-name check, falcocw check, Fluent Bit's config_map
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

// fields are the instance's own properties, each with the Config field it
// fills; those without Set are read together with others, in Parse.
var fields = []Field[Config]{
	String(PropRegion, "", "AWS region (else AWS_REGION from the environment)", func(c *Config) *string { return &c.Region }),
	{Property: Property{Name: PropRoutePrefix + "N", Type: TypeRoute, Help: "routing rule: MATCH... -> DESTINATION [continue]"}},
	String(PropNonFalco, "drop", "where records that are not Falco alerts go: drop, default or a destination", func(c *Config) *string { return &c.raw.nonFalco }),
	String(PropLogKey, "log", "record key holding Falco's JSON line", func(c *Config) *string { return &c.LogKey }),
	String(PropRoleARN, "", "IAM role to assume for every AWS call", func(c *Config) *string { return &c.RoleARN }),
	String(PropExternalID, "", "external ID for role_arn", func(c *Config) *string { return &c.ExternalID }),
	URL(PropEndpoint, "endpoint URL for every AWS service (VPC endpoints, tests)", func(c *Config) *string { return &c.endpoint }),
	URL(PropSTSEndpoint, "STS endpoint URL (for role_arn)", func(c *Config) *string { return &c.STSEndpoint }),
	Duration(PropFlushTimeout, "20s", "1s", "5m", "longest a request is retried (throttling, 5xx, refused connections) before its events go back to Fluent Bit's retry",
		func(c *Config) *time.Duration { return &c.FlushTimeout }),
	Duration(PropDestinationWait, "2s", "100ms", "1m", "longest a flush waits for a destination's next answer; past it the destination counts as down: its events go back to Fluent Bit's retry, the requests in flight go on and their answers are kept",
		func(c *Config) *time.Duration { return &c.DestinationWait }),
	Duration(PropProbeInterval, "5s", "100ms", "5m", "how often a destination that is down is sent one request to learn whether it is back",
		func(c *Config) *time.Duration { return &c.ProbeInterval }),
	Bool(PropAdaptivePace, "false", "each destination's requests start at a pace learned from AWS's throttling answers, so that instances sharing a quota converge on it; a new destination starts slow, and a flush waits for its requests' turns until flush_timeout",
		func(c *Config) *bool { return &c.AdaptivePace }),
	Int(PropMaxConcurrency, "16", "1", "64", "AWS requests each destination (kind and name) has in flight", func(c *Config) *int { return &c.MaxConcurrency }),
	String(PropTLSSkipVerify, "", "endpoints whose TLS certificate is not verified (tests only)", func(c *Config) *string { return &c.raw.tlsSkipVerify }),
	String(PropCluster, "", "cluster name in every event (default: FireLens ecs_cluster)", func(c *Config) *string { return &c.Cluster }),
	// The metrics' settings count as set only when written: without
	// metrics_namespace, setting one of the others is an error.
	String(PropMetricsNamespace, "", "CloudWatch metrics namespace; turns on Embedded Metric Format records", func(c *Config) *string { return &c.raw.metricsNamespace }),
	Raw(PropMetricsDims, TypeString, "cluster,priority;cluster,rule", "metric dimension sets", rawInto(func(c *Config) *string { return &c.raw.metricsDims })),
	Raw(PropMetricsGroup, TypeString, "/falco/metrics", "log group of the metric records", rawInto(func(c *Config) *string { return &c.raw.metricsGroup })),
	Raw(PropMetricsStream, TypeString, "falcocw", "log stream of the metric records", rawInto(func(c *Config) *string { return &c.raw.metricsStream })),
	Size(PropMemoryLimit, "256M", "16M", "64G", "memory falcocw may hold for flushes and retries", func(c *Config) *int64 { return &c.MemoryLimit }),
	String(PropJournalPath, "", "directory where deliveries are written down, so chunks replayed after a restart are not sent twice", func(c *Config) *string { return &c.JournalPath }),
	// Unset, the level comes from FLB_LOG_LEVEL, as for AWS's Go plugins.
	Raw(PropLogLevel, TypeEnum, "info", "falcocw's own log level: error, warn, info, debug", setLevel),
}

// rawInto is the Set of a Raw property kept as written.
func rawInto(field func(*Config) *string) func(c *Config, v string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
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

// Table lists every property falcocw reads: the instance's own, each
// registered kind's (RegisterKind), and the endpoint of every kind (a new
// kind needs no entry here); route.N stands for route.1 to
// route.MaxRoutes.
func Table() []Property {
	var out []Property
	for _, f := range fields {
		out = append(out, f.Property)
	}
	for _, k := range registeredKinds() {
		out = append(out, k.properties...)
	}
	for _, k := range route.Kinds() {
		out = append(out, Property{Name: EndpointProperty(k.Kind), Type: TypeURL, Help: k.Syntax + " endpoint URL (VPC endpoints, tests)"})
	}
	return out
}

// spec returns the table's entry for name.
func spec(name string) Property {
	for _, p := range Table() {
		if p.Name == name {
			return p
		}
	}
	panic("config: property " + name + " is not in Table")
}

// Properties lists every property falcocw reads, besides route.N.
func Properties() []string {
	var out []string
	for _, p := range Table() {
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
	table := Table()
	out := make([]Known, 0, len(table)+MaxRoutes)
	for _, p := range table {
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
