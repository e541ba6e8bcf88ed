/*
 * queue-log.c -- a durable queue's append-only log. See queue-log.h.
 *
 * Record: u32 length of what follows the CRC, u32 CRC-32 of it, u8 type,
 * payload (little-endian integers, IEEE doubles as their bits).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <event2/event.h>

#include "log.h"
#include "queue-log.h"
#include "queue.h"
#include "syncer.h"
#include "xmalloc.h"

#define QLOG_MAGIC       "CORRALQ1"
#define QLOG_HEADER      8
#define QLOG_REC_MAX     (64u * 1024 * 1024) /* a record larger than this is corrupt */
#define QLOG_COMPACT_MIN (1u << 20)          /* never compact a log smaller than this */

struct queue_log {
        struct queue *queue;
        char *path;
        char *dir;
        int fd;             /* -1: restored from a read-only file; reopened on the next write */
        uint64_t size;      /* bytes in the file (all written) */
        uint64_t durable;   /* bytes known to be on disk */
        bool must_sync;     /* the pending records include one whose answer waits for the disk */
        unsigned char *buf; /* pending records */
        size_t len, cap;
        struct event *flush_ev;
        struct syncer *syncer; /* fsync batch syncs there, off the loop; NULL: on it */
        struct sync_job *job;  /* the sealed batch's fdatasync, under way */
        uint64_t sealed_from;  /* the file's size before the sealed batch */
};

static void qlog_synced_cb(void *, int);

static void
qlog_reserve(struct queue_log *l, size_t more)
{
        if (l->len + more <= l->cap)
                return;
        while (l->cap < l->len + more)
                l->cap = l->cap ? l->cap * 2 : 4096;
        l->buf = xreallocarray(l->buf, l->cap, 1);
}

static void
qlog_u8(struct queue_log *l, uint8_t v)
{
        l->buf[l->len++] = v;
}

static void
qlog_u32(struct queue_log *l, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                l->buf[l->len++] = (unsigned char)(v >> (8 * i));
}

static void
qlog_u64(struct queue_log *l, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                l->buf[l->len++] = (unsigned char)(v >> (8 * i));
}

static void
qlog_f64(struct queue_log *l, double d)
{
        uint64_t v;

        memcpy(&v, &d, sizeof v);
        qlog_u64(l, v);
}

/* Start a record of payload bytes; returns where its header is. */
static size_t
qlog_begin(struct queue_log *l, enum queue_log_type type, size_t payload)
{
        size_t at = l->len;

        qlog_reserve(l, 9 + payload);
        l->len += 8; /* length and CRC, filled in by qlog_end */
        qlog_u8(l, (uint8_t)type);
        return at;
}

static void
qlog_end(struct queue_log *l, size_t at)
{
        uint32_t n = (uint32_t)(l->len - at - 8);
        uint32_t crc = (uint32_t)crc32(0L, l->buf + at + 8, n);
        size_t end = l->len;

        l->len = at;
        qlog_u32(l, n);
        qlog_u32(l, crc);
        l->len = end;
}

static void
qlog_config(struct queue_log *l, const struct queue_config *c)
{
        size_t dl = strlen(c->dead_letter);
        size_t at = qlog_begin(l, QLOG_CONFIG, 8 + 8 + 1 + 1 + 8 + 4 + 1 + dl + 8);

        qlog_u64(l, c->maxsize);
        qlog_u64(l, c->max_bytes);
        qlog_u8(l, (uint8_t)c->fsync);
        qlog_u8(l, c->durable);
        qlog_f64(l, c->visibility_timeout);
        qlog_u32(l, c->max_attempts);
        qlog_u8(l, (uint8_t)dl);
        memcpy(l->buf + l->len, c->dead_letter, dl);
        l->len += dl;
        /* Ids are never reused, even once every message they named is gone from the log. */
        qlog_u64(l, l->queue->next_id);
        qlog_end(l, at);
}

void
queue_log_put(struct queue_log *l, const struct qmsg *m)
{
        size_t at = qlog_begin(l, QLOG_PUT, 8 + 4 + 4 + 8 + 4 + m->len);

        qlog_u64(l, m->id);
        qlog_u32(l, (uint32_t)m->priority);
        qlog_u32(l, m->attempts);
        /* Set while the message waits for its delay (also before its put is committed). */
        qlog_f64(l, m->where == QMSG_DELAYED || m->where == QMSG_COMMITTING ? m->visible_wall : 0);
        qlog_u32(l, m->len);
        memcpy(l->buf + l->len, m->data, m->len);
        l->len += m->len;
        qlog_end(l, at);
        l->must_sync = true;
}

void
queue_log_ack(struct queue_log *l, uint64_t id, bool answered_after)
{
        size_t at = qlog_begin(l, QLOG_ACK, 8);

        qlog_u64(l, id);
        qlog_end(l, at);
        l->must_sync |= answered_after;
}

void
queue_log_attempt(struct queue_log *l, uint64_t id, uint32_t attempts)
{
        size_t at = qlog_begin(l, QLOG_ATTEMPT, 12);

        qlog_u64(l, id);
        qlog_u32(l, attempts);
        qlog_end(l, at);
}

void
queue_log_delay(struct queue_log *l, uint64_t id, double visible_wall)
{
        size_t at = qlog_begin(l, QLOG_DELAY, 16);

        qlog_u64(l, id);
        qlog_f64(l, visible_wall);
        qlog_end(l, at);
}

bool
queue_log_pending(const struct queue_log *l)
{
        return l->len > 0;
}

uint64_t
queue_log_size(const struct queue_log *l)
{
        return l->size + l->len;
}

/* Write all of buf; 0 or -1 with errno. */
static int
qlog_write_all(int fd, const unsigned char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        if (w == 0)
                                errno = EIO;
                        return -1;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Open a log restored read-only for writing, from where its good records end. */
static int
qlog_reopen(struct queue_log *l)
{
        int fd = open(l->path, O_WRONLY | O_CLOEXEC), saved;

        if (fd == -1)
                return -1;
        /* A torn tail could not be cut while the file was read-only: cut it now. */
        if (ftruncate(fd, (off_t)l->size) == -1 || lseek(fd, (off_t)l->size, SEEK_SET) == -1) {
                saved = errno;
                close(fd);
                errno = saved;
                return -1;
        }
        log_info("queue %s: %s is writable again", l->queue->name, l->path);
        l->fd = fd;
        return 0;
}

/* Cut a failed batch off so the next one starts on a record boundary. */
static void
qlog_truncate(struct queue_log *l, uint64_t size)
{
        if (ftruncate(l->fd, (off_t)size) == -1 || lseek(l->fd, 0, SEEK_END) == -1)
                log_error("queue %s: cannot truncate %s after a failed write: %s", l->queue->name,
                          l->path, strerror(errno));
        l->size = size;
}

/* The sealed batch's fdatasync returned: error 0 or errno. */
static void
qlog_sync_result(struct queue_log *l, int error)
{
        l->job = NULL;
        if (error == 0) {
                l->durable = l->size;
                return;
        }
        log_error("queue %s: syncing %s: %s", l->queue->name, l->path, strerror(error));
        qlog_truncate(l, l->sealed_from);
}

void
queue_log_settle(struct queue_log *l)
{
        int error;

        if (l->job == NULL)
                return;
        log_debug("queue %s: waiting for the sync under way", l->queue->name);
        error = syncer_wait(l->syncer, l->job);
        qlog_sync_result(l, error);
        queue_log_done(l->queue, true, error == 0, error);
}

static void
qlog_synced_cb(void *arg, int error)
{
        struct queue_log *l = arg;

        qlog_sync_result(l, error);
        queue_log_done(l->queue, true, error == 0, error);
        /* What arrived during the sync is the next batch. */
        if (l->len > 0)
                event_active(l->flush_ev, EV_TIMEOUT, 0);
}

/* A write or sync failed: cut it off and drop the pending records; -1, errno kept. */
static int
qlog_failed(struct queue_log *l)
{
        int saved = errno;

        qlog_truncate(l, l->size);
        l->len = 0;
        l->must_sync = false;
        errno = saved;
        return -1;
}

int
queue_log_flush_now(struct queue_log *l)
{
        bool sync;

        /* In file order: the batch syncing off the loop first. */
        queue_log_settle(l);
        if (l->len == 0)
                return 0;
        if (l->fd == -1 && qlog_reopen(l) == -1) {
                l->len = 0; /* not written: the caller answers io_error */
                return -1;
        }
        /*
         * batch syncs only when an answer waits for it (a put, an ack):
         * the other records (removals of gets without ack, attempt counts,
         * delays) are at-least-once and ride on the next sync.
         */
        sync = l->queue->cfg.fsync == QUEUE_FSYNC_ALWAYS ||
               (l->queue->cfg.fsync == QUEUE_FSYNC_BATCH && l->must_sync);
        if (qlog_write_all(l->fd, l->buf, l->len) == 0 && (!sync || fdatasync(l->fd) == 0)) {
                l->size += l->len;
                if (sync)
                        l->durable = l->size;
                l->len = 0;
                l->must_sync = false;
                return 0;
        }
        return qlog_failed(l);
}

/*
 * fsync batch with a syncer: write the pending records and seal them as
 * a batch whose fdatasync runs off the loop; the loop gathers the next
 * batch meanwhile. 0, or -1 with errno (nothing sealed).
 */
static int
qlog_write_sealed(struct queue_log *l)
{
        if (l->fd == -1 && qlog_reopen(l) == -1) {
                l->len = 0;
                return -1;
        }
        if (qlog_write_all(l->fd, l->buf, l->len) != 0)
                return qlog_failed(l);
        l->sealed_from = l->size;
        l->size += l->len;
        l->len = 0;
        l->must_sync = false;
        queue_log_seal(l->queue);
        l->job = syncer_submit(l->syncer, l->fd, qlog_synced_cb, l);
        return 0;
}

static void
qlog_flush_cb(evutil_socket_t fd, short what, void *arg)
{
        struct queue_log *l = arg;
        struct queue *q = l->queue;
        int saved;

        if (l->job != NULL)
                return; /* its completion flushes what gathered meanwhile */
        if (l->syncer != NULL && q->cfg.fsync == QUEUE_FSYNC_BATCH && l->must_sync && l->len > 0) {
                if (qlog_write_sealed(l) == 0)
                        return;
        } else if (queue_log_flush_now(l) == 0) {
                queue_log_done(q, false, true, 0);
                return;
        }
        saved = errno;
        log_error("queue %s: writing %s: %s", q->name, l->path, strerror(saved));
        queue_log_done(q, false, false, saved);
}

void
queue_log_commit(struct queue_log *l)
{
        /* Batch: after the loop has handled what arrived together; always: now. */
        if (l->queue->cfg.fsync == QUEUE_FSYNC_ALWAYS)
                qlog_flush_cb(-1, 0, l);
        else
                event_active(l->flush_ev, EV_TIMEOUT, 0);
}

static int
qlog_fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (fd == -1)
                return -1;
        r = fsync(fd);
        close(fd);
        return r;
}

static struct queue_log *
qlog_alloc(struct event_base *base, struct syncer *syncer, struct queue *q, const char *dir,
           const char *path)
{
        struct queue_log *l = xcalloc(1, sizeof *l);

        l->syncer = syncer;

        l->queue = q;
        l->dir = xstrdup(dir);
        l->path = xstrdup(path);
        l->fd = -1;
        l->flush_ev = event_new(base, -1, 0, qlog_flush_cb, l);
        if (l->flush_ev == NULL)
                fatalx("cannot create an event");
        return l;
}

/* Write a new file at tmp with the config and (optionally) the live messages; 0 or -1. */
static void qlog_put_each(const struct qmsg *, void *);

static int
qlog_write_file(struct queue_log *l, const char *tmp, bool with_messages, char **cause)
{
        unsigned char *saved_buf = l->buf;
        size_t saved_len = l->len, saved_cap = l->cap;
        int fd;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd == -1) {
                xasprintf(cause, "cannot create %s: %s", tmp, strerror(errno));
                return -1;
        }
        /* Build the new file's contents in a fresh buffer. */
        l->buf = NULL;
        l->len = l->cap = 0;
        qlog_reserve(l, QLOG_HEADER);
        memcpy(l->buf, QLOG_MAGIC, QLOG_HEADER);
        l->len = QLOG_HEADER;
        qlog_config(l, &l->queue->cfg);
        if (with_messages)
                queue_for_each(l->queue, qlog_put_each, l);
        if (qlog_write_all(fd, l->buf, l->len) != 0 || fsync(fd) != 0) {
                xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
                close(fd);
                unlink(tmp);
                free(l->buf);
                l->buf = saved_buf;
                l->len = saved_len;
                l->cap = saved_cap;
                return -1;
        }
        free(l->buf);
        l->buf = saved_buf;
        l->len = saved_len;
        l->cap = saved_cap;
        return fd;
}

static void
qlog_put_each(const struct qmsg *m, void *arg)
{
        queue_log_put(arg, m);
}

/* Replace the file with tmp (already written and synced) atomically. */
static int
qlog_install(struct queue_log *l, const char *tmp, int fd, char **cause)
{
        struct stat st;

        if (rename(tmp, l->path) == -1 || qlog_fsync_dir(l->dir) == -1) {
                xasprintf(cause, "cannot install %s: %s", l->path, strerror(errno));
                close(fd);
                unlink(tmp);
                return -1;
        }
        if (l->fd != -1)
                close(l->fd);
        l->fd = fd;
        if (fstat(fd, &st) == 0)
                l->size = l->durable = (uint64_t)st.st_size;
        /* The new file was opened for writing at its end already. */
        return 0;
}

struct queue_log *
queue_log_create(struct event_base *base, struct syncer *syncer, struct queue *q, const char *dir,
                 char **cause)
{
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        struct queue_log *l;
        int fd;

        snprintf(path, sizeof path, "%s/%s.log", dir, q->name);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        l = qlog_alloc(base, syncer, q, dir, path);
        if ((fd = qlog_write_file(l, tmp, false, cause)) == -1 ||
            qlog_install(l, tmp, fd, cause) != 0) {
                queue_log_free(l);
                return NULL;
        }
        return l;
}

/* Little-endian readers over a record's payload. */
static uint32_t
rd_u32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
rd_u64(const unsigned char *p)
{
        return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

static double
rd_f64(const unsigned char *p)
{
        uint64_t v = rd_u64(p);
        double d;

        memcpy(&d, &v, sizeof d);
        return d;
}

/* Decode one record's payload; false if its fields do not add up. */
static bool
qlog_decode(const unsigned char *p, uint32_t n, struct queue_log_rec *r)
{
        memset(r, 0, sizeof *r);
        if (n < 1)
                return false;
        r->type = p[0];
        p++;
        n--;
        switch (r->type) {
        case QLOG_CONFIG:
                return n >= 31;
        case QLOG_PUT:
                if (n < 28)
                        return false;
                r->id = rd_u64(p);
                r->priority = (int32_t)rd_u32(p + 8);
                r->attempts = rd_u32(p + 12);
                r->visible_wall = rd_f64(p + 16);
                r->len = rd_u32(p + 24);
                r->data = p + 28;
                return n == 28 + (uint64_t)r->len;
        case QLOG_ACK:
                if (n != 8)
                        return false;
                r->id = rd_u64(p);
                return true;
        case QLOG_ATTEMPT:
                if (n != 12)
                        return false;
                r->id = rd_u64(p);
                r->attempts = rd_u32(p + 8);
                return true;
        case QLOG_DELAY:
                if (n != 16)
                        return false;
                r->id = rd_u64(p);
                r->visible_wall = rd_f64(p + 8);
                return true;
        }
        return false;
}

static void
qlog_decode_config(const unsigned char *p, uint32_t n, struct queue_config *c, uint64_t *next_id)
{
        uint8_t dl;

        memset(c, 0, sizeof *c);
        p++; /* type */
        c->maxsize = rd_u64(p);
        c->max_bytes = rd_u64(p + 8);
        c->fsync = p[16] <= QUEUE_FSYNC_NEVER ? (enum queue_fsync)p[16] : QUEUE_FSYNC_BATCH;
        c->durable = true;
        c->visibility_timeout = rd_f64(p + 18);
        c->max_attempts = rd_u32(p + 26);
        dl = p[30];
        if (dl <= PROTO_NAME_MAX && 31u + dl <= n - 1) {
                memcpy(c->dead_letter, p + 31, dl);
                c->dead_letter[dl] = '\0';
        }
        *next_id = 31u + dl + 8 <= n - 1 ? rd_u64(p + 31 + dl) : 1;
        if (*next_id > QUEUE_ID_END) /* damaged: ids never get near this */
                *next_id = 1;
}

/* Read the whole file. NULL with *cause on failure. */
static unsigned char *
qlog_slurp(const char *path, size_t *len, char **cause)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        unsigned char *buf;
        size_t off = 0;

        if (fd == -1 || fstat(fd, &st) == -1) {
                xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
                if (fd != -1)
                        close(fd);
                return NULL;
        }
        buf = xmalloc((size_t)st.st_size + 1);
        while (off < (size_t)st.st_size) {
                ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                off += (size_t)r;
        }
        close(fd);
        *len = off;
        return buf;
}

/*
 * Walk the records of buf; calls fn for each valid one; returns the offset
 * of the end of the last valid record (where a torn tail starts).
 */
static size_t
qlog_walk(const unsigned char *buf, size_t len, struct queue *q,
          void (*fn)(struct queue *, const struct queue_log_rec *), struct queue_config *cfg,
          bool *have_config)
{
        size_t off = QLOG_HEADER;

        while (off + 8 <= len) {
                uint32_t n = rd_u32(buf + off), crc = rd_u32(buf + off + 4);
                struct queue_log_rec r;

                if (n == 0 || n > QLOG_REC_MAX || n > len - off - 8)
                        break;
                if ((uint32_t)crc32(0L, buf + off + 8, n) != crc)
                        break;
                if (!qlog_decode(buf + off + 8, n, &r))
                        break;
                if (r.type == QLOG_CONFIG) {
                        struct queue_config scratch;
                        uint64_t next_id;

                        qlog_decode_config(buf + off + 8, n, cfg != NULL ? cfg : &scratch,
                                           &next_id);
                        if (q != NULL && next_id > q->next_id)
                                q->next_id = next_id;
                        *have_config = true;
                } else if (fn != NULL)
                        fn(q, &r);
                off += 8 + (size_t)n;
        }
        return off;
}

int
queue_log_read_config(const char *path, struct queue_config *cfg, char **cause)
{
        size_t len;
        unsigned char *buf = qlog_slurp(path, &len, cause);
        bool have = false;

        if (buf == NULL)
                return -1;
        if (len < QLOG_HEADER || memcmp(buf, QLOG_MAGIC, QLOG_HEADER) != 0) {
                xasprintf(cause, "%s is not a corral queue log", path);
                free(buf);
                return -1;
        }
        /* The config is the first record; stop the walk there. */
        if (len >= QLOG_HEADER + 8) {
                uint32_t n = rd_u32(buf + QLOG_HEADER);

                if (n > 0 && n <= len - QLOG_HEADER - 8)
                        qlog_walk(buf, QLOG_HEADER + 8 + n, NULL, NULL, cfg, &have);
        }
        free(buf);
        if (!have) {
                xasprintf(cause, "%s has no valid configuration record", path);
                return -1;
        }
        return 0;
}

struct queue_log *
queue_log_open(struct event_base *base, struct syncer *syncer, struct queue *q, const char *path,
               void (*fn)(struct queue *, const struct queue_log_rec *), char **cause)
{
        char dir[PATH_MAX];
        struct queue_log *l;
        unsigned char *buf;
        size_t len, good;
        bool have = false;
        char *slash;

        snprintf(dir, sizeof dir, "%s", path);
        if ((slash = strrchr(dir, '/')) != NULL)
                *slash = '\0';
        if ((buf = qlog_slurp(path, &len, cause)) == NULL)
                return NULL;
        good = qlog_walk(buf, len, q, fn, NULL, &have);
        free(buf);
        l = qlog_alloc(base, syncer, q, dir, path);
        l->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (l->fd == -1 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
                /* Serve what it holds; writes fail (io_error) until the file is writable. */
                log_warn("queue %s: %s cannot be written (%s): restored, but writes to the queue "
                         "fail until it can be",
                         q->name, path, strerror(errno));
                l->size = l->durable = good;
                return l;
        }
        if (l->fd == -1) {
                xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
                queue_log_free(l);
                return NULL;
        }
        if (good < len) {
                log_warn("queue %s: %s has a torn or corrupt tail: truncating %zu bytes at offset "
                         "%zu; everything before it is recovered",
                         q->name, path, len - good, good);
                if (ftruncate(l->fd, (off_t)good) == -1 || fdatasync(l->fd) == -1)
                        log_error("queue %s: cannot truncate %s: %s", q->name, path,
                                  strerror(errno));
        }
        if (lseek(l->fd, (off_t)good, SEEK_SET) == -1) {
                xasprintf(cause, "cannot seek in %s: %s", path, strerror(errno));
                queue_log_free(l);
                return NULL;
        }
        l->size = l->durable = good;
        return l;
}

void
queue_log_maybe_compact(struct queue_log *l, uint64_t live_bytes)
{
        char tmp[PATH_MAX + 8], *cause = NULL;
        uint64_t before = l->size;
        int fd;

        /* Only on a record boundary with nothing pending, and when most of it is garbage. */
        if (l->len > 0 || l->size < QLOG_COMPACT_MIN || live_bytes * 2 > l->size)
                return;
        snprintf(tmp, sizeof tmp, "%s.tmp", l->path);
        if ((fd = qlog_write_file(l, tmp, true, &cause)) == -1 ||
            qlog_install(l, tmp, fd, &cause) != 0) {
                log_warn("queue %s: compaction failed (the old log stays): %s", l->queue->name,
                         cause);
                free(cause);
                return;
        }
        log_info("queue %s: compacted %s from %llu to %llu bytes", l->queue->name, l->path,
                 (unsigned long long)before, (unsigned long long)l->size);
}

void
queue_log_free(struct queue_log *l)
{
        if (l == NULL)
                return;
        /* The queue is going with its waiters: only the descriptor must outlive the sync. */
        if (l->job != NULL) {
                int error = syncer_wait(l->syncer, l->job);

                l->job = NULL;
                if (error != 0)
                        log_error("queue %s: final sync of %s: %s", l->queue->name, l->path,
                                  strerror(error));
        }
        if (l->len > 0 && queue_log_flush_now(l) != 0)
                log_error("queue %s: final write of %s: %s", l->queue->name, l->path,
                          strerror(errno));
        if (l->fd != -1)
                close(l->fd);
        event_free(l->flush_ev);
        free(l->buf);
        free(l->path);
        free(l->dir);
        free(l);
}

void
queue_log_remove(struct queue_log *l)
{
        l->len = 0; /* nothing more to write */
        if (unlink(l->path) == -1 && errno != ENOENT)
                log_warn("cannot remove %s: %s", l->path, strerror(errno));
        queue_log_free(l);
}
