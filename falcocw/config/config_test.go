package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/cwlogs"
	_ "github.com/falcocw/falcocw/falcocw/destinations" // every kind registers its properties
	"github.com/falcocw/falcocw/falcocw/eventbridge"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/securityhub"
)

func props(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseFull(t *testing.T) {
	c, err := config.Parse(props(
		"region", "eu-west-1",
		"log_group_name", "/falco/alerts",
		"log_stream_name", "{hostname}",
		"auto_create_group", "On",
		"log_retention_days", "90",
		"delivery_stream", "falco-archive",
		"role_arn", "arn:aws:iam::123456789012:role/falcocw",
		"external_id", "ext",
		"endpoint", "http://127.0.0.1:4566/",
		"firehose_endpoint", "https://firehose.example",
		"log_key", "message",
		"non_falco", "cloudwatch:/falco/other:{tag}",
		"flush_timeout", "15s",
		"max_concurrency", "4",
		"route.1", "priority>=Critical -> cloudwatch:/falco/critical continue",
		"route.3", "tag=mitre_* -> firehose:falco-mitre",
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-west-1" || !cw(c).AutoCreateGroup || !cw(c).AutoCreateStream || cw(c).RetentionDays != 90 ||
		c.LogKey != "message" || c.FlushTimeout != 15*time.Second || c.MaxConcurrency != 4 || c.ExternalID != "ext" {
		t.Errorf("parsed %+v", c)
	}
	if c.Endpoints["cloudwatch"] != "http://127.0.0.1:4566" || c.STSEndpoint != "http://127.0.0.1:4566" || c.Endpoints["firehose"] != "https://firehose.example" {
		t.Errorf("endpoints %v %q", c.Endpoints, c.STSEndpoint)
	}
	if len(c.Routes.Rules) != 2 || c.Routes.Rules[1].Name != "route.3" || len(c.Routes.Defaults) != 2 {
		t.Errorf("routes %+v", c.Routes)
	}
	if got := c.Routes.Rules[0].Dest.String(); got != "cloudwatch:/falco/critical:{hostname}" {
		t.Errorf("cloudwatch:GROUP without a stream uses the default stream: got %s", got)
	}
	if c.NonFalco == nil || c.NonFalco.Dest.String() != "cloudwatch:/falco/other:{tag}" {
		t.Errorf("non_falco %+v", c.NonFalco)
	}
}

// TestParseDestinationOptions: the options of each kind reach its sender
// (Config.KindOptions), under both names of the group tags.
func TestParseDestinationOptions(t *testing.T) {
	for _, tagsProp := range []string{"log_group_tags", "new_log_group_tags"} {
		c, err := config.Parse(props("log_group_name", "/falco/alerts", "log_stream_name", "{hostname}",
			"log_group_class", "infrequent_access", "log_group_kms_key_id", "arn:aws:kms:eu-west-1:123456789012:key/k1",
			tagsProp, "team=security,env=prod", "eventbridge_source", "falco.prod",
			"securityhub_account_id", "123456789012", "securityhub_severity", "Warning=HIGH",
			"route.1", "priority>=Error -> securityhub continue", "route.2", "priority>=Critical -> eventbridge:falco"))
		if err != nil {
			t.Fatal(err)
		}
		g := c.KindOptions[cwlogs.Kind].(cwlogs.Options).Group
		if g.Class != "INFREQUENT_ACCESS" || g.KMSKeyID != "arn:aws:kms:eu-west-1:123456789012:key/k1" || g.Tags["team"] != "security" || g.Tags["env"] != "prod" {
			t.Errorf("%s: group options %+v", tagsProp, g)
		}
		if eb := c.KindOptions[eventbridge.Kind].(eventbridge.Options); eb.Source != "falco.prod" {
			t.Errorf("eventbridge options %+v", eb)
		}
		hub := c.KindOptions[securityhub.Kind].(securityhub.Options)
		if hub.AccountID != "123456789012" || hub.Severity[falco.PriorityWarning] != "HIGH" || hub.Severity[falco.PriorityError] != "HIGH" {
			t.Errorf("securityhub options %+v", hub)
		}
		if got := c.Routes.Rules[0].Dest.String() + " " + c.Routes.Rules[1].Dest.String(); got != "securityhub eventbridge:falco" {
			t.Errorf("routes %s", got)
		}
	}
	c, _ := config.Parse(props("log_group_name", "g", "log_stream_name", "s"))
	if eb := c.KindOptions[eventbridge.Kind].(eventbridge.Options); eb.Source != "falco" {
		t.Errorf("default source %q", eb.Source)
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := config.Parse(props("log_group_name", "falco", "log_stream_prefix", "alerts-"))
	if err != nil {
		t.Fatal(err)
	}
	if cw(c).AutoCreateGroup || !cw(c).AutoCreateStream || c.LogKey != "log" || c.NonFalco != nil ||
		c.FlushTimeout != 20*time.Second || c.MaxConcurrency != 16 || c.LogLevel != config.LevelInfo {
		t.Errorf("defaults %+v", c)
	}
	if got := c.Routes.Defaults[0].String(); got != "cloudwatch:falco:alerts-{tag}" {
		t.Errorf("log_stream_prefix: %s", got)
	}
}

// TestParseErrors: each bad configuration names the property, the value
// and what is allowed.
func TestParseErrors(t *testing.T) {
	base := []string{"log_group_name", "falco", "log_stream_name", "alerts"}
	tests := []struct {
		kv   []string
		want string
	}{
		{nil, "no default destination"},
		{[]string{"log_group_name", "falco"}, "log_stream_name"},
		{append(base, "auto_create_group", "maybe"), `property auto_create_group: bad value "maybe"`},
		{append(base, "log_retention_days", "10"), `property log_retention_days: bad value "10"`},
		{append(base, "flush_timeout", "forever"), "property flush_timeout"},
		{append(base, "flush_timeout", "1h"), "property flush_timeout"},
		{append(base, "max_concurrency", "0"), "property max_concurrency"},
		{append(base, "endpoint", "localhost:4566"), "property endpoint"},
		{append(base, "role_arn", "falcocw"), "property role_arn"},
		{append(base, "external_id", "x"), "property external_id"},
		{append(base, "non_falco", "s3:bucket"), "property non_falco"},
		{append(base, "route.4", "tag=x -> nowhere"), "property route.4"},
		{append(base, "falcocw_log_level", "loud"), "property falcocw_log_level"},
		{append(base, "log_stream_prefix", "p"), "property log_stream_prefix"},
		{[]string{"log_group_name", "bad group!", "log_stream_name", "s"}, "property log_group_name"},
		{[]string{"delivery_stream", "bad/name"}, "property delivery_stream"},
		{[]string{"route.1", "tag=x -> default"}, "property route.1"},
		{append(base, "log_group_class", "COLD"), "property log_group_class"},
		{append(base, "log_group_kms_key_id", "alias/falco"), "property log_group_kms_key_id"},
		{append(base, "log_group_tags", "team"), "property log_group_tags"},
		{append(base, "new_log_group_tags", "aws:x=1"), "property new_log_group_tags"},
		{append(base, "log_group_tags", "a=1", "new_log_group_tags", "b=2"), "keep one"},
		{append(base, "eventbridge_source", "aws.falco"), "property eventbridge_source"},
		{append(base, "securityhub_account_id", "1234"), "property securityhub_account_id"},
		{append(base, "securityhub_severity", "Warning=LOUD"), "property securityhub_severity"},
		{append(base, "route.2", "* -> securityhub:x"), "property route.2"},
	}
	for _, tt := range tests {
		_, err := config.Parse(props(tt.kv...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%v) = %v; want an error containing %q", tt.kv, err, tt.want)
		}
	}
}

func TestCatchAllRouteIsEnough(t *testing.T) {
	if _, err := config.Parse(props("route.99", "* -> cloudwatch:/falco/alerts:all")); err != nil {
		t.Errorf("a catch-all route should stand in for a default: %v", err)
	}
}

// TestKnownNames: every property has its help line, and the names are what
// IsKnown accepts (the list Fluent Bit 5.1.1 checks sections against).
func TestKnownNames(t *testing.T) {
	names := config.KnownNames()
	if len(names) != len(config.Properties())+config.MaxRoutes {
		t.Fatalf("%d names, want %d", len(names), len(config.Properties())+config.MaxRoutes)
	}
	for _, n := range names {
		if n.Help == "" {
			t.Errorf("%s has no help", n.Name)
		}
		if !config.IsKnown(n.Name) {
			t.Errorf("%s is not known to IsKnown", n.Name)
		}
	}
}

// TestRouteOutOfRange: route.0 and route.101 are refused, naming the
// property, on any Fluent Bit (older ones cannot refuse it themselves).
func TestRouteOutOfRange(t *testing.T) {
	for _, key := range []string{"route.0", "route.101", "route.1000"} {
		_, err := config.Parse(props("log_group_name", "g", "log_stream_name", "s", key, "* -> default"))
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "route.1 to route.100") {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// TestOneErrorType: every configuration error, a bad route's included, is
// a *config.Error naming the property.
func TestOneErrorType(t *testing.T) {
	for _, kv := range [][]string{
		{"log_group_name", "g", "log_stream_name", "s", "route.9", "tag=x -> s3:bucket"},
		{"log_group_name", "g", "log_stream_name", "s", "flush_timeout", "forever"},
		{"log_group_name", "g", "log_stream_name", "s", "non_falco", "s3:x"},
		{"route.1", "priority>=loud -> default", "delivery_stream", "d"},
	} {
		_, err := config.Parse(props(kv...))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Property == "" || !strings.Contains(err.Error(), ce.Property) {
			t.Errorf("%v: %T %v", kv, err, err)
		}
	}
}

// cw is CloudWatch Logs' options as the configuration made them.
func cw(c *config.Config) cwlogs.Options { return c.KindOptions[cwlogs.Kind].(cwlogs.Options) }

// TestLogLevel: falcocw_log_level, else FLB_LOG_LEVEL (as AWS's Go plugins
// read it), else info; Fluent Bit's names for the levels are taken.
func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		prop, env string
		want      config.Level
		bad       bool
	}{
		{"", "", config.LevelInfo, false},
		{"", "debug", config.LevelDebug, false},
		{"", "warning", config.LevelWarn, false},
		{"warn", "debug", config.LevelWarn, false},
		{"trace", "", config.LevelDebug, false},
		{"off", "", config.LevelError, false},
		{"loud", "", 0, true},
		{"", "loud", 0, true},
	} {
		t.Setenv("FLB_LOG_LEVEL", tc.env)
		c, err := config.Parse(props("log_group_name", "g", "log_stream_name", "s", "falcocw_log_level", tc.prop))
		switch {
		case tc.bad && err == nil:
			t.Errorf("level %q, FLB_LOG_LEVEL %q: accepted", tc.prop, tc.env)
		case !tc.bad && err != nil:
			t.Errorf("level %q, FLB_LOG_LEVEL %q: %v", tc.prop, tc.env, err)
		case !tc.bad && c.LogLevel != tc.want:
			t.Errorf("level %q, FLB_LOG_LEVEL %q: %v, want %v", tc.prop, tc.env, c.LogLevel, tc.want)
		}
	}
}
