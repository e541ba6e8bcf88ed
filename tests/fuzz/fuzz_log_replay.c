/*
 * fuzz_log_replay.c -- libFuzzer target for a durable queue's log replay
 * at start-up (daemon/queue-log.c and daemon/queue-restore.c, with the
 * queue code they drive).
 *
 * Input: byte 0 holds flags, the rest is a log file.
 *   bit 0: "structured": the magic "CORRALQ1" is put in front of the rest
 *          and every record's CRC-32 is fixed up before the file is
 *          written, so that mutations reach the record decoder and the
 *          replay instead of stopping at the checksum;
 *   bit 1: the message taken after the replay is acked (else returned).
 * The file is written as <state>/queues/fz.log and restored by
 * queue_table_restore(), the daemon's own start-up path
 * (queue_log_read_config(), then queue_log_open() replaying every record
 * and truncating a torn tail, then placing the messages). Then the queue
 * is used a little (two puts, a take, a settle), its log flushed and
 * closed, and restored a second time from what the first run left.
 *
 * Invariants checked: after each restore the queue's count and bytes are
 * those of the messages it holds; the second restore finds exactly the
 * messages the first run ended with (replay is deterministic and what was
 * written is read back).
 *
 * The queue code is linked as it is (queue*.c, heap.c, queue-log.c); its
 * collaborators elsewhere in the daemon -- requests, connections, events,
 * pools, the process table -- are stubbed below: no request or connection
 * exists here, so the request and connection stubs abort if reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <event2/event.h>

#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "pool.h"
#include "process-table.h"
#include "process.h"
#include "queue-log.h"
#include "queue.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the daemon around the queues ---------------------------------------- */

double
process_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
process_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
events_queue(struct corrald *d, const struct queue *q, const char *type, uint64_t msg_id)
{
}

void
pool_table_queue_ready(struct pool_table *pt, const char *name)
{
}

unsigned
pool_table_consumers(struct pool_table *pt, const char *name)
{
        return 0;
}

struct process *
process_find_pid(struct process_table *t, pid_t pid)
{
        return NULL;
}

/* No connection and no request exists here. */
pid_t
conn_peer_pid(const struct conn *c)
{
        abort();
}

unsigned
conn_reservations(const struct conn *c)
{
        abort();
}

void
conn_reservations_add(struct conn *c, int delta)
{
        abort();
}

/* Log commits batch their answers; there are none here. */
void
conn_batch_begin(struct corrald *d)
{
}

void
conn_batch_end(struct corrald *d)
{
}

msgpack_packer *
request_result(struct request *req)
{
        abort();
}

void
request_done(struct request *req)
{
        abort();
}

void
request_ok(struct request *req)
{
        abort();
}

void
request_error(struct request *req, enum proto_err code, const char *field, const char *fmt, ...)
{
        abort();
}

int
request_park(struct request *req, struct request_waitq *q, double timeout, request_wake_fn wake,
             request_expire_fn expire)
{
        abort();
}

void
request_hold(struct request *req, struct request_waitq *q)
{
        abort();
}

void
request_unpark(struct request *req)
{
        abort();
}

/* ---- the target -------------------------------------------------------------- */

#define MAGIC "CORRALQ1"

static struct corrald dctx;
static char state[64], qdir[96], logpath[128], tmppath[136];

static void
cleanup(void)
{
        unlink(logpath);
        unlink(tmppath);
        rmdir(qdir);
        rmdir(state);
}

static void
setup_once(void)
{
        snprintf(state, sizeof state, "/tmp/corral-fuzz-log.XXXXXX");
        if (mkdtemp(state) == NULL)
                abort();
        snprintf(qdir, sizeof qdir, "%s/queues", state);
        snprintf(logpath, sizeof logpath, "%s/fz.log", qdir);
        snprintf(tmppath, sizeof tmppath, "%s.tmp", logpath);
        if (mkdir(qdir, 0700) != 0)
                abort();
        atexit(cleanup);
        log_set_level(LOG_LEVEL_ERROR); /* torn tails are expected here */
        dctx.base = event_base_new();
        if (dctx.base == NULL)
                abort();
        dctx.config.state_dir = state;
}

static uint32_t
rd32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
wr32(unsigned char *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

/* The file to write: as given, or the magic plus records with their CRCs fixed. */
static unsigned char *
make_file(const uint8_t *data, size_t size, size_t *len)
{
        bool structured = size > 0 && (data[0] & 1);
        unsigned char *f;
        size_t off;

        data++;
        size = size > 0 ? size - 1 : 0;
        if (!structured) {
                f = malloc(size + 1);
                if (f == NULL)
                        abort();
                memcpy(f, data, size);
                *len = size;
                return f;
        }
        f = malloc(size + 8);
        if (f == NULL)
                abort();
        memcpy(f, MAGIC, 8);
        memcpy(f + 8, data, size);
        *len = size + 8;
        /* Records: u32 length n, u32 CRC-32 of the n bytes that follow, the bytes. */
        for (off = 8; off + 8 <= *len;) {
                uint32_t n = rd32(f + off);

                if (n == 0 || n > *len - off - 8)
                        break;
                wr32(f + off + 4, (uint32_t)crc32(0L, f + off + 8, n));
                off += 8 + (size_t)n;
        }
        return f;
}

struct tally {
        uint64_t count, bytes;
};

static void
tally_one(const struct qmsg *m, void *arg)
{
        struct tally *t = arg;

        t->count++;
        t->bytes += m->len;
        (void)m->data[m->len > 0 ? m->len - 1 : 0]; /* ASan: the data is all there */
}

/* The queue's counters are those of the messages it holds. */
static void
check_counts(struct queue *q)
{
        struct tally t = {0, 0};

        queue_for_each(q, tally_one, &t);
        if (t.count != q->count || t.bytes != q->bytes) {
                fprintf(stderr,
                        "queue %s: count %llu bytes %llu, holds %llu messages of %llu bytes\n",
                        q->name, (unsigned long long)q->count, (unsigned long long)q->bytes,
                        (unsigned long long)t.count, (unsigned long long)t.bytes);
                abort();
        }
}

/* Run what the loop has ready (log flushes) until nothing is left to write. */
static void
settle_loop(struct queue *q)
{
        for (int i = 0; i < 8; i++) {
                event_base_loop(dctx.base, EVLOOP_NONBLOCK);
                if (q->log == NULL || !queue_log_pending(q->log))
                        break;
        }
}

/* Restore the state directory; the queue fz, or NULL if it was not restored. */
static struct queue *
restore(void)
{
        char *cause = NULL;

        dctx.queues = queue_table_new(&dctx);
        if (queue_table_restore(dctx.queues, &cause) != 0) {
                fprintf(stderr, "restore: %s\n", cause);
                abort(); /* one bad log must never fail the whole restore */
        }
        return queue_find(dctx.queues, "fz");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        unsigned char *file;
        struct queue *q;
        struct qmsg *m;
        uint64_t count, bytes;
        size_t len;
        int fd;

        if (state[0] == '\0')
                setup_once();
        unlink(tmppath);
        file = make_file(data, size, &len);
        fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd == -1 || (len > 0 && write(fd, file, len) != (ssize_t)len) || close(fd) != 0)
                abort();
        free(file);

        q = restore();
        if (q == NULL) {
                queue_table_free(dctx.queues);
                dctx.queues = NULL;
                return 0;
        }
        check_counts(q);
        /* Use it a little, as the daemon would. */
        queue_put_internal(q, "fuzz-1", 6);
        queue_put_internal(q, "fuzz-22", 7);
        settle_loop(q);
        check_counts(q);
        if ((m = queue_take(q)) != NULL) {
                uint64_t id = m->id;

                settle_loop(q);
                queue_settle(q, id, size > 0 && (data[0] & 2), 0);
        }
        settle_loop(q);
        check_counts(q);
        count = q->count;
        bytes = q->bytes;
        queue_table_free(dctx.queues);

        /* What was written is read back. */
        q = restore();
        if (q == NULL) {
                fprintf(stderr, "the log written by the first run was not restored\n");
                abort();
        }
        check_counts(q);
        if (q->count != count || q->bytes != bytes) {
                fprintf(stderr,
                        "second restore: %llu messages of %llu bytes; the first run ended with "
                        "%llu of %llu\n",
                        (unsigned long long)q->count, (unsigned long long)q->bytes,
                        (unsigned long long)count, (unsigned long long)bytes);
                abort();
        }
        queue_table_free(dctx.queues);
        dctx.queues = NULL;
        return 0;
}
