// Package destinations is the list of the kinds of destination falcocw
// delivers to. Importing it registers each kind, from its package's init:
// its route syntax (route.RegisterKind), so that any configuration parser
// (the plugin's, falcocw check) knows them all, and its delivery
// (dest.Register: how its dest.Sender is built, the IAM actions it calls),
// which falcocw.New builds for every kind registered.
//
// Adding a destination kind is one package and one line here.
package destinations

import (
	_ "github.com/falcocw/falcocw/falcocw/cwlogs"       // cloudwatch:GROUP[:STREAM]
	_ "github.com/falcocw/falcocw/falcocw/eventbridge"  // eventbridge:BUS
	_ "github.com/falcocw/falcocw/falcocw/firehose"     // firehose:NAME
	_ "github.com/falcocw/falcocw/falcocw/kinesis"      // kinesis:STREAM
	_ "github.com/falcocw/falcocw/falcocw/securityhub"  // securityhub
	_ "github.com/falcocw/falcocw/falcocw/securitylake" // securitylake:BUCKET/PREFIX
	_ "github.com/falcocw/falcocw/falcocw/sns"          // sns:TOPIC_ARN
)
