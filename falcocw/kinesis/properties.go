package kinesis

import "github.com/falcocw/falcocw/falcocw/config"

// PropPartitionKey is the template of each record's partition key.
const PropPartitionKey = "kinesis_partition_key"

func init() {
	config.RegisterKind(Kind, "", []config.Field[Options]{
		config.Template(PropPartitionKey, DefaultPartitionKey, "partition key of each Kinesis Data Streams record (a template)",
			func(o *Options, v string) (err error) { o.PartitionKey, err = PartitionKeyTemplate(v); return err }),
	}, func(o *Options) (config.KindConfig, error) { return config.KindConfig{Options: *o}, nil })
}
