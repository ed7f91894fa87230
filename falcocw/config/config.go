// Package config turns the properties of one falcocw [OUTPUT] section into
// a typed, validated Config. It runs once, at init; a flush never reads a
// property. Every error names the property, the bad value and what is
// allowed, because that error is the one line a user sees when Fluent Bit
// refuses to start.
//
// Each property is declared once, as a Field: the instance's own in
// fields, a destination kind's own by its package (RegisterKind), so that
// config, below the kinds, imports none of them. The kinds must be
// registered (package destinations imported) before Parse.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/route"
)

// MaxRoutes is how many numbered route.N properties are read (route.1 to
// route.MaxRoutes). Fluent Bit lets a plugin look properties up by name but
// not list them, so the numbers are probed.
const MaxRoutes = 100

// fluentBitKeys are the properties Fluent Bit itself handles for every
// output; they may appear in a falcocw section.
var fluentBitKeys = []string{"name", "match", "match_regex", "alias", "log_level", "log_suppress_interval",
	"retry_limit", "workers", "storage.total_limit_size", "tls", "tls.verify", "net.keepalive", "processors"}

// IsKnown reports whether key is a property a falcocw [OUTPUT] section may
// hold: one of falcocw's, a route.N, or one of Fluent Bit's own.
func IsKnown(key string) bool {
	k := strings.ToLower(key)
	if rest, ok := strings.CutPrefix(k, PropRoutePrefix); ok {
		n, err := strconv.Atoi(rest)
		return err == nil && n >= 1 && n <= MaxRoutes
	}
	for _, p := range Properties() {
		if k == p {
			return true
		}
	}
	for _, p := range fluentBitKeys {
		if k == p || strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "tls.") {
			return true
		}
	}
	return false
}

// Config is one instance's validated configuration.
type Config struct {
	Region     string
	RoleARN    string
	ExternalID string
	// Endpoints override the AWS endpoint per service ("" for AWS's own).
	// Endpoints, by destination kind, from KIND_endpoint or endpoint.
	Endpoints map[route.Kind]string
	endpoint  string // the endpoint property, for every service
	// raw are properties as written, read together with others once
	// every field is filled.
	raw struct {
		tlsSkipVerify, nonFalco                                    string
		metricsNamespace, metricsDims, metricsGroup, metricsStream string
	}
	// KindOptions are each destination kind's own options, for its
	// sender (dest.Env.Options).
	KindOptions map[route.Kind]any
	STSEndpoint string
	LogKey      string
	// NonFalco says where records that are not Falco alerts go; nil drops
	// them (counted).
	NonFalco *NonFalco
	Routes   route.Table
	// FlushTimeout bounds how long a request is retried (throttling,
	// 5xx, refused connections) before its events go back to Fluent
	// Bit's retry.
	FlushTimeout time.Duration
	// DestinationWait is how long a flush waits for a destination's
	// next answer before it counts the destination as down.
	DestinationWait time.Duration
	// ProbeInterval is how often a destination that is down is sent one
	// request to learn whether it is back.
	ProbeInterval time.Duration
	// MaxConcurrency bounds the AWS requests each destination has in
	// flight.
	MaxConcurrency int
	// AdaptivePace: requests start at a pace learned from throttling
	// answers (package pace).
	AdaptivePace bool
	LogLevel     Level
	// TLSSkipVerify lists the endpoints (as configured) whose TLS
	// certificate is not verified. Empty: every certificate is verified.
	TLSSkipVerify []string
	// Cluster names the cluster in every event's context (and {cluster});
	// empty: taken from the FireLens metadata when there is some.
	Cluster string
	// Metrics, when not nil, makes each flush write CloudWatch Embedded
	// Metric Format records counting its alerts.
	Metrics *Metrics
	// MemoryLimit caps the memory the instance holds for flushes in
	// progress and for chunks waiting for a retry, in bytes.
	MemoryLimit int64
	// JournalPath is the directory of the delivery journal (package
	// journal); empty: no journal.
	JournalPath string
}

// isEndpoint reports whether e is one of the configured endpoints.
func (c *Config) isEndpoint(e string) bool {
	if e == c.STSEndpoint {
		return true
	}
	for _, x := range c.Endpoints {
		if e == x {
			return true
		}
	}
	return false
}

// NonFalcoPolicy says where records that are not Falco alerts go, as the
// non_falco property writes it.
func (c *Config) NonFalcoPolicy() string {
	switch {
	case c.NonFalco == nil:
		return "drop"
	case c.NonFalco.UseDefault:
		return "default"
	}
	return c.NonFalco.Dest.String()
}

// Metrics configures the EMF records.
type Metrics struct {
	Namespace  string
	Dimensions [][]string
	Group      string
	Stream     string
	// Target is the log group and stream, as a destination.
	Target route.Target
}

// NonFalco is the destination of records that are not Falco alerts.
type NonFalco struct {
	UseDefault bool
	Dest       route.Destination
}

// Level is a log level.
type Level int

// Log levels, as Fluent Bit names them.
const (
	LevelError Level = iota
	LevelWarn
	LevelInfo
	LevelDebug
)

var levelNames = []string{"error", "warn", "info", "debug"}

func (l Level) String() string { return levelNames[l] }

// Error is a configuration error naming its property.
type Error struct {
	Property string
	Value    string
	Allowed  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("property %s: bad value %q: %s", e.Property, e.Value, e.Allowed)
}

// Parse reads the properties through get (which returns "" for an unset
// property) and validates them.
func Parse(get func(key string) string) (*Config, error) {
	c := &Config{Endpoints: map[route.Kind]string{}, KindOptions: map[route.Kind]any{}}
	if err := fill(c, fields, get); err != nil {
		return nil, err
	}
	if err := c.endpoints(get); err != nil {
		return nil, err
	}
	if err := c.tlsSkipVerify(c.raw.tlsSkipVerify); err != nil {
		return nil, err
	}
	routeDefaults := route.Defaults{}
	var defaultHelp []string
	for _, k := range registeredKinds() {
		kc, err := k.parse(get)
		if err != nil {
			return nil, err
		}
		if kc.Options != nil {
			c.KindOptions[k.kind] = kc.Options
		}
		if kc.Default != nil {
			c.Routes.Defaults = append(c.Routes.Defaults, *kc.Default)
		}
		if kc.RouteDefault != nil {
			routeDefaults[k.kind] = kc.RouteDefault
		}
		if k.defaultHelp != "" {
			defaultHelp = append(defaultHelp, k.defaultHelp)
		}
	}
	if err := c.metrics(); err != nil {
		return nil, err
	}
	if c.ExternalID != "" && c.RoleARN == "" {
		return nil, &Error{PropExternalID, c.ExternalID, "external_id needs role_arn: set role_arn to the role to assume"}
	}
	if c.RoleARN != "" && !strings.HasPrefix(c.RoleARN, "arn:") {
		return nil, &Error{PropRoleARN, c.RoleARN, "want an IAM role ARN such as arn:aws:iam::123456789012:role/falcocw"}
	}
	if err := c.routes(get, routeDefaults, defaultHelp); err != nil {
		return nil, err
	}
	return c, c.nonFalco(c.raw.nonFalco, routeDefaults, defaultHelp)
}

// endpoints reads each kind's endpoint: KIND_endpoint, else endpoint.
func (c *Config) endpoints(get func(string) string) error {
	for _, k := range route.Kinds() {
		prop := EndpointProperty(k.Kind)
		v := strings.TrimSpace(get(prop))
		if v == "" {
			if c.endpoint != "" {
				c.Endpoints[k.Kind] = c.endpoint
			}
			continue
		}
		e, err := parseURL(v)
		if err != nil {
			return &Error{prop, v, err.Error()}
		}
		c.Endpoints[k.Kind] = e
	}
	if c.STSEndpoint == "" {
		c.STSEndpoint = c.endpoint
	}
	return nil
}

// tlsSkipVerify reads the endpoints whose certificates are not verified:
// only endpoints the configuration sets, and only over https.
func (c *Config) tlsSkipVerify(v string) error {
	if v == "" {
		return nil
	}
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimRight(strings.TrimSpace(e), "/")
		if !c.isEndpoint(e) {
			return &Error{PropTLSSkipVerify, e, "want endpoints set in endpoint, sts_endpoint or a KIND_endpoint (" + strings.Join(endpointProperties(), ", ") +
				"), comma-separated; AWS's own endpoints are always verified"}
		}
		if !strings.HasPrefix(e, "https://") {
			return &Error{PropTLSSkipVerify, e, "only an https:// endpoint has a certificate to skip"}
		}
		c.TLSSkipVerify = append(c.TLSSkipVerify, e)
	}
	return nil
}

// metrics reads the Embedded Metric Format records' settings: on with
// metrics_namespace, into a static CloudWatch Logs group and stream.
func (c *Config) metrics() error {
	r := &c.raw
	ns := r.metricsNamespace
	if ns == "" {
		for _, kv := range [][2]string{{PropMetricsDims, r.metricsDims}, {PropMetricsGroup, r.metricsGroup}, {PropMetricsStream, r.metricsStream}} {
			if kv[1] != "" {
				return &Error{kv[0], kv[1], "set metrics_namespace (e.g. Falco) to turn the metrics on"}
			}
		}
		return nil
	}
	value := func(v, k string) string {
		if v != "" {
			return v
		}
		return spec(k).Default
	}
	if len(ns) > 255 || strings.HasPrefix(ns, "AWS/") || strings.ContainsAny(ns, ":") {
		return &Error{PropMetricsNamespace, ns, "want a CloudWatch namespace of up to 255 characters, not starting with AWS/, without ':', e.g. Falco"}
	}
	m := &Metrics{Namespace: ns, Group: value(r.metricsGroup, PropMetricsGroup), Stream: value(r.metricsStream, PropMetricsStream)}
	dims := value(r.metricsDims, PropMetricsDims)
	sets, err := emf.ParseDimensionSets(dims)
	if err != nil {
		return &Error{PropMetricsDims, dims, err.Error()}
	}
	m.Dimensions = sets
	// The records are CloudWatch Logs events: their group and stream are
	// read as a cloudwatch:GROUP:STREAM route names them, and must not
	// vary.
	if strings.ContainsAny(m.Stream, "{}:") {
		return &Error{PropMetricsStream, m.Stream, "want a static log stream name, without {variables}"}
	}
	if _, err := route.ParseDestination(metricsKind+":metrics:"+m.Stream, nil); err != nil {
		return &Error{PropMetricsStream, m.Stream, "want a static log stream name, without {variables}"}
	}
	d, err := route.ParseDestination(metricsKind+":"+m.Group+":"+m.Stream, nil)
	if err != nil || !d.Name.Static() || strings.Contains(m.Group, ":") {
		return &Error{PropMetricsGroup, m.Group, "want a static log group name, without {variables}"}
	}
	m.Target = d.Resolve(route.Values{})
	c.Metrics = m
	return nil
}

// metricsKind is where metric records go: CloudWatch Logs, which turns
// Embedded Metric Format records into metrics.
const metricsKind = "cloudwatch"

// routes reads route.1 to route.MaxRoutes, in order.
func (c *Config) routes(get func(string) string, defaults route.Defaults, defaultHelp []string) error {
	catchAll := false
	for i := 1; i <= MaxRoutes; i++ {
		key := PropRoutePrefix + strconv.Itoa(i)
		text := strings.TrimSpace(get(key))
		if text == "" {
			continue
		}
		r, err := route.ParseRule(key, text, defaults)
		if err != nil {
			return &Error{key, text, err.Error()}
		}
		if r.UseDefault && len(c.Routes.Defaults) == 0 {
			return &Error{key, text, "routes to default, but no default destination is set: set " + strings.Join(defaultHelp, " or ")}
		}
		c.Routes.Rules = append(c.Routes.Rules, r)
		if r.MatchesAll() {
			catchAll = true
		}
	}
	// Fluent Bit before 5.1.1 cannot refuse a property no one reads; the
	// numbered routes beyond the range are probed, so that route.101 is
	// refused rather than silently ignored.
	for i := 0; i <= 10*MaxRoutes; i = max(i+1, MaxRoutes+1) {
		key := PropRoutePrefix + strconv.Itoa(i)
		if v := strings.TrimSpace(get(key)); v != "" {
			return &Error{key, v, fmt.Sprintf("routes are numbered route.1 to route.%d; renumber this one", MaxRoutes)}
		}
	}
	if len(c.Routes.Defaults) == 0 && !catchAll {
		first, _, _ := strings.Cut(defaultHelp[0], " ")
		return &Error{first, "", "no default destination: set " + strings.Join(defaultHelp, " and/or ") + ", or end the routes with a catch-all rule such as route.99 * -> cloudwatch:/falco/alerts:{hostname} " +
			"(if you set one, check its spelling: Fluent Bit before 5.1.1 ignores a misspelt property; falcocw check names it)"}
	}
	return nil
}

// nonFalco reads where records that are not Falco alerts go.
func (c *Config) nonFalco(nf string, defaults route.Defaults, defaultHelp []string) error {
	switch strings.ToLower(nf) {
	case "", "drop":
	case "default":
		if len(c.Routes.Defaults) == 0 {
			return &Error{PropNonFalco, nf, "no default destination is set: set " + strings.Join(defaultHelp, " or ") + ", or name a destination"}
		}
		c.NonFalco = &NonFalco{UseDefault: true}
	default:
		d, err := route.ParseDestination(nf, defaults)
		if err != nil {
			return &Error{PropNonFalco, nf, "want drop, default or a destination: " + err.Error()}
		}
		c.NonFalco = &NonFalco{Dest: d}
	}
	return nil
}

// setLevel reads falcocw_log_level, else FLB_LOG_LEVEL, as Fluent Bit
// and AWS's Go plugins name the levels.
func setLevel(c *Config, v string) error {
	v = strings.ToLower(v)
	if v == "" {
		v = strings.ToLower(strings.TrimSpace(os.Getenv("FLB_LOG_LEVEL")))
	}
	switch v {
	case "":
		c.LogLevel = LevelInfo
		return nil
	case "trace":
		c.LogLevel = LevelDebug
		return nil
	case "warning":
		c.LogLevel = LevelWarn
		return nil
	case "off":
		c.LogLevel = LevelError
		return nil
	}
	for i, n := range levelNames {
		if v == n {
			c.LogLevel = Level(i)
			return nil
		}
	}
	return &Error{PropLogLevel, v, "want error, warn, info or debug"}
}
