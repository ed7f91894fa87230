package config_test

import (
	"strings"
	"testing"

	"github.com/falcocw/falcocw/falcocw/config"
)

// FuzzParse: any set of properties, written "key=value" per line, is
// accepted or refused with an error, never a panic; an accepted config
// has a destination for every alert.
func FuzzParse(f *testing.F) {
	f.Add("log_group_name=/falco/alerts\nlog_stream_name={hostname}\nauto_create_group=true\nroute.1=priority>=Critical -> cloudwatch:/falco/critical continue")
	f.Add("delivery_stream=falco\nnon_falco=default\nflush_timeout=5\nmax_concurrency=64")
	f.Add("route.100=* -> firehose:x\nlog_retention_days=3653\nrole_arn=arn:aws:iam::1:role/r\nexternal_id=e")
	f.Add("log_group_name=g\nlog_stream_prefix=p\nendpoint=http://127.0.0.1:1\nfalcocw_log_level=debug")
	f.Fuzz(func(t *testing.T, text string) {
		m := map[string]string{}
		for _, line := range strings.Split(text, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				m[k] = v
			}
		}
		c, err := config.Parse(func(k string) string { return m[k] })
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(c.Routes.Defaults) == 0 && len(c.Routes.Rules) == 0 {
			t.Fatal("accepted a config that sends alerts nowhere")
		}
	})
}
