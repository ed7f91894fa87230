/*
 * flbhost: loads a Fluent Bit Go output plugin (.so) and drives it exactly
 * as Fluent Bit's Go proxy does (src/flb_plugin_proxy.c, src/proxy/go/go.c):
 * FLBPluginRegister fills a flb_plugin_proxy_def; FLBPluginInit receives a
 * flbgo_output_plugin whose api answers property look-ups; flushes go
 * through FLBPluginFlushCtx with the remote context the plugin set; exit
 * calls FLBPluginExitCtx, then FLBPluginExit.
 *
 * The structs below mirror Fluent Bit's ABI (flb_plugin_proxy.h, go.h).
 *
 * Commands, one per line on stdin; each answers one line on stdout:
 *   init N            then N lines key=value   -> "init ID RET"
 *   flush ID TAG LEN  then LEN bytes            -> "flush RET"
 *   pflush ID TAG THREADS COUNT                 -> "pflush RET RET ..."
 *        then COUNT chunks, each "LEN\n" + bytes, flushed by THREADS
 *        threads at once, as Fluent Bit does with "workers THREADS"
 *   exitctx ID                                  -> "exitctx RET"
 *   exit                                        -> "exit RET"
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG 11
#define MAX_INSTANCES 64
#define MAX_PROPS 256

struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
};

struct flb_plugin_proxy_context {
    void *remote_context;
    void *proxy;
};

struct flb_api {
    char *(*output_get_property)(char *, void *);
    char *(*input_get_property)(char *, void *);
};

struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
    int (*cb_init)();
    int (*cb_flush)(const void *, size_t, const char *);
    int (*cb_flush_ctx)(void *, const void *, size_t, char *);
    int (*cb_exit)();
    int (*cb_exit_ctx)(void *);
};

/* the host's stand-in for struct flb_output_instance: its properties */
struct instance {
    int nprops;
    char *keys[MAX_PROPS];
    char *values[MAX_PROPS];
    struct flbgo_output_plugin plugin;
    struct flb_plugin_proxy_context context;
};

static struct instance *instances[MAX_INSTANCES];
static int ninstances;
static void *dso;
static struct flb_plugin_proxy_def def;
static int (*cb_init)(void *);
static int (*cb_flush_ctx)(void *, const void *, size_t, char *);
static int (*cb_exit)(void);
static int (*cb_exit_ctx)(void *);
static struct flb_api api;

/* flb_output_get_property: case-insensitive, NULL when unset */
static char *get_property(char *key, void *ins_ptr)
{
    struct instance *ins = ins_ptr;
    for (int i = 0; i < ins->nprops; i++) {
        if (strcasecmp(ins->keys[i], key) == 0) {
            return ins->values[i];
        }
    }
    return NULL;
}

static void die(const char *msg)
{
    fprintf(stderr, "flbhost: %s\n", msg);
    exit(2);
}

static char *read_line(void)
{
    static char buf[1 << 16];
    if (!fgets(buf, sizeof(buf), stdin)) {
        return NULL;
    }
    buf[strcspn(buf, "\n")] = 0;
    return buf;
}

static void *read_bytes(size_t len)
{
    void *data = malloc(len ? len : 1);
    if (!data || (len && fread(data, 1, len, stdin) != len)) {
        die("short read of chunk data");
    }
    return data;
}

static int flush(struct instance *ins, const char *tag, const void *data, size_t len)
{
    /* go.c copies the tag into a fresh NUL-terminated buffer per flush */
    char *buf = strdup(tag);
    int ret = cb_flush_ctx(ins->context.remote_context, data, len, buf);
    free(buf);
    /* Fluent Bit frees the chunk once the flush returns, and the plugin
     * reads tail lines in place (chunk.Record.Line): overwrite it, so that
     * anything the plugin kept of it shows up as garbage in the tests'
     * content checks instead of passing unseen. */
    memset((void *)data, 0xDB, len);
    return ret;
}

struct job {
    struct instance *ins;
    const char *tag;
    void **chunks;
    size_t *lens;
    int *rets;
    int count;
    int next;
    pthread_mutex_t mu;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->count) {
            return NULL;
        }
        j->rets[i] = flush(j->ins, j->tag, j->chunks[i], j->lens[i]);
    }
}

static struct instance *lookup(int id)
{
    if (id < 0 || id >= ninstances || !instances[id]) {
        die("unknown instance id");
    }
    return instances[id];
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        die("usage: flbhost PLUGIN.so");
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    dso = dlopen(argv[1], RTLD_LAZY);
    if (!dso) {
        fprintf(stderr, "flbhost: dlopen: %s\n", dlerror());
        return 2;
    }
    int (*cb_register)(void *) = dlsym(dso, "FLBPluginRegister");
    cb_init = dlsym(dso, "FLBPluginInit");
    cb_flush_ctx = dlsym(dso, "FLBPluginFlushCtx");
    cb_exit = dlsym(dso, "FLBPluginExit");
    cb_exit_ctx = dlsym(dso, "FLBPluginExitCtx");
    if (!cb_register || !cb_init || !cb_flush_ctx) {
        die("plugin lacks FLBPluginRegister, FLBPluginInit or FLBPluginFlushCtx");
    }
    if (cb_register(&def) != 0 || def.type != FLB_PROXY_OUTPUT_PLUGIN || def.proxy != FLB_PROXY_GOLANG || !def.name) {
        die("FLBPluginRegister did not register a Go output plugin");
    }
    printf("registered %s\n", def.name);
    api.output_get_property = get_property;

    char *line;
    while ((line = read_line()) != NULL) {
        char cmd[32], tag[4096];
        int id, n, threads;
        size_t len;
        if (sscanf(line, "init %d", &n) == 1) {
            struct instance *ins = calloc(1, sizeof(*ins));
            for (int i = 0; i < n && i < MAX_PROPS; i++) {
                char *kv = read_line();
                char *eq = kv ? strchr(kv, '=') : NULL;
                if (!eq) {
                    die("want key=value");
                }
                *eq = 0;
                ins->keys[i] = strdup(kv);
                ins->values[i] = strdup(eq + 1);
                ins->nprops++;
            }
            ins->plugin.name = def.name;
            ins->plugin.api = &api;
            ins->plugin.o_ins = ins;
            ins->plugin.context = &ins->context;
            ins->plugin.cb_init = (int (*)())cb_init;
            ins->plugin.cb_flush_ctx = cb_flush_ctx;
            ins->plugin.cb_exit = (int (*)())cb_exit;
            ins->plugin.cb_exit_ctx = cb_exit_ctx;
            int ret = cb_init(&ins->plugin);
            id = ninstances++;
            instances[id] = ins;
            printf("init %d %d\n", id, ret);
        }
        else if (sscanf(line, "flush %d %4095s %zu", &id, tag, &len) == 3) {
            struct instance *ins = lookup(id);
            void *data = read_bytes(len);
            int ret = flush(ins, tag, data, len);
            free(data);
            printf("flush %d\n", ret);
        }
        else if (sscanf(line, "pflush %d %4095s %d %d", &id, tag, &threads, &n) == 4) {
            struct job j = {.ins = lookup(id), .tag = tag, .count = n};
            j.chunks = calloc(n, sizeof(void *));
            j.lens = calloc(n, sizeof(size_t));
            j.rets = calloc(n, sizeof(int));
            pthread_mutex_init(&j.mu, NULL);
            for (int i = 0; i < n; i++) {
                char *l = read_line();
                if (!l || sscanf(l, "%zu", &j.lens[i]) != 1) {
                    die("want chunk length");
                }
                j.chunks[i] = read_bytes(j.lens[i]);
            }
            pthread_t th[64];
            if (threads < 1 || threads > 64) {
                die("threads must be 1 to 64");
            }
            for (int t = 0; t < threads; t++) {
                pthread_create(&th[t], NULL, worker, &j);
            }
            for (int t = 0; t < threads; t++) {
                pthread_join(th[t], NULL);
            }
            printf("pflush");
            for (int i = 0; i < n; i++) {
                printf(" %d", j.rets[i]);
                free(j.chunks[i]);
            }
            printf("\n");
            free(j.chunks);
            free(j.lens);
            free(j.rets);
        }
        else if (sscanf(line, "exitctx %d", &id) == 1) {
            struct instance *ins = lookup(id);
            int ret = cb_exit_ctx ? cb_exit_ctx(ins->context.remote_context) : -1;
            printf("exitctx %d\n", ret);
        }
        else if (sscanf(line, "%31s", cmd) == 1 && strcmp(cmd, "exit") == 0) {
            int ret = cb_exit ? cb_exit() : -1;
            printf("exit %d\n", ret);
            return 0;
        }
        else {
            die("unknown command");
        }
    }
    return 0;
}
