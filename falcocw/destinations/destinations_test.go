package destinations_test

import (
	"strings"
	"testing"

	_ "github.com/falcocw/falcocw/falcocw/destinations"
	"github.com/falcocw/falcocw/falcocw/route"
)

// TestEveryKindRegistered: importing the list registers each kind, with
// its syntax, and each parses a destination of its own.
func TestEveryKindRegistered(t *testing.T) {
	examples := map[route.Kind]string{
		"cloudwatch":   "cloudwatch:/falco/{rule}:{hostname}",
		"firehose":     "firehose:falco-{source}",
		"kinesis":      "kinesis:falco-{source}",
		"sns":          "sns:arn:aws:sns:eu-west-1:123456789012:falco-{priority}",
		"eventbridge":  "eventbridge:falco-{source}",
		"securityhub":  "securityhub",
		"securitylake": "securitylake:aws-security-data-lake-eu-west-1-abc/ext/falco/1.0",
	}
	kinds := route.Kinds()
	if len(kinds) != len(examples) {
		t.Fatalf("%d kinds registered, want %d: %v", len(kinds), len(examples), kinds)
	}
	for _, k := range kinds {
		ex, ok := examples[k.Kind]
		if !ok || k.Syntax == "" {
			t.Errorf("kind %q (syntax %q) has no example here", k.Kind, k.Syntax)
			continue
		}
		d, err := route.ParseDestination(ex, nil)
		if err != nil || d.Kind != k.Kind || d.String() != ex {
			t.Errorf("%s: %v, %v (%s)", ex, d, err, d.String())
		}
	}
}

// TestDestinationErrors: each kind refuses what it cannot take, saying what
// it wants.
func TestDestinationErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"securityhub:x", "takes no name"},
		{"eventbridge:arn:aws:events:eu-west-1:123456789012:rule/x", "event-bus"},
		{"eventbridge:bad bus", "event bus"},
		{"nosuch", "unknown destination kind"},
		{"securitylake:bucket-only", "PREFIX the custom source's location"},
		{"securitylake:Bad_Bucket/ext/falco", "lower-case letters"},
		{"securitylake:lake-bucket/ext/{rule}", "without {fields}"},
	} {
		_, err := route.ParseDestination(tt.in, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.in, err, tt.want)
		}
	}
	d, err := route.ParseDestination("eventbridge:arn:aws:events:eu-west-1:123456789012:event-bus/falco", nil)
	if err != nil || d.String() != "eventbridge:arn:aws:events:eu-west-1:123456789012:event-bus/falco" {
		t.Errorf("bus ARN: %v %v", d, err)
	}
}
