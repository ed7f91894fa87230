package fbconf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/falcocw/falcocw/falcocw/config"
	_ "github.com/falcocw/falcocw/falcocw/destinations" // every kind a configuration may name
)

// Output is one falcocw output found in a file: where it is and its
// properties.
type Output struct {
	Where string
	Props map[string]string // keys lower-cased
}

// Problems validates one falcocw output as FLBPluginInit would, and
// reports properties no one reads. ${VAR} references are given a
// placeholder value, as Fluent Bit would expand them at start.
func (o Output) Problems() []string {
	var out []string
	keys := make([]string, 0, len(o.Props))
	for k := range o.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	props := map[string]string{}
	for _, k := range keys {
		if !config.IsKnown(k) {
			out = append(out, fmt.Sprintf("%s: unknown property %q (a typo? falcocw reads: %s, route.1 to route.%d)",
				o.Where, k, strings.Join(config.Properties(), ", "), config.MaxRoutes))
		}
		props[k] = os.Expand(o.Props[k], func(string) string { return "placeholder" })
	}
	if _, err := config.Parse(func(k string) string { return props[k] }); err != nil {
		out = append(out, fmt.Sprintf("%s: %v", o.Where, err))
	}
	return out
}

// Warnings are what may not be wrong but deserves a look: a region that
// only the environment (AWS_REGION, or the SDK's chain) will give.
func (o Output) Warnings() []string {
	var out []string
	region := strings.TrimSpace(o.Props[config.PropRegion])
	switch {
	case region == "":
		out = append(out, fmt.Sprintf("%s: warning: no region property: the region will come only from the environment (AWS_REGION, AWS_DEFAULT_REGION or the shared config); falcocw refuses to start without one", o.Where))
	case strings.Contains(region, "${"):
		out = append(out, fmt.Sprintf("%s: warning: region %s will come only from the environment: if that variable is unset, Fluent Bit leaves region empty and falcocw falls back to AWS_REGION", o.Where, region))
	}
	if c, err := config.Parse(func(k string) string { return o.Props[k] }); err == nil && c.JournalPath == "" {
		for _, r := range c.Routes.Rules {
			if r.Dest.Kind == "securitylake" {
				out = append(out, fmt.Sprintf("%s: warning: %s routes to Security Lake without journal_path: its findings wait for their object in memory, and a crash loses up to securitylake_flush_interval of them; set journal_path to keep them on disk", o.Where, r.Name))
				break
			}
		}
	}
	return out
}

func outputOf(s Section) Output {
	o := Output{Where: s.Where() + " [OUTPUT " + s.Get("name") + "]", Props: map[string]string{}}
	for _, p := range s.Props {
		o.Props[strings.ToLower(p.Key)] = p.Value
	}
	return o
}

// FindOutputs returns every falcocw output in a file: a classic or YAML
// Fluent Bit configuration, a Kubernetes ConfigMap holding one, or an ECS
// task definition whose containers log through awsfirelens with
// Name falcocw. kind says which it read ("" when the file holds none of
// these).
func FindOutputs(path string) (outputs []Output, kind string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	switch {
	case strings.HasSuffix(path, ".json"):
		return ecsOutputs(path, b)
	case strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml"):
		for _, doc := range strings.Split(string(b), "\n---\n") {
			var meta struct {
				Kind     string            `json:"kind"`
				Data     map[string]string `json:"data"`
				Pipeline map[string]any    `json:"pipeline"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				return nil, "", fmt.Errorf("%s: %v", path, err)
			}
			switch {
			case meta.Kind == "ConfigMap":
				kind = "Kubernetes ConfigMap"
				names := make([]string, 0, len(meta.Data))
				for n := range meta.Data {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					var secs []Section
					var err error
					switch {
					case strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml"):
						secs, err = ParseYAML(path+"#"+n, []byte(meta.Data[n]))
					case strings.HasSuffix(n, ".conf"):
						secs, err = ParseClassic(path+"#"+n, meta.Data[n])
					}
					if err != nil {
						return nil, kind, err
					}
					for _, s := range FalcocwOutputs(secs) {
						outputs = append(outputs, outputOf(s))
					}
				}
			case meta.Pipeline != nil:
				kind = "Fluent Bit YAML configuration"
				secs, err := ParseYAML(path, []byte(doc))
				if err != nil {
					return nil, kind, err
				}
				for _, s := range FalcocwOutputs(secs) {
					outputs = append(outputs, outputOf(s))
				}
			}
		}
		return outputs, kind, nil
	default:
		secs, err := ParseClassic(path, string(b))
		if err != nil {
			return nil, "", err
		}
		for _, s := range FalcocwOutputs(secs) {
			outputs = append(outputs, outputOf(s))
		}
		return outputs, "Fluent Bit configuration", nil
	}
}

func ecsOutputs(path string, b []byte) ([]Output, string, error) {
	var td struct {
		ContainerDefinitions []struct {
			Name             string
			LogConfiguration *struct {
				LogDriver string
				Options   map[string]string
			}
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&td); err != nil {
		return nil, "", fmt.Errorf("%s: %v", path, err)
	}
	if td.ContainerDefinitions == nil {
		return nil, "", nil
	}
	var out []Output
	for _, c := range td.ContainerDefinitions {
		lc := c.LogConfiguration
		if lc == nil || lc.LogDriver != "awsfirelens" || !strings.EqualFold(lc.Options["Name"], "falcocw") {
			continue
		}
		o := Output{Where: fmt.Sprintf("%s: container %q logConfiguration", path, c.Name), Props: map[string]string{}}
		for k, v := range lc.Options {
			o.Props[strings.ToLower(k)] = v
		}
		out = append(out, o)
	}
	return out, "ECS task definition", nil
}
