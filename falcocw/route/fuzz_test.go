package route_test

import (
	_ "github.com/falcocw/falcocw/falcocw/cwlogs" // the destination kinds: cloudwatch, firehose, sns
	_ "github.com/falcocw/falcocw/falcocw/firehose"
	_ "github.com/falcocw/falcocw/falcocw/sns"

	"testing"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
)

// FuzzParseRule: any text parses or fails with an error, without panic; a parsed rule can be matched and resolved, and
// resolved names are valid for their service.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"* -> cloudwatch:/falco/alerts:{hostname}",
		"tag=mitre_*,T1059 source=syscall priority>=warning -> firehose:falco-{source} continue",
		`rule="Terminal shell in container" priority=Critical,Error -> default`,
		"priority=Debug -> drop",
		"* -> cloudwatch:/falco/{kubernetes.namespace_name}:{ecs_task_id}",
		`rule="a -> b`, "->", "* -> cloudwatch::", "tag=** -> firehose:{output_fields.x}",
	} {
		f.Add(s)
	}
	a := &falco.Alert{Rule: "Read: *sensitive* file", Priority: falco.PriorityError, Source: "sys:call",
		Hostname: "h*st:1", Tags: []string{"mitre_x"}, Kubernetes: map[string]any{"namespace_name": "a b:c"},
		ECS: map[string]string{"ecs_task_arn": "arn:aws:ecs:r:1:task/c/id"}}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := route.ParseRule("route.9", text, route.Defaults{"cloudwatch": route.MustTemplate("{hostname}")})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		r.Matches(a)
		if r.Drop || r.UseDefault {
			return
		}
		target := r.Dest.Resolve(route.Values{Alert: a, Tag: "t:*"})
		if target.Name == "" || len(target.Name) > 512 {
			t.Fatalf("bad name %q", target.Name)
		}
		for _, c := range target.Stream {
			if c == ':' || c == '*' {
				t.Fatalf("stream %q holds %q", target.Stream, c)
			}
		}
	})
}
