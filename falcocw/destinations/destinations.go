// Package destinations is the list of the kinds of destination falcocw
// delivers to. Importing it registers each kind's route syntax
// (route.RegisterKind, in each package's init), so that any configuration
// parser (the plugin's, falcocw check) knows them all; falcocw.New wires
// each kind's dest.Sender.
//
// Adding a destination kind is one package and one line here (and its
// sender in falcocw.New).
package destinations

import (
	_ "github.com/falcocw/falcocw/falcocw/cwlogs"      // cloudwatch:GROUP[:STREAM]
	_ "github.com/falcocw/falcocw/falcocw/eventbridge" // eventbridge:BUS
	_ "github.com/falcocw/falcocw/falcocw/firehose"    // firehose:NAME
	_ "github.com/falcocw/falcocw/falcocw/kinesis"     // kinesis:STREAM
	_ "github.com/falcocw/falcocw/falcocw/securityhub" // securityhub
	_ "github.com/falcocw/falcocw/falcocw/sns"         // sns:TOPIC_ARN
)
