package kinesis

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is Kinesis Data Streams' kind of destination: kinesis:STREAM.
const Kind route.Kind = "kinesis"

var (
	// Stream names are [a-zA-Z0-9_.-]+, up to 128 characters.
	nameChars = route.NewCharset(func(c rune) bool { return c == '.' || c == '-' || c == '_' || route.IsAlnum(c) }, 128)
	// A partition key is any Unicode text up to 256 characters.
	keyChars = route.NewCharset(func(c rune) bool { return c >= 0x20 }, MaxKeyBytes)
)

// Options are Kinesis' own options.
type Options struct {
	// PartitionKey is the template of each record's partition key
	// (kinesis_partition_key, default {hostname}): records with the same
	// key go to the same shard, in order.
	PartitionKey *route.Template
}

// DefaultPartitionKey is the partition key template when none is set.
const DefaultPartitionKey = "{hostname}"

// PartitionKeyTemplate parses a partition key template.
func PartitionKeyTemplate(s string) (*route.Template, error) {
	t, err := keyChars.Template(s)
	if err != nil {
		return nil, fmt.Errorf("partition key %q: %v", s, err)
	}
	return t, nil
}

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Aliases: []string{"kinesis_streams"}, Syntax: "kinesis:STREAM",
		Parse: func(rest string, _ *route.Template) (route.Destination, error) { return Destination(rest) }},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			o, _ := env.Options.(Options)
			if o.PartitionKey == nil {
				o.PartitionKey, _ = PartitionKeyTemplate(DefaultPartitionKey)
			}
			return New(NewClient(env.AWS, env.Endpoint), o)
		}})
}

// Destination is the destination of a data stream (a template).
func Destination(name string) (route.Destination, error) {
	n, err := nameChars.Template(name)
	if err != nil {
		return route.Destination{}, fmt.Errorf("data stream %q: %v", name, err)
	}
	return route.NewDestination(Kind, n, nameChars, nil, nil), nil
}

// NewClient is the service's client for one instance, at endpoint ("" for
// AWS's own).
func NewClient(a *awsclient.AWS, endpoint string) *kinesis.Client {
	return awsclient.Client(a, endpoint, kinesis.NewFromConfig)
}
