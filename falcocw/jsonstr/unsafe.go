package jsonstr

import "unsafe"

// unsafeString views p as a string without copying; Append only reads it.
func unsafeString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }
