package cwlogs

import (
	"errors"
	"strconv"
	"strings"

	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/route"
)

// CloudWatch Logs' properties, as AWS's own Fluent Bit plugins name them.
const (
	PropLogGroupName     = "log_group_name"
	PropLogStreamName    = "log_stream_name"
	PropLogStreamPrefix  = "log_stream_prefix"
	PropAutoCreateGroup  = "auto_create_group"
	PropAutoCreateStream = "auto_create_stream"
	PropLogRetentionDays = "log_retention_days"
	PropLogGroupClass    = "log_group_class"
	PropLogGroupKMSKey   = "log_group_kms_key_id"
	PropLogGroupTags     = "log_group_tags"
	// PropNewLogGroupTags is AWS's Go plugin's name for log_group_tags.
	PropNewLogGroupTags = "new_log_group_tags"
)

// properties are what CloudWatch's properties fill, before they are
// checked together (finish).
type properties struct {
	Options
	group, stream, prefix, tags, newTags string
}

func init() {
	config.RegisterKind(Kind, PropLogGroupName+" (with "+PropLogStreamName+")", []config.Field[properties]{
		config.Template(PropLogGroupName, "", "default CloudWatch Logs group (a template)",
			func(p *properties, v string) error { p.group = v; return nil }),
		config.Template(PropLogStreamName, "", "default CloudWatch Logs stream (a template, e.g. {hostname})",
			func(p *properties, v string) error { p.stream = v; return nil }),
		config.String(PropLogStreamPrefix, "", "default stream as this prefix plus the Fluent Bit tag", func(p *properties) *string { return &p.prefix }),
		config.Bool(PropAutoCreateGroup, "false", "create missing log groups", func(p *properties) *bool { return &p.AutoCreateGroup }),
		config.Bool(PropAutoCreateStream, "true", "create missing log streams", func(p *properties) *bool { return &p.AutoCreateStream }),
		config.Read(PropLogRetentionDays, config.TypeEnum, "", "retention set on the log groups falcocw creates", setRetention),
		config.Read(PropLogGroupClass, config.TypeEnum, "", "log class of the log groups falcocw creates: STANDARD or INFREQUENT_ACCESS",
			func(p *properties, v string) (err error) { p.Group.Class, err = ParseClass(v); return err }),
		config.Read(PropLogGroupKMSKey, config.TypeString, "", "ARN of the KMS key encrypting the log groups falcocw creates",
			func(p *properties, v string) (err error) { p.Group.KMSKeyID, err = ParseKMSKey(v); return err }),
		config.String(PropLogGroupTags, "", "tags of the log groups falcocw creates: key=value,...", func(p *properties) *string { return &p.tags }),
		config.String(PropNewLogGroupTags, "", "log_group_tags under AWS's Go plugin's name", func(p *properties) *string { return &p.newTags }),
	}, finish)
}

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func setRetention(p *properties, v string) error {
	n, err := strconv.Atoi(v)
	if err == nil {
		for _, d := range retentionDays {
			if n == d {
				p.RetentionDays = int32(n)
				return nil
			}
		}
	}
	allowed := make([]string, len(retentionDays))
	for i, d := range retentionDays {
		allowed[i] = strconv.Itoa(d)
	}
	return errors.New("want one of the values CloudWatch accepts: " + strings.Join(allowed, ", "))
}

// finish reads the group tags (under either name), the default stream
// (log_stream_name, else log_stream_prefix and the tag, as AWS's
// cloudwatch plugins do; for cloudwatch:GROUP routes too) and the default
// destination (log_group_name).
func finish(p *properties) (config.KindConfig, error) {
	prop, tags := PropLogGroupTags, p.tags
	if p.newTags != "" {
		if tags != "" {
			return config.KindConfig{}, &config.Error{Property: PropNewLogGroupTags, Value: p.newTags, Allowed: "log_group_tags is set too: keep one (new_log_group_tags is its other name)"}
		}
		prop, tags = PropNewLogGroupTags, p.newTags
	}
	if tags != "" {
		t, err := ParseTags(tags)
		if err != nil {
			return config.KindConfig{}, &config.Error{Property: prop, Value: tags, Allowed: err.Error()}
		}
		p.Group.Tags = t
	}
	var stream *route.Template
	switch {
	case p.stream != "" && p.prefix != "":
		return config.KindConfig{}, &config.Error{Property: PropLogStreamPrefix, Value: p.prefix, Allowed: "set log_stream_name or log_stream_prefix, not both"}
	case p.stream != "":
		st, err := StreamTemplate(p.stream)
		if err != nil {
			return config.KindConfig{}, &config.Error{Property: PropLogStreamName, Value: p.stream, Allowed: err.Error()}
		}
		stream = st
	case p.prefix != "":
		st, err := StreamTemplate(p.prefix + "{tag}")
		if err != nil {
			return config.KindConfig{}, &config.Error{Property: PropLogStreamPrefix, Value: p.prefix, Allowed: err.Error()}
		}
		stream = st
	}
	kc := config.KindConfig{Options: p.Options, RouteDefault: stream}
	if p.group != "" {
		if stream == nil {
			return config.KindConfig{}, &config.Error{Property: PropLogStreamName, Value: "", Allowed: "log_group_name is set: set log_stream_name (e.g. {hostname}) or log_stream_prefix too"}
		}
		d, err := Destination(p.group, stream)
		if err != nil {
			return config.KindConfig{}, &config.Error{Property: PropLogGroupName, Value: p.group, Allowed: err.Error()}
		}
		kc.Default = &d
	}
	return kc, nil
}
