// Package securitylake delivers Falco alerts to an Amazon Security Lake
// custom source: each alert becomes an OCSF 1.1.0 Detection Finding
// (package ocsf), findings gather for securitylake_flush_interval (Security
// Lake wants objects every 5 minutes to a day, not one per event) and are
// written as one Parquet object per day of events, at
// PREFIX/region=REGION/accountId=ACCOUNT/eventDay=YYYYMMDD/NAME.parquet
// in the lake's bucket, as Security Lake's custom-source documentation
// lays them out.
//
// While findings gather they are kept in a spool (spool.go): on disk under
// journal_path, written and synced before the flush that brought them
// answers FLB_OK, so that a stop, a crash or a restart loses none; in
// memory without journal_path, uploaded at a stop, lost at a crash. An
// object's name is its spool segment's, so a segment uploaded again after
// a crash overwrites its own object: no finding lands in two objects.
// Uploads run beside the flushes: a bucket that is down holds up no other
// destination, until the spool is full.
package securitylake

import (
	"fmt"
	"strings"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Kind is Security Lake's kind of destination: securitylake:BUCKET/PREFIX.
const Kind route.Kind = "securitylake"

// IAMActions are the IAM actions this package calls: s3:PutObject on the
// source's prefix (sts:GetCallerIdentity needs no permission; with
// securitylake_role_arn the instance's role needs sts:AssumeRole on it,
// and the provider role s3:PutObject).
var IAMActions = []string{"s3:PutObject"}

// Bucket names: 3 to 63 lower-case letters, digits, dots and hyphens;
// the prefix: the characters S3 keys take without escaping.
var locationChars = route.NewCharset(func(c rune) bool {
	return route.IsAlnum(c) || strings.ContainsRune("/._-", c)
}, 1024)

func init() {
	dest.Register(dest.Kind{Route: route.KindSpec{Kind: Kind, Aliases: []string{"security_lake"}, Syntax: "securitylake:BUCKET/PREFIX",
		Parse: func(rest string, _ *route.Template) (route.Destination, error) { return Destination(rest) }},
		IAMActions: IAMActions, New: func(env dest.Env) dest.Sender {
			o, _ := env.Options.(Options)
			if o.FlushInterval == 0 {
				o.FlushInterval = DefaultFlushInterval
			}
			return New(env, o)
		}})
}

// Destination is a custom source's location: the lake's bucket and the
// source's prefix in it (ext/falco/1.0).
func Destination(location string) (route.Destination, error) {
	if _, _, err := Split(location); err != nil {
		return route.Destination{}, err
	}
	t, err := locationChars.Template(location)
	if err != nil {
		return route.Destination{}, fmt.Errorf("securitylake location %q: %v", location, err)
	}
	if !t.Static() {
		return route.Destination{}, fmt.Errorf("securitylake location %q: a custom source is one place, without {fields}", location)
	}
	return route.NewDestination(Kind, t, locationChars, nil, nil), nil
}

// Split reads BUCKET/PREFIX.
func Split(location string) (bucket, prefix string, err error) {
	bucket, prefix, _ = strings.Cut(location, "/")
	prefix = strings.Trim(prefix, "/")
	if len(bucket) < 3 || len(bucket) > 63 || strings.Trim(bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return "", "", fmt.Errorf("securitylake location %q: want BUCKET/PREFIX, the bucket 3 to 63 lower-case letters, digits, dots and hyphens (the lake's bucket, aws-security-data-lake-REGION-...)", location)
	}
	if prefix == "" {
		return "", "", fmt.Errorf("securitylake location %q: want BUCKET/PREFIX, PREFIX the custom source's location in the lake (ext/falco/1.0)", location)
	}
	return bucket, prefix, nil
}
