/*
 * state.c -- runtime changes that survive a restart of corrald: pools
 * created over the socket (their definition), and the replica counts and
 * closed flags of every pool, saved in STATE_DIR/pools.state and restored
 * after the configuration is applied. The file is rewritten whole (a new
 * file, fsync, rename, directory fsync) from the loop, after changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"
#include "log.h"
#include "pool.h"
#include "state.h"
#include "strv.h"
#include "xmalloc.h"

#define STATE_FILE    "pools.state"
#define STATE_MAX     (64u * 1024 * 1024) /* a larger file is not ours */
#define STATE_VERSION 1

struct state_count {
        char *name;
        unsigned replicas;
};

struct state {
        struct corrald *daemon;
        struct event *save_ev;
        bool restoring; /* changes made while restoring are not news */
        /* Saved replica counts of configured pools, read before they start. */
        struct state_count *counts;
        size_t ncounts;
};

static void
state_path(struct corrald *d, char *buf, size_t len, const char *suffix)
{
        snprintf(buf, len, "%s/%s%s", d->config.state_dir, STATE_FILE, suffix);
}

/* A pool's definition as pool.create parameters. */
static void
state_pack_env(msgpack_packer *pk, char **env)
{
        size_t n = strv_len((const char *const *)env), i;

        msgpack_pack_map(pk, n);
        for (i = 0; i < n; i++) {
                const char *eq = strchr(env[i], '=');

                proto_pack_strn(pk, env[i], eq != NULL ? (size_t)(eq - env[i]) : strlen(env[i]));
                proto_pack_str(pk, eq != NULL ? eq + 1 : "");
        }
}

static void
state_pack_argv(msgpack_packer *pk, char **argv)
{
        size_t n = strv_len((const char *const *)argv), i;

        msgpack_pack_array(pk, n);
        for (i = 0; i < n; i++)
                proto_pack_str(pk, argv[i]);
}

static void
state_pack_definition(const struct pool *pool, msgpack_packer *pk)
{
        unsigned n = 2 + POLICY_PACK_PAIRS + OUTPUT_CONFIG_PAIRS;

        n += pool->has_replicas || pool->has_consume;
        msgpack_pack_map(pk, n);
        proto_pack_kv_str(pk, "name", pool->name);
        proto_pack_kv_uint(pk, "size", pool->size);
        policy_pack_pairs(&pool->defaults, pk);
        output_config_pack_pairs(&pool->output, pk);
        if (pool->has_replicas) {
                proto_pack_str(pk, "replicas");
                msgpack_pack_map(pk, 3 + (pool->replicas.cwd != NULL));
                proto_pack_str(pk, "argv");
                state_pack_argv(pk, pool->replicas.argv);
                proto_pack_str(pk, "env");
                state_pack_env(pk, pool->replicas.env);
                proto_pack_kv_uint(pk, "count", pool->replicas.count);
                if (pool->replicas.cwd != NULL)
                        proto_pack_kv_str(pk, "cwd", pool->replicas.cwd);
        } else if (pool->has_consume) {
                proto_pack_str(pk, "consume");
                msgpack_pack_map(pk, 3 + (pool->consume.cwd != NULL));
                proto_pack_kv_str(pk, "queue", pool->consume.queue);
                proto_pack_str(pk, "argv");
                state_pack_argv(pk, pool->consume.argv);
                proto_pack_str(pk, "env");
                state_pack_env(pk, pool->consume.env);
                if (pool->consume.cwd != NULL)
                        proto_pack_kv_str(pk, "cwd", pool->consume.cwd);
        }
}

/*
 * Pools worth remembering: all but the default one. A pool made over the
 * socket with its own user is not: its definition here has no user, and
 * recreating it without one would run it as root.
 */
static bool
state_worth(struct corrald *d, const struct pool *pool)
{
        return !pool->deleting && pool != pool_default(d->pools) &&
               !(pool->config_fp == NULL && pool->privs != NULL);
}

static int
state_write(struct corrald *d, const char *tmp, const msgpack_sbuffer *sb)
{
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t off = 0;

        if (fd == -1)
                return -1;
        while (off < sb->size) {
                ssize_t n = write(fd, sb->data + off, sb->size - off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        close(fd);
                        return -1;
                }
                off += (size_t)n;
        }
        if (fsync(fd) != 0) {
                close(fd);
                return -1;
        }
        return close(fd);
}

static void
state_save_cb(evutil_socket_t fd, short what, void *arg)
{
        struct state *st = arg;
        struct corrald *d = st->daemon;
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        msgpack_sbuffer sb;
        msgpack_packer pk;
        struct pool *pool;
        uint32_t n = 0;
        int dfd;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        TAILQ_FOREACH(pool, pool_table_list(d->pools), entry)
        n += state_worth(d, pool);
        msgpack_pack_map(&pk, 2);
        proto_pack_kv_uint(&pk, "version", STATE_VERSION);
        proto_pack_str(&pk, "pools");
        msgpack_pack_array(&pk, n);
        TAILQ_FOREACH(pool, pool_table_list(d->pools), entry)
        {
                if (!state_worth(d, pool))
                        continue;
                msgpack_pack_map(&pk, 3);
                proto_pack_kv_bool(&pk, "configured", pool->config_fp != NULL);
                proto_pack_kv_bool(&pk, "closed", pool->closed);
                proto_pack_str(&pk, "definition");
                state_pack_definition(pool, &pk);
        }
        state_path(d, path, sizeof path, "");
        state_path(d, tmp, sizeof tmp, ".tmp");
        if ((mkdir(d->config.state_dir, 0700) == -1 && errno != EEXIST) ||
            state_write(d, tmp, &sb) != 0 || rename(tmp, path) != 0)
                log_warn("cannot save %s: %s (runtime changes may not survive a restart)", path,
                         strerror(errno));
        else if ((dfd = open(d->config.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
                if (fsync(dfd) != 0)
                        log_warn("fsync %s: %s", d->config.state_dir, strerror(errno));
                close(dfd);
        }
        msgpack_sbuffer_destroy(&sb);
}

struct state *
state_new(struct corrald *d)
{
        struct state *st = xcalloc(1, sizeof *st);

        st->daemon = d;
        st->save_ev = event_new(d->base, -1, 0, state_save_cb, st);
        if (st->save_ev == NULL)
                fatalx("cannot create an event");
        return st;
}

void
state_free(struct state *st)
{
        size_t i;

        if (st == NULL)
                return;
        for (i = 0; i < st->ncounts; i++)
                free(st->counts[i].name);
        free(st->counts);
        event_free(st->save_ev);
        free(st);
}

bool
state_saved_replicas(const struct state *st, const char *name, unsigned *count)
{
        size_t i;

        for (i = 0; st != NULL && i < st->ncounts; i++) {
                if (strcmp(st->counts[i].name, name) == 0) {
                        *count = st->counts[i].replicas;
                        return true;
                }
        }
        return false;
}

void
state_changed(struct state *st)
{
        if (st != NULL && !st->restoring)
                event_active(st->save_ev, EV_TIMEOUT, 0);
}

/* A key of a map, or NULL. */
static const msgpack_object *
state_get(const msgpack_object *map, const char *key)
{
        uint32_t i;

        if (map->type != MSGPACK_OBJECT_MAP)
                return NULL;
        for (i = 0; i < map->via.map.size; i++) {
                const msgpack_object *k = &map->via.map.ptr[i].key;

                if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
                    memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
                        return &map->via.map.ptr[i].val;
        }
        return NULL;
}

/* Recreate (or adjust) one saved pool. */
static void
state_restore_pool(struct corrald *d, const msgpack_object *entry, msgpack_zone *zone)
{
        const msgpack_object *def = state_get(entry, "definition"), *closed, *configured;
        struct proto_arena *a = proto_arena_new();
        struct proto_p_pool_create pc;
        struct proto_error err;
        struct proto_msg msg;
        msgpack_object params;
        struct pool *pool;

        if (def == NULL || a == NULL) {
                proto_arena_free(a);
                return;
        }
        memset(&msg, 0, sizeof msg);
        params.type = MSGPACK_OBJECT_ARRAY;
        params.via.array.size = 1;
        params.via.array.ptr = msgpack_zone_malloc(zone, sizeof(msgpack_object));
        params.via.array.ptr[0] = *def;
        msg.params = params;
        /* The same decoder as the wire: a saved file is input like any other. */
        if (proto_params_decode(&proto_spec_pool_create, &msg, &pc, a, &err) != 0) {
                log_warn("saved pool not restored: %s", err.message);
                proto_arena_free(a);
                return;
        }
        configured = state_get(entry, "configured");
        closed = state_get(entry, "closed");
        pool = pool_find(d->pools, pc.name);
        if (configured != NULL && configured->type == MSGPACK_OBJECT_BOOLEAN &&
            configured->via.boolean) {
                /* A configured pool: its definition is the file's, its count and state ours. */
                if (pool != NULL && pool->has_replicas && pc.has_replicas &&
                    pool->replicas.count != pc.replicas.count &&
                    pool_scale(pool, (unsigned)pc.replicas.count, &err) != 0)
                        log_warn("pool %s: %s", pool->name, err.message);
        } else if (pool == NULL && (pool = pool_create(d->pools, &pc, &err)) == NULL)
                log_warn("saved pool %s not restored: %s", pc.name, err.message);
        if (pool != NULL && closed != NULL && closed->type == MSGPACK_OBJECT_BOOLEAN)
                pool->closed = closed->via.boolean;
        proto_arena_free(a);
}

/* Read and decode the file; calls fn for each saved pool entry. */
static void
state_read(struct state *st, void (*fn)(struct state *, const msgpack_object *, msgpack_zone *))
{
        struct corrald *d = st->daemon;
        char path[PATH_MAX], *buf;
        msgpack_zone *zone;
        msgpack_object root;
        const msgpack_object *pools;
        struct stat sb;
        size_t off = 0, len;
        ssize_t n;
        int fd;

        state_path(d, path, sizeof path, "");
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
                if (errno != ENOENT)
                        log_warn("cannot read %s: %s", path, strerror(errno));
                return;
        }
        if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || (size_t)sb.st_size > STATE_MAX) {
                close(fd);
                return;
        }
        len = (size_t)sb.st_size;
        buf = xmalloc(len);
        while (off < len && (n = read(fd, buf + off, len - off)) > 0)
                off += (size_t)n;
        close(fd);
        zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
        off = 0;
        if (zone == NULL || msgpack_unpack(buf, len, &off, zone, &root) != MSGPACK_UNPACK_SUCCESS ||
            (pools = state_get(&root, "pools")) == NULL || pools->type != MSGPACK_OBJECT_ARRAY) {
                log_warn("%s is damaged: runtime changes are not restored", path);
        } else {
                for (uint32_t i = 0; i < pools->via.array.size; i++)
                        fn(st, &pools->via.array.ptr[i], zone);
        }
        if (zone != NULL)
                msgpack_zone_free(zone);
        free(buf);
}

/* A configured pool's saved count: remembered, applied when the configuration creates it. */
static void
state_note_count(struct state *st, const msgpack_object *entry, msgpack_zone *zone)
{
        const msgpack_object *def = state_get(entry, "definition"), *configured, *name, *rep,
                             *count;

        configured = state_get(entry, "configured");
        if (def == NULL || configured == NULL || configured->type != MSGPACK_OBJECT_BOOLEAN ||
            !configured->via.boolean || (name = state_get(def, "name")) == NULL ||
            name->type != MSGPACK_OBJECT_STR || (rep = state_get(def, "replicas")) == NULL ||
            (count = state_get(rep, "count")) == NULL ||
            count->type != MSGPACK_OBJECT_POSITIVE_INTEGER || count->via.u64 > 10000)
                return;
        st->counts = xreallocarray(st->counts, st->ncounts + 1, sizeof *st->counts);
        st->counts[st->ncounts].name = xstrndup(name->via.str.ptr, name->via.str.size);
        st->counts[st->ncounts].replicas = (unsigned)count->via.u64;
        st->ncounts++;
}

void
state_load(struct state *st)
{
        state_read(st, state_note_count);
}

static void
state_restore_entry(struct state *st, const msgpack_object *entry, msgpack_zone *zone)
{
        state_restore_pool(st->daemon, entry, zone);
}

void
state_restore(struct state *st)
{
        st->restoring = true;
        state_read(st, state_restore_entry);
        st->restoring = false;
}
