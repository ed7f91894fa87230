package config

import (
	"sort"
	"sync"

	"github.com/falcocw/falcocw/falcocw/route"
)

// KindConfig is what a destination kind's own properties make.
type KindConfig struct {
	// Options are the kind's options, for its sender (dest.Env.Options).
	Options any
	// Default is the kind's default destination, when its properties
	// name one (CloudWatch's log_group_name, Firehose's delivery_stream):
	// where alerts no route claims go.
	Default *route.Destination
	// RouteDefault is what a route to the kind may leave out (the stream
	// of cloudwatch:GROUP); nil when nothing.
	RouteDefault *route.Template
}

// kindProperties is one destination kind's properties, as its package
// registered them.
type kindProperties struct {
	kind route.Kind
	// defaultHelp says how the kind's properties name its default
	// destination ("" when they cannot), for the error that there is
	// none.
	defaultHelp string
	properties  []Property
	parse       func(get func(string) string) (KindConfig, error)
}

var (
	kindsMu sync.RWMutex
	kinds   = map[route.Kind]kindProperties{}
)

// RegisterKind declares a destination kind's own properties: each field
// fills the kind's options O, and finish checks them together and makes
// the kind's KindConfig. defaultHelp names the properties that set the
// kind's default destination, as a user writes them ("log_group_name
// (with log_stream_name)"), or is "". A kind's package registers them
// from init, beside the kind (dest.Register), so that config, below the
// kinds, knows none of them by name. Registering a kind twice panics.
func RegisterKind[O any](kind route.Kind, defaultHelp string, fields []Field[O], finish func(o *O) (KindConfig, error)) {
	props := make([]Property, len(fields))
	for i, f := range fields {
		props[i] = f.Property
	}
	parse := func(get func(string) string) (KindConfig, error) {
		var o O
		if err := fill(&o, fields, get); err != nil {
			return KindConfig{}, err
		}
		return finish(&o)
	}
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[kind]; dup {
		panic("config: properties of kind " + string(kind) + " registered twice")
	}
	kinds[kind] = kindProperties{kind: kind, defaultHelp: defaultHelp, properties: props, parse: parse}
}

// registeredKinds returns the kinds' properties, by kind name.
func registeredKinds() []kindProperties {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]kindProperties, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].kind < out[j].kind })
	return out
}
