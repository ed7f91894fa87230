package deploytest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/health"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/sampletest"
)

const stackPath = "deploy/cloudformation/falcocw.yaml"

type template struct {
	AWSTemplateFormatVersion string
	Description              string
	Parameters               map[string]map[string]any
	Conditions               map[string]any
	Resources                map[string]struct {
		Type       string
		Condition  string
		DependsOn  any
		Properties map[string]any
	}
	Outputs map[string]map[string]any
}

func loadStack(t *testing.T) template {
	t.Helper()
	var tpl template
	if err := yaml.UnmarshalStrict(read(t, stackPath), &tpl); err != nil {
		t.Fatalf("%s: %v (intrinsics are written long-form, Fn::Sub, so that YAML readers read it)", stackPath, err)
	}
	return tpl
}

// statements returns a policy document's statements, both branches of
// each Fn::If (a statement a condition leaves out is still the stack's).
func statements(v any) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, statements(e)...)
		}
	case map[string]any:
		if branches, ok := x["Fn::If"].([]any); ok && len(branches) == 3 {
			return append(statements(branches[1]), statements(branches[2])...)
		}
		if _, ok := x["Effect"]; ok {
			out = append(out, x)
		}
	}
	return out
}

func actions(st map[string]any) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// TestStackPolicy: the stack's managed policy grants exactly the actions
// of examples/iam-policy.json (which TestIAMPolicy holds to what falcocw
// calls), each kind's statement under its destination's condition, and
// both roles carry it.
func TestStackPolicy(t *testing.T) {
	tpl := loadStack(t)
	pol := tpl.Resources["FalcocwPolicy"]
	if pol.Type != "AWS::IAM::ManagedPolicy" {
		t.Fatalf("FalcocwPolicy is %q", pol.Type)
	}
	doc := pol.Properties["PolicyDocument"].(map[string]any)
	inStack := map[string]string{}
	for _, st := range statements(doc["Statement"]) {
		for _, a := range actions(st) {
			inStack[a] = fmt.Sprint(st["Sid"])
		}
	}
	var example struct{ Statement []map[string]any }
	if err := json.Unmarshal(read(t, "examples/iam-policy.json"), &example); err != nil {
		t.Fatal(err)
	}
	inExample := map[string]string{}
	for _, st := range example.Statement {
		for _, a := range actions(st) {
			inExample[a] = fmt.Sprint(st["Sid"])
		}
	}
	for a, sid := range inExample {
		if inStack[a] == "" {
			t.Errorf("the stack's policy lacks %s (%s in examples/iam-policy.json)", a, sid)
		} else if inStack[a] != sid {
			t.Errorf("%s is in statement %s of the stack, %s of the example", a, inStack[a], sid)
		}
	}
	for a := range inStack {
		if inExample[a] == "" {
			t.Errorf("the stack's policy grants %s, which examples/iam-policy.json does not", a)
		}
	}
	for _, role := range []string{"TaskRole", "IrsaRole"} {
		r := tpl.Resources[role]
		b, _ := json.Marshal(r.Properties["ManagedPolicyArns"])
		if r.Type != "AWS::IAM::Role" || string(b) != `[{"Ref":"FalcocwPolicy"}]` {
			t.Errorf("%s (%s) carries %s, want the stack's policy", role, r.Type, b)
		}
	}
}

// metric is a metric name and the names of one set of its dimensions.
type metric struct {
	name string
	dims string // sorted, comma-separated
}

func dimsOf(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// emitted are the metrics and dimension sets falcocw's EMF records carry,
// with the default metrics_dimensions, read from records emf writes.
func emitted(t *testing.T) map[metric]bool {
	t.Helper()
	def := ""
	for _, p := range config.Table() {
		if p.Name == config.PropMetricsDims {
			def = p.Default
		}
	}
	sets, err := emf.ParseDimensionSets(def)
	if err != nil {
		t.Fatalf("metrics_dimensions default %q: %v", def, err)
	}
	agg := emf.NewAggregator("Falco", sets)
	for _, a := range sampletest.Alerts(t, nil)[:5] {
		a.Cluster = "prod"
		agg.Add(a)
	}
	records := agg.Records()
	records = append(records, emf.DestinationRecords("Falco", "prod", time.Now(), []health.Report{{Name: "firehose:falco-archive"}})...)
	out := map[metric]bool{}
	for _, r := range records {
		var rec struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal(r.JSON, &rec); err != nil {
			t.Fatalf("EMF record %s: %v", r.JSON, err)
		}
		for _, cm := range rec.AWS.CloudWatchMetrics {
			for _, m := range cm.Metrics {
				for _, d := range cm.Dimensions {
					out[metric{m.Name, dimsOf(d)}] = true
				}
			}
		}
	}
	return out
}

// cookbook returns the README's Logs Insights cookbook queries, each with
// its whitespace folded.
func cookbook(t *testing.T) map[string]bool {
	readme := string(read(t, "README.md"))
	i := strings.Index(readme, "### CloudWatch Logs Insights cookbook")
	j := strings.Index(readme[i:], "\n## ")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?s)```\n(.*?)```").FindAllStringSubmatch(readme[i:i+j], -1) {
		out[strings.Join(strings.Fields(m[1]), " ")] = true
	}
	if len(out) < 5 {
		t.Fatalf("found %d cookbook queries in README", len(out))
	}
	return out
}

// TestStackMetrics: every metric the stack's alarms and dashboard read is
// one falcocw writes, with the dimensions it writes it with (the default
// metrics_dimensions for Alerts; Destination metrics by cluster and
// Destination, a destination named KIND:NAME); priorities are Falco's; the
// dashboard's Logs Insights queries are the README cookbook's.
func TestStackMetrics(t *testing.T) {
	tpl := loadStack(t)
	have := emitted(t)
	t.Logf("falcocw emits: %v", have)
	kinds := map[string]bool{}
	for _, k := range route.Kinds() {
		kinds[string(k.Kind)] = true
	}
	checkDims := func(where, name string, dims []any) {
		var names []string
		for _, d := range dims {
			dm := d.(map[string]any)
			names = append(names, fmt.Sprint(dm["Name"]))
			v, _ := dm["Value"].(string)
			switch dm["Name"] {
			case "priority":
				if _, ok := falco.ParsePriority(v); !ok || v != strings.ToUpper(v[:1])+v[1:] {
					t.Errorf("%s: priority %q is not a Falco priority as falcocw writes it", where, v)
				}
			case "Destination":
				sub, _ := dm["Value"].(map[string]any)
				kind, _, _ := strings.Cut(fmt.Sprint(sub["Fn::Sub"]), ":")
				if !kinds[kind] {
					t.Errorf("%s: Destination %v is not KIND:NAME of a kind falcocw has", where, dm["Value"])
				}
			}
		}
		if !have[metric{name, dimsOf(names)}] {
			t.Errorf("%s reads %s by %v, which falcocw does not write", where, name, names)
		}
	}
	alarms := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms++
		p := r.Properties
		if name, ok := p["MetricName"].(string); ok {
			checkDims(id, name, p["Dimensions"].([]any))
			if b, _ := json.Marshal(p["Namespace"]); string(b) != `{"Ref":"MetricsNamespace"}` {
				t.Errorf("%s: namespace %s", id, b)
			}
		}
		for _, m := range asList(p["Metrics"]) {
			ms, ok := m.(map[string]any)["MetricStat"].(map[string]any)
			if !ok {
				continue
			}
			mt := ms["Metric"].(map[string]any)
			checkDims(id, fmt.Sprint(mt["MetricName"]), mt["Dimensions"].([]any))
		}
	}
	if alarms < 2 {
		t.Errorf("%d alarms, want the critical alerts' and a destination's", alarms)
	}

	sub := tpl.Resources["Dashboard"].Properties["DashboardBody"].(map[string]any)["Fn::Sub"].(string)
	body := regexp.MustCompile(`\$\{([A-Za-z:]+)\}`).ReplaceAllStringFunc(sub, func(v string) string {
		return map[string]string{"${MetricsNamespace}": "Falco", "${ClusterName}": "prod", "${AWS::Region}": "eu-west-1",
			"${AlertsLogGroupName}": "/falco/alerts"}[v]
	})
	var dash struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Title   string
				Query   string
				Metrics [][]map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("the dashboard body is not JSON: %v", err)
	}
	queries := cookbook(t)
	search := regexp.MustCompile(`^SEARCH\('\{Falco,([a-zA-Z,]+)\} MetricName="(\w+)" cluster="prod"', '\w+', \d+\)$`)
	for _, w := range dash.Widgets {
		switch w.Type {
		case "metric":
			for _, line := range w.Properties.Metrics {
				for _, m := range line {
					e := fmt.Sprint(m["expression"])
					sm := search.FindStringSubmatch(e)
					if sm == nil {
						t.Errorf("widget %q: expression %s is not a SEARCH of falcocw's namespace and cluster", w.Properties.Title, e)
						continue
					}
					if !have[metric{sm[2], dimsOf(strings.Split(sm[1], ","))}] {
						t.Errorf("widget %q reads %s by %s, which falcocw does not write", w.Properties.Title, sm[2], sm[1])
					}
				}
			}
		case "log":
			q, ok := strings.CutPrefix(w.Properties.Query, "SOURCE '/falco/alerts' | ")
			if !ok || !queries[strings.Join(strings.Fields(q), " ")] {
				t.Errorf("widget %q: query %q is not one of the README cookbook's", w.Properties.Title, w.Properties.Query)
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestStackOutputs: the outputs are what the README's quick starts paste,
// each output's condition that of the resource it names, and every
// Fn::Sub and Ref names a parameter, a resource or a pseudo parameter.
func TestStackOutputs(t *testing.T) {
	tpl := loadStack(t)
	for _, k := range []string{"Region", "Cluster", "AlertsLogGroup", "MetricsLogGroup", "MetricsNamespace", "FirehoseStream", "TopicArn", "EventBus", "KinesisStream", "TaskRoleArn", "IrsaRoleArn", "PolicyArn"} {
		if tpl.Outputs[k] == nil {
			t.Errorf("no output %s", k)
		}
	}
	names := map[string]bool{"AWS::Region": true, "AWS::AccountId": true, "AWS::Partition": true, "AWS::NoValue": true}
	for p := range tpl.Parameters {
		names[p] = true
	}
	for r := range tpl.Resources {
		names[r] = true
	}
	b, _ := json.Marshal(tpl)
	for _, m := range regexp.MustCompile(`\{"Ref":"([^"]+)"\}`).FindAllStringSubmatch(string(b), -1) {
		if !names[m[1]] {
			t.Errorf("Ref to %s, which is neither a parameter nor a resource", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z:]+)(\.[A-Za-z]+)?\}`).FindAllStringSubmatch(string(b), -1) {
		if !names[m[1]] {
			t.Errorf("Fn::Sub names ${%s}, which is neither a parameter nor a resource", m[1])
		}
	}
	for id, p := range tpl.Parameters {
		if _, ok := p["Default"]; !ok {
			t.Errorf("parameter %s has no default: the stack must deploy as it is", id)
		}
	}
}
