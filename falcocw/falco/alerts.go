package falco

import (
	"time"

	"github.com/falcocw/falcocw/falcocw/arena"
)

// Alerts hands out the alerts of one flush, and the room for their tags,
// from blocks reused flush after flush (arena.Slab), instead of two heap
// objects per alert. Recognise and RecogniseLine on it are the package's
// functions of the same names with the alerts taken from it.
//
// An alert from Alerts is valid until Reset, which zeroes it: whatever
// keeps an alert longer (the storm gate) keeps a Clone, as it must anyway
// for the strings that are views into the chunk. A nil *Alerts hands out
// heap alerts, as the package's functions do.
type Alerts struct {
	alerts arena.Slab[Alert]
	tags   arena.Slab[[tagRoom]string]
	// texts holds the strings the fast path unescaped (a \u003c in an
	// output), which are no views of the line.
	texts arena.Arena
}

// tagRoom is the room for tags each alert gets: Falco's rules carry 2 to 7;
// more grow the slice on the heap, as append does.
const tagRoom = 8

// Reset takes back every alert handed out, zeroed.
func (s *Alerts) Reset() {
	s.alerts.Reset()
	s.tags.Reset()
	s.texts.Release()
}

// textArena is where the fast path unescapes strings: nil (the heap) for
// a nil *Alerts.
func (s *Alerts) textArena() *arena.Arena {
	if s == nil {
		return nil
	}
	return &s.texts
}

// Recognise is the package's Recognise, the alert taken from s.
func (s *Alerts) Recognise(body map[string]any, logKey string, recordTime time.Time) (*Alert, bool) {
	return recognise(s, body, logKey, recordTime)
}

// RecogniseLine is the package's RecogniseLine, the alert taken from s.
func (s *Alerts) RecogniseLine(key, line, logKey string, recordTime time.Time) (*Alert, bool) {
	return recogniseLine(s, key, line, logKey, recordTime)
}

func (s *Alerts) newAlert() *Alert {
	if s == nil {
		return &Alert{}
	}
	return s.alerts.New()
}

// tagRoom returns an empty slice with room for tagRoom tags.
func (s *Alerts) tagRoom() []string {
	if s == nil {
		return make([]string, 0, tagRoom)
	}
	return s.tags.New()[:0]
}

// drop gives back an alert (and its tags' room) that was not kept: the
// line was not an alert.
func (s *Alerts) drop(a *Alert) {
	if s == nil {
		return
	}
	if cap(a.Tags) == tagRoom {
		s.tags.Drop((*[tagRoom]string)(a.Tags[:tagRoom]))
	}
	s.alerts.Drop(a)
}
