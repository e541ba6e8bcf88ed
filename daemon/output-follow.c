/*
 * output-follow.c -- followers: connections that asked process.logs to
 * follow a process or a pool. Each new captured line goes to them as a
 * notification [2, "log", [{id, name, pool, stream, ts, data}]]; the end
 * of a followed process as [2, "log.end", [{id, name, state, exit_code,
 * signal}]]. A follower that falls behind pauses the reading of the
 * process's pipe (back-pressure), so it is never sent an inconsistent
 * stream and the daemon never buffers without bound.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "corrald.h"
#include "output-internal.h"
#include "process.h"
#include "xmalloc.h"

#define FOLLOW_SLOW_BYTES (1024 * 1024) /* queued to a follower before the pipe pauses */

struct follower {
        struct conn *conn;
        uint64_t process_id; /* 0: follows pool */
        char *pool;
        unsigned streams; /* LOG_STDOUT | LOG_STDERR bits */
        TAILQ_ENTRY(follower) entry;
};

struct follows {
        TAILQ_HEAD(, follower) list;
        msgpack_sbuffer buf;
        msgpack_packer pk;
};

static struct follows *
follows_get(struct corrald *d)
{
        struct follows *f = d->follows;

        if (f == NULL) {
                f = d->follows = xcalloc(1, sizeof *f);
                TAILQ_INIT(&f->list);
                msgpack_sbuffer_init(&f->buf);
                msgpack_packer_init(&f->pk, &f->buf, msgpack_sbuffer_write);
        }
        return f;
}

static bool
follower_matches(const struct follower *fl, const struct process *p)
{
        if (fl->process_id != 0)
                return fl->process_id == p->id;
        return strcmp(fl->pool, p->pool_name) == 0;
}

void
output_follow(struct corrald *d, struct conn *c, uint64_t process_id, const char *pool,
              unsigned streams)
{
        struct follows *f = follows_get(d);
        struct follower *fl = xcalloc(1, sizeof *fl);

        fl->conn = c;
        fl->process_id = process_id;
        fl->pool = pool != NULL ? xstrdup(pool) : NULL;
        fl->streams = streams;
        TAILQ_INSERT_TAIL(&f->list, fl, entry);
        conn_set_following(c, true);
}

static void
follower_free(struct follows *f, struct follower *fl)
{
        TAILQ_REMOVE(&f->list, fl, entry);
        free(fl->pool);
        free(fl);
}

void
output_unfollow_conn(struct corrald *d, struct conn *c)
{
        struct follows *f = d->follows;
        struct follower *fl, *next;

        if (f == NULL)
                return;
        for (fl = TAILQ_FIRST(&f->list); fl != NULL; fl = next) {
                next = TAILQ_NEXT(fl, entry);
                if (fl->conn == c)
                        follower_free(f, fl);
        }
}

void
output_follow_line(struct corrald *d, const struct process *p, const struct logline *l)
{
        struct follows *f = d->follows;
        struct follower *fl;
        bool packed = false;

        if (f == NULL || TAILQ_EMPTY(&f->list))
                return;
        TAILQ_FOREACH(fl, &f->list, entry)
        {
                if (!follower_matches(fl, p) || !(fl->streams & l->stream))
                        continue;
                if (!packed) {
                        msgpack_sbuffer_clear(&f->buf);
                        proto_pack_notification_head(&f->pk, "log");
                        msgpack_pack_array(&f->pk, 1);
                        msgpack_pack_map(&f->pk, 6);
                        proto_pack_kv_uint(&f->pk, "id", p->id);
                        proto_pack_kv_str(&f->pk, "name", p->name);
                        proto_pack_kv_str(&f->pk, "pool", p->pool_name);
                        proto_pack_kv_str(&f->pk, "stream",
                                          l->stream == LOG_STDERR ? "stderr" : "stdout");
                        proto_pack_kv_double(&f->pk, "ts", l->ts);
                        proto_pack_str(&f->pk, "data");
                        msgpack_pack_bin(&f->pk, l->len);
                        msgpack_pack_bin_body(&f->pk, l->data, l->len);
                        packed = true;
                }
                conn_write(fl->conn, f->buf.data, f->buf.size);
        }
}

bool
output_follower_slow(struct corrald *d, const struct process *p)
{
        struct follows *f = d->follows;
        struct follower *fl;

        if (f == NULL)
                return false;
        TAILQ_FOREACH(fl, &f->list, entry)
        {
                if (follower_matches(fl, p) && conn_output_pending(fl->conn) > FOLLOW_SLOW_BYTES)
                        return true;
        }
        return false;
}

void
output_follow_end(struct corrald *d, const struct process *p)
{
        struct follows *f = d->follows;
        struct follower *fl, *next;

        if (f == NULL)
                return;
        for (fl = TAILQ_FIRST(&f->list); fl != NULL; fl = next) {
                next = TAILQ_NEXT(fl, entry);
                if (fl->process_id != p->id)
                        continue;
                msgpack_sbuffer_clear(&f->buf);
                proto_pack_notification_head(&f->pk, "log.end");
                msgpack_pack_array(&f->pk, 1);
                msgpack_pack_map(&f->pk, 5);
                proto_pack_kv_uint(&f->pk, "id", p->id);
                proto_pack_kv_str(&f->pk, "name", p->name);
                proto_pack_kv_str(&f->pk, "state", process_state_name(p->state));
                if (p->has_ended_once && p->exit_code >= 0)
                        proto_pack_kv_int(&f->pk, "exit_code", p->exit_code);
                else
                        proto_pack_kv_nil(&f->pk, "exit_code");
                if (p->has_ended_once && p->term_signal > 0)
                        proto_pack_kv_str(&f->pk, "signal", proto_signal_name(p->term_signal));
                else
                        proto_pack_kv_nil(&f->pk, "signal");
                conn_write(fl->conn, f->buf.data, f->buf.size);
                follower_free(f, fl);
        }
}

void
output_follows_free(struct corrald *d)
{
        struct follows *f = d->follows;
        struct follower *fl;

        if (f == NULL)
                return;
        while ((fl = TAILQ_FIRST(&f->list)) != NULL)
                follower_free(f, fl);
        msgpack_sbuffer_destroy(&f->buf);
        free(f);
        d->follows = NULL;
}
