package securitylake

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/falcocw/falcocw/falcocw/ocsf"
)

// Object is one Parquet object: a day of a segment's findings.
type Object struct {
	Key  string
	Body []byte
	Rows int
}

// Objects writes a segment's findings as Parquet objects, one per day of
// their time (UTC), each at
// PREFIX/region=REGION/accountId=ACCOUNT/eventDay=YYYYMMDD/NAME.parquet,
// its rows sorted by time, as Security Lake asks. The same findings give
// the same objects, byte for byte, so an object written again after a
// crash replaces itself.
func Objects(prefix, region, account, name string, rows []ocsf.Finding) ([]Object, error) {
	byDay := map[string][]ocsf.Finding{}
	for _, r := range rows {
		day := time.UnixMilli(r.Time).UTC().Format("20060102")
		byDay[day] = append(byDay[day], r)
	}
	days := make([]string, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	sort.Strings(days)
	out := make([]Object, 0, len(days))
	for _, day := range days {
		rs := byDay[day]
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time < rs[j].Time })
		body, err := Parquet(rs)
		if err != nil {
			return nil, err
		}
		key := path.Join(prefix, "region="+region, "accountId="+account, "eventDay="+day, name+".parquet")
		out = append(out, Object{Key: key, Body: body, Rows: len(rs)})
	}
	return out, nil
}

// Parquet writes findings as one Parquet file: the schema of ocsf.Finding
// (nested objects as groups, arrays as LISTs, maps as MAPs), Snappy
// compression, which Athena, the Glue crawler, Spark and the others read.
func Parquet(rows []ocsf.Finding) ([]byte, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[ocsf.Finding](&buf, parquet.Compression(&parquet.Snappy), parquet.CreatedBy("falcocw", "", ""))
	if _, err := w.Write(rows); err != nil {
		return nil, fmt.Errorf("writing Parquet: %v", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("writing Parquet: %v", err)
	}
	return buf.Bytes(), nil
}
