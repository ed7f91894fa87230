// Package msgpack reads and writes the part of MessagePack that Fluent Bit
// uses for the chunks it hands to output plugins: nil, booleans, integers,
// floats, strings, binaries, arrays, maps and the EventTime extension.
//
// The decoder is written for untrusted input: every length prefix is checked
// against the bytes that remain before anything is allocated, nesting depth
// is bounded, and an error names the offset where the data went wrong.
package msgpack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"
)

// MaxDepth bounds the nesting of arrays and maps the decoder accepts.
const MaxDepth = 100

// EventTime is Fluent Bit's timestamp extension (type 0): seconds and
// nanoseconds since the Unix epoch, big-endian, in 8 bytes.
type EventTime struct {
	Sec  uint32
	Nsec uint32
}

// Time returns the instant the EventTime stands for.
func (t EventTime) Time() time.Time { return time.Unix(int64(t.Sec), int64(t.Nsec)).UTC() }

// Ext is an extension value other than EventTime.
type Ext struct {
	Type int8
	Data []byte
}

// Error reports malformed MessagePack and where it starts.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("msgpack: offset %d: %s", e.Offset, e.Msg) }

// Decoder reads consecutive values from a byte slice.
type Decoder struct {
	buf []byte
	pos int
	// share, when set, names keys of the maps at depth 1 (a record's
	// body) whose value, when its bytes repeat those of the previous
	// such value, is not decoded again: the same decoded value is
	// returned, shared (read it, never change it). Fluent Bit repeats the
	// Kubernetes filter's map on every record of a pod.
	share map[string]*shared
	// borrow makes strings views into buf (see Borrow).
	borrow bool
}

type shared struct {
	raw []byte
	val any
}

// Share makes the decoder share repeated values of the given body keys
// (see Decoder.share).
func (d *Decoder) Share(keys ...string) {
	d.share = map[string]*shared{}
	for _, k := range keys {
		d.share[k] = &shared{}
	}
}

// NewDecoder returns a decoder reading buf. The decoder does not copy buf;
// strings it returns are copies, so buf may be reused after decoding,
// unless Borrow was called.
func NewDecoder(buf []byte) *Decoder { return &Decoder{buf: buf} }

// Borrow makes the strings the decoder returns (values, map keys, binary
// data) views into buf rather than copies: no copy and no allocation for
// their bytes, but they are valid only as long as buf is, and whatever
// keeps one longer must copy it (strings.Clone).
func (d *Decoder) Borrow() { d.borrow = true }

// text returns b, bytes of buf, as a string: a view when borrowing, else
// a copy.
func (d *Decoder) text(b []byte) string {
	if d.borrow {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return string(b)
}

// Offset is the position of the next unread byte.
func (d *Decoder) Offset() int { return d.pos }

// More reports whether bytes remain to be decoded.
func (d *Decoder) More() bool { return d.pos < len(d.buf) }

// Decode reads one value. Maps decode to map[string]any (non-string keys are
// formatted as strings; a repeated key keeps its last value), arrays to
// []any, integers to int64 or uint64, floats to float64, strings and
// binaries to string, EventTime to EventTime and other extensions to Ext.
func (d *Decoder) Decode() (any, error) {
	start := d.pos
	v, err := d.value(0)
	if err != nil {
		d.pos = len(d.buf) // the caller may Skip(start) to step over it
		if e, ok := err.(*Error); ok {
			return nil, e
		}
		return nil, &Error{Offset: start, Msg: err.Error()}
	}
	return v, nil
}

// DecodeAt decodes the next value as one nested at depth: a record's
// body is at depth 1, where Share applies. On error the position is
// undefined; Rewind to go back.
func (d *Decoder) DecodeAt(depth int) (any, error) { return d.value(depth) }

// Rewind moves back to offset, a value's start as Offset reported it.
func (d *Decoder) Rewind(offset int) { d.pos = offset }

// Skip moves past the value at offset start without building it and
// without recursion, so a value nested too deeply for Decode can still be
// stepped over. It returns an error when the bytes are not one complete
// MessagePack value.
func (d *Decoder) Skip(start int) error {
	d.pos = start
	pending := uint64(1) // values still to read
	for pending > 0 {
		if d.pos >= len(d.buf) {
			return d.fail("unexpected end of data")
		}
		pending--
		c := d.buf[d.pos]
		d.pos++
		var n int       // bytes of payload to skip
		var more uint64 // nested values to read
		var err error
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c&0xf0 == 0x80:
			more = 2 * uint64(c&0x0f)
		case c&0xf0 == 0x90:
			more = uint64(c & 0x0f)
		case c&0xe0 == 0xa0:
			n = int(c & 0x1f)
		case c == 0xc4 || c == 0xd9:
			n, err = d.count(1, 1)
		case c == 0xc5 || c == 0xda:
			n, err = d.count(2, 1)
		case c == 0xc6 || c == 0xdb:
			n, err = d.count(4, 1)
		case c == 0xc7:
			n, err = d.count(1, 1)
			n++
		case c == 0xc8:
			n, err = d.count(2, 1)
			n++
		case c == 0xc9:
			n, err = d.count(4, 1)
			n++
		case c == 0xca, c == 0xce, c == 0xd2:
			n = 4
		case c == 0xcb, c == 0xcf, c == 0xd3:
			n = 8
		case c == 0xcc, c == 0xd0:
			n = 1
		case c == 0xcd, c == 0xd1:
			n = 2
		case c >= 0xd4 && c <= 0xd8:
			n = 1 + 1<<(c-0xd4)
		case c == 0xdc:
			var m int
			m, err = d.count(2, 1)
			more = uint64(m)
		case c == 0xdd:
			var m int
			m, err = d.count(4, 1)
			more = uint64(m)
		case c == 0xde:
			var m int
			m, err = d.count(2, 2)
			more = 2 * uint64(m)
		case c == 0xdf:
			var m int
			m, err = d.count(4, 2)
			more = 2 * uint64(m)
		default:
			d.pos--
			return d.fail("invalid type byte 0x%02x", c)
		}
		if err != nil {
			return err
		}
		if _, err := d.take(n); err != nil {
			return err
		}
		if pending += more; pending > uint64(len(d.buf)-d.pos) {
			return d.fail("%d values cannot fit in the %d bytes that remain", pending, len(d.buf)-d.pos)
		}
	}
	return nil
}

func (d *Decoder) fail(msg string, args ...any) error {
	return &Error{Offset: d.pos, Msg: fmt.Sprintf(msg, args...)}
}

func (d *Decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.buf)-d.pos {
		return nil, d.fail("need %d bytes, %d remain", n, len(d.buf)-d.pos)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *Decoder) uint(n int) (uint64, error) {
	b, err := d.take(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	default:
		return binary.BigEndian.Uint64(b), nil
	}
}

// count reads a length prefix of n bytes for a container whose elements
// take at least min bytes each, and refuses counts the remaining input
// cannot hold, so a forged prefix never causes a large allocation.
func (d *Decoder) count(n, min int) (int, error) {
	c, err := d.uint(n)
	if err != nil {
		return 0, err
	}
	if c > uint64(len(d.buf)-d.pos)/uint64(min) {
		return 0, d.fail("length %d exceeds the %d bytes that remain", c, len(d.buf)-d.pos)
	}
	return int(c), nil
}

func (d *Decoder) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, d.fail("nesting deeper than %d", MaxDepth)
	}
	if d.pos >= len(d.buf) {
		return nil, d.fail("unexpected end of data")
	}
	c := d.buf[d.pos]
	d.pos++
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xf0 == 0x80:
		return d.mapN(int(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return d.arrayN(int(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return d.strValue(int(c & 0x1f))
	}
	if p := strPrefix(c); p > 0 {
		return d.strPrefixed(p)
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc7:
		return d.extPrefixed(1)
	case 0xc8:
		return d.extPrefixed(2)
	case 0xc9:
		return d.extPrefixed(4)
	case 0xca:
		u, err := d.uint(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc:
		u, err := d.uint(1)
		return int64(u), err
	case 0xcd:
		u, err := d.uint(2)
		return int64(u), err
	case 0xce:
		u, err := d.uint(4)
		return int64(u), err
	case 0xcf:
		u, err := d.uint(8)
		if u > math.MaxInt64 {
			return u, err
		}
		return int64(u), err
	case 0xd0:
		u, err := d.uint(1)
		return int64(int8(u)), err
	case 0xd1:
		u, err := d.uint(2)
		return int64(int16(u)), err
	case 0xd2:
		u, err := d.uint(4)
		return int64(int32(u)), err
	case 0xd3:
		u, err := d.uint(8)
		return int64(u), err
	case 0xd4:
		return d.ext(1)
	case 0xd5:
		return d.ext(2)
	case 0xd6:
		return d.ext(4)
	case 0xd7:
		return d.ext(8)
	case 0xd8:
		return d.ext(16)
	case 0xdc:
		n, err := d.count(2, 1)
		if err != nil {
			return nil, err
		}
		return d.arrayN(n, depth)
	case 0xdd:
		n, err := d.count(4, 1)
		if err != nil {
			return nil, err
		}
		return d.arrayN(n, depth)
	case 0xde:
		n, err := d.count(2, 2)
		if err != nil {
			return nil, err
		}
		return d.mapN(n, depth)
	case 0xdf:
		n, err := d.count(4, 2)
		if err != nil {
			return nil, err
		}
		return d.mapN(n, depth)
	}
	d.pos--
	return nil, d.fail("invalid type byte 0x%02x", c)
}

func (d *Decoder) str(n int) (string, error) {
	b, err := d.take(n)
	if err != nil {
		return "", err
	}
	if n == 3 && string(b) == "log" { // every tail record's key: no hashing for it
		return "log", nil
	}
	if n <= maxInterned {
		if s, ok := interned[string(b)]; ok { // a lookup by string(b) does not allocate
			return s, nil
		}
	}
	return d.text(b), nil
}

// strValue is str boxed, as Decode returns values: the interned strings
// come boxed once, so that the values every record repeats ("stdout",
// "falco") cost no allocation either.
func (d *Decoder) strValue(n int) (any, error) {
	b, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if n <= maxInterned {
		if v, ok := internedValues[string(b)]; ok {
			return v, nil
		}
	}
	return d.text(b), nil
}

// interned are the keys and values Fluent Bit's inputs repeat in every
// record; returning one shared string for them saves an allocation each.
// internedValues holds them boxed.
var interned, internedValues = func() (map[string]string, map[string]any) {
	m, boxed := map[string]string{}, map[string]any{}
	for _, s := range []string{"log", "source", "stdout", "stderr", "stream", "time", "logtag", "container_name", "container_id",
		"ecs_cluster", "ecs_task_arn", "ecs_task_definition", "ec2_instance_id", "kubernetes", "pod_name", "namespace_name",
		"pod_id", "labels", "annotations", "host", "docker_id", "container_hash", "container_image", "falco",
		"rule", "priority", "output", "output_fields", "tags", "hostname", "uuid", "message",
		"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug", "syscall", "k8s_audit"} {
		m[s], boxed[s] = s, s
	}
	return m, boxed
}()

const maxInterned = 32

func (d *Decoder) strPrefixed(n int) (any, error) {
	l, err := d.count(n, 1)
	if err != nil {
		return nil, err
	}
	return d.strValue(l)
}

func (d *Decoder) extPrefixed(n int) (any, error) {
	l, err := d.count(n, 1)
	if err != nil {
		return nil, err
	}
	return d.ext(l)
}

func (d *Decoder) ext(n int) (any, error) {
	t, err := d.take(1)
	if err != nil {
		return nil, err
	}
	data, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if int8(t[0]) == 0 && n == 8 {
		return EventTime{Sec: binary.BigEndian.Uint32(data), Nsec: binary.BigEndian.Uint32(data[4:])}, nil
	}
	return Ext{Type: int8(t[0]), Data: append([]byte(nil), data...)}, nil
}

func (d *Decoder) arrayN(n int, depth int) (any, error) {
	if n > len(d.buf)-d.pos {
		return nil, d.fail("array of %d exceeds the %d bytes that remain", n, len(d.buf)-d.pos)
	}
	a := make([]any, n)
	for i := range a {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a[i] = v
	}
	return a, nil
}

func (d *Decoder) mapN(n int, depth int) (any, error) {
	if n > (len(d.buf)-d.pos)/2 {
		return nil, d.fail("map of %d exceeds the %d bytes that remain", n, len(d.buf)-d.pos)
	}
	m := make(map[string]any, n)
	for i := 0; i < n; i++ {
		start := d.pos
		key, ok := d.String() // the usual key, without boxing it
		if !ok {
			d.pos = start
			k, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			key = keyString(k)
		}
		if sh := d.share[key]; sh != nil && depth == 1 {
			start := d.pos
			if err := d.Skip(start); err != nil {
				return nil, err
			}
			if raw := d.buf[start:d.pos]; sh.raw != nil && bytes.Equal(raw, sh.raw) {
				m[key] = sh.val
				continue
			}
			d.pos = start
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			sh.raw, sh.val = d.buf[start:d.pos], v
			m[key] = v
			continue
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
	return m, nil
}

// keyString formats a map key; Fluent Bit's keys are strings, but a record
// from another producer may use any type.
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case int64:
		return strconv.FormatInt(k, 10)
	case uint64:
		return strconv.FormatUint(k, 10)
	case nil:
		return "null"
	default:
		return fmt.Sprint(k)
	}
}
