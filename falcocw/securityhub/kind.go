package securityhub

import (
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is Security Hub's kind of destination, written alone: a route's
// "-> securityhub" imports findings into the instance's account and
// region.
const Kind route.Kind = "securityhub"

// Options are Security Hub's own options.
type Options struct {
	// AccountID is the account findings are imported into
	// (securityhub_account_id); empty: the credentials' account, from
	// STS GetCallerIdentity.
	AccountID string
	// Severity maps priorities to labels (securityhub_severity); nil:
	// DefaultSeverity.
	Severity *SeverityMap
	// Region is the instance's region (set by the sender's constructor).
	Region string
}

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Aliases: []string{"security_hub"}, Syntax: "securityhub", Nameless: true,
		Parse: func(string, *route.Template) (route.Destination, error) { return Destination(), nil }},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			o, _ := env.Options.(Options)
			o.Region = env.AWS.Region
			return New(NewClient(env.AWS, env.Endpoint), env.AWS.STS(), o)
		}})
}

// Destination is Security Hub's destination.
func Destination() route.Destination { return route.NewDestination(Kind, nil, nil, nil, nil) }

// NewClient is the service's client for one instance, at endpoint ("" for
// AWS's own).
func NewClient(a *awsclient.AWS, endpoint string) *securityhub.Client {
	return awsclient.Client(a, endpoint, securityhub.NewFromConfig)
}
