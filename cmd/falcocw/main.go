// Command falcocw checks falcocw configurations and shows where alerts
// would go, before Fluent Bit runs them.
//
//	falcocw check FILE...     validate every falcocw [OUTPUT] in Fluent Bit
//	                          configs (classic or YAML), ConfigMaps holding
//	                          them, and ECS task definitions' log options
//	falcocw route -c FILE     read Falco JSON lines on stdin and print the
//	                          destinations each goes to and the route that
//	                          chose it
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/fbconf"
)

const usage = `usage:
  falcocw check FILE...                  validate the falcocw outputs in FILEs
  falcocw route -c FILE [-n N] [-tag T]  route Falco JSON lines from stdin with FILE's Nth falcocw output
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "check":
		os.Exit(check(os.Args[2:], os.Stdout))
	case "route":
		os.Exit(routeCmd(os.Args[2:], os.Stdin, os.Stdout))
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

// check prints one line per output and per problem; it returns 1 when any
// output has a problem or a file cannot be read.
func check(files []string, w io.Writer) int {
	if len(files) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	code := 0
	for _, f := range files {
		outputs, kind, err := fbconf.FindOutputs(f)
		if err != nil {
			fmt.Fprintf(w, "%s: error: %v\n", f, err)
			code = 1
			continue
		}
		if len(outputs) == 0 {
			fmt.Fprintf(w, "%s: no falcocw output (%s)\n", f, orNone(kind))
			continue
		}
		for _, o := range outputs {
			for _, warn := range o.Warnings() {
				fmt.Fprintf(w, "%s\n", warn)
			}
			problems := o.Problems()
			if len(problems) == 0 {
				fmt.Fprintf(w, "%s: ok\n", o.Where)
				continue
			}
			code = 1
			for _, p := range problems {
				fmt.Fprintf(w, "%s\n", p)
			}
		}
	}
	return code
}

func orNone(kind string) string {
	if kind == "" {
		return "not a configuration falcocw knows"
	}
	return kind
}

func routeCmd(args []string, in io.Reader, w io.Writer) int {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	file := fs.String("c", "", "configuration file holding the falcocw output")
	n := fs.Int("n", 1, "which falcocw output of the file, from 1")
	tag := fs.String("tag", "falco", "Fluent Bit tag to route with")
	if err := fs.Parse(args); err != nil || *file == "" {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	outputs, _, err := fbconf.FindOutputs(*file)
	if err != nil || *n < 1 || *n > len(outputs) {
		fmt.Fprintf(os.Stderr, "%s: want a file with at least %d falcocw outputs (%v)\n", *file, *n, err)
		return 1
	}
	o := outputs[*n-1]
	if p := o.Problems(); len(p) > 0 {
		fmt.Fprintln(os.Stderr, strings.Join(p, "\n"))
		return 1
	}
	cfg, _ := config.Parse(func(k string) string { return os.Expand(o.Props[k], func(string) string { return "placeholder" }) })
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		a, ok := falco.Recognise(map[string]any{cfg.LogKey: text}, cfg.LogKey, time.Now())
		if !ok {
			fmt.Fprintf(w, "%d: not a Falco alert: non_falco %s\n", line, cfg.NonFalcoPolicy())
			continue
		}
		if a.Cluster = cfg.Cluster; a.Cluster == "" {
			a.Cluster = a.ECS["ecs_cluster"]
		}
		matches, dropped := cfg.Routes.Route(a, route.Values{Alert: a, Tag: *tag}, nil)
		if dropped {
			fmt.Fprintf(w, "%d: %s (%s): dropped by a route\n", line, a.Rule, a.Priority)
			continue
		}
		for _, m := range matches {
			opts := ""
			if m.Options.Storm > 0 {
				opts += fmt.Sprintf(" storm=%s", m.Options.Storm)
			}
			if m.Options.Format != "" {
				opts += " format=" + m.Options.Format
			}
			fmt.Fprintf(w, "%d: %s (%s) -> %s  [%s%s]\n", line, a.Rule, a.Priority, m.Target, m.Rule, opts)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
