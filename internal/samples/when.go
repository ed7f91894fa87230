package samples

import (
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Rendered is the hour the samples were rendered in: every time they hold
// lies between Rendered and Rendered + Span.
var (
	Rendered = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	Span     = time.Hour + 6*time.Second
)

// Margin is how long before now the newest sample time is placed at
// least: ahead of any clock skew between a test and what it tests.
const Margin = time.Minute

var (
	firstRead     time.Time
	firstReadOnce sync.Once
)

// Now is the moment the process first read a sample: Lines and Records
// place times as of it, so that every read in one process agrees (a
// test comparing two reads sees the same times, even across midnight).
func Now() time.Time {
	firstReadOnce.Do(func() { firstRead = time.Now() })
	return firstRead
}

// Shift is how far At moves the samples' times for now: whole days, so
// that the time of day Falco prints at the start of an alert's output
// still agrees with its time field, and the newest sample lands at least
// Margin before now. The oldest lands at most two days and Span before
// now, well inside CloudWatch's 14 days.
func Shift(now time.Time) time.Duration {
	const day = 24 * time.Hour
	behind := now.Add(-Margin).Sub(Rendered.Add(Span))
	days := behind / day
	if behind < 0 && behind%day != 0 {
		days-- // whole days back, never forward past now
	}
	return days * day
}

var (
	rfc3339Date = regexp.MustCompile(`\b(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}`)
	falcoDate   = regexp.MustCompile(`\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}\b`)
	epoch       = regexp.MustCompile(`\b1\d{9}(\d{9})?\b`)
)

// At returns text (sample lines) with every time it holds moved by
// Shift(now): RFC 3339 times (alerts' "time", Kubernetes' "time"), the
// dates Falco prints on its own log lines, and Unix times in seconds or
// nanoseconds within the samples' hour (output_fields' evt.time, a
// record's ts).
func At(text string, now time.Time) string {
	d := Shift(now)
	if d == 0 {
		return text
	}
	text = rfc3339Date.ReplaceAllStringFunc(text, func(s string) string {
		t, err := time.Parse("2006-01-02T15:04:05", s)
		if err != nil {
			return s
		}
		return t.Add(d).Format("2006-01-02T15:04:05")
	})
	text = falcoDate.ReplaceAllStringFunc(text, func(s string) string {
		t, err := time.Parse(time.ANSIC, s)
		if err != nil {
			return s
		}
		return t.Add(d).Format(time.ANSIC)
	})
	lo, hi := Rendered.Add(-time.Hour), Rendered.Add(Span+time.Hour)
	return epoch.ReplaceAllStringFunc(text, func(s string) string {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return s
		}
		if len(s) == 10 && n >= lo.Unix() && n <= hi.Unix() {
			return strconv.FormatInt(n+int64(d/time.Second), 10)
		}
		if len(s) == 19 && n >= lo.UnixNano() && n <= hi.UnixNano() {
			return strconv.FormatInt(n+int64(d), 10)
		}
		return s
	})
}
