package eventbridge

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is EventBridge's kind of destination: eventbridge:BUS, BUS a name
// or an ARN.
const Kind route.Kind = "eventbridge"

var (
	// An event bus name is [/.\-_A-Za-z0-9]+, up to 256 characters; an
	// ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME) adds ':', up to
	// 1600.
	busChars = route.NewCharset(func(c rune) bool {
		return c == '/' || c == '.' || c == '-' || c == '_' || c == ':' || route.IsAlnum(c)
	}, 1600)
	nameChars = route.NewCharset(func(c rune) bool { return c == '.' || c == '-' || c == '_' || route.IsAlnum(c) }, 256)
	// A source is printable text, up to 256 characters.
	sourceChars = route.NewCharset(func(c rune) bool { return c > 0x20 && c != 0x7f }, 256)
)

// Options are EventBridge's own options.
type Options struct {
	// Source is every entry's source (eventbridge_source, default
	// "falco"): what rules match with "source": ["falco"].
	Source string
}

// CheckSource validates an entry source.
func CheckSource(s string) error {
	if s == "" {
		return fmt.Errorf("empty source")
	}
	if strings.HasPrefix(s, "aws.") {
		return fmt.Errorf("source %q: sources starting with aws. are AWS's own", s)
	}
	if _, err := sourceChars.Template(s); err != nil || strings.ContainsAny(s, "{}") {
		return fmt.Errorf("source %q: want printable text without spaces, up to 256 characters", s)
	}
	return nil
}

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Aliases: []string{"events"}, Syntax: "eventbridge:BUS",
		Parse: func(rest string, _ *route.Template) (route.Destination, error) { return Destination(rest) }},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			o, _ := env.Options.(Options)
			return New(NewClient(env.AWS, env.Endpoint), o)
		}})
}

// Destination is the destination of an event bus, by name or ARN (a
// template).
func Destination(bus string) (route.Destination, error) {
	if strings.HasPrefix(bus, "arn:") && (strings.Count(bus, ":") != 5 || !strings.Contains(bus, ":event-bus/")) {
		return route.Destination{}, fmt.Errorf("event bus %q: want a bus name or an ARN such as arn:aws:events:eu-west-1:123456789012:event-bus/falco", bus)
	}
	n, err := busChars.Template(bus)
	if err != nil {
		return route.Destination{}, fmt.Errorf("event bus %q: %v", bus, err)
	}
	return route.NewDestination(Kind, n, nameChars, nil, nil), nil
}

// NewClient is the service's client for one instance, at endpoint ("" for
// AWS's own).
func NewClient(a *awsclient.AWS, endpoint string) *eventbridge.Client {
	return awsclient.Client(a, endpoint, eventbridge.NewFromConfig)
}
