package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcocw/falcocw/internal/samples"
)

func write(t *testing.T, name, text string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, file, text string
		code             int
		want             []string
	}{
		{"good classic", "ok.conf", "[OUTPUT]\n    Name falcocw\n    Match *\n    log_group_name /falco\n    log_stream_name {hostname}\n    workers 1\n", 0, []string{"ok.conf:1 [OUTPUT falcocw]: ok"}},
		{"unknown property", "typo.conf", "[OUTPUT]\n    Name falcocw\n    log_group_name g\n    log_stream_name s\n    log_grup_name x\n", 1, []string{`unknown property "log_grup_name"`}},
		{"bad route", "route.conf", "[OUTPUT]\n    Name falcocw\n    log_group_name g\n    log_stream_name s\n    route.3 tag=x -> s3:bucket\n", 1, []string{"property route.3", "unknown destination kind"}},
		{"bad template", "tpl.conf", "[OUTPUT]\n    Name falcocw\n    log_group_name /falco/{nope}\n    log_stream_name s\n", 1, []string{"property log_group_name", "unknown variable {nope}"}},
		{"yaml", "fb.yaml", "pipeline:\n  outputs:\n    - name: falcocw\n      delivery_stream: falco\n      route.1: \"priority>=loud -> default\"\n", 1, []string{"unknown priority"}},
		{"ecs", "td.json", `{"containerDefinitions":[{"name":"falco","logConfiguration":{"logDriver":"awsfirelens","options":{"Name":"falcocw","delivery_stream":"bad/name"}}}]}`, 1, []string{`container "falco"`, "property delivery_stream"}},
		{"region from the environment", "env.conf", "[OUTPUT]\n    Name falcocw\n    region ${AWS_REGION}\n    log_group_name g\n    log_stream_name s\n", 0, []string{"warning: region ${AWS_REGION} will come only from the environment", "env.conf:1 [OUTPUT falcocw]: ok"}},
		{"no region", "noregion.conf", "[OUTPUT]\n    Name falcocw\n    log_group_name g\n    log_stream_name s\n", 0, []string{"warning: no region property"}},
		{"misspelt names", "typos.conf", "[OUTPUT]\n    Name falcocw\n    region eu-west-1\n    log_group_name g\n    log_stream_name s\n    auto_create_grup true\n    route.101 * -> default\n    route.x * -> default\n", 1, []string{`unknown property "auto_create_grup"`, `unknown property "route.101"`, `unknown property "route.x"`}},
		{"nothing to check", "other.conf", "[INPUT]\n    Name tail\n", 0, []string{"no falcocw output"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			code := check([]string{write(t, tt.file, tt.text)}, &out)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestCheckProjectFiles: everything in conf/ and examples/ passes.
func TestCheckProjectFiles(t *testing.T) {
	var files []string
	for _, p := range []string{"../../conf/*", "../../examples/*.json", "../../examples/eks/*"} {
		m, _ := filepath.Glob(p)
		files = append(files, m...)
	}
	var out strings.Builder
	if code := check(files, &out); code != 0 || strings.Count(out.String(), ": ok") < 4 {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
}

func TestRoute(t *testing.T) {
	conf := write(t, "fb.conf", "[OUTPUT]\n    Name falcocw\n    log_group_name /falco/alerts\n    log_stream_name {source}\n"+
		"    route.1 priority>=Critical -> sns:arn:aws:sns:eu-west-1:123456789012:falco continue\n    route.2 tag=mitre_* -> firehose:mitre\n")
	in := strings.Join(samples.Lines("alerts.jsonl")[:3], "\n") + "\nnot an alert\n"
	var out strings.Builder
	if code := routeCmd([]string{"-c", conf}, strings.NewReader(in), &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"1: Launch Privileged Container (Informational) -> firehose:mitre  [route.2]",
		"2: Deactivate MFA for Root User (Critical) -> sns:arn:aws:sns:eu-west-1:123456789012:falco  [route.1]",
		"2: Deactivate MFA for Root User (Critical) -> cloudwatch:/falco/alerts:unknown  [default]",
		"4: not a Falco alert: non_falco drop",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCheckKnowsEveryKind: falcocw check parses routes to every kind of
// destination, as the plugin does.
func TestCheckKnowsEveryKind(t *testing.T) {
	var out strings.Builder
	conf := "[OUTPUT]\n    Name falcocw\n    region eu-west-1\n    log_group_name g\n    log_stream_name s\n" +
		"    route.1 priority>=Critical -> sns:arn:aws:sns:eu-west-1:123456789012:t continue\n" +
		"    route.2 tag=mitre_* -> firehose:f continue\n    route.3 * -> cloudwatch:g2:s2\n"
	if code := check([]string{write(t, "kinds.conf", conf)}, &out); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}
