package securityhub

import (
	"errors"
	"strings"

	"github.com/falcocw/falcocw/falcocw/config"
)

// Security Hub's properties.
const (
	PropAccountID = "securityhub_account_id"
	PropSeverity  = "securityhub_severity"
)

func init() {
	config.RegisterKind(Kind, "", []config.Field[Options]{
		config.Read(PropAccountID, config.TypeString, "", "account of the Security Hub findings (default: the credentials' account, from STS)",
			func(o *Options, v string) error {
				if len(v) != 12 || strings.Trim(v, "0123456789") != "" {
					return errors.New("want a 12-digit AWS account ID")
				}
				o.AccountID = v
				return nil
			}),
		config.Read(PropSeverity, config.TypeString, "", "Security Hub severity label per priority, overriding the defaults: Warning=HIGH,...",
			func(o *Options, v string) (err error) { o.Severity, err = ParseSeverity(v); return err }),
	}, func(o *Options) (config.KindConfig, error) { return config.KindConfig{Options: *o}, nil })
}
