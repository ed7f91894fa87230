package chunk

// DecodeGeneral decodes every record by the general path, the reference
// the fast path must match.
func DecodeGeneral(data []byte) Decoded { return decode(data, false) }
