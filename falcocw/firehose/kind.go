package firehose

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is Kinesis Data Firehose's kind of destination: firehose:NAME.
const Kind route.Kind = "firehose"

// Delivery stream names are [a-zA-Z0-9_.-]+, up to 64 characters.
var nameChars = route.NewCharset(func(c rune) bool { return c == '.' || c == '-' || c == '_' || route.IsAlnum(c) }, 64)

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Aliases: []string{"kinesis_firehose"}, Syntax: "firehose:NAME",
		Parse: func(rest string, _ *route.Template) (route.Destination, error) { return Destination(rest) }},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			return New(NewClient(env.AWS, env.Endpoint))
		}})
}

// Destination is the destination of a delivery stream (a template).
func Destination(name string) (route.Destination, error) {
	n, err := nameChars.Template(name)
	if err != nil {
		return route.Destination{}, fmt.Errorf("delivery stream %q: %v", name, err)
	}
	return route.NewDestination(Kind, n, nameChars, nil, nil), nil
}

// NewClient is the service's client for one instance, at endpoint ("" for
// AWS's own).
func NewClient(a *awsclient.AWS, endpoint string) *firehose.Client {
	return awsclient.Client(a, endpoint, firehose.NewFromConfig)
}
