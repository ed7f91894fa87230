package msgpack_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/msgpack"
)

// TestRoundTrip: what Append writes, Decode reads back as the same value.
func TestRoundTrip(t *testing.T) {
	for _, v := range []any{
		nil, true, false, int64(0), int64(-1), int64(-33), int64(1 << 40), uint64(1 << 63), 1.5,
		"", "falco", strings.Repeat("x", 70000),
		[]any{int64(1), "two", []any{}}, map[string]any{"rule": "R", "n": int64(2), "nested": map[string]any{"a": []any{true, nil}}},
	} {
		b, err := msgpack.Append(nil, v)
		if err != nil {
			t.Fatalf("Append(%T): %v", v, err)
		}
		got, err := msgpack.NewDecoder(b).Decode()
		if err != nil {
			t.Fatalf("Decode(%T): %v", v, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %T: got %#v", v, got)
		}
	}
}

// TestBinIsString: bin values (some inputs write strings as bin) decode
// as strings, as JSON will show them.
func TestBinIsString(t *testing.T) {
	b, _ := msgpack.Append(nil, []byte("abc"))
	if v, err := msgpack.NewDecoder(b).Decode(); err != nil || v != "abc" {
		t.Fatalf("bin decoded as %#v, %v", v, err)
	}
}

// TestEventTime: time.Time is written as Fluent Bit's EventTime and read
// back to the nanosecond.
func TestEventTime(t *testing.T) {
	ts := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)
	b, err := msgpack.Append(nil, ts)
	if err != nil {
		t.Fatal(err)
	}
	et, ok := msgpack.NewDecoder(b).EventTime()
	if !ok || !et.Time().Equal(ts) {
		t.Fatalf("EventTime = %v, %v; want %v", et.Time(), ok, ts)
	}
}

// TestHostileInput: lengths beyond the data, nesting beyond MaxDepth and
// truncated values are errors naming an offset, never a panic or a huge
// allocation.
func TestHostileInput(t *testing.T) {
	deep := []byte{}
	for i := 0; i <= msgpack.MaxDepth+1; i++ {
		deep = append(deep, 0x91) // fixarray of 1
	}
	deep = append(deep, 0xc0)
	for name, b := range map[string][]byte{
		"str32 of 100 MiB in 6 bytes": {0xdb, 0x06, 0x40, 0x00, 0x00, 'x'},
		"map32 of 4G entries":         {0xdf, 0xff, 0xff, 0xff, 0xff},
		"truncated uint64":            {0xcf, 0x01},
		"too deep":                    deep,
		"never-used byte":             {0xc1},
	} {
		_, err := msgpack.NewDecoder(b).Decode()
		if err == nil || !strings.Contains(err.Error(), "msgpack: offset") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
