package fbconf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcocw/falcocw/internal/fbconf"
)

const classic = `# a comment
@SET region=eu-west-1
[SERVICE]
    Flush 1

[OUTPUT]
    Name   falcocw
    Match  falco.*
    route.1  priority>=Critical -> cloudwatch:/falco/critical:{hostname} continue
    log_group_name /falco/alerts
    log_stream_name {hostname}

[OUTPUT]
    Name null
    Match *
`

const yamlConf = `service:
  flush: 1
pipeline:
  inputs:
    - name: tail
      path: /var/log/x.log
  outputs:
    - name: falcocw
      match: "falco.*"
      auto_create_group: true
      log_retention_days: 90
`

func TestClassic(t *testing.T) {
	secs, err := fbconf.ParseClassic("x.conf", classic)
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 3 || secs[0].Kind != "SERVICE" || secs[1].Line != 6 {
		t.Fatalf("sections %+v", secs)
	}
	outs := fbconf.FalcocwOutputs(secs)
	if len(outs) != 1 {
		t.Fatalf("%d falcocw outputs, want 1", len(outs))
	}
	o := outs[0]
	if o.Get("ROUTE.1") != "priority>=Critical -> cloudwatch:/falco/critical:{hostname} continue" || o.Get("log_group_name") != "/falco/alerts" {
		t.Errorf("properties %+v", o.Props)
	}
	if o.Where() != "x.conf:6" {
		t.Errorf("Where = %s", o.Where())
	}
	if _, err := fbconf.ParseClassic("bad.conf", "[OUTPUT\n    Name x\n"); err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
		t.Errorf("a bad header: %v", err)
	}
}

func TestYAML(t *testing.T) {
	secs, err := fbconf.ParseYAML("x.yaml", []byte(yamlConf))
	if err != nil {
		t.Fatal(err)
	}
	outs := fbconf.FalcocwOutputs(secs)
	if len(outs) != 1 || outs[0].Get("auto_create_group") != "true" || outs[0].Get("log_retention_days") != "90" {
		t.Fatalf("outputs %+v", outs)
	}
	if _, err := fbconf.ParseYAML("x.yaml", []byte("pipeline:\n  outputs:\n    - just a string\n")); err == nil {
		t.Error("a pipeline entry that is not a map was accepted")
	}
}

// TestFindOutputs: every kind of file the check reads, and the problems
// and warnings of a falcocw output.
func TestFindOutputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	outs, kind, err := fbconf.FindOutputs(write("fb.conf", classic))
	if err != nil || len(outs) != 1 || kind != "Fluent Bit configuration" {
		t.Fatalf("classic: %v %q %v", outs, kind, err)
	}
	if p := outs[0].Problems(); len(p) != 0 {
		t.Errorf("problems of a good output: %v", p)
	}
	if w := outs[0].Warnings(); len(w) != 1 || !strings.Contains(w[0], "no region property") {
		t.Errorf("warnings %v", w)
	}
	lake := "[OUTPUT]\n    Name falcocw\n    Match *\n    region eu-west-1\n    route.1 * -> securitylake:lake-bucket/ext/falco/1.0\n"
	outs, _, _ = fbconf.FindOutputs(write("lake.conf", lake))
	if w := outs[0].Warnings(); len(w) != 1 || !strings.Contains(w[0], "route.1 routes to Security Lake without journal_path") {
		t.Errorf("Security Lake without journal_path: warnings %v", w)
	}
	outs, _, _ = fbconf.FindOutputs(write("lake2.conf", lake+"    journal_path /var/state\n"))
	if w := outs[0].Warnings(); len(w) != 0 {
		t.Errorf("Security Lake with journal_path: warnings %v", w)
	}
	outs, kind, err = fbconf.FindOutputs(write("fb.yaml", yamlConf))
	if err != nil || len(outs) != 1 || kind != "Fluent Bit YAML configuration" {
		t.Fatalf("yaml: %v %q %v", outs, kind, err)
	}
	cm := "apiVersion: v1\nkind: ConfigMap\ndata:\n  fluent-bit.conf: |\n" + indent(classic, "    ")
	outs, kind, err = fbconf.FindOutputs(write("cm.yaml", cm))
	if err != nil || len(outs) != 1 || kind != "Kubernetes ConfigMap" {
		t.Fatalf("configmap: %v %q %v", outs, kind, err)
	}
	td := `{"containerDefinitions":[{"name":"falco","logConfiguration":{"logDriver":"awsfirelens","options":{"Name":"falcocw","region":"eu-west-1","log_grup_name":"x"}}}]}`
	outs, kind, err = fbconf.FindOutputs(write("td.json", td))
	if err != nil || len(outs) != 1 || kind != "ECS task definition" {
		t.Fatalf("task definition: %v %q %v", outs, kind, err)
	}
	if p := strings.Join(outs[0].Problems(), "\n"); !strings.Contains(p, `unknown property "log_grup_name"`) {
		t.Errorf("problems: %s", p)
	}
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre) + "\n"
}
