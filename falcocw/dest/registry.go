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
	Warn    func(format string, args ...any)
}

// Kind is a kind of destination's delivery: how its sender is built and
// the IAM actions it calls. Each destination package registers its Kind
// from init, beside its route syntax (route.RegisterKind).
type Kind struct {
	Kind       route.Kind
	IAMActions []string
	New        func(Env) Sender
}

var (
	mu    sync.RWMutex
	kinds = map[route.Kind]Kind{}
)

// Register makes a kind's delivery known; registering a kind twice is a
// bug and panics.
func Register(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[k.Kind]; dup {
		panic("dest: kind " + string(k.Kind) + " registered twice")
	}
	kinds[k.Kind] = k
}

// Kinds returns every registered kind, by name.
func Kinds() []Kind {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}
