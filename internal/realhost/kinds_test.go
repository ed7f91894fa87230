package realhost_test

import (
	"fmt"

	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/realhost"
)

// eventKinds are the routes to the event destinations (Kinesis,
// EventBridge, Security Hub) the fault and restart scenarios share,
// numbered from route.first, with Security Hub's account; expectEventKinds
// is their oracle, written from the alert's own fields.
func eventKinds(first int) []string {
	return []string{
		fmt.Sprintf("route.%d", first), "source=k8s_audit -> kinesis:falco-audit continue",
		fmt.Sprintf("route.%d", first+1), "priority>=Error -> eventbridge:falco continue",
		fmt.Sprintf("route.%d", first+2), "priority>=Alert -> securityhub continue",
		"securityhub_account_id", fakeaws.Account,
	}
}

// expectEventKinds adds to want where eventKinds' routes send a.
func expectEventKinds(want realhost.Expect, a realhost.Alert) {
	if a.Source == "k8s_audit" {
		want.Add("kinesis:falco-audit", a.UUID)
	}
	if a.Critical() || a.Priority == "Error" {
		want.Add("eventbridge:falco", a.UUID)
	}
	if a.Priority == "Alert" || a.Priority == "Emergency" {
		want.Add("securityhub", a.UUID)
	}
}
