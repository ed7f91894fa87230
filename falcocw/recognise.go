package falcocw

import (
	"strings"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/falco"
)

// warnNotAlert looks at a record that is not an alert for signs that it
// is part of one (a piece of a split line, an alert cut short, the end of
// one without its start): such records are counted (res.Cut), and the
// first of each kind says how to make the input deliver whole lines.
func (in *Instance) warnNotAlert(tag string, rec *chunk.Record, res *Result) {
	switch {
	case isPiece(rec):
		res.Cut++
		if !in.warnedPiece.Swap(true) {
			in.logf(config.LevelWarn, "tag %s: record %d is a piece of a line over 16 KiB that Docker's log driver split (partial_message): "+
				"it is handled as non-Falco, and an alert in it is lost. Join the pieces before falcocw: on ECS, give the log router's "+
				"firelensConfiguration the options config-file-type file and config-file-value /fluent-bit/etc/falcocw-firelens.conf "+
				"(the falcocw image carries it); elsewhere, a [FILTER] multiline with mode partial_message and multiline.key_content log "+
				"(said once; the exit totals count pieces with the fragments)", tag, rec.Index)
		}
	case looksCut(rec, in.cfg.LogKey):
		res.Cut++
		if !in.warnedCut.Swap(true) {
			in.logf(config.LevelWarn, "tag %s: record %d holds a Falco alert cut short (container runtimes split lines over 16 KiB): "+
				"it is handled as non-Falco; join the parts with the tail input's multiline.parser docker, cri (said once)", tag, rec.Index)
		}
	case looksFragment(rec, in.cfg.LogKey):
		res.Cut++
		if !in.warnedFragment.Swap(true) {
			in.logf(config.LevelWarn, "tag %s: record %d holds the end of a Falco alert without its start (%.80s...): it is handled as non-Falco and the alert is lost. "+
				"The tail input read from inside a line (a DB offset after a restart, or the later part of a split line): "+
				"give the input a DB and multiline.parser docker, cri (said once; the exit totals count fragments)", tag, rec.Index, fragmentText(rec, in.cfg.LogKey))
		}
	}
}

// recognise finds the Falco alert in a record, in either of the forms the
// chunk decoder gives a body.
func recognise(alerts *falco.Alerts, rec *chunk.Record, logKey string) (*falco.Alert, bool) {
	if rec.Body == nil { // {"log": line}
		return alerts.RecogniseLine(rec.Key, rec.Line, logKey, rec.Time)
	}
	return alerts.Recognise(rec.Body, logKey, rec.Time)
}

// isPiece reports whether a record is one piece of a line Docker's log
// driver split (over forward, as FireLens receives it): its partial_*
// keys say so, whatever the text.
func isPiece(rec *chunk.Record) bool {
	if rec.Body == nil {
		return false
	}
	switch v := rec.Body["partial_message"].(type) {
	case string:
		return v == "true"
	case bool:
		return v
	}
	return false
}

// looksFragment reports whether a record that is not an alert holds the
// end of one without its start.
func looksFragment(rec *chunk.Record, logKey string) bool {
	if rec.Body == nil {
		return rec.Key == logKey && falco.LooksFragmentLine(rec.Line)
	}
	return falco.LooksFragment(rec.Body, logKey)
}

func fragmentText(rec *chunk.Record, logKey string) string {
	if rec.Body == nil {
		return strings.ToValidUTF8(rec.Line, "?")
	}
	s, _ := rec.Body[logKey].(string)
	return strings.ToValidUTF8(s, "?")
}

// looksCut reports whether a record that is not an alert holds the start
// of one cut short.
func looksCut(rec *chunk.Record, logKey string) bool {
	if rec.Body == nil {
		return rec.Key == logKey && falco.LooksCutLine(rec.Line)
	}
	return falco.LooksCut(rec.Body, logKey)
}
