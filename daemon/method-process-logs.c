/*
 * method-process-logs.c -- process.logs: the buffered output of a process
 * (or of every member of a pool, interleaved in time order), the last
 * `tail` lines or all; with follow, new lines then come as notifications
 * until the process ends or the client leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "corrald.h"
#include "method.h"
#include "output.h"
#include "pool.h"
#include "process.h"
#include "request.h"
#include "xmalloc.h"

#define LOGS_MAX_BYTES (4u * 1024 * 1024) /* of line data in one answer */

struct logs_item {
        const struct process *p;
        const struct logline *l;
};

static int
logs_cmp(const void *a, const void *b)
{
        const struct logs_item *x = a, *y = b;

        if (x->l->ts != y->l->ts)
                return x->l->ts < y->l->ts ? -1 : 1;
        if (x->p->id != y->p->id)
                return x->p->id < y->p->id ? -1 : 1;
        return x->l->seq < y->l->seq ? -1 : x->l->seq > y->l->seq;
}

/* Append p's lines of the wanted streams to *items. */
static void
logs_collect(struct process *p, unsigned streams, struct logs_item **items, size_t *n, size_t *cap,
             uint64_t *lost)
{
        struct logring *r = output_ring(p->output);
        struct logline *l;

        *lost += r->lost;
        TAILQ_FOREACH(l, &r->lines, entry)
        {
                if (!(streams & l->stream))
                        continue;
                if (*n == *cap) {
                        *cap = *cap ? *cap * 2 : 64;
                        *items = xreallocarray(*items, *cap, sizeof **items);
                }
                (*items)[(*n)++] = (struct logs_item){p, l};
        }
}

static void
logs_pack(msgpack_packer *pk, const struct logs_item *items, size_t from, size_t n, uint64_t lost,
          bool truncated, bool ended)
{
        size_t i;

        msgpack_pack_map(pk, 4);
        proto_pack_str(pk, "lines");
        msgpack_pack_array(pk, n - from);
        for (i = from; i < n; i++) {
                const struct logline *l = items[i].l;

                msgpack_pack_map(pk, 5);
                proto_pack_kv_uint(pk, "id", items[i].p->id);
                proto_pack_kv_str(pk, "name", items[i].p->name);
                proto_pack_kv_str(pk, "stream", l->stream == LOG_STDERR ? "stderr" : "stdout");
                proto_pack_kv_double(pk, "ts", l->ts);
                proto_pack_str(pk, "data");
                msgpack_pack_bin(pk, l->len);
                msgpack_pack_bin_body(pk, l->data, l->len);
        }
        proto_pack_kv_uint(pk, "lost", lost);
        proto_pack_kv_bool(pk, "truncated", truncated);
        proto_pack_kv_bool(pk, "ended", ended);
}

static enum method_result
logs_run(struct request *req, const void *params)
{
        const struct proto_p_logs *lp = params;
        struct corrald *d = req->daemon;
        unsigned streams = lp->stream == PROTO_STREAM_STDOUT   ? LOG_STDOUT
                           : lp->stream == PROTO_STREAM_STDERR ? LOG_STDERR
                                                               : LOG_STDOUT | LOG_STDERR;
        struct logs_item *items = NULL;
        size_t n = 0, cap = 0, from = 0, bytes = 0;
        uint64_t lost = 0;
        struct process *p = NULL;
        bool ended = false, truncated = false;

        if (lp->pool != NULL) {
                struct pool *pool = pool_find_req(d->pools, lp->pool, req);

                if (pool == NULL)
                        return METHOD_DONE;
                TAILQ_FOREACH(p, &pool->members, pool_entry)
                logs_collect(p, streams, &items, &n, &cap, &lost);
                if (n > 0)
                        qsort(items, n, sizeof *items, logs_cmp);
                p = NULL;
        } else {
                if ((p = process_find_target(d->processes, &lp->t, req)) == NULL)
                        return METHOD_DONE;
                logs_collect(p, streams, &items, &n, &cap, &lost);
                ended = process_is_final(p);
        }
        if (lp->has_tail && lp->tail < n)
                from = n - lp->tail;
        /* Newest first when counting the budget: the answer keeps the end. */
        for (size_t i = n; i > from; i--) {
                bytes += items[i - 1].l->len;
                if (bytes > LOGS_MAX_BYTES) {
                        from = i;
                        truncated = true;
                        break;
                }
        }
        logs_pack(request_result(req), items, from, n, lost, truncated, ended);
        free(items);
        /*
         * Registered before the answer is sent (the params go with the
         * request); no line can be read before this callback returns, so the
         * answer still comes first.
         */
        if (lp->follow && !ended && req->conn != NULL)
                output_follow(d, req->conn, p != NULL ? p->id : 0, lp->pool, streams);
        request_done(req);
        return METHOD_DONE;
}

const struct method method_process_logs = {
    .name = PROTO_M_PROCESS_LOGS,
    .params = &proto_spec_process_logs,
    .access = METHOD_READ,
    .scope = access_scope_logs,
    .flags = METHOD_STOPPING_OK,
    .run = logs_run,
};
