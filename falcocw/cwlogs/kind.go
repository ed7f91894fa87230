package cwlogs

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is CloudWatch Logs' kind of destination: cloudwatch:GROUP[:STREAM].
const Kind route.Kind = "cloudwatch"

var (
	// Log group names are [.-_/#A-Za-z0-9]+, up to 512 characters; a rule
	// name such as "Read sensitive file untrusted" becomes
	// "Read_sensitive_file_untrusted" in one.
	groupChars = route.NewCharset(func(c rune) bool {
		return c == '.' || c == '-' || c == '_' || c == '/' || c == '#' || route.IsAlnum(c)
	}, 512)
	// Log stream names may not hold ':' or '*'.
	streamChars = route.NewCharset(func(c rune) bool { return c != ':' && c != '*' && c >= 0x20 }, 512)
)

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Aliases: []string{"cloudwatch_logs", "logs"},
		Syntax: "cloudwatch:GROUP[:STREAM]", Parse: parse},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			o, _ := env.Options.(Options)
			return New(NewClient(env.AWS, env.Endpoint), o, env.Warn)
		}})
}

func parse(rest string, defaultStream *route.Template) (route.Destination, error) {
	group, stream, hasStream := cut(rest)
	st := defaultStream
	if hasStream {
		var err error
		if st, err = StreamTemplate(stream); err != nil {
			return route.Destination{}, err
		}
	}
	if st == nil {
		return route.Destination{}, fmt.Errorf("%q names no log stream and the instance has no default (set log_stream_name or log_stream_prefix, or write cloudwatch:GROUP:STREAM)", "cloudwatch:"+rest)
	}
	return Destination(group, st)
}

func cut(s string) (group, stream string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// StreamTemplate parses a log stream name template.
func StreamTemplate(stream string) (*route.Template, error) {
	st, err := streamChars.Template(stream)
	if err != nil {
		return nil, fmt.Errorf("log stream %q: %v", stream, err)
	}
	return st, nil
}

// Destination is the destination of a log group (a template) and stream.
func Destination(group string, stream *route.Template) (route.Destination, error) {
	g, err := groupChars.Template(group)
	if err != nil {
		return route.Destination{}, fmt.Errorf("log group %q: %v", group, err)
	}
	return route.NewDestination(Kind, g, groupChars, stream, streamChars), nil
}

// NewClient is the service's client for one instance, at endpoint ("" for
// AWS's own).
func NewClient(a *awsclient.AWS, endpoint string) *cloudwatchlogs.Client {
	return awsclient.Client(a, endpoint, cloudwatchlogs.NewFromConfig)
}
