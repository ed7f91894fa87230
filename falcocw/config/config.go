// Package config turns the properties of one falcocw [OUTPUT] section into
// a typed, validated Config. It runs once, at init; a flush never reads a
// property. Every error names the property, the bad value and what is
// allowed, because that error is the one line a user sees when Fluent Bit
// refuses to start.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/cwlogs"
	_ "github.com/falcocw/falcocw/falcocw/destinations" // every kind a route may name
	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/eventbridge"
	"github.com/falcocw/falcocw/falcocw/firehose"
	"github.com/falcocw/falcocw/falcocw/kinesis"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/securityhub"
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
	for _, p := range Properties {
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
	Region           string
	AutoCreateGroup  bool
	AutoCreateStream bool
	LogRetentionDays int32 // 0: leave the group's retention alone
	RoleARN          string
	ExternalID       string
	// Endpoints override the AWS endpoint per service ("" for AWS's own).
	// Endpoints, by destination kind, from KIND_endpoint or endpoint.
	Endpoints map[route.Kind]string
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
	LogLevel       Level
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
	p := parser{get: get}
	c := &Config{
		Region:           p.str(PropRegion),
		AutoCreateGroup:  p.boolean(PropAutoCreateGroup),
		AutoCreateStream: p.boolean(PropAutoCreateStream),
		LogRetentionDays: p.retention(),
		RoleARN:          p.str(PropRoleARN),
		ExternalID:       p.str(PropExternalID),
		STSEndpoint:      p.endpoint(PropSTSEndpoint),
		Endpoints:        map[route.Kind]string{},
		LogKey:           p.strDefault(PropLogKey),
		FlushTimeout:     p.duration(PropFlushTimeout),
		DestinationWait:  p.duration(PropDestinationWait),
		ProbeInterval:    p.duration(PropProbeInterval),
		MaxConcurrency:   p.integer(PropMaxConcurrency),
		LogLevel:         p.level(),
		MemoryLimit:      p.size(PropMemoryLimit),
	}
	ep := p.endpoint(PropEndpoint)
	for _, k := range route.Kinds() {
		if e := p.endpoint(EndpointProperty(k.Kind)); e != "" {
			c.Endpoints[k.Kind] = e
		} else if ep != "" {
			c.Endpoints[k.Kind] = ep
		}
	}
	if c.STSEndpoint == "" {
		c.STSEndpoint = ep
	}
	if p.err != nil {
		return nil, p.err
	}
	if v := p.str(PropTLSSkipVerify); v != "" {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimRight(strings.TrimSpace(e), "/")
			if !c.isEndpoint(e) {
				return nil, &Error{PropTLSSkipVerify, e, "want endpoints set in endpoint, sts_endpoint or a KIND_endpoint (" + strings.Join(endpointProperties(), ", ") +
					"), comma-separated; AWS's own endpoints are always verified"}
			}
			if !strings.HasPrefix(e, "https://") {
				return nil, &Error{PropTLSSkipVerify, e, "only an https:// endpoint has a certificate to skip"}
			}
			c.TLSSkipVerify = append(c.TLSSkipVerify, e)
		}
	}
	c.Cluster = p.str(PropCluster)
	c.JournalPath = p.str(PropJournalPath)
	key, err := kinesis.PartitionKeyTemplate(p.strDefault(PropKinesisKey))
	if err != nil {
		return nil, &Error{PropKinesisKey, p.str(PropKinesisKey), err.Error()}
	}
	group, err := p.groupOptions()
	if err != nil {
		return nil, err
	}
	source := p.strDefault(PropEventBridgeSource)
	if err := eventbridge.CheckSource(source); err != nil {
		return nil, &Error{PropEventBridgeSource, source, err.Error()}
	}
	hub, err := p.securityHub()
	if err != nil {
		return nil, err
	}
	c.KindOptions = map[route.Kind]any{
		cwlogs.Kind: cwlogs.Options{AutoCreateGroup: c.AutoCreateGroup, AutoCreateStream: c.AutoCreateStream,
			RetentionDays: c.LogRetentionDays, Group: group},
		kinesis.Kind:     kinesis.Options{PartitionKey: key},
		eventbridge.Kind: eventbridge.Options{Source: source},
		securityhub.Kind: hub,
	}
	if ns := p.str(PropMetricsNamespace); ns != "" {
		if len(ns) > 255 || strings.HasPrefix(ns, "AWS/") || strings.ContainsAny(ns, ":") {
			return nil, &Error{PropMetricsNamespace, ns, "want a CloudWatch namespace of up to 255 characters, not starting with AWS/, without ':', e.g. Falco"}
		}
		m := &Metrics{Namespace: ns, Group: p.strDefault(PropMetricsGroup), Stream: p.strDefault(PropMetricsStream)}
		dims := p.strDefault(PropMetricsDims)
		sets, err := emf.ParseDimensionSets(dims)
		if err != nil {
			return nil, &Error{PropMetricsDims, dims, err.Error()}
		}
		m.Dimensions = sets
		st, err := cwlogs.StreamTemplate(m.Stream)
		if err != nil || !st.Static() {
			return nil, &Error{PropMetricsStream, m.Stream, "want a static log stream name, without {variables}"}
		}
		d, err := cwlogs.Destination(m.Group, st)
		if err != nil || !d.Name.Static() {
			return nil, &Error{PropMetricsGroup, m.Group, "want a static log group name, without {variables}"}
		}
		m.Target = d.Resolve(route.Values{})
		c.Metrics = m
	} else {
		for _, k := range []string{PropMetricsDims, PropMetricsGroup, PropMetricsStream} {
			if v := p.str(k); v != "" {
				return nil, &Error{k, v, "set metrics_namespace (e.g. Falco) to turn the metrics on"}
			}
		}
	}
	if c.ExternalID != "" && c.RoleARN == "" {
		return nil, &Error{PropExternalID, c.ExternalID, "external_id needs role_arn: set role_arn to the role to assume"}
	}
	if c.RoleARN != "" && !strings.HasPrefix(c.RoleARN, "arn:") {
		return nil, &Error{PropRoleARN, c.RoleARN, "want an IAM role ARN such as arn:aws:iam::123456789012:role/falcocw"}
	}

	// The default stream: log_stream_name, else log_stream_prefix + tag
	// (as AWS's cloudwatch plugins do), for cloudwatch:GROUP routes too.
	var stream *route.Template
	name, prefix := p.str(PropLogStreamName), p.str(PropLogStreamPrefix)
	switch {
	case name != "" && prefix != "":
		return nil, &Error{PropLogStreamPrefix, prefix, "set log_stream_name or log_stream_prefix, not both"}
	case name != "":
		st, err := cwlogs.StreamTemplate(name)
		if err != nil {
			return nil, &Error{PropLogStreamName, name, err.Error()}
		}
		stream = st
	case prefix != "":
		st, err := cwlogs.StreamTemplate(prefix + "{tag}")
		if err != nil {
			return nil, &Error{PropLogStreamPrefix, prefix, err.Error()}
		}
		stream = st
	}
	if g := p.str(PropLogGroupName); g != "" {
		if stream == nil {
			return nil, &Error{PropLogStreamName, "", "log_group_name is set: set log_stream_name (e.g. {hostname}) or log_stream_prefix too"}
		}
		d, err := cwlogs.Destination(g, stream)
		if err != nil {
			return nil, &Error{PropLogGroupName, g, err.Error()}
		}
		c.Routes.Defaults = append(c.Routes.Defaults, d)
	}
	if ds := p.str(PropDeliveryStream); ds != "" {
		d, err := firehose.Destination(ds)
		if err != nil {
			return nil, &Error{PropDeliveryStream, ds, err.Error()}
		}
		c.Routes.Defaults = append(c.Routes.Defaults, d)
	}

	catchAll := false
	for i := 1; i <= MaxRoutes; i++ {
		key := PropRoutePrefix + strconv.Itoa(i)
		text := strings.TrimSpace(get(key))
		if text == "" {
			continue
		}
		r, err := route.ParseRule(key, text, stream)
		if err != nil {
			return nil, &Error{key, text, err.Error()}
		}
		if r.UseDefault && len(c.Routes.Defaults) == 0 {
			return nil, &Error{key, text, "routes to default, but no default destination is set: set log_group_name or delivery_stream"}
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
			return nil, &Error{key, v, fmt.Sprintf("routes are numbered route.1 to route.%d; renumber this one", MaxRoutes)}
		}
	}
	if len(c.Routes.Defaults) == 0 && !catchAll {
		return nil, &Error{PropLogGroupName, "", "no default destination: set log_group_name (with log_stream_name) and/or delivery_stream, or end the routes with a catch-all rule such as route.99 * -> cloudwatch:/falco/alerts:{hostname} " +
			"(if you set one, check its spelling: Fluent Bit before 5.1.1 ignores a misspelt property; falcocw check names it)"}
	}

	nf := strings.TrimSpace(get(PropNonFalco))
	switch strings.ToLower(nf) {
	case "", "drop":
	case "default":
		if len(c.Routes.Defaults) == 0 {
			return nil, &Error{PropNonFalco, nf, "no default destination is set: set log_group_name or delivery_stream, or name a destination"}
		}
		c.NonFalco = &NonFalco{UseDefault: true}
	default:
		d, err := route.ParseDestination(nf, stream)
		if err != nil {
			return nil, &Error{PropNonFalco, nf, "want drop, default or a destination: " + err.Error()}
		}
		c.NonFalco = &NonFalco{Dest: d}
	}
	return c, nil
}

type parser struct {
	get func(string) string
	err error
}

func (p *parser) fail(prop, value, allowed string) {
	if p.err == nil {
		p.err = &Error{prop, value, allowed}
	}
}

func (p *parser) str(k string) string { return strings.TrimSpace(p.get(k)) }

// strDefault reads k, or its default from Table.
func (p *parser) strDefault(k string) string {
	if v := p.str(k); v != "" {
		return v
	}
	return spec(k).Default
}

func (p *parser) boolean(k string) bool {
	b, err := parseBool(p.str(k), spec(k).Default)
	if err != nil {
		p.fail(k, p.str(k), "want true or false (on/off, yes/no)")
	}
	return b
}

func parseBool(v, def string) (bool, error) {
	if v == "" {
		v = def
	}
	switch strings.ToLower(v) {
	case "true", "on", "yes", "1":
		return true, nil
	case "false", "off", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

func (p *parser) integer(k string) int {
	sp := spec(k)
	min, _ := strconv.Atoi(sp.Min)
	max, _ := strconv.Atoi(sp.Max)
	v := p.strDefault(k)
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.fail(k, v, fmt.Sprintf("want a whole number from %d to %d", min, max))
		n, _ = strconv.Atoi(sp.Default)
	}
	return n
}

// size reads a byte size such as 256M, 1G, 512K or a plain number.
func (p *parser) size(k string) int64 {
	sp := spec(k)
	min, _ := parseSize(sp.Min)
	max, _ := parseSize(sp.Max)
	v := strings.ToUpper(p.strDefault(k))
	n, err := parseSize(v)
	if err != nil || n < min || n > max {
		p.fail(k, v, fmt.Sprintf("want a size from %s to %s, such as 256M or 1G", sp.Min, sp.Max))
		n, _ = parseSize(sp.Default)
	}
	return n
}

func parseSize(v string) (int64, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	num := strings.TrimSuffix(strings.TrimSuffix(v, "B"), "I")
	switch {
	case strings.HasSuffix(num, "K"):
		mult, num = 1<<10, strings.TrimSuffix(num, "K")
	case strings.HasSuffix(num, "M"):
		mult, num = 1<<20, strings.TrimSuffix(num, "M")
	case strings.HasSuffix(num, "G"):
		mult, num = 1<<30, strings.TrimSuffix(num, "G")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size")
	}
	return n * mult, nil
}

func (p *parser) duration(k string) time.Duration {
	sp := spec(k)
	min, _ := parseDuration(sp.Min)
	max, _ := parseDuration(sp.Max)
	v := p.strDefault(k)
	d, err := parseDuration(v)
	switch {
	case err != nil:
		p.fail(k, v, "want a duration such as 20s or 1m30s")
	case d < min || d > max:
		p.fail(k, v, fmt.Sprintf("want a duration from %s to %s", min, max))
	default:
		return d
	}
	d, _ = parseDuration(sp.Default)
	return d
}

// parseDuration reads a Go duration or, Fluent Bit style, a plain number
// of seconds.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil {
		return d, nil
	}
	n, nerr := strconv.ParseFloat(v, 64)
	if nerr != nil {
		return 0, err
	}
	return time.Duration(n * float64(time.Second)), nil
}

// groupOptions reads what falcocw sets on the log groups it creates.
func (p *parser) groupOptions() (g cwlogs.GroupOptions, err error) {
	if v := p.str(PropLogGroupClass); v != "" {
		if g.Class, err = cwlogs.ParseClass(v); err != nil {
			return g, &Error{PropLogGroupClass, v, err.Error()}
		}
	}
	if v := p.str(PropLogGroupKMSKey); v != "" {
		if g.KMSKeyID, err = cwlogs.ParseKMSKey(v); err != nil {
			return g, &Error{PropLogGroupKMSKey, v, err.Error()}
		}
	}
	prop, tags := PropLogGroupTags, p.str(PropLogGroupTags)
	if alias := p.str(PropNewLogGroupTags); alias != "" {
		if tags != "" {
			return g, &Error{PropNewLogGroupTags, alias, "log_group_tags is set too: keep one (new_log_group_tags is its other name)"}
		}
		prop, tags = PropNewLogGroupTags, alias
	}
	if tags != "" {
		if g.Tags, err = cwlogs.ParseTags(tags); err != nil {
			return g, &Error{prop, tags, err.Error()}
		}
	}
	return g, nil
}

// securityHub reads Security Hub's options.
func (p *parser) securityHub() (o securityhub.Options, err error) {
	if v := p.str(PropSecurityHubAcct); v != "" {
		if len(v) != 12 || strings.Trim(v, "0123456789") != "" {
			return o, &Error{PropSecurityHubAcct, v, "want a 12-digit AWS account ID"}
		}
		o.AccountID = v
	}
	if v := p.str(PropSecurityHubSev); v != "" {
		if o.Severity, err = securityhub.ParseSeverity(v); err != nil {
			return o, &Error{PropSecurityHubSev, v, err.Error()}
		}
	}
	return o, nil
}

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func (p *parser) retention() int32 {
	v := p.str(PropLogRetentionDays)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err == nil {
		for _, d := range retentionDays {
			if n == d {
				return int32(n)
			}
		}
	}
	allowed := make([]string, len(retentionDays))
	for i, d := range retentionDays {
		allowed[i] = strconv.Itoa(d)
	}
	p.fail(PropLogRetentionDays, v, "want one of the values CloudWatch accepts: "+strings.Join(allowed, ", "))
	return 0
}

func (p *parser) endpoint(k string) string {
	v := p.str(k)
	if v == "" {
		return ""
	}
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		p.fail(k, v, "want a URL such as https://logs.eu-west-1.amazonaws.com")
		return ""
	}
	return strings.TrimRight(v, "/")
}

func (p *parser) level() Level {
	v := strings.ToLower(p.str(PropLogLevel))
	if v == "" {
		v = strings.ToLower(strings.TrimSpace(os.Getenv("FLB_LOG_LEVEL")))
	}
	switch v {
	case "":
		return LevelInfo
	case "trace":
		return LevelDebug
	case "warning":
		return LevelWarn
	case "off":
		return LevelError
	}
	for i, n := range levelNames {
		if v == n {
			return Level(i)
		}
	}
	p.fail(PropLogLevel, v, "want error, warn, info or debug")
	return LevelInfo
}
