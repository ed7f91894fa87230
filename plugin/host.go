package main

/*
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// What falcocw reads of Fluent Bit's own structures, beyond the fields
// fluent-bit-go knows. Each layout was read off the debug information of
// Fluent Bit 4.1.2, 5.0.9 and 5.1.1 (gdb ptype), and each use is guarded so
// that a host with another layout is never written to.

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

// The head of fluent-bit-go's struct flbgo_output_plugin, which the proxy
// hands FLBPluginInit: o_ins is Fluent Bit's struct flb_output_instance.
struct falcocw_go_plugin { void *_; void *api; char *o_ins; void *context; };

// In struct flb_output_instance of 4.1.2, 5.0.9 and 5.1.1 alike, name (the
// instance's "plugin.N") is a char[32] at offset 0x60 and alias (flb_sds_t,
// NULL when unset) follows at 0x80. The name is checked to be exactly
// "<plugin>.<digits>" before the alias pointer is trusted, so another
// layout (or a host that is not Fluent Bit) yields NULL instead of a wrong
// read.
static const char *falcocw_instance_name(void *plugin, const char *prefix, const char **alias) {
    struct falcocw_go_plugin *p = plugin;
    const char *name;
    size_t n = strlen(prefix), i;
    *alias = NULL;
    if (p == NULL || p->o_ins == NULL || n + 2 > 32) {
        return NULL;
    }
    name = p->o_ins + 0x60;
    if (memcmp(name, prefix, n) != 0 || name[n] != '.') {
        return NULL;
    }
    for (i = n + 1; i < 32 && name[i] >= '0' && name[i] <= '9'; i++) {
    }
    if (i == n + 1 || i >= 32 || name[i] != 0) {
        return NULL;
    }
    *alias = *(const char **) (p->o_ins + 0x80);
    return name;
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

// instanceLabel is the name Fluent Bit gives the instance in its own log
// lines: the Alias when one is set, else "falcocw.N". ok is false when the
// host's structures could not be read (another host, another layout).
func instanceLabel(p unsafe.Pointer) (label string, ok bool) {
	prefix := C.CString(PluginName)
	defer C.free(unsafe.Pointer(prefix))
	var alias *C.char
	name := C.falcocw_instance_name(p, prefix, &alias)
	if name == nil {
		return "", false
	}
	if alias != nil {
		if a := C.GoString(alias); a != "" {
			return a, true
		}
	}
	return C.GoString(name), true
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
