package dest

import (
	"sort"
	"sync"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Env is what a kind's sender is built from, for one instance.
type Env struct {
	AWS *awsclient.AWS
	// Endpoint overrides AWS's endpoint for the kind ("" for AWS's own).
	Endpoint string
	// Options are the kind's own options as the configuration parsed
	// them (cwlogs.Options for CloudWatch Logs), nil when it has none.
	Options any
	// Warn and Error write a line of the instance's log.
	Warn, Error func(format string, args ...any)
}

// Kind is a kind of destination: its route syntax, the IAM actions it
// calls and how its sender is built. Each destination package registers
// its Kind from init.
type Kind struct {
	Route      route.KindSpec
	IAMActions []string
	New        func(Env) Sender
}

var (
	mu    sync.RWMutex
	kinds = map[route.Kind]Kind{}
)

// Register makes a kind known: its route syntax to every configuration
// parser (route.RegisterKind), its delivery to every instance. Registering
// a kind twice is a bug and panics.
func Register(k Kind) {
	route.RegisterKind(k.Route)
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[k.Route.Kind]; dup {
		panic("dest: kind " + string(k.Route.Kind) + " registered twice")
	}
	kinds[k.Route.Kind] = k
}

// Kinds returns every registered kind, by name.
func Kinds() []Kind {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Route.Kind < out[j].Route.Kind })
	return out
}
