package jsonstr

import "unsafe"

// unsafeString views p as a string without copying; Append only reads it.
func unsafeString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

// unsafeBytes views s as bytes without copying, for reading only.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
