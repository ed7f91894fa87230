package msgpack

import "encoding/binary"

// The decoder's fast paths: a record's usual shapes (its array, its
// metadata map, a map of one pair, a string, an EventTime) consumed when
// the next value has one, without building a value; any other leaves the
// decoder where it was, for the general path (Decode).

// FixArray consumes the header of a fixarray (at most 15 elements) when
// the next value is one, and returns its length; otherwise it consumes
// nothing.
func (d *Decoder) FixArray() (n int, ok bool) {
	if d.pos < len(d.buf) && d.buf[d.pos]&0xf0 == 0x90 {
		d.pos++
		return int(d.buf[d.pos-1] & 0x0f), true
	}
	return 0, false
}

// mapHeader reads a map header at the position, in any of its forms:
// fixmap, map16, map32. Fluent Bit writes the map32 form (its log event
// encoder reserves the header before it knows the count: df 00 00 00 01
// for a map of one pair), so the fast paths must accept all three.
func (d *Decoder) mapHeader() (n, size int, ok bool) {
	b := d.buf[d.pos:]
	switch {
	case len(b) >= 1 && b[0]&0xf0 == 0x80:
		return int(b[0] & 0x0f), 1, true
	case len(b) >= 3 && b[0] == 0xde:
		return int(b[1])<<8 | int(b[2]), 3, true
	case len(b) >= 5 && b[0] == 0xdf:
		return int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]), 5, true
	}
	return 0, 0, false
}

// EmptyMap consumes an empty map when the next value is one.
func (d *Decoder) EmptyMap() bool {
	if n, size, ok := d.mapHeader(); ok && n == 0 {
		d.pos += size
		return true
	}
	return false
}

// OnePairMap consumes the header of a map of one pair when the next value
// is one.
func (d *Decoder) OnePairMap() bool {
	if n, size, ok := d.mapHeader(); ok && n == 1 {
		d.pos += size
		return true
	}
	return false
}

// String consumes a string when the next value is one, or binary data,
// which Decode returns as a string too, without boxing it. On false the
// position is undefined; Rewind to go back.
func (d *Decoder) String() (string, bool) {
	if d.pos >= len(d.buf) {
		return "", false
	}
	c := d.buf[d.pos]
	d.pos++
	n := int(c & 0x1f)
	switch p := strPrefix(c); {
	case p < 0:
		return "", false
	case p > 0:
		var err error
		if n, err = d.count(p, 1); err != nil {
			return "", false
		}
	}
	s, err := d.str(n)
	return s, err == nil
}

// strPrefix is the size of the length prefix of a string or binary value
// of type byte c: 0 for a fixstr, whose length is in c, and -1 when c is
// of another type.
func strPrefix(c byte) int {
	switch {
	case c&0xe0 == 0xa0:
		return 0
	case c == 0xc4 || c == 0xd9:
		return 1
	case c == 0xc5 || c == 0xda:
		return 2
	case c == 0xc6 || c == 0xdb:
		return 4
	}
	return -1
}

// EventTime consumes an EventTime when the next value is one in its usual
// encoding (fixext 8 of type 0), without boxing it.
func (d *Decoder) EventTime() (EventTime, bool) {
	if d.pos+10 <= len(d.buf) && d.buf[d.pos] == 0xd7 && d.buf[d.pos+1] == 0 {
		b := d.buf[d.pos+2 : d.pos+10]
		d.pos += 10
		return EventTime{Sec: binary.BigEndian.Uint32(b), Nsec: binary.BigEndian.Uint32(b[4:])}, true
	}
	return EventTime{}, false
}
