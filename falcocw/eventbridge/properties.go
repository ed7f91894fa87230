package eventbridge

import "github.com/falcocw/falcocw/falcocw/config"

// PropSource is the source of the events put on buses.
const PropSource = "eventbridge_source"

func init() {
	config.RegisterKind(Kind, "", []config.Field[Options]{
		config.Read(PropSource, config.TypeString, "falco", "source of the events put on eventbridge: buses",
			func(o *Options, v string) error { o.Source = v; return CheckSource(v) }),
	}, func(o *Options) (config.KindConfig, error) { return config.KindConfig{Options: *o}, nil })
}
