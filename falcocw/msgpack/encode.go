package msgpack

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"
)

// Append appends the MessagePack encoding of v to b. It accepts the types
// Decode returns plus int, float32, []string, map[string]string and
// time.Time (written as EventTime). Map keys are written in sorted order so
// the encoding is deterministic.
func Append(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		if v {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case int:
		return appendInt(b, int64(v)), nil
	case int64:
		return appendInt(b, v), nil
	case uint64:
		if v <= math.MaxInt64 {
			return appendInt(b, int64(v)), nil
		}
		b = append(b, 0xcf)
		return binary.BigEndian.AppendUint64(b, v), nil
	case float32:
		b = append(b, 0xca)
		return binary.BigEndian.AppendUint32(b, math.Float32bits(v)), nil
	case float64:
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v)), nil
	case string:
		return AppendString(b, v), nil
	case []byte:
		n := len(v)
		switch {
		case n <= 0xff:
			b = append(b, 0xc4, byte(n))
		case n <= 0xffff:
			b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
		}
		return append(b, v...), nil
	case EventTime:
		b = append(b, 0xd7, 0x00)
		b = binary.BigEndian.AppendUint32(b, v.Sec)
		return binary.BigEndian.AppendUint32(b, v.Nsec), nil
	case time.Time:
		return Append(b, EventTime{Sec: uint32(v.Unix()), Nsec: uint32(v.Nanosecond())})
	case []any:
		b = appendArrayHeader(b, len(v))
		var err error
		for _, e := range v {
			if b, err = Append(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []string:
		b = appendArrayHeader(b, len(v))
		for _, e := range v {
			b = AppendString(b, e)
		}
		return b, nil
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = e
		}
		return Append(b, m)
	case map[string]any:
		b = AppendMapHeader(b, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var err error
		for _, k := range keys {
			b = AppendString(b, k)
			if b, err = Append(b, v[k]); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("msgpack: cannot encode %T", v)
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= 0x7f:
		return append(b, byte(v))
	case v < 0 && v >= -32:
		return append(b, byte(int8(v)))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(v)))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
	}
}

// AppendString appends a MessagePack str.
func AppendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x90|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
	}
}

// AppendMapHeader appends the header of a map of n pairs.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x80|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
	}
}

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(b []byte, n int) []byte { return appendArrayHeader(b, n) }
