package chunk

import "github.com/falcocw/falcocw/falcocw/msgpack"

// DecodeGeneral decodes every record by the general path, the reference
// the fast path must match.
func DecodeGeneral(data []byte) Decoded { return decode(data, false) }

// FastRecord decodes one record by the fast path alone: ok is false when
// the fast path left it to the general one.
func FastRecord(data []byte) (Record, bool) {
	return fastRecord(msgpack.NewDecoder(data))
}
