package chunk_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/samples"
)

// FuzzDecode: any bytes decode without panic, in bounded memory, the same
// way twice, and the fast path for the usual record shapes gives exactly
// the general path's result (which always makes a map of the body).
func FuzzDecode(f *testing.F) {
	recs := samples.Records()
	for _, format := range []chunk.Format{chunk.FormatV1, chunk.FormatV2} {
		f.Add(samples.Chunk(format, time.Unix(1795338000, 5), samples.Bodies(recs)...))
		for _, r := range recs {
			f.Add(samples.Chunk(format, time.Unix(1795338000, 5), r.Body))
		}
	}
	f.Add([]byte{})
	f.Add(binary.BigEndian.AppendUint32([]byte{0xdd}, 100<<20))
	f.Add([]byte{0x92, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 0x80})
	f.Add([]byte{0x92, 0x92, 0xd7, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xc0, 0x81, 0xa1, 'a', 1}) // metadata nil
	f.Add([]byte{0x92, 0x92, 0xd7, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x90})               // body not a map
	f.Add([]byte{0x92, 0x93, 0xd7, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x80, 0x80})         // header of 3
	f.Fuzz(func(t *testing.T, data []byte) {
		d := chunk.Decode(data)
		if d.Truncated && len(d.Bad) == 0 {
			t.Fatal("truncated without an error")
		}
		again := chunk.Decode(bytes.Clone(data))
		if len(again.Records) != len(d.Records) || len(again.Bad) != len(d.Bad) {
			t.Fatal("decoding is not deterministic")
		}
		if fast, general := fmt.Sprintf("%v", asMaps(d)), fmt.Sprintf("%v", chunk.DecodeGeneral(data)); fast != general {
			t.Fatalf("fast path %s\ngeneral path %s", fast, general)
		}
	})
}

// asMaps turns the records of d in the Key and Line form into the map
// form, as the general path decodes them.
func asMaps(d chunk.Decoded) chunk.Decoded {
	for i := range d.Records {
		r := &d.Records[i]
		r.Body, r.Key, r.Line = r.Map(), "", ""
	}
	return d
}
