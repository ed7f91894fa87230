package firehose

import (
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/route"
)

// PropDeliveryStream is the default delivery stream, as AWS's own Fluent
// Bit plugins name it.
const PropDeliveryStream = "delivery_stream"

type properties struct {
	def *route.Destination
}

func init() {
	config.RegisterKind(Kind, PropDeliveryStream, []config.Field[properties]{
		config.Template(PropDeliveryStream, "", "default Kinesis Data Firehose delivery stream", func(p *properties, v string) error {
			d, err := Destination(v)
			p.def = &d
			return err
		}),
	}, func(p *properties) (config.KindConfig, error) { return config.KindConfig{Default: p.def}, nil })
}
