package deploytest

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/dest"
	_ "github.com/falcocw/falcocw/falcocw/destinations"
	"github.com/falcocw/falcocw/internal/fbconf"
	"github.com/falcocw/falcocw/internal/flbhost"
)

const root = "../.."

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDockerfile parses the Dockerfile with BuildKit's own parser and checks
// the build stage, the pinned base of the final stage, and how the plugin
// gets there and is loaded.
func TestDockerfile(t *testing.T) {
	res, err := parser.Parse(bytes.NewReader(read(t, "Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	var froms [][]string
	var copies, runs, cmds []string
	for _, n := range res.AST.Children {
		var words []string
		for a := n.Next; a != nil; a = a.Next {
			words = append(words, a.Value)
		}
		switch strings.ToLower(n.Value) {
		case "arg":
			for _, w := range words {
				if k, v, ok := strings.Cut(w, "="); ok && len(froms) == 0 {
					args[k] = v
				}
			}
		case "from":
			froms = append(froms, words)
		case "copy":
			copies = append(copies, strings.Join(n.Flags, " ")+" "+strings.Join(words, " "))
		case "run":
			runs = append(runs, strings.Join(words, " "))
		case "cmd", "entrypoint":
			cmds = append(cmds, strings.Join(words, " "))
		}
	}
	if len(froms) != 2 {
		t.Fatalf("want 2 stages (build, runtime), got %d: %v", len(froms), froms)
	}
	if b := froms[0]; len(b) != 3 || !strings.HasPrefix(b[0], "public.ecr.aws/amazonlinux/amazonlinux:") || !strings.EqualFold(b[1], "AS") {
		t.Errorf("build stage: %v", b)
	}
	if tag := args["AMAZONLINUX_TAG"]; tag != "2023" {
		t.Errorf("build stage on amazonlinux:%s; want 2023, the base of aws-for-fluent-bit 3.x (glibc 2.34)", tag)
	}
	final := froms[1][0]
	if final != "public.ecr.aws/aws-observability/aws-for-fluent-bit:${AWS_FOR_FLUENT_BIT_TAG}" {
		t.Errorf("final stage FROM %s", final)
	}
	if tag := args["AWS_FOR_FLUENT_BIT_TAG"]; !regexp.MustCompile(`^3\.([4-9]|\d\d)\.\d+$`).MatchString(tag) {
		t.Errorf("aws-for-fluent-bit tag %q: want a pinned 3.4 or later (Fluent Bit 5.0, what the real-host tests run)", tag)
	}
	if !contains(runs, "go build -buildmode=c-shared") || !contains(runs, "-o /out/falcocw.so ./plugin") {
		t.Errorf("no c-shared build of ./plugin into /out/falcocw.so: %v", runs)
	}
	if !contains(copies, "--from=build /out/falcocw.so /fluent-bit/falcocw.so") {
		t.Errorf("the .so is not copied to /fluent-bit/falcocw.so: %v", copies)
	}
	if len(cmds) != 1 || !strings.Contains(cmds[0], "/falcocw-entrypoint.sh") || !contains(copies, "docker/entrypoint.sh /falcocw-entrypoint.sh") {
		t.Fatalf("the image does not start through the falcocw entrypoint: %v %v", cmds, copies)
	}
	entry := string(read(t, "docker/entrypoint.sh"))
	for _, so := range []string{"firehose.so", "cloudwatch.so", "kinesis.so", "falcocw.so"} {
		if !strings.Contains(entry, "-e /fluent-bit/"+so) {
			t.Errorf("entrypoint does not load %s with -e, as aws-for-fluent-bit loads its Go plugins", so)
		}
	}
	if !strings.Contains(entry, "/fluent-bit/etc/fluent-bit.conf") {
		t.Error("entrypoint does not read the configuration FireLens generates")
	}
}

// dockerCopies reports whether the Dockerfile copies src (from the
// build context) to dst in the image.
func dockerCopies(t *testing.T, src, dst string) bool {
	res, err := parser.Parse(bytes.NewReader(read(t, "Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.AST.Children {
		if !strings.EqualFold(n.Value, "copy") || len(n.Flags) > 0 {
			continue
		}
		var words []string
		for a := n.Next; a != nil; a = a.Next {
			words = append(words, a.Value)
		}
		if len(words) == 2 && words[0] == src && words[1] == dst {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestSharedObjectGlibc: the .so needs no glibc symbol version newer than
// 2.34, the glibc of Amazon Linux 2023 under aws-for-fluent-bit 3.x.
func TestSharedObjectGlibc(t *testing.T) {
	so, err := flbhost.BuildPlugin(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	newest := "GLIBC_2.0"
	for _, s := range syms {
		v := s.Version
		if !strings.HasPrefix(v, "GLIBC_") {
			continue
		}
		if glibcLess(newest, v) {
			newest = v
		}
		if glibcLess("GLIBC_2.34", v) {
			t.Errorf("%s needs %s, newer than 2.34", s.Name, v)
		}
	}
	t.Logf("newest glibc symbol version needed: %s", newest)
}

func glibcLess(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(a, "GLIBC_"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "GLIBC_"), ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// TestECSTaskDefinition strict-decodes the task definition into the ECS
// API's own input type and checks the FireLens wiring, then validates the
// Falco container's log options with falcocw's own configuration parser.
func TestECSTaskDefinition(t *testing.T) {
	d := json.NewDecoder(bytes.NewReader(read(t, "examples/ecs-task-definition.json")))
	d.DisallowUnknownFields()
	var td ecs.RegisterTaskDefinitionInput
	if err := d.Decode(&td); err != nil {
		t.Fatalf("not a RegisterTaskDefinition input: %v", err)
	}
	if td.TaskRoleArn == nil || td.ExecutionRoleArn == nil || td.Family == nil {
		t.Error("task role, execution role and family are required")
	}
	var router, falco int
	for _, c := range td.ContainerDefinitions {
		if fc := c.FirelensConfiguration; fc != nil {
			router++
			if fc.Type != "fluentbit" || fc.Options["enable-ecs-log-metadata"] != "true" {
				t.Errorf("log router: %+v", fc)
			}
			if c.HealthCheck == nil || c.Memory == nil && c.MemoryReservation == nil {
				t.Error("log router without health check or memory")
			}
			if !strings.Contains(*c.Image, "falcocw") {
				t.Errorf("log router image %s is not the falcocw image", *c.Image)
			}
			// The included file joins the pieces of lines over 16 KiB:
			// it must be the one the image carries.
			if fc.Options["config-file-type"] != "file" || !dockerCopies(t, "conf/firelens.conf", fc.Options["config-file-value"]) {
				t.Errorf("log router: config-file-type file and config-file-value %q must name conf/firelens.conf as the Dockerfile copies it", fc.Options["config-file-value"])
			}
		}
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver == "awsfirelens" {
			falco++
			if c.Privileged == nil || !*c.Privileged {
				t.Error("the Falco container must be privileged")
			}
			if !strings.Contains(strings.Join(c.Command, " "), "json_output=true") ||
				!strings.Contains(strings.Join(c.Command, " "), "json_include_tags_property=true") {
				t.Error("Falco must print JSON with tags")
			}
			if lc.Options["Name"] != "falcocw" {
				t.Errorf("log driver Name %q", lc.Options["Name"])
			}
			checkOptions(t, "ecs-task-definition.json", lc.Options)
		}
	}
	if router != 1 || falco != 1 {
		t.Errorf("%d log routers, %d awsfirelens containers; want 1 each", router, falco)
	}
}

// checkOptions validates one falcocw section's properties with the same
// check as "falcocw check".
func checkOptions(t *testing.T, where string, opts map[string]string) {
	t.Helper()
	o := fbconf.Output{Where: where, Props: map[string]string{}}
	for k, v := range opts {
		o.Props[strings.ToLower(k)] = v
	}
	for _, p := range o.Problems() {
		t.Error(p)
	}
}

// TestIAMPolicy: the example policy parses and names exactly the actions
// falcocw calls.
func TestIAMPolicy(t *testing.T) {
	var p struct {
		Version   string
		Statement []struct {
			Sid      string
			Effect   string
			Action   []string
			Resource any
		}
	}
	d := json.NewDecoder(bytes.NewReader(read(t, "examples/iam-policy.json")))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		t.Fatal(err)
	}
	calls := map[string]bool{}
	for _, k := range dest.Kinds() { // every kind of destination, as registered
		for _, a := range k.IAMActions {
			calls[a] = true
		}
	}
	named := map[string]bool{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			t.Errorf("effect %s", s.Effect)
		}
		for _, a := range s.Action {
			named[a] = true
			if !calls[a] {
				t.Errorf("the policy grants %s, which falcocw never calls", a)
			}
		}
	}
	for a := range calls {
		if !named[a] {
			t.Errorf("the policy lacks %s, which falcocw calls", a)
		}
	}
	if p.Version != "2012-10-17" {
		t.Errorf("policy version %q", p.Version)
	}
}

// TestEKSManifests strict-decodes every manifest into the Kubernetes API
// types and checks the IRSA annotation, the DaemonSet and that the
// ConfigMap carries conf/ verbatim.
func TestEKSManifests(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, "examples/eks/*.yaml"))
	var sa *corev1.ServiceAccount
	var ds *appsv1.DaemonSet
	var cm *corev1.ConfigMap
	kinds := map[string]int{}
	for _, f := range files {
		if strings.HasSuffix(f, "falco-values.yaml") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, doc := range strings.Split(string(b), "\n---\n") {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var obj any
			switch meta.Kind {
			case "ServiceAccount":
				sa = &corev1.ServiceAccount{}
				obj = sa
			case "DaemonSet":
				ds = &appsv1.DaemonSet{}
				obj = ds
			case "ConfigMap":
				cm = &corev1.ConfigMap{}
				obj = cm
			case "ClusterRole":
				obj = &rbacv1.ClusterRole{}
			case "ClusterRoleBinding":
				obj = &rbacv1.ClusterRoleBinding{}
			default:
				t.Fatalf("%s: unexpected kind %q", f, meta.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s: %s does not decode strictly: %v", f, meta.Kind, err)
			}
			kinds[meta.Kind]++
		}
	}
	if sa == nil || ds == nil || cm == nil || kinds["ClusterRole"] != 1 || kinds["ClusterRoleBinding"] != 1 {
		t.Fatalf("manifests found: %v", kinds)
	}
	if !strings.HasPrefix(sa.Annotations["eks.amazonaws.com/role-arn"], "arn:aws:iam::") {
		t.Error("the ServiceAccount has no IRSA role annotation")
	}
	spec := ds.Spec.Template.Spec
	if spec.ServiceAccountName != sa.Name {
		t.Errorf("DaemonSet runs as %q, not the IRSA service account %q", spec.ServiceAccountName, sa.Name)
	}
	mounts := map[string]bool{}
	for _, m := range spec.Containers[0].VolumeMounts {
		mounts[m.MountPath] = true
	}
	if !mounts["/var/log"] || !mounts["/fluent-bit/etc/falcocw"] {
		t.Errorf("DaemonSet mounts %v; want /var/log and the ConfigMap", mounts)
	}
	for name, content := range cm.Data {
		if want := string(read(t, "conf/"+name)); content != want {
			t.Errorf("ConfigMap %s differs from conf/%s", name, name)
		}
	}
	var values struct {
		Falco map[string]any `json:"falco"`
	}
	if err := yaml.Unmarshal(read(t, "examples/eks/falco-values.yaml"), &values); err != nil {
		t.Fatal(err)
	}
	if values.Falco["json_output"] != true || values.Falco["json_include_tags_property"] != true {
		t.Errorf("Falco Helm values must turn on JSON output with tags: %v", values.Falco)
	}
}

// TestEveryFalcocwOutputValidates finds every [OUTPUT] section that loads
// falcocw in conf/ and examples/ (classic and YAML, and inside the
// ConfigMap) and validates it as FLBPluginInit would.
func TestEveryFalcocwOutputValidates(t *testing.T) {
	var sections []fbconf.Section
	for _, pattern := range []string{"conf/*.conf", "conf/*.yaml", "examples/*.conf", "examples/*/*.conf"} {
		files, _ := filepath.Glob(filepath.Join(root, pattern))
		sort.Strings(files)
		for _, f := range files {
			s, err := fbconf.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sections = append(sections, s...)
		}
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(read(t, "examples/eks/configmap.yaml"), &cm); err != nil {
		t.Fatal(err)
	}
	s, err := fbconf.ParseClassic("examples/eks/configmap.yaml", cm.Data["fluent-bit.conf"])
	if err != nil {
		t.Fatal(err)
	}
	sections = append(sections, s...)
	outputs := fbconf.FalcocwOutputs(sections)
	if len(outputs) < 3 {
		t.Fatalf("found %d falcocw outputs; want those of conf/fluent-bit.conf, conf/fluent-bit.yaml and the ConfigMap", len(outputs))
	}
	for _, o := range outputs {
		opts := map[string]string{}
		for _, p := range o.Props {
			opts[p.Key] = p.Value
		}
		checkOptions(t, o.Where(), opts)
	}
}

// TestREADMEConfigurationReference: the README's reference table lists
// exactly the properties of config.Table, and shows each default the table
// declares.
func TestREADMEConfigurationReference(t *testing.T) {
	readme := string(read(t, "README.md"))
	start := strings.Index(readme, "## Configuration reference")
	if start < 0 {
		t.Fatal("no Configuration reference section")
	}
	section := readme[start:]
	if end := strings.Index(section[3:], "\n## "); end > 0 {
		section = section[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_.N]+)` \\| ([^|]*) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		documented[m[1]] = m[2]
	}
	for _, p := range config.Table() {
		def, ok := documented[p.Name]
		if !ok {
			t.Errorf("README's reference table lacks %s", p.Name)
			continue
		}
		if p.Default != "" && !strings.Contains(def, "`"+p.Default+"`") {
			t.Errorf("README gives %s the default %q; config.Table says %q", p.Name, strings.TrimSpace(def), p.Default)
		}
		delete(documented, p.Name)
	}
	for name := range documented {
		t.Errorf("README documents %s, which config.Table does not declare", name)
	}
}
