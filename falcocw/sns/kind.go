package sns

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is SNS's kind of destination: sns:TOPIC_ARN.
const Kind route.Kind = "sns"

var (
	// A topic ARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME.
	arnChars = route.NewCharset(func(c rune) bool {
		return c == ':' || c == '-' || c == '_' || c == '.' || route.IsAlnum(c)
	}, 1024)
	// A value filled into it is part of a name: [A-Za-z0-9_-].
	nameChars = route.NewCharset(func(c rune) bool { return c == '-' || c == '_' || route.IsAlnum(c) }, 256)
)

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Syntax: "sns:TOPIC_ARN",
		Parse: func(rest string, _ *route.Template) (route.Destination, error) { return Destination(rest) }},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			return New(NewClient(env.AWS, env.Endpoint))
		}})
}

// Destination is the destination of an SNS topic ARN (a template).
func Destination(arn string) (route.Destination, error) {
	if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") != 5 {
		return route.Destination{}, fmt.Errorf("SNS topic %q: want a topic ARN such as arn:aws:sns:eu-west-1:123456789012:falco-critical", arn)
	}
	n, err := arnChars.Template(arn)
	if err != nil {
		return route.Destination{}, fmt.Errorf("SNS topic %q: %v", arn, err)
	}
	return route.NewDestination(Kind, n, nameChars, nil, nil), nil
}

// NewClient is the service's client for one instance, at endpoint ("" for
// AWS's own).
func NewClient(a *awsclient.AWS, endpoint string) *sns.Client {
	return awsclient.Client(a, endpoint, sns.NewFromConfig)
}
