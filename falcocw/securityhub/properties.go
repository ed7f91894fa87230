package securityhub

import (
	"github.com/falcocw/falcocw/falcocw/config"
)

// Security Hub's properties.
const (
	PropAccountID = "securityhub_account_id"
	PropSeverity  = "securityhub_severity"
)

func init() {
	config.RegisterKind(Kind, "", []config.Field[Options]{
		config.AccountID(PropAccountID, "account of the Security Hub findings (default: the credentials' account, from STS)",
			func(o *Options) *string { return &o.AccountID }),
		config.Read(PropSeverity, config.TypeString, "", "Security Hub severity label per priority, overriding the defaults: Warning=HIGH,...",
			func(o *Options, v string) (err error) { o.Severity, err = ParseSeverity(v); return err }),
	}, func(o *Options) (config.KindConfig, error) { return config.KindConfig{Options: *o}, nil })
}
