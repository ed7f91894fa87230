// Package chunk decodes the buffers Fluent Bit hands to an output plugin's
// flush: a sequence of MessagePack records, each either [timestamp, body]
// (Fluent Bit 1.x) or [[timestamp, metadata], body] (2.x and later), where
// the timestamp is an EventTime, an integer or a float.
//
// A record of the wrong shape, or nested too deeply, is reported and
// skipped without affecting its neighbours; bytes that are not MessagePack
// at all end the chunk, since a broken stream cannot be resynchronised.
package chunk

import (
	"fmt"
	"math"
	"time"

	"github.com/falcocw/falcocw/falcocw/msgpack"
)

// SharedKeys are the body keys whose repeated values records share (one
// decoded value for all the records of a chunk that carry the same bytes):
// the Kubernetes filter's map, the same on every record of a pod. Values
// in a Record are read-only.
var SharedKeys = []string{"kubernetes"}

// Record is one log record of a chunk.
//
// Its strings (Line, and the keys and strings of Body and Metadata) are
// not copies: they share the chunk's bytes (a Falco line is most of a
// record, and copying it cost 840 bytes of garbage per alert), so they
// and every string cut from them are valid only while the chunk is: for a
// plugin, until its flush returns. What outlives the flush copies them
// (falco.Alert.Clone, route.Target.Clone).
type Record struct {
	Index    int // position in the chunk, from 0, for error messages
	Time     time.Time
	Metadata map[string]any // Fluent Bit 2.x metadata; nil for the 1.x format
	// Body is the record's map, except for a record whose body is one
	// string under one key, what the tail input makes of a line: then
	// Body is nil and the pair is in Key and Line, since a map per line
	// cost as much as the rest of its decoding. Map returns the body in
	// either case.
	Body      map[string]any
	Key, Line string
	// Raw is the record's MessagePack bytes as the chunk holds them
	// (valid while the chunk is): what identifies the record when Fluent
	// Bit replays it in another chunk after a restart.
	Raw []byte
}

// Map returns the record's body as a map. For a record in the Key and
// Line form it builds one.
func (r *Record) Map() map[string]any {
	if r.Body == nil {
		return map[string]any{r.Key: r.Line}
	}
	return r.Body
}

// BadRecord describes a record that could not be decoded.
type BadRecord struct {
	Index  int
	Offset int
	Err    error
}

func (b BadRecord) Error() string {
	return fmt.Sprintf("record %d (byte %d): %v", b.Index, b.Offset, b.Err)
}

// Decoded is the result of decoding one chunk.
type Decoded struct {
	Records []Record
	Bad     []BadRecord
	// Truncated is set when the chunk ends in bytes that are not
	// MessagePack; Bad holds the error and the records after it are lost.
	Truncated bool
}

// Decode decodes every record of data.
func Decode(data []byte) Decoded { return decode(data, true) }

// decode is Decode; without fast, every record takes the general path
// (the reference the fast path is tested against).
func decode(data []byte, fast bool) Decoded {
	var out Decoded
	r := newReader(data, fast)
	for {
		rec, bad, ok := r.Next()
		if !ok {
			break
		}
		if bad != nil {
			out.Bad = append(out.Bad, *bad)
			continue
		}
		out.Records = append(out.Records, rec)
	}
	out.Truncated = r.Truncated
	return out
}

// Reader decodes a chunk one record at a time, so that a flush need not
// hold the decoded records of a whole 2 MiB chunk at once.
type Reader struct {
	d    *msgpack.Decoder
	data []byte
	i    int
	fast bool
	// Truncated is set, once Next has returned false, when the chunk
	// ended in bytes that are not MessagePack; the last BadRecord holds
	// the error, and the records in those bytes are lost.
	Truncated bool
}

// NewReader returns a reader of the records of data.
func NewReader(data []byte) *Reader { return newReader(data, true) }

func newReader(data []byte, fast bool) *Reader {
	d := msgpack.NewDecoder(data)
	d.Share(SharedKeys...)
	d.Borrow() // see Record
	return &Reader{d: d, fast: fast, data: data}
}

// Next returns the next record, or, for a record that cannot be decoded,
// a BadRecord describing it; ok is false at the end of the chunk. A bad
// record does not affect the records after it, unless not even its extent
// is readable: then the chunk ends there (Truncated).
func (r *Reader) Next() (rec Record, bad *BadRecord, ok bool) {
	d := r.d
	if r.Truncated || !d.More() {
		return rec, nil, false
	}
	i, off := r.i, d.Offset()
	r.i++
	if r.fast {
		if rec, ok := fastRecord(d); ok {
			rec.Index = i
			rec.Raw = r.data[off:d.Offset()]
			return rec, nil, true
		}
		d.Rewind(off)
	}
	v, err := d.Decode()
	if err != nil {
		if d.Skip(off) != nil { // not even its extent is readable
			r.Truncated = true
		}
		// else, e.g. nested too deeply: the records after it are fine
		return rec, &BadRecord{Index: i, Offset: off, Err: err}, true
	}
	if rec, err = record(v); err != nil {
		return Record{}, &BadRecord{Index: i, Offset: off, Err: err}, true
	}
	rec.Index = i
	rec.Raw = r.data[off:d.Offset()]
	return rec, nil, true
}

// emptyMetadata is the metadata of the 2.x records that have none, nearly
// all of them: one shared empty map, read-only like the rest of a Record.
var emptyMetadata = map[string]any{}

// fastRecord reads a record of the usual shapes, [[EventTime, metadata],
// body] and [timestamp, body], without building the arrays around the
// body or boxing the timestamp, and a body of one string pair without a
// map. Anything else, or anything wrong, returns
// false, and the general path (record) decides, so that the result and the
// errors are the same.
func fastRecord(d *msgpack.Decoder) (Record, bool) {
	var r Record
	if n, ok := d.FixArray(); !ok || n != 2 {
		return r, false
	}
	depth := 1 // of the timestamp
	if n, ok := d.FixArray(); ok {
		if n != 2 {
			return r, false
		}
		depth = 2
	}
	if et, ok := d.EventTime(); ok {
		r.Time = et.Time()
	} else {
		v, err := d.DecodeAt(depth)
		if err != nil {
			return r, false
		}
		if r.Time, err = Timestamp(v); err != nil {
			return r, false
		}
	}
	if depth == 2 {
		if d.EmptyMap() {
			r.Metadata = emptyMetadata
		} else {
			v, err := d.DecodeAt(2)
			m, ok := v.(map[string]any)
			if err != nil || !ok {
				return r, false
			}
			r.Metadata = m
		}
	}
	if header := d.Offset(); d.OnePairMap() { // {"log": line}, as the tail input makes it
		if k, ok := d.String(); ok {
			if v, ok := d.String(); ok {
				r.Key, r.Line = k, v
				return r, true
			}
		}
		d.Rewind(header) // back to the map's header: the general path decides
	}
	v, err := d.DecodeAt(1)
	body, ok := v.(map[string]any)
	if err != nil || !ok {
		return r, false
	}
	r.Body = body
	return r, true
}

func record(v any) (Record, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return Record{}, fmt.Errorf("want a 2-element array [timestamp, map], got %s", describe(v))
	}
	var r Record
	head := arr[0]
	if h, ok := head.([]any); ok { // 2.x: [[timestamp, metadata], body]
		if len(h) != 2 {
			return Record{}, fmt.Errorf("want header [timestamp, metadata], got %d elements", len(h))
		}
		head = h[0]
		switch m := h[1].(type) {
		case map[string]any:
			r.Metadata = m
		case nil:
		default:
			return Record{}, fmt.Errorf("want metadata map, got %s", describe(h[1]))
		}
	}
	t, err := Timestamp(head)
	if err != nil {
		return Record{}, err
	}
	r.Time = t
	body, ok := arr[1].(map[string]any)
	if !ok {
		return Record{}, fmt.Errorf("want body map, got %s", describe(arr[1]))
	}
	r.Body = body
	return r, nil
}

// Timestamp converts a record timestamp in any of Fluent Bit's encodings.
func Timestamp(v any) (time.Time, error) {
	switch t := v.(type) {
	case msgpack.EventTime:
		return t.Time(), nil
	case int64:
		return time.Unix(t, 0).UTC(), nil
	case uint64:
		if t > math.MaxInt64 {
			break
		}
		return time.Unix(int64(t), 0).UTC(), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) || t > 1e15 || t < -1e15 {
			break
		}
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("want timestamp (EventTime, integer or float), got %s", describe(v))
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case []any:
		return fmt.Sprintf("array of %d", len(v))
	case map[string]any:
		return "map"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// Format is one of Fluent Bit's record layouts.
type Format int

const (
	// FormatV1 is [timestamp, body], Fluent Bit 1.x.
	FormatV1 Format = 1
	// FormatV2 is [[timestamp, metadata], body], Fluent Bit 2.x and later.
	FormatV2 Format = 2
)

// Append appends one record in the given format to a chunk, with its
// timestamp as EventTime. Tests, the demo and the benchmarks build chunks
// with it exactly as Fluent Bit lays them out.
func Append(b []byte, f Format, t time.Time, body map[string]any) ([]byte, error) {
	b = msgpack.AppendArrayHeader(b, 2)
	ts := msgpack.EventTime{Sec: uint32(t.Unix()), Nsec: uint32(t.Nanosecond())}
	var err error
	if f == FormatV2 {
		b = msgpack.AppendArrayHeader(b, 2)
		if b, err = msgpack.Append(b, ts); err != nil {
			return nil, err
		}
		b = msgpack.AppendMapHeader(b, 0)
	} else if b, err = msgpack.Append(b, ts); err != nil {
		return nil, err
	}
	return msgpack.Append(b, body)
}
