package route_test

import (
	_ "github.com/falcocw/falcocw/falcocw/cwlogs" // the destination kinds: cloudwatch, firehose, sns
	_ "github.com/falcocw/falcocw/falcocw/firehose"
	_ "github.com/falcocw/falcocw/falcocw/sns"

	"strings"
	"testing"

	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"mitre_*", "mitre_execution", true},
		{"mitre_*", "MITRE_Execution", true},
		{"mitre_*", "T1059", false},
		{"*", "", true},
		{"T10??", "T1059", true},
		{"T10??", "T105", false},
		{"System ClusterRole*", "System ClusterRole Modified/Deleted", true},
		{"*shell*", "Terminal shell in container", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	}
	for _, tt := range tests {
		if got := route.Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func mustRule(t *testing.T, text string) route.Rule {
	t.Helper()
	r, err := route.ParseRule("route.1", text, route.Defaults{"cloudwatch": route.MustTemplate("{hostname}")})
	if err != nil {
		t.Fatalf("ParseRule(%q): %v", text, err)
	}
	return r
}

func TestRuleMatches(t *testing.T) {
	shell := &falco.Alert{Rule: "Terminal shell in container", Priority: falco.PriorityNotice, Source: "syscall",
		Tags: []string{"container", "mitre_execution", "T1059"}}
	audit := &falco.Alert{Rule: "ClusterRole With Wildcard Created", Priority: falco.PriorityWarning, Source: "k8s_audit", Tags: []string{"k8s"}}
	crit := &falco.Alert{Rule: "Deactivate MFA for Root User", Priority: falco.PriorityCritical, Source: "aws_cloudtrail"}
	tests := []struct {
		rule  string
		alert *falco.Alert
		want  bool
	}{
		{"* -> firehose:all", audit, true},
		{"tag=mitre_* -> firehose:x", shell, true},
		{"tag=mitre_* -> firehose:x", audit, false},
		{"tag=k8s,aws -> firehose:x", audit, true},
		{"tag=k8s -> firehose:x", crit, false}, // no tags at all
		{`rule="Terminal shell*" -> firehose:x`, shell, true},
		{`rule="terminal SHELL in container" -> firehose:x`, shell, true},
		{"priority>=warning -> firehose:x", shell, false},
		{"priority>=warning -> firehose:x", audit, true},
		{"priority>=Warning -> firehose:x", crit, true},
		{"priority=Critical,Error -> firehose:x", crit, true},
		{"priority=Critical,Error -> firehose:x", audit, false},
		{"source=k8s_audit -> firehose:x", audit, true},
		{"source=k8s_audit -> firehose:x", shell, false},
		{"tag=mitre_* source=syscall priority>=notice -> firehose:x", shell, true},
		{"tag=mitre_* source=syscall priority>=error -> firehose:x", shell, false},
	}
	for _, tt := range tests {
		r := mustRule(t, tt.rule)
		if got := r.Matches(tt.alert); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.rule, tt.alert.Rule, got, tt.want)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, text := range []string{
		"tag=x",                          // no arrow
		" -> firehose:x",                 // no match
		"tag=x -> ",                      // no destination
		"tag=x -> s3:bucket",             // unknown kind
		"colour=red -> firehose:x",       // unknown key
		"priority>=severe -> firehose:x", // unknown priority
		"priority=severe -> firehose:x",
		"tag= -> firehose:x",
		`rule="open -> firehose:x`,                    // unterminated quote
		"* -> firehose:x y",                           // two destinations
		"* -> cloudwatch:/falco/{nope}",               // unknown variable
		"* -> cloudwatch:/falco/a b",                  // space in a group
		"* -> cloudwatch:/falco:bad*stream",           // * in a stream
		"* -> firehose:bad/name",                      // / in a delivery stream
		"* -> cloudwatch:" + strings.Repeat("g", 600), // too long
	} {
		if _, err := route.ParseRule("route.7", text, route.Defaults{"cloudwatch": route.MustTemplate("{hostname}")}); err == nil {
			t.Errorf("ParseRule(%q) accepted a bad rule", text)
			continue
		}
		// The configuration's error names the property.
		_, err := config.Parse(func(k string) string {
			return map[string]string{"log_group_name": "g", "log_stream_name": "{hostname}", "route.7": text}[k]
		})
		if err == nil || !strings.Contains(err.Error(), "route.7") {
			t.Errorf("error %q does not name the property", err)
		}
	}
}

func TestRouteOrderContinueDefault(t *testing.T) {
	tab := route.Table{Defaults: []route.Destination{mustDest(t, "cloudwatch:/falco/all:{hostname}")}}
	for _, text := range []string{
		"priority=Debug -> drop",
		"priority>=Critical -> cloudwatch:/falco/critical:{rule} continue",
		"tag=mitre_* -> firehose:mitre-{source}",
		"tag=aws -> default",
	} {
		tab.Rules = append(tab.Rules, mustRule(t, text))
	}
	tests := []struct {
		alert   *falco.Alert
		want    []string
		dropped bool
	}{
		{&falco.Alert{Priority: falco.PriorityDebug, Rule: "r"}, nil, true},
		{&falco.Alert{Priority: falco.PriorityCritical, Rule: "Drop and execute new binary in container", Hostname: "h1", Source: "syscall", Tags: []string{"mitre_persistence"}},
			[]string{"cloudwatch:/falco/critical:Drop and execute new binary in container", "firehose:mitre-syscall"}, false},
		{&falco.Alert{Priority: falco.PriorityCritical, Rule: "r", Hostname: "h1"},
			[]string{"cloudwatch:/falco/critical:r", "cloudwatch:/falco/all:h1"}, false},
		{&falco.Alert{Priority: falco.PriorityNotice, Rule: "r", Tags: []string{"aws"}}, []string{"cloudwatch:/falco/all:unknown"}, false},
		{&falco.Alert{Priority: falco.PriorityNotice, Rule: "r", Hostname: "h2"}, []string{"cloudwatch:/falco/all:h2"}, false},
	}
	for _, tt := range tests {
		ms, dropped := tab.Route(tt.alert, route.Values{Alert: tt.alert, Tag: "falco"}, nil)
		var got []string
		for _, m := range ms {
			got = append(got, m.Target.String())
		}
		if strings.Join(got, " | ") != strings.Join(tt.want, " | ") || dropped != tt.dropped {
			t.Errorf("%s: got %v dropped=%v, want %v dropped=%v", tt.alert.Rule, got, dropped, tt.want, tt.dropped)
		}
	}
}

func mustDest(t *testing.T, s string) route.Destination {
	d, err := route.ParseDestination(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTemplateSanitises(t *testing.T) {
	d := mustDest(t, "cloudwatch:/falco/{rule}:{ecs_task_arn}")
	a := &falco.Alert{Rule: "Read sensitive file (untrusted)", ECS: map[string]string{"ecs_task_arn": "arn:aws:ecs:eu-west-1:1:task/c/abc"}}
	got := d.Resolve(route.Values{Alert: a})
	if got.Name != "/falco/Read_sensitive_file__untrusted_" || strings.ContainsAny(got.Stream, ":*") {
		t.Errorf("Resolve = %+v", got)
	}
	f := mustDest(t, "firehose:falco-{kubernetes.namespace_name}-{tag}")
	a = &falco.Alert{Kubernetes: map[string]any{"namespace_name": "payments"}}
	if got := f.Resolve(route.Values{Alert: a, Tag: "kube.var.log"}); got.Name != "falco-payments-kube.var.log" {
		t.Errorf("Resolve = %+v", got)
	}
}

func TestRuleOptions(t *testing.T) {
	r := mustRule(t, "tag=mitre_* -> sns:arn:aws:sns:eu-west-1:1:t format=output storm=90s storm_by=proc.cmdline,hostname min_priority=warning continue")
	if !r.Continue || r.Options.Format != "output" || r.Options.Storm.Seconds() != 90 ||
		strings.Join(r.Options.StormBy, ",") != "output_fields.proc.cmdline,hostname" {
		t.Errorf("%+v", r)
	}
	// min_priority=warning: a tagged Warning matches, a tagged Notice does not.
	tagged := []string{"mitre_execution"}
	if !r.Matches(&falco.Alert{Priority: falco.PriorityWarning, Tags: tagged}) || r.Matches(&falco.Alert{Priority: falco.PriorityNotice, Tags: tagged}) {
		t.Errorf("min_priority=warning does not bound the rule")
	}
	for _, bad := range []string{"* -> firehose:x format=xml", "* -> firehose:x storm=1ms", "* -> firehose:x storm_by=", "* -> firehose:x colour=red", "* -> firehose:x min_priority=loud"} {
		if _, err := route.ParseRule("route.2", bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestMatchesAll: the rule itself says whether it takes every alert and
// ends the search, whatever its terms and options.
func TestMatchesAll(t *testing.T) {
	for text, want := range map[string]bool{
		"* -> firehose:x":                          true,
		"* -> drop":                                true,
		"* -> firehose:x continue":                 false,
		"tag=a -> firehose:x":                      false,
		"priority>=debug -> firehose:x":            false,
		"* -> firehose:x min_priority=warning":     false,
		`rule="Terminal shell*" -> firehose:x`:     false,
		"source=syscall priority=Error -> default": false,
	} {
		if got := mustRule(t, text).MatchesAll(); got != want {
			t.Errorf("%q: MatchesAll = %v, want %v", text, got, want)
		}
	}
}
