package securitylake

import (
	"errors"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/config"
)

// Security Lake's properties (securitylake_endpoint, the S3 endpoint, is
// the KIND_endpoint every kind has).
const (
	PropFlushInterval = "securitylake_flush_interval"
	PropAccountID     = "securitylake_account_id"
	PropRoleARN       = "securitylake_role_arn"
	PropExternalID    = "securitylake_external_id"
)

// DefaultFlushInterval is Security Lake's recommended least time between
// a source's objects.
const DefaultFlushInterval = 5 * time.Minute

// Options are Security Lake's own options.
type Options struct {
	// FlushInterval is how long findings gather into one object.
	FlushInterval time.Duration
	// AccountID is the accountId= of the objects' keys; empty: the
	// credentials' account, from STS GetCallerIdentity.
	AccountID string
	// RoleARN and ExternalID are the custom source's provider role, which
	// Security Lake creates for the source, assumed to write the objects.
	RoleARN, ExternalID string
	// MaxRows and MaxBytes bound one object: a segment of the spool is
	// cut when it holds as many findings, or as many bytes of them as
	// JSON (0: DefaultMaxRows, DefaultMaxBytes).
	MaxRows  int
	MaxBytes int64
	// SpoolLimit bounds what waits for S3, in bytes of findings as JSON
	// (0: DefaultDiskLimit on disk, DefaultMemoryLimit in memory). A full
	// spool refuses findings (the flush answers FLB_RETRY) until S3 takes
	// some.
	SpoolLimit int64
}

func init() {
	config.RegisterKind(Kind, "", []config.Field[Options]{
		config.Duration(PropFlushInterval, "5m", "1s", "24h", "how long findings gather into one Parquet object (Security Lake wants 5m to 24h)",
			func(o *Options) *time.Duration { return &o.FlushInterval }),
		config.AccountID(PropAccountID, "accountId of the objects' keys (default: the credentials' account, from STS)",
			func(o *Options) *string { return &o.AccountID }),
		config.Read(PropRoleARN, config.TypeString, "", "the custom source's provider role, assumed to write the objects",
			func(o *Options, v string) error {
				if !strings.HasPrefix(v, "arn:") || !strings.Contains(v, ":role/") {
					return errors.New("want a role ARN (arn:aws:iam::ACCOUNT:role/NAME), the provider role Security Lake created for the source")
				}
				o.RoleARN = v
				return nil
			}),
		config.String(PropExternalID, "", "external ID of the provider role (the one given when the source was created)",
			func(o *Options) *string { return &o.ExternalID }),
	}, func(o *Options) (config.KindConfig, error) {
		if o.ExternalID != "" && o.RoleARN == "" {
			return config.KindConfig{}, &config.Error{Property: PropExternalID, Value: o.ExternalID, Allowed: "set " + PropRoleARN + " too: the external ID goes with the provider role"}
		}
		return config.KindConfig{Options: *o}, nil
	})
}
