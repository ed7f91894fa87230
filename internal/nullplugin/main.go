// Command nullplugin is a Go output plugin that accepts every chunk
// without reading it, as Fluent Bit's own null output does. make bench
// builds it into a .so and runs it through the same host on the same
// chunks: what it costs is the host's share (reading the chunks, calling
// the plugin, a Go runtime that has nothing to do), so that the other
// lines can be read as the host's cost plus the plugin's. It is not
// shipped.
package main

import (
	"C"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return output.FLBPluginRegister(def, "null", "accepts every chunk unread (benchmark only)")
}

//export FLBPluginInit
func FLBPluginInit(p unsafe.Pointer) int { return output.FLB_OK }

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int { return output.FLB_OK }

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int { return output.FLB_OK }

//export FLBPluginExit
func FLBPluginExit() int { return output.FLB_OK }

func main() {}
