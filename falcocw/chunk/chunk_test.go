package chunk_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/msgpack"
	"github.com/falcocw/falcocw/internal/samples"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func TestDecodeBothFormats(t *testing.T) {
	body := map[string]any{"log": "x", "n": int64(-5), "f": 1.5, "nested": map[string]any{"a": []any{true, nil}}}
	for _, f := range []chunk.Format{chunk.FormatV1, chunk.FormatV2} {
		b, err := chunk.Append(nil, f, t0, body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = chunk.Append(b, f, t0.Add(time.Second), map[string]any{"log": "y"})
		d := chunk.Decode(b)
		if len(d.Records) != 2 || len(d.Bad) != 0 {
			t.Fatalf("format %d: %+v", f, d)
		}
		r := d.Records[0]
		if !r.Time.Equal(t0) || r.Body["log"] != "x" || r.Body["n"] != int64(-5) || r.Body["f"] != 1.5 {
			t.Errorf("format %d: %+v", f, r)
		}
		if (f == chunk.FormatV2) != (r.Metadata != nil) {
			t.Errorf("format %d: metadata %v", f, r.Metadata)
		}
	}
}

func TestTimestampEncodings(t *testing.T) {
	for _, ts := range []any{msgpack.EventTime{Sec: uint32(t0.Unix()), Nsec: 123456789}, int64(t0.Unix()), float64(t0.Unix()) + 0.5} {
		b := msgpack.AppendArrayHeader(nil, 2)
		b, _ = msgpack.Append(b, ts)
		b, _ = msgpack.Append(b, map[string]any{"k": "v"})
		d := chunk.Decode(b)
		if len(d.Records) != 1 || d.Records[0].Time.Unix() != t0.Unix() {
			t.Errorf("timestamp %T: %+v", ts, d)
		}
	}
}

// TestBadRecordsDoNotSpoilGoodOnes: records of the wrong shape are
// reported and skipped; the good records around them survive.
func TestBadRecordsDoNotSpoilGoodOnes(t *testing.T) {
	good, _ := chunk.Append(nil, chunk.FormatV2, t0, map[string]any{"log": "good"})
	var b []byte
	for _, bad := range []any{
		"a string",
		[]any{int64(1)},
		[]any{"not a time", map[string]any{}},
		[]any{int64(1), "not a map"},
		[]any{[]any{int64(1)}, map[string]any{}},
		[]any{[]any{int64(1), "meta"}, map[string]any{}},
		[]any{math.NaN(), map[string]any{}},
	} {
		b = append(b, good...)
		b, _ = msgpack.Append(b, bad)
	}
	b = append(b, good...)
	d := chunk.Decode(b)
	if len(d.Records) != 8 || len(d.Bad) != 7 || d.Truncated {
		t.Fatalf("got %d good, %d bad, truncated %v", len(d.Records), len(d.Bad), d.Truncated)
	}
}

func TestTruncatedChunk(t *testing.T) {
	good, _ := chunk.Append(nil, chunk.FormatV1, t0, map[string]any{"log": "good"})
	b := append(append([]byte{}, good...), good[:len(good)-3]...)
	d := chunk.Decode(b)
	if len(d.Records) != 1 || !d.Truncated || len(d.Bad) != 1 {
		t.Fatalf("%+v", d)
	}
	if d := chunk.Decode(nil); len(d.Records) != 0 || len(d.Bad) != 0 {
		t.Errorf("empty chunk: %+v", d)
	}
}

// TestForgedLengths: a length prefix of 100 MiB in a tiny chunk is refused
// before anything is allocated.
func TestForgedLengths(t *testing.T) {
	for _, prefix := range [][]byte{
		{0xdd}, // array 32
		{0xdf}, // map 32
		{0xdb}, // str 32
		{0xc6}, // bin 32
		{0xc9}, // ext 32
	} {
		b := binary.BigEndian.AppendUint32(append([]byte{}, prefix...), 100<<20)
		b = append(b, make([]byte, 1024)...)
		allocs := testing.AllocsPerRun(10, func() { chunk.Decode(b) })
		d := chunk.Decode(b)
		if !d.Truncated || allocs > 20 {
			t.Errorf("prefix %x: truncated=%v allocs=%v", prefix, d.Truncated, allocs)
		}
	}
}

// TestDeepNestingSkipped: a record nested deeper than the decoder allows
// is reported and stepped over; the good records around it survive.
func TestDeepNestingSkipped(t *testing.T) {
	good, _ := chunk.Append(nil, chunk.FormatV1, t0, map[string]any{"log": "good"})
	b := append([]byte{}, good...)
	b = append(b, 0x92, 0x01)
	for i := 0; i < 1000; i++ {
		b = append(b, 0x91)
	}
	b = append(b, 0xc0)
	b = append(b, good...)
	d := chunk.Decode(b)
	if d.Truncated || len(d.Bad) != 1 || len(d.Records) != 2 {
		t.Errorf("got %d good, %d bad, truncated %v", len(d.Records), len(d.Bad), d.Truncated)
	}
}

// TestRecordsShareTheCallersBuffer: Fluent Bit's buffer is freed once the
// flush returns, and a record's strings are read in place (no copy: the
// Falco line is most of the record), so they change with the buffer:
// whatever keeps them past the flush must copy them. Both record shapes:
// the tail input's one pair, and any other map.
func TestRecordsShareTheCallersBuffer(t *testing.T) {
	line := `{"rule":"Terminal shell in container","priority":"Notice","output":"a shell was spawned in a container"}`
	data, err := chunk.Append(nil, chunk.FormatV2, time.Unix(1, 0), map[string]any{"log": line})
	if err != nil {
		t.Fatal(err)
	}
	data, err = chunk.Append(data, chunk.FormatV2, time.Unix(1, 0), map[string]any{"log": line, "container_name": "falco-sensor-0"})
	if err != nil {
		t.Fatal(err)
	}
	d := chunk.Decode(data)
	if len(d.Records) != 2 || d.Records[0].Line != line || d.Records[1].Body["log"] != line {
		t.Fatalf("records %+v", d.Records)
	}
	for i := range data {
		data[i] = 'x'
	}
	if d.Records[0].Line == line || d.Records[1].Body["log"] == line || d.Records[1].Body["container_name"] == "falco-sensor-0" {
		t.Errorf("a record's strings are copies, not views of the chunk: %+v", d.Records)
	}
}

// TestFastPathMatchesGeneralPath decodes the bundled records in both
// formats, with every timestamp encoding, by both paths.
func TestFastPathMatchesGeneralPath(t *testing.T) {
	recs := samples.Records()
	for _, format := range []chunk.Format{chunk.FormatV1, chunk.FormatV2} {
		data := samples.Chunk(format, time.Unix(1795338000, 5), samples.Bodies(recs)...)
		for _, ts := range []any{int64(1795338000), uint64(1795338000), 1795338000.25, msgpack.EventTime{Sec: 1795338000, Nsec: 5}} {
			data = append(data, chunkWith(format, ts, map[string]any{"log": "x"})...)
		}
		fast, general := chunk.Decode(data), chunk.DecodeGeneral(data)
		if len(fast.Records) < len(recs) {
			t.Fatalf("format %d: %d records decoded, want at least %d", format, len(fast.Records), len(recs))
		}
		if a, b := fmt.Sprintf("%v", asMaps(fast)), fmt.Sprintf("%v", general); a != b {
			t.Errorf("format %d:\nfast    %s\ngeneral %s", format, a, b)
		}
	}
}

// chunkWith is one record with timestamp ts as given (chunk.Append always
// writes an EventTime), in format f.
func chunkWith(f chunk.Format, ts any, body map[string]any) []byte {
	b := msgpack.AppendArrayHeader(nil, 2)
	if f == chunk.FormatV2 {
		b = msgpack.AppendArrayHeader(b, 2)
		b, _ = msgpack.Append(b, ts)
		b, _ = msgpack.Append(b, map[string]any{"otlp": map[string]any{}})
	} else {
		b, _ = msgpack.Append(b, ts)
	}
	b, _ = msgpack.Append(b, body)
	return b
}

// TestOnePairBody: a body of one string pair, what the tail input makes of
// a line, is decoded without a map; any other body of one pair is a map.
func TestOnePairBody(t *testing.T) {
	for _, tc := range []struct {
		body      map[string]any
		key, line string
	}{
		{map[string]any{"log": `{"rule":"x"}`}, "log", `{"rule":"x"}`},
		{map[string]any{"message": ""}, "message", ""},
		{map[string]any{"": "empty key"}, "", "empty key"},
		{map[string]any{"log": strings.Repeat("long line ", 7000)}, "log", strings.Repeat("long line ", 7000)}, // str32
		{map[string]any{"log": int64(5)}, "", ""},
		{map[string]any{"log": map[string]any{"rule": "x"}}, "", ""},
		{map[string]any{"log": "a", "stream": "stdout"}, "", ""},
	} {
		for _, f := range []chunk.Format{chunk.FormatV1, chunk.FormatV2} {
			data, err := chunk.Append(nil, f, time.Unix(1, 0), tc.body)
			if err != nil {
				t.Fatal(err)
			}
			d := chunk.Decode(data)
			if len(d.Records) != 1 {
				t.Fatalf("%v: %+v", tc.body, d)
			}
			r := d.Records[0]
			pair := tc.key != "" || tc.line != ""
			if pair != (r.Body == nil) || r.Key != tc.key || r.Line != tc.line {
				t.Errorf("%.60v: Body %.60v, Key %q, Line %.40q", tc.body, r.Body, r.Key, r.Line)
			}
			if !reflect.DeepEqual(r.Map(), tc.body) {
				t.Errorf("Map() = %.60v, want %.60v", r.Map(), tc.body)
			}
		}
	}
}

// TestRawIsTheRecordsBytes: Raw is each record's own bytes, so that the
// chunk is the concatenation of its records' Raw, on the fast and the
// general path alike.
func TestRawIsTheRecordsBytes(t *testing.T) {
	var data []byte
	var err error
	base := time.Unix(1700000000, 0)
	for i, body := range []map[string]any{{"log": "line one"}, {"log": "two", "stream": "stdout"}, {"a": int64(1)}} {
		if data, err = chunk.Append(data, chunk.FormatV2, base.Add(time.Duration(i)), body); err != nil {
			t.Fatal(err)
		}
	}
	r := chunk.NewReader(data)
	var joined []byte
	n := 0
	for {
		rec, bad, ok := r.Next()
		if !ok {
			break
		}
		if bad != nil {
			t.Fatal(bad)
		}
		if len(rec.Raw) == 0 {
			t.Fatalf("record %d has no Raw", rec.Index)
		}
		joined = append(joined, rec.Raw...)
		n++
	}
	if n != 3 || string(joined) != string(data) {
		t.Fatalf("%d records; Raw joined = %d bytes, chunk = %d bytes", n, len(joined), len(data))
	}
}

// TestFluentBitLayout: Fluent Bit 5 writes every map header in its map32
// form (df 00 00 00 NN: its encoder reserves the header before it knows
// the count), metadata included; these bytes are the start of a chunk
// real Fluent Bit 5.0.9 handed falcocw for a tail record. The fast path
// must take them (it took only fixmaps, so every real record went the
// general way: a map, a boxed string and copies per record), and agree
// with the general path.
func TestFluentBitLayout(t *testing.T) {
	line := `{"hostname":"ip-10-0-1-23","priority":"Critical","rule":"r","output":"o"}`
	rec := []byte{0x92, 0x92, 0xd7, 0x00, 0x6b, 0x0b, 0x4e, 0xc7, 0x16, 0xde, 0x49, 0xc7, // [[EventTime,
		0xdf, 0x00, 0x00, 0x00, 0x00, // {} as map32],
		0xdf, 0x00, 0x00, 0x00, 0x01, 0xa3, 'l', 'o', 'g', 0xda, 0x00, byte(len(line))} // {"log": (str16)
	rec = append(rec, line...)
	r, ok := chunk.FastRecord(rec)
	if !ok || r.Key != "log" || r.Line != line || r.Time.Unix() != 0x6b0b4ec7 {
		t.Fatalf("fast path on Fluent Bit's layout: ok %v, %+v", ok, r)
	}
	// map16 headers too, and a map of two pairs is left to the general path.
	rec16 := []byte{0x92, 0x92, 0xd7, 0x00, 0x6b, 0x0b, 0x4e, 0xc7, 0x16, 0xde, 0x49, 0xc7, 0xde, 0x00, 0x00,
		0xde, 0x00, 0x01, 0xa3, 'l', 'o', 'g', 0xa2, 'h', 'i'}
	if r, ok := chunk.FastRecord(rec16); !ok || r.Line != "hi" {
		t.Errorf("map16: ok %v, %+v", ok, r)
	}
	two := []byte{0x92, 0x92, 0xd7, 0x00, 0x6b, 0x0b, 0x4e, 0xc7, 0x16, 0xde, 0x49, 0xc7, 0x80,
		0xdf, 0x00, 0x00, 0x00, 0x02, 0xa1, 'a', 0xa1, 'b', 0xa1, 'c', 0xa1, 'd'}
	if r, ok := chunk.FastRecord(two); !ok || r.Body["a"] != "b" || r.Body["c"] != "d" {
		t.Errorf("two pairs: ok %v, %+v", ok, r)
	}
}
