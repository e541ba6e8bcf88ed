/*
 * method-daemon-stats.c -- daemon.stats: current usage against every
 * limit, and the daemon's own resources (memory, descriptors).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "corrald.h"
#include "events.h"
#include "method.h"
#include "pool.h"
#include "process.h"
#include "process-table.h"
#include "queue.h"
#include "request.h"

/* Resident memory in bytes, from /proc/self/statm. */
static uint64_t
stats_rss(void)
{
        unsigned long size, resident;
        FILE *fp = fopen("/proc/self/statm", "re");
        int n;

        if (fp == NULL)
                return 0;
        n = fscanf(fp, "%lu %lu", &size, &resident);
        fclose(fp);
        return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Open descriptors, counted through a directory kept open: out of descriptors, it still counts. */
static unsigned
stats_fds(struct corrald *d)
{
        unsigned n = 0;

        if (d->fd_dir == NULL)
                return 0;
        rewinddir(d->fd_dir);
        while (readdir(d->fd_dir) != NULL)
                n++;
        return n > 3 ? n - 3 : 0; /* ., .. and the directory's own descriptor */
}

static void
stats_pair(msgpack_packer *pk, const char *key, uint64_t used, uint64_t limit)
{
        proto_pack_str(pk, key);
        msgpack_pack_map(pk, 2);
        proto_pack_kv_uint(pk, "used", used);
        proto_pack_kv_uint(pk, "limit", limit);
}

static enum method_result
stats_run(struct request *req, const void *params)
{
        struct corrald *d = req->daemon;
        const struct corrald_config *c = &d->config;
        msgpack_packer *pk = request_result(req);
        struct rlimit rl = {0, 0};
        struct queue *q;
        uint64_t qbytes = 0, qcount = 0;

        TAILQ_FOREACH(q, queue_table_list(d->queues), entry)
        {
                qbytes += q->bytes;
                qcount += q->count;
        }
        getrlimit(RLIMIT_NOFILE, &rl);
        msgpack_pack_map(pk, 15);
        stats_pair(pk, "connections", d->nconns, c->max_connections);
        stats_pair(pk, "processes", process_table_live(d->processes), c->max_processes);
        /* Ended records: evictable history, and those pinned for their spawners' joins. */
        stats_pair(pk, "history", process_table_history(d->processes), c->history);
        proto_pack_kv_uint(pk, "pinned", process_table_pinned(d->processes));
        proto_pack_kv_uint(pk, "max_pinned_per_connection", c->max_pinned);
        stats_pair(pk, "descriptors", stats_fds(d), rl.rlim_cur);
        proto_pack_kv_uint(pk, "max_processes_per_uid", c->max_processes_per_uid);
        proto_pack_kv_uint(pk, "max_waiting_per_connection", c->max_waiting);
        proto_pack_kv_uint(pk, "max_output_per_connection", c->max_output);
        proto_pack_kv_uint(pk, "max_message", c->limits.max_message);
        proto_pack_kv_uint(pk, "queue_max_message", c->queue_max_message);
        proto_pack_kv_double(pk, "idle_timeout", c->idle_timeout);
        proto_pack_str(pk, "queues");
        msgpack_pack_map(pk, 3);
        proto_pack_kv_uint(pk, "count", queue_table_count(d->queues));
        proto_pack_kv_uint(pk, "messages", qcount);
        proto_pack_kv_uint(pk, "bytes", qbytes);
        proto_pack_kv_uint(pk, "rss", stats_rss());
        proto_pack_kv_double(pk, "uptime", process_mono() - d->started);
        request_done(req);
        return METHOD_DONE;
}

const struct method method_daemon_stats = {
    .name = PROTO_M_DAEMON_STATS,
    .params = &proto_spec_daemon_stats,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = stats_run,
};
