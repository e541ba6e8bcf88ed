/*
 * output.c -- a process's stdout and stderr: destinations, pipes, reading,
 * line splitting, and handing each line (or chunk) to its destination.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-journal.h>

#include "corrald.h"
#include "log.h"
#include "output-internal.h"
#include "output.h"
#include "process-table.h"
#include "process.h"
#include "queue.h"
#include "spawn.h"
#include "xmalloc.h"

#define OUTPUT_READ_CHUNK 65536
#define OUTPUT_LINE_MAX   16384 /* a longer line is cut into pieces */
#define OUTPUT_RETRY_MS   20    /* re-check a paused stream this often */
#define JOURNAL_SOCKET    "/run/systemd/journal/socket"

static const char *const output_kind_names[] = {"capture", "null",  "inherit", "file",
                                                "journal", "queue", "stdout"};

void
output_config_default(struct output_config *c)
{
        memset(c, 0, sizeof *c);
        c->log_buffer = OUTPUT_LOG_BUFFER_DEFAULT;
        c->log_max_bytes = 0;
        c->log_backups = 5;
}

void
output_config_copy(struct output_config *dst, const struct output_config *src)
{
        *dst = *src;
        dst->out = src->out != NULL ? xstrdup(src->out) : NULL;
        dst->err = src->err != NULL ? xstrdup(src->err) : NULL;
}

void
output_config_clear(struct output_config *c)
{
        free(c->out);
        free(c->err);
        c->out = c->err = NULL;
}

/* Parse a destination; -1 with *why if it is not one. */
static int
output_parse(const char *spec, bool is_stderr, enum output_kind *kind, const char **arg,
             const char **why)
{
        size_t i;

        *arg = NULL;
        if (strncmp(spec, "file:", 5) == 0) {
                *kind = OUTPUT_FILE;
                *arg = spec + 5;
                if (**arg != '/') {
                        *why = "file: needs an absolute path (file:/var/log/x.log)";
                        return -1;
                }
                return 0;
        }
        if (strncmp(spec, "queue:", 6) == 0) {
                *kind = OUTPUT_QUEUE;
                *arg = spec + 6;
                if (!proto_name_valid(*arg, strlen(*arg), why))
                        return -1;
                return 0;
        }
        for (i = 0; i < sizeof output_kind_names / sizeof output_kind_names[0]; i++) {
                if (i == OUTPUT_FILE || i == OUTPUT_QUEUE)
                        continue;
                if (strcmp(spec, output_kind_names[i]) == 0) {
                        if (i == OUTPUT_MERGE && !is_stderr) {
                                *why = "only stderr can go to stdout";
                                return -1;
                        }
                        *kind = (enum output_kind)i;
                        return 0;
                }
        }
        *why = "expected capture, null, inherit, journal, file:PATH, queue:NAME (or stdout for "
               "stderr)";
        return -1;
}

int
output_config_apply(struct output_config *c, const struct proto_output *o, struct proto_error *err)
{
        enum output_kind kind;
        const char *arg, *why;

        if (o->out != NULL && output_parse(o->out, false, &kind, &arg, &why) != 0) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "stdout", "stdout '%s': %s", o->out,
                                why);
                return -1;
        }
        if (o->err != NULL && output_parse(o->err, true, &kind, &arg, &why) != 0) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "stderr", "stderr '%s': %s", o->err,
                                why);
                return -1;
        }
        if (o->out != NULL) {
                free(c->out);
                c->out = xstrdup(o->out);
        }
        if (o->err != NULL) {
                free(c->err);
                c->err = xstrdup(o->err);
        }
        if (o->has_log_buffer)
                c->log_buffer = o->log_buffer;
        if (o->has_log_max_bytes)
                c->log_max_bytes = o->log_max_bytes;
        if (o->has_log_backups)
                c->log_backups = (unsigned)o->log_backups;
        return 0;
}

int
output_config_check(const struct output_config *c, struct corrald *d, struct proto_error *err)
{
        const char *specs[2] = {c->out, c->err}, *fields[2] = {"stdout", "stderr"}, *arg, *why;
        enum output_kind kind;
        int i;

        for (i = 0; i < 2; i++) {
                if (specs[i] == NULL || output_parse(specs[i], i == 1, &kind, &arg, &why) != 0)
                        continue;
                if (kind == OUTPUT_QUEUE && queue_find(d->queues, arg) == NULL) {
                        proto_error_set(err, PROTO_E_NOT_FOUND, fields[i],
                                        "%s: no queue named '%s'", fields[i], arg);
                        return -1;
                }
        }
        return 0;
}

void
output_config_pack_pairs(const struct output_config *c, msgpack_packer *pk)
{
        proto_pack_kv_str(pk, "stdout", c->out != NULL ? c->out : "capture");
        proto_pack_kv_str(pk, "stderr", c->err != NULL ? c->err : "capture");
        proto_pack_kv_uint(pk, "log_buffer", c->log_buffer);
        proto_pack_kv_uint(pk, "log_max_bytes", c->log_max_bytes);
        proto_pack_kv_uint(pk, "log_backups", c->log_backups);
}

struct output *
output_new(struct corrald *d, struct process *p, const struct output_config *cfg)
{
        struct output *o = xcalloc(1, sizeof *o);
        const char *why;
        int i;

        o->daemon = d;
        o->proc = p;
        o->log_max_bytes = cfg->log_max_bytes;
        o->log_backups = cfg->log_backups;
        logring_init(&o->ring, cfg->log_buffer);
        for (i = 0; i < 2; i++) {
                struct output_stream *s = &o->streams[i];
                const char *spec = i == 0 ? cfg->out : cfg->err, *arg;

                s->out = o;
                s->stream = i == 0 ? LOG_STDOUT : LOG_STDERR;
                s->fd = -1;
                s->kind = OUTPUT_CAPTURE;
                /* Specs were checked when the config was applied. */
                if (spec != NULL && output_parse(spec, i == 1, &s->kind, &arg, &why) == 0 &&
                    arg != NULL)
                        s->arg = xstrdup(arg);
        }
        return o;
}

static void output_stream_close(struct output_stream *);

void
output_reconfigure(struct output *o, const struct output_config *cfg)
{
        const char *why, *arg;
        int i;

        o->log_max_bytes = cfg->log_max_bytes;
        o->log_backups = cfg->log_backups;
        logring_trim(&o->ring, cfg->log_buffer);
        for (i = 0; i < 2; i++) {
                struct output_stream *s = &o->streams[i];
                const char *spec = i == 0 ? cfg->out : cfg->err;
                enum output_kind kind = OUTPUT_CAPTURE;

                arg = NULL;
                if (spec != NULL)
                        (void)output_parse(spec, i == 1, &kind, &arg, &why);
                /* Applied when the stream is next opened, in output_prepare. */
                s->next_kind = kind;
                free(s->next_arg);
                s->next_arg = arg != NULL ? xstrdup(arg) : NULL;
                s->reconfigure = true;
        }
}

void
output_free(struct output *o)
{
        int i;

        if (o == NULL)
                return;
        for (i = 0; i < 2; i++) {
                output_stream_close(&o->streams[i]);
                free(o->streams[i].arg);
                free(o->streams[i].next_arg);
        }
        logring_clear(&o->ring);
        free(o);
}

struct logring *
output_ring(struct output *o)
{
        return &o->ring;
}

static void
output_stream_close(struct output_stream *s)
{
        if (s->ev != NULL) {
                event_free(s->ev);
                s->ev = NULL;
        }
        if (s->retry != NULL) {
                event_free(s->retry);
                s->retry = NULL;
        }
        if (s->fd != -1) {
                close(s->fd);
                s->fd = -1;
        }
        if (s->child_fd != -1 && s->child_fd > 2) {
                close(s->child_fd);
        }
        s->child_fd = -1;
        if (s->file != NULL) {
                filesink_put(s->out->daemon, s->file);
                s->file = NULL;
        }
        if (s->waiting_room) {
                struct queue *q = queue_find(s->out->daemon->queues, s->arg);

                if (q != NULL)
                        queue_cancel_room(q, &s->room);
                s->waiting_room = false;
        }
        free(s->partial);
        s->partial = NULL;
        s->plen = 0;
        free(s->held);
        s->held = NULL;
        s->hlen = 0;
}

/* A pipe whose read end is ours (non-blocking, close-on-exec) and whose write end is the child's.
 */
static int
output_pipe(struct output_stream *s, struct proto_error *err)
{
        int fds[2];

        if (pipe2(fds, O_CLOEXEC) == -1) {
                proto_error_set(err, PROTO_E_SPAWN_FAILED,
                                s->stream == LOG_STDOUT ? "stdout" : "stderr",
                                "cannot create a pipe: %s", strerror(errno));
                return -1;
        }
        if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1)
                log_warn("output pipe: %s", strerror(errno));
        s->fd = fds[0];
        s->child_fd = fds[1];
        return 0;
}

/* Check that a destination can be used now, before the child starts. */
static int
output_check(struct output_stream *s, struct proto_error *err)
{
        const char *field = s->stream == LOG_STDOUT ? "stdout" : "stderr";
        struct corrald *d = s->out->daemon;

        switch (s->kind) {
        case OUTPUT_JOURNAL:
                if (access(JOURNAL_SOCKET, W_OK) != 0) {
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, field,
                                        "%s: journal: journald is not reachable (%s: %s)", field,
                                        JOURNAL_SOCKET, strerror(errno));
                        return -1;
                }
                return 0;
        case OUTPUT_QUEUE:
                if (queue_find(d->queues, s->arg) == NULL) {
                        proto_error_set(err, PROTO_E_NOT_FOUND, field, "%s: no queue named '%s'",
                                        field, s->arg);
                        return -1;
                }
                return 0;
        case OUTPUT_FILE:
                if (s->file == NULL) {
                        s->file = filesink_get(d, s->arg, s->out->log_max_bytes,
                                               s->out->log_backups, err);
                        if (s->file == NULL) {
                                snprintf(err->field, sizeof err->field, "%s", field);
                                return -1;
                        }
                }
                return 0;
        default:
                return 0;
        }
}

int
output_prepare(struct output *o, struct spawn_req *req, struct proto_error *err)
{
        struct output_stream *out = &o->streams[0], *er = &o->streams[1];
        int i;

        for (i = 0; i < 2; i++) {
                struct output_stream *s = &o->streams[i];

                /* A stream of an earlier run may still be open (a grandchild holds it). */
                if (s->fd != -1 && (s->kind != OUTPUT_FILE || s->reconfigure))
                        output_stream_close(s);
                if (s->reconfigure) {
                        output_stream_close(s); /* a file destination is let go too */
                        free(s->arg);
                        s->arg = s->next_arg;
                        s->next_arg = NULL;
                        s->kind = s->next_kind;
                        s->reconfigure = false;
                }
                s->child_fd = -1;
                s->eof = false;
                if (output_check(s, err) != 0)
                        return -1;
        }
        for (i = 0; i < 2; i++) {
                struct output_stream *s = &o->streams[i];
                int target = i == 0 ? 1 : 2;

                switch (s->kind) {
                case OUTPUT_NULL:
                        break;
                case OUTPUT_INHERIT:
                        req->flags |= i == 0 ? SPAWN_STDOUT : SPAWN_STDERR;
                        if (i == 0)
                                req->stdout_fd = target;
                        else
                                req->stderr_fd = target;
                        break;
                case OUTPUT_MERGE:
                        if (req->flags & SPAWN_STDOUT) {
                                req->flags |= SPAWN_STDERR;
                                req->stderr_fd = req->stdout_fd;
                        }
                        break;
                default:
                        if (s->fd != -1) /* a file stream left open: a fresh pipe */
                                output_stream_close(s);
                        if (output_pipe(s, err) != 0)
                                return -1;
                        req->flags |= i == 0 ? SPAWN_STDOUT : SPAWN_STDERR;
                        if (i == 0)
                                req->stdout_fd = s->child_fd;
                        else
                                req->stderr_fd = s->child_fd;
                        break;
                }
        }
        (void)out;
        (void)er;
        return 0;
}

static void output_read_cb(evutil_socket_t, short, void *);

void
output_spawned(struct output *o, bool ok)
{
        int i;

        for (i = 0; i < 2; i++) {
                struct output_stream *s = &o->streams[i];

                /* The child has its copy (or never will): ours must go, or EOF never comes. */
                if (s->child_fd > 2)
                        close(s->child_fd);
                s->child_fd = -1;
                if (s->fd == -1)
                        continue;
                if (!ok) {
                        output_stream_close(s);
                        continue;
                }
                s->ev = event_new(o->daemon->base, s->fd, EV_READ | EV_PERSIST, output_read_cb, s);
                if (s->ev == NULL || event_add(s->ev, NULL) != 0)
                        fatalx("cannot watch an output pipe");
        }
}

/* Send one complete line to the stream's destination. False: paused (queue full). */
static bool
output_line(struct output_stream *s, const char *data, size_t len)
{
        struct output *o = s->out;
        struct process *p = o->proc;
        struct queue *q;

        switch (s->kind) {
        case OUTPUT_CAPTURE: {
                struct logline *l = logring_add(&o->ring, s->stream, process_now(), data, len);

                output_follow_line(o->daemon, p, l);
                return true;
        }
        case OUTPUT_JOURNAL:
                if (sd_journal_send("MESSAGE=%.*s", (int)len, data, "PRIORITY=%d",
                                    s->stream == LOG_STDERR ? 3 : 6, "SYSLOG_IDENTIFIER=%s",
                                    p->name, "POOL=%s", p->pool_name, "PROCESS_ID=%llu",
                                    (unsigned long long)p->id, "CORRAL_STREAM=%s",
                                    s->stream == LOG_STDERR ? "stderr" : "stdout", NULL) < 0 &&
                    !s->warned) {
                        s->warned = true;
                        log_warn("process %s: journald refused its output", p->name);
                }
                return true;
        case OUTPUT_QUEUE:
                if ((q = queue_find(o->daemon->queues, s->arg)) == NULL) {
                        if (!s->warned)
                                log_warn("process %s: queue %s is gone: its output is dropped",
                                         p->name, s->arg);
                        s->warned = true;
                        return true;
                }
                return queue_put_internal(q, data, len) == 0;
        default:
                return true;
        }
}

/* Keep bytes that could not be delivered yet (queue full): the pipe does the waiting. */
static void
output_hold(struct output_stream *s, const char *data, size_t len)
{
        if (len == 0)
                return;
        s->held = xreallocarray(s->held, s->hlen + len, 1);
        memcpy(s->held + s->hlen, data, len);
        s->hlen += len;
}

/* Deliver the complete line waiting in partial; false if its destination is full. */
static bool
output_flush_line(struct output_stream *s)
{
        if (!output_line(s, s->partial != NULL ? s->partial : "", s->plen)) {
                s->line_ready = true;
                return false;
        }
        s->line_ready = false;
        s->plen = 0;
        return true;
}

/*
 * Split data into lines and deliver them; a partial last line waits for
 * the rest (or EOF), a line longer than OUTPUT_LINE_MAX is cut. Returns
 * false when delivery paused: the undelivered line stays in partial and
 * the rest of data is held.
 */
static bool
output_feed(struct output_stream *s, const char *data, size_t len)
{
        size_t i = 0;

        if (s->line_ready && !output_flush_line(s)) {
                output_hold(s, data, len);
                return false;
        }
        while (i < len) {
                const char *nl = memchr(data + i, '\n', len - i);
                size_t seg = nl != NULL ? (size_t)(nl - (data + i)) : len - i;
                bool complete = nl != NULL;

                if (s->plen + seg >= OUTPUT_LINE_MAX) {
                        seg = OUTPUT_LINE_MAX - s->plen;
                        complete = true;
                        nl = NULL; /* cut here; the newline, if any, comes later */
                }
                s->partial = xreallocarray(s->partial, s->plen + seg + 1, 1);
                memcpy(s->partial + s->plen, data + i, seg);
                s->plen += seg;
                i += seg + (nl != NULL);
                if (!complete)
                        break;
                if (!output_flush_line(s)) {
                        output_hold(s, data + i, len - i);
                        return false;
                }
        }
        return true;
}

static void output_pause(struct output_stream *);

/* Deliver what was held back; true when nothing is left waiting. */
static bool
output_release_held(struct output_stream *s)
{
        char *held = s->held;
        size_t hlen = s->hlen;
        bool ok;

        if (s->line_ready && !output_flush_line(s))
                return false;
        if (hlen == 0)
                return true;
        s->held = NULL;
        s->hlen = 0;
        ok = output_feed(s, held, hlen);
        free(held);
        return ok;
}

static void
output_eof(struct output_stream *s)
{
        /* The last line without a newline is a line too (if its destination takes it). */
        if (s->plen > 0 && s->kind != OUTPUT_FILE && !s->line_ready)
                (void)output_flush_line(s);
        s->eof = true;
        if (s->ev != NULL) {
                event_free(s->ev);
                s->ev = NULL;
        }
        close(s->fd);
        s->fd = -1;
}

/* Read what the pipe has (once, or until empty when draining). */
static void
output_read(struct output_stream *s, bool drain)
{
        char buf[OUTPUT_READ_CHUNK];

        do {
                ssize_t n;

                if (s->fd == -1 || s->paused)
                        return;
                n = read(s->fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        output_eof(s);
                        return;
                }
                if (s->kind == OUTPUT_FILE) {
                        filesink_write(s->file, buf, (size_t)n);
                        continue;
                }
                if (!output_feed(s, buf, (size_t)n)) {
                        output_pause(s);
                        return;
                }
                /* Draining at the end of a run: no pause, it is a pipe's worth at most. */
                if (!drain && s->kind == OUTPUT_CAPTURE &&
                    output_follower_slow(s->out->daemon, s->out->proc)) {
                        output_pause(s);
                        return;
                }
        } while (drain);
}

static void
output_read_cb(evutil_socket_t fd, short what, void *arg)
{
        output_read(arg, false);
}

static void
output_resume(struct output_stream *s)
{
        if (!s->paused)
                return;
        s->paused = false;
        if (!output_release_held(s)) {
                output_pause(s);
                return;
        }
        if (s->ev != NULL)
                event_add(s->ev, NULL);
}

static void
output_retry_cb(evutil_socket_t fd, short what, void *arg)
{
        struct output_stream *s = arg;

        if (s->kind == OUTPUT_CAPTURE && output_follower_slow(s->out->daemon, s->out->proc)) {
                struct timeval tv = {0, OUTPUT_RETRY_MS * 1000};

                evtimer_add(s->retry, &tv);
                return;
        }
        output_resume(s);
}

static void
output_room_cb(void *arg)
{
        struct output_stream *s = arg;

        s->waiting_room = false;
        output_resume(s);
}

/* Stop reading: the child's pipe fills and slows it down. */
static void
output_pause(struct output_stream *s)
{
        struct queue *q;

        s->paused = true;
        if (s->ev != NULL)
                event_del(s->ev);
        if (s->kind == OUTPUT_QUEUE && (q = queue_find(s->out->daemon->queues, s->arg)) != NULL) {
                s->room.fn = output_room_cb;
                s->room.arg = s;
                s->waiting_room = true;
                queue_wait_room(q, &s->room);
                return;
        }
        /* A slow follower: look again shortly. */
        if (s->retry == NULL)
                s->retry = evtimer_new(s->out->daemon->base, output_retry_cb, s);
        if (s->retry != NULL) {
                struct timeval tv = {0, OUTPUT_RETRY_MS * 1000};

                evtimer_add(s->retry, &tv);
        }
}

void
output_drain(struct output *o)
{
        int i;

        for (i = 0; i < 2; i++) {
                struct output_stream *s = &o->streams[i];

                /*
                 * The run is over: what is in the pipe (at most a pipe's worth)
                 * goes to the buffer and the followers before log.end, even
                 * past a slow follower's pause. A full queue still holds it.
                 */
                if (s->paused && s->kind == OUTPUT_CAPTURE) {
                        s->paused = false;
                        if (s->retry != NULL)
                                evtimer_del(s->retry);
                        if (s->ev != NULL)
                                event_add(s->ev, NULL);
                }
                output_read(s, true);
        }
}

void
output_ended(struct output *o)
{
        logring_trim(&o->ring,
                     o->ring.cap < OUTPUT_TAIL_DEFAULT ? o->ring.cap : OUTPUT_TAIL_DEFAULT);
}

/* The buffered lines of one stream joined by newlines, as one bin. */
static void
output_pack_stream(struct output *o, enum log_stream st, msgpack_packer *pk)
{
        struct logline *l;
        size_t n = 0;

        TAILQ_FOREACH(l, &o->ring.lines, entry)
        {
                if (l->stream == st)
                        n += l->len + 1;
        }
        msgpack_pack_bin(pk, n);
        TAILQ_FOREACH(l, &o->ring.lines, entry)
        {
                if (l->stream == st) {
                        msgpack_pack_bin_body(pk, l->data, l->len);
                        msgpack_pack_bin_body(pk, "\n", 1);
                }
        }
}

void
output_pack_tail(struct output *o, msgpack_packer *pk)
{
        msgpack_pack_map(pk, 3);
        proto_pack_str(pk, "stdout");
        output_pack_stream(o, LOG_STDOUT, pk);
        proto_pack_str(pk, "stderr");
        output_pack_stream(o, LOG_STDERR, pk);
        proto_pack_kv_uint(pk, "lost", o->ring.lost);
}
