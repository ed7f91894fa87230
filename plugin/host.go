package main

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// What falcocw needs of its host beyond fluent-bit-go's API, which gives a
// Go output its properties, its log and its metrics, but neither its
// instance's name nor a way to declare its properties:
//
//  - The instance's name, for falcocw's log lines and its journal's file:
//    Fluent Bit's own flb_output_name, looked up by name (dlsym), so no
//    field of Fluent Bit's structures is read.
//  - The list of its properties (config_map), so that Fluent Bit 5.1.1
//    and later refuse a misspelt one as they do for their C plugins: the
//    proxy's definition (struct flb_plugin_proxy_def) gained the field in
//    5.1.1, with no call to set it and no exported symbol that says the
//    host's version; the layouts below were read off the debug information
//    of Fluent Bit 5.1.1 (gdb ptype), and the field is written only when
//    the executable's --version says 5.1.1 or later, since older hosts
//    allocate a smaller definition that must never be written past.

struct falcocw_list { void *prev, *next; };

// struct flb_config_map of Fluent Bit 5.x (104 bytes).
struct falcocw_config_map {
    int type;
    char *name;
    char *def_value;
    int flags;
    int set_property;
    unsigned long offset;
    char *desc;
    union { int i_num; double d_num; size_t s_num; char *str; void *list; } val;
    char *raw;
    void *mult;
    struct falcocw_list value_head;
    struct falcocw_list head;
};
_Static_assert(sizeof(struct falcocw_config_map) == 104, "struct flb_config_map of Fluent Bit 5.x is 104 bytes");

// struct flb_plugin_proxy_def of Fluent Bit 5.1.1: the fields fluent-bit-go
// fills, then event_type (4.2.3 and 5.0) and config_map (5.1.1).
struct falcocw_proxy_def_5_1 {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;
    struct falcocw_config_map *config_map;
};
_Static_assert(offsetof(struct falcocw_proxy_def_5_1, config_map) == 40, "config_map at offset 40");

static struct falcocw_config_map *falcocw_config_map_new(int n) {
    return calloc(n + 1, sizeof(struct falcocw_config_map)); // ends with an entry without a name
}

static void falcocw_config_map_set(struct falcocw_config_map *m, int i, char *name, char *desc) {
    m[i].type = 0; // FLB_CONFIG_MAP_STR: falcocw parses the value itself
    m[i].name = name;
    m[i].desc = desc;
}

static void falcocw_proxy_def_set_config_map(void *def, struct falcocw_config_map *m) {
    ((struct falcocw_proxy_def_5_1 *) def)->config_map = m;
}

// The head of fluent-bit-go's struct flbgo_output_plugin (its
// output/flb_output.h), which the proxy hands FLBPluginInit: o_ins is
// Fluent Bit's struct flb_output_instance.
struct falcocw_go_plugin { void *_; void *api; void *o_ins; void *context; };

typedef const char *(*falcocw_output_name_fn)(void *ins);

// falcocw_output_name_lookup finds Fluent Bit's own flb_output_name (the
// instance's Alias, else its "plugin.N"), which the fluent-bit executable
// exports for its dynamic plugins (4.1.2, 5.0.9 and 5.1.1 alike); NULL in
// a host without it.
static falcocw_output_name_fn falcocw_output_name_lookup(void) {
    return (falcocw_output_name_fn) dlsym(RTLD_DEFAULT, "flb_output_name");
}

static const char *falcocw_instance_name(falcocw_output_name_fn fn, void *plugin) {
    struct falcocw_go_plugin *p = plugin;
    if (fn == NULL || p == NULL || p->o_ins == NULL) {
        return NULL;
    }
    return fn(p->o_ins);
}
*/
import "C"

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/config"
)

var (
	outputNameOnce sync.Once
	outputName     C.falcocw_output_name_fn
)

// instanceLabel is the name Fluent Bit gives the instance in its own log
// lines: the Alias when one is set, else "falcocw.N" (flb_output_name).
// ok is false in a host without that function.
func instanceLabel(p unsafe.Pointer) (label string, ok bool) {
	outputNameOnce.Do(func() { outputName = C.falcocw_output_name_lookup() })
	name := C.falcocw_instance_name(outputName, p)
	if name == nil {
		return "", false
	}
	label = C.GoString(name)
	return label, label != ""
}

var (
	configMapOnce sync.Once
	configMap     *C.struct_falcocw_config_map
)

// ConfigMapSince is the first Fluent Bit version whose Go proxy reads a
// config_map from the plugin's definition (struct flb_plugin_proxy_def
// gained the field in 5.1.1; older hosts allocate a smaller struct, which
// must never be written past).
var ConfigMapSince = [3]int{5, 1, 1}

// registerConfigMap gives Fluent Bit the list of falcocw's properties when
// the host is a Fluent Bit that reads it, so that it refuses a misspelt
// property with its own "unknown configuration property" error, as it does
// for its C plugins. It reports whether it did.
func registerConfigMap(def unsafe.Pointer) bool {
	v, ok := hostVersion()
	if !ok || !versionAtLeast(v, ConfigMapSince) {
		return false
	}
	configMapOnce.Do(func() {
		names := config.KnownNames()
		m := C.falcocw_config_map_new(C.int(len(names)))
		for i, n := range names {
			// Never freed: Fluent Bit reads the map at every instance
			// and after every hot reload.
			C.falcocw_config_map_set(m, C.int(i), C.CString(n.Name), C.CString(n.Help))
		}
		configMap = m
	})
	C.falcocw_proxy_def_set_config_map(def, configMap)
	return true
}

var (
	hostVersionOnce sync.Once
	hostVersionVal  [3]int
	hostVersionOK   bool
)

// hostVersion is the version of the Fluent Bit executable that loaded the
// plugin, from its --version. Only an executable named fluent-bit is asked
// (an application embedding libfluent-bit is never run).
func hostVersion() ([3]int, bool) {
	hostVersionOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil || !strings.HasPrefix(filepath.Base(exe), "fluent-bit") {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, exe, "--version").Output()
		if err != nil {
			return
		}
		hostVersionVal, hostVersionOK = parseVersion(string(out))
	})
	return hostVersionVal, hostVersionOK
}

// parseVersion finds "Fluent Bit vX.Y.Z" in s.
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	_, rest, ok := strings.Cut(s, "Fluent Bit v")
	if !ok {
		return v, false
	}
	rest, _, _ = strings.Cut(strings.TrimSpace(rest), "\n")
	parts := strings.SplitN(strings.TrimSpace(rest), ".", 3)
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func versionAtLeast(v, min [3]int) bool {
	for i := range v {
		if v[i] != min[i] {
			return v[i] > min[i]
		}
	}
	return true
}
