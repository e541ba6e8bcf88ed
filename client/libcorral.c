/*
 * libcorral.c -- a connection to corrald and the generic call.
 *
 * One request is in flight at a time: corral_call() sends it and reads
 * messages until the response with its msgid arrives, skipping responses
 * to earlier calls that gave up waiting. Notifications read on the way
 * are queued (bounded), events for corral_events_next() and followed log
 * lines for corral_logs_next(), so a subscribed or following connection
 * can still make calls. All I/O is non-blocking (MSG_DONTWAIT)
 * under a poll() deadline, so no call outlives the connection's timeout;
 * MSG_NOSIGNAL keeps a closed socket from raising SIGPIPE in the
 * application.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "libcorral-private.h"

#define CORRAL_TIMEOUT_DEFAULT 30.0
#define CORRAL_READ_CHUNK      (64u * 1024)
/* What a queued log line costs besides its data, for the log queue's bound. */
#define CORRAL_LINE_OVERHEAD 128u

/*
 * A queued notification, or a marker standing for those dropped at that
 * point of the stream while the queue was full (dropped > 0).
 */
struct corral_queued {
        struct corral_queued *next;
        enum corral_note_kind kind;
        struct corral_result ev;
        size_t size;      /* bytes counted against the queue's bound */
        uint64_t dropped; /* marker: how many, and their bytes */
        uint64_t dropped_bytes;
        double ts; /* marker: when the first was dropped */
};

/* Notifications read but not yet taken; n counts notifications, not markers. */
struct corral_fifo {
        struct corral_queued *head, *tail;
        size_t n;
        size_t bytes;
};

struct corral {
        int fd;
        char *path;
        double timeout; /* <= 0: forever */
        uint32_t next_msgid;
        struct proto_reader *reader;
        /*
         * Set when the byte stream can no longer be trusted (a partial
         * write, a malformed message, end of file): every later call
         * fails at once instead of misreading the stream.
         */
        char broken[160];
        bool eof;                  /* the daemon closed the connection */
        struct corral_fifo events; /* "event" notifications */
        struct corral_fifo logs;   /* "log" and "log.end" notifications */
};

/* A point on the monotonic clock, or none (wait forever). */
struct deadline {
        bool forever;
        struct timespec at;
        double seconds; /* the whole allowance, for the message */
};

void
corral_error_set(struct corral_error *err, const char *code, const char *field, const char *fmt,
                 ...)
{
        va_list ap;

        if (err == NULL)
                return;
        snprintf(err->code, sizeof err->code, "%s", code);
        snprintf(err->field, sizeof err->field, "%s", field != NULL ? field : "");
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
}

static void
corral_error_clear(struct corral_error *err)
{
        if (err != NULL)
                memset(err, 0, sizeof *err);
}

char *
corral_default_socket(char *buf, size_t len)
{
        const char *env;
        int n;

        if (buf == NULL || len == 0) {
                errno = EINVAL;
                return NULL;
        }
        if ((env = getenv("CORRAL_SOCKET")) != NULL && *env != '\0')
                n = snprintf(buf, len, "%s", env);
        else if (geteuid() == 0)
                n = snprintf(buf, len, "/run/corral/corrald.sock");
        else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0')
                n = snprintf(buf, len, "%s/corral/corrald.sock", env);
        else
                n = snprintf(buf, len, "/tmp/corral-%lu/corrald.sock", (unsigned long)geteuid());
        if (n < 0 || (size_t)n >= len) {
                errno = ENAMETOOLONG;
                return NULL;
        }
        return buf;
}

struct corral *
corral_connect(const char *path, struct corral_error *err)
{
        char def[PROTO_PATH_MAX];
        struct sockaddr_un sun;
        struct proto_limits limits;
        struct timeval tv = {.tv_sec = (time_t)CORRAL_TIMEOUT_DEFAULT};
        struct corral *c;
        int fd;

        corral_error_clear(err);
        if (path == NULL && (path = corral_default_socket(def, sizeof def)) == NULL) {
                corral_error_set(err, CORRAL_E_CONNECT, NULL, "default socket path: %s",
                                 strerror(errno));
                return NULL;
        }
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (*path == '\0' || strlen(path) >= sizeof sun.sun_path) {
                corral_error_set(err, CORRAL_E_CONNECT, NULL, "%s: %s", path,
                                 *path == '\0' ? "empty socket path" : "socket path too long");
                return NULL;
        }
        memcpy(sun.sun_path, path, strlen(path));

        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
                corral_error_set(err, CORRAL_E_CONNECT, NULL, "socket: %s", strerror(errno));
                return NULL;
        }
        /* A full listen backlog blocks connect(): bound it like any call. */
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        while (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
                if (errno == EINTR)
                        continue;
                corral_error_set(err, CORRAL_E_CONNECT, NULL, "%s: %s", path,
                                 errno == EAGAIN || errno == EINPROGRESS
                                     ? "the daemon is not accepting connections"
                                     : strerror(errno));
                close(fd);
                return NULL;
        }
        tv.tv_sec = 0;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

        if ((c = calloc(1, sizeof *c)) == NULL || (c->path = strdup(path)) == NULL) {
                corral_error_set(err, CORRAL_E_CONNECT, NULL, "%s", strerror(ENOMEM));
                free(c);
                close(fd);
                return NULL;
        }
        proto_limits_default(&limits);
        if ((c->reader = proto_reader_new(&limits)) == NULL) {
                corral_error_set(err, CORRAL_E_CONNECT, NULL, "%s", strerror(ENOMEM));
                free(c->path);
                free(c);
                close(fd);
                return NULL;
        }
        c->fd = fd;
        c->timeout = CORRAL_TIMEOUT_DEFAULT;
        c->next_msgid = 1;
        return c;
}

static void
corral_fifo_free(struct corral_fifo *f)
{
        struct corral_queued *q;

        while ((q = f->head) != NULL) {
                f->head = q->next;
                corral_result_free(&q->ev);
                free(q);
        }
        memset(f, 0, sizeof *f);
}

void
corral_close(struct corral *c)
{
        if (c == NULL)
                return;
        corral_fifo_free(&c->events);
        corral_fifo_free(&c->logs);
        proto_reader_free(c->reader);
        close(c->fd);
        free(c->path);
        free(c);
}

void
corral_set_timeout(struct corral *c, double seconds)
{
        if (c != NULL)
                c->timeout = seconds > 0 ? seconds : 0;
}

int
corral_fd(const struct corral *c)
{
        return c != NULL ? c->fd : -1;
}

/* A deadline seconds from now; none (forever) if seconds < 0, NaN or huge. */
static void
deadline_after(struct deadline *d, double seconds)
{
        double whole;

        memset(d, 0, sizeof *d);
        if (!(seconds >= 0) || seconds > 1e9) { /* also catches NaN */
                d->forever = true;
                return;
        }
        d->seconds = seconds;
        clock_gettime(CLOCK_MONOTONIC, &d->at);
        whole = (double)(time_t)seconds;
        d->at.tv_sec += (time_t)whole;
        d->at.tv_nsec += (long)((seconds - whole) * 1e9);
        if (d->at.tv_nsec >= 1000000000L) {
                d->at.tv_sec++;
                d->at.tv_nsec -= 1000000000L;
        }
}

/* A call's deadline: seconds <= 0 means forever. */
static void
deadline_set(struct deadline *d, double seconds)
{
        deadline_after(d, seconds > 0 ? seconds : -1);
}

/* Milliseconds left for poll(): -1 forever, 0 when expired (rounded up). */
static int
deadline_ms(const struct deadline *d)
{
        struct timespec now;
        long long ms;

        if (d->forever)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (long long)(d->at.tv_sec - now.tv_sec) * 1000 +
             (d->at.tv_nsec - now.tv_nsec + 999999) / 1000000;
        if (ms <= 0)
                return 0;
        return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void
corral_break(struct corral *c, const struct corral_error *err)
{
        if (c->broken[0] == '\0')
                snprintf(c->broken, sizeof c->broken, "%s: %.120s", err->code, err->message);
}

/* Wait until the socket is ready for events. 0, or -1 with *err. */
static int
corral_wait(struct corral *c, short events, const struct deadline *d, struct corral_error *err)
{
        struct pollfd pfd;
        int ms, n;

        for (;;) {
                if ((ms = deadline_ms(d)) == 0) {
                        corral_error_set(err, CORRAL_E_TIMEOUT, NULL,
                                         "no answer from the daemon within %g s", d->seconds);
                        return -1;
                }
                pfd.fd = c->fd;
                pfd.events = events;
                pfd.revents = 0;
                if ((n = poll(&pfd, 1, ms)) > 0)
                        return 0; /* also on POLLHUP/POLLERR: the next call says why */
                if (n == -1 && errno != EINTR) {
                        corral_error_set(err, CORRAL_E_IO, NULL, "poll: %s", strerror(errno));
                        return -1;
                }
        }
}

static int
corral_send_all(struct corral *c, const char *buf, size_t len, const struct deadline *d,
                struct corral_error *err)
{
        size_t off = 0;
        ssize_t n;

        while (off < len) {
                n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n >= 0) {
                        off += (size_t)n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                        if (corral_wait(c, POLLOUT, d, err) == 0)
                                continue;
                } else if (errno == EPIPE || errno == ECONNRESET) {
                        corral_error_set(err, CORRAL_E_IO, NULL,
                                         "the daemon closed the connection");
                } else
                        corral_error_set(err, CORRAL_E_IO, NULL, "send: %s", strerror(errno));
                /* Half a request on the wire: the stream is lost. */
                if (off > 0 || strcmp(err->code, CORRAL_E_TIMEOUT) != 0)
                        corral_break(c, err);
                return -1;
        }
        return 0;
}

static int corral_result_keep(const msgpack_object *, struct corral_result *,
                              struct corral_error *);

/* Wall-clock seconds, for the time of a local overflow event. */
static double
corral_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
corral_enqueue(struct corral_fifo *f, struct corral_queued *q)
{
        if (f->tail != NULL)
                f->tail->next = q;
        else
                f->head = q;
        f->tail = q;
}

/* Count one notification of size bytes dropped at this point of f. */
static void
corral_drop(struct corral_fifo *f, enum corral_note_kind kind, size_t size)
{
        struct corral_queued *q;

        if ((q = f->tail) == NULL || q->dropped == 0) {
                if ((q = calloc(1, sizeof *q)) == NULL)
                        return;
                q->kind = kind;
                q->ts = corral_now();
                corral_enqueue(f, q);
        }
        q->dropped++;
        q->dropped_bytes += size;
}

/* The bytes of a log notification's line, for the log queue's bound. */
static size_t
corral_log_size(const msgpack_object *map)
{
        const msgpack_object *v = corral_map_get(map, "data");
        size_t n = CORRAL_LINE_OVERHEAD;

        if (v != NULL && v->type == MSGPACK_OBJECT_BIN)
                n += v->via.bin.size;
        else if (v != NULL && v->type == MSGPACK_OBJECT_STR)
                n += v->via.str.size;
        return n;
}

/*
 * Keep a notification ([2, "event" | "log" | "log.end", [map]]) for
 * corral_events_next() or corral_logs_next(). A full queue drops it; a
 * marker then records the gap, so the reader learns that some are
 * missing, and where. "log.end" is never dropped: it ends a follow, and
 * comes at most once per followed process.
 */
static void
corral_queue_note(struct corral *c, const struct proto_msg *msg)
{
        const msgpack_object *map;
        struct corral_queued *q;
        struct corral_fifo *f;
        enum corral_note_kind kind;
        size_t size = 0;
        bool full;

        if (strcmp(msg->method, "event") == 0)
                kind = CORRAL_NOTE_EVENT;
        else if (strcmp(msg->method, "log") == 0)
                kind = CORRAL_NOTE_LOG;
        else if (strcmp(msg->method, "log.end") == 0)
                kind = CORRAL_NOTE_LOG_END;
        else
                return; /* not one of ours: a newer daemon's notification */
        if (msg->params.type != MSGPACK_OBJECT_ARRAY || msg->params.via.array.size != 1)
                return;
        map = &msg->params.via.array.ptr[0];
        if (map->type != MSGPACK_OBJECT_MAP)
                return;
        if (kind == CORRAL_NOTE_EVENT) {
                f = &c->events;
                full = f->n >= CORRAL_EVENT_QUEUE;
        } else {
                f = &c->logs;
                size = corral_log_size(map);
                full = kind == CORRAL_NOTE_LOG && f->bytes + size > CORRAL_LOG_QUEUE_BYTES;
        }
        if (full) {
                corral_drop(f, kind == CORRAL_NOTE_EVENT ? CORRAL_NOTE_EVENT : CORRAL_NOTE_LOG,
                            kind == CORRAL_NOTE_EVENT ? 0 : size - CORRAL_LINE_OVERHEAD);
                return;
        }
        if ((q = calloc(1, sizeof *q)) == NULL)
                return;
        if (corral_result_keep(map, &q->ev, NULL) == -1) {
                free(q);
                return;
        }
        q->kind = kind;
        q->size = size;
        corral_enqueue(f, q);
        f->n++;
        f->bytes += size;
}

/*
 * Read messages until the response to msgid arrives (want NULL; *msg
 * then holds it and the caller clears it), or until the queue want holds
 * something. Late responses to calls that timed out on our side are
 * dropped; notifications are queued.
 */
static int
corral_recv(struct corral *c, struct corral_fifo *want, uint32_t msgid, const struct deadline *d,
            struct proto_msg *msg, struct corral_error *err)
{
        bool want_response = want == NULL;
        struct proto_error perr;
        size_t avail;
        ssize_t n;
        void *p;
        int r;

        for (;;) {
                if (!want_response && want->head != NULL)
                        return 0;
                memset(msg, 0, sizeof *msg);
                memset(&perr, 0, sizeof perr);
                r = proto_reader_next(c->reader, msg, &perr);
                if (r == 1) {
                        if (want_response && msg->type == PROTO_RESPONSE && msg->msgid == msgid)
                                return 0;
                        if (msg->type == PROTO_NOTIFICATION)
                                corral_queue_note(c, msg);
                        proto_msg_clear(msg);
                        continue;
                }
                if (r < 0) {
                        proto_msg_clear(msg);
                        corral_error_set(err, CORRAL_E_PROTOCOL, perr.field,
                                         "malformed message from the daemon: %s",
                                         perr.message[0] != '\0' ? perr.message : "?");
                        corral_break(c, err);
                        return -1;
                }
                if ((p = proto_reader_space(c->reader, CORRAL_READ_CHUNK, &avail)) == NULL) {
                        corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(ENOMEM));
                        corral_break(c, err);
                        return -1;
                }
                n = recv(c->fd, p, avail, MSG_DONTWAIT);
                if (n > 0) {
                        proto_reader_commit(c->reader, (size_t)n);
                        continue;
                }
                if (n == 0 || errno == ECONNRESET) {
                        corral_error_set(err, CORRAL_E_IO, NULL,
                                         "the daemon closed the connection");
                        corral_break(c, err);
                        c->eof = true;
                        return -1;
                }
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                        if (corral_wait(c, POLLIN, d, err) == -1)
                                return -1;
                        continue;
                }
                corral_error_set(err, CORRAL_E_IO, NULL, "recv: %s", strerror(errno));
                corral_break(c, err);
                return -1;
        }
}

/* Copy a str value of map into buf (truncating); "" when absent. */
static void
corral_map_copy(const msgpack_object *map, const char *key, char *buf, size_t len)
{
        const msgpack_object *v = corral_map_get(map, key);
        size_t n = 0;

        if (v != NULL && v->type == MSGPACK_OBJECT_STR) {
                n = v->via.str.size < len - 1 ? v->via.str.size : len - 1;
                memcpy(buf, v->via.str.ptr, n);
        }
        buf[n] = '\0';
}

/*
 * A response's error map into *err. proto_error_decode() checks its shape,
 * but the code is copied verbatim, so that codes added by a newer daemon
 * reach the caller instead of becoming "internal".
 */
static void
corral_error_from_wire(const msgpack_object *obj, struct corral_error *err)
{
        struct proto_error perr;

        if (proto_error_decode(obj, &perr) == -1) {
                corral_error_set(err, CORRAL_E_PROTOCOL, NULL,
                                 "malformed error in the daemon's response");
                return;
        }
        corral_map_copy(obj, "code", err->code, sizeof err->code);
        snprintf(err->field, sizeof err->field, "%s", perr.field);
        snprintf(err->message, sizeof err->message, "%s",
                 perr.message[0] != '\0' ? perr.message : err->code);
}

/* Keep the result beyond the reader's next message: repack it into memory we own. */
static int
corral_result_keep(const msgpack_object *obj, struct corral_result *result,
                   struct corral_error *err)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        size_t off = 0;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        if (msgpack_pack_object(&pk, *obj) != 0 || sb.data == NULL) {
                msgpack_sbuffer_destroy(&sb);
                corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(ENOMEM));
                return -1;
        }
        result->buf = sb.data; /* taken over: not destroyed */
        msgpack_unpacked_init(&result->unpacked);
        if (msgpack_unpack_next(&result->unpacked, result->buf, sb.size, &off) !=
            MSGPACK_UNPACK_SUCCESS) {
                corral_result_free(result);
                corral_error_set(err, CORRAL_E_PROTOCOL, NULL, "cannot decode the result");
                return -1;
        }
        result->obj = result->unpacked.data;
        return 0;
}

/* Whether p starts with a msgpack map header. */
static bool
is_packed_map(const void *p, size_t len)
{
        unsigned char b = len > 0 ? *(const unsigned char *)p : 0;

        return len > 0 && ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf);
}

int
corral_call_extra(struct corral *c, const char *method, const void *params, size_t params_len,
                  double extra, struct corral_result *result, struct corral_error *err)
{
        struct corral_error local;
        struct deadline d;
        struct proto_msg msg;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        uint32_t msgid;
        int rc = -1;

        if (err == NULL)
                err = &local;
        corral_error_clear(err);
        if (result != NULL) {
                memset(result, 0, sizeof *result);
                result->obj.type = MSGPACK_OBJECT_NIL;
        }
        if (c == NULL || method == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(EINVAL));
                return -1;
        }
        if (c->broken[0] != '\0') {
                corral_error_set(err, CORRAL_E_IO, NULL,
                                 "connection unusable after an earlier error (%s)", c->broken);
                return -1;
        }
        if (params != NULL && !is_packed_map(params, params_len)) {
                corral_error_set(err, "invalid_params", "params",
                                 "params must be a packed msgpack map");
                return -1;
        }
        if (extra < 0)
                deadline_set(&d, 0);
        else
                deadline_set(&d, c->timeout > 0 ? c->timeout + extra : 0);

        msgid = c->next_msgid++;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        proto_pack_request_head(&pk, msgid, method);
        if (params != NULL) {
                msgpack_pack_array(&pk, 1);
                msgpack_sbuffer_write(&sb, params, params_len);
        } else
                msgpack_pack_array(&pk, 0);
        if (sb.data == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(ENOMEM));
                goto out;
        }
        if (corral_send_all(c, sb.data, sb.size, &d, err) == -1)
                goto out;
        if (corral_recv(c, NULL, msgid, &d, &msg, err) == -1)
                goto out;

        if (msg.error.type != MSGPACK_OBJECT_NIL)
                corral_error_from_wire(&msg.error, err);
        else if (result == NULL || corral_result_keep(&msg.result, result, err) == 0)
                rc = 0;
        proto_msg_clear(&msg);
out:
        msgpack_sbuffer_destroy(&sb);
        return rc;
}

int
corral_call(struct corral *c, const char *method, const void *params, size_t params_len,
            struct corral_result *result, struct corral_error *err)
{
        return corral_call_extra(c, method, params, params_len, 0, result, err);
}

void
corral_result_free(struct corral_result *result)
{
        if (result == NULL)
                return;
        if (result->buf != NULL)
                msgpack_unpacked_destroy(&result->unpacked);
        free(result->buf);
        memset(result, 0, sizeof *result);
        result->obj.type = MSGPACK_OBJECT_NIL;
}

/* A local overflow event for a marker: {type: "overflow", ts, dropped}. */
static int
corral_overflow_event(const struct corral_queued *q, struct corral_result *out)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacked u;
        size_t off = 0;
        int rc = -1;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        proto_pack_kv_str(&pk, "type", "overflow");
        proto_pack_kv_double(&pk, "ts", q->ts);
        proto_pack_kv_uint(&pk, "dropped", q->dropped);
        msgpack_unpacked_init(&u);
        if (sb.data != NULL &&
            msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS)
                rc = corral_result_keep(&u.data, out, NULL);
        msgpack_unpacked_destroy(&u);
        msgpack_sbuffer_destroy(&sb);
        return rc;
}

/* Take the first item of f, reading from the daemon up to timeout seconds if f is empty. */
static int
corral_fifo_wait(struct corral *c, struct corral_fifo *f, double timeout,
                 struct corral_queued **out, struct corral_error *err)
{
        struct deadline d;
        struct proto_msg msg;
        struct corral_queued *q;

        *out = NULL;
        if (f->head == NULL) {
                if (c->eof) {
                        corral_error_set(err, CORRAL_E_IO, NULL,
                                         "the daemon closed the connection");
                        return -1;
                }
                if (c->broken[0] != '\0') {
                        corral_error_set(err, CORRAL_E_IO, NULL,
                                         "connection unusable after an earlier error (%s)",
                                         c->broken);
                        return -1;
                }
                deadline_after(&d, timeout);
                if (corral_recv(c, f, 0, &d, &msg, err) == -1)
                        return strcmp(err->code, CORRAL_E_TIMEOUT) == 0 ? 0 : -1;
        }
        q = f->head;
        if ((f->head = q->next) == NULL)
                f->tail = NULL;
        q->next = NULL;
        if (q->dropped == 0) {
                f->n--;
                f->bytes -= q->size;
        }
        *out = q;
        return 1;
}

int
corral_event_wait(struct corral *c, double timeout, struct corral_result *out,
                  struct corral_error *err)
{
        struct corral_queued *q;
        int rc;

        memset(out, 0, sizeof *out);
        out->obj.type = MSGPACK_OBJECT_NIL;
        if ((rc = corral_fifo_wait(c, &c->events, timeout, &q, err)) != 1)
                return rc;
        if (q->dropped > 0)
                rc = corral_overflow_event(q, out);
        else {
                *out = q->ev; /* the buffer moves; obj's pointers into it stay valid */
                rc = 0;
        }
        free(q);
        if (rc == -1) {
                corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(ENOMEM));
                return -1;
        }
        return 1;
}

int
corral_note_wait(struct corral *c, double timeout, struct corral_note *out,
                 struct corral_error *err)
{
        struct corral_queued *q;
        int rc;

        memset(out, 0, sizeof *out);
        out->obj.obj.type = MSGPACK_OBJECT_NIL;
        if ((rc = corral_fifo_wait(c, &c->logs, timeout, &q, err)) != 1)
                return rc;
        if (q->dropped > 0) {
                out->kind = CORRAL_NOTE_DROPPED;
                out->dropped = q->dropped;
                out->dropped_bytes = q->dropped_bytes;
                out->ts = q->ts;
        } else {
                out->kind = q->kind;
                out->obj = q->ev; /* the buffer moves */
        }
        free(q);
        return 1;
}

bool
corral_at_eof(const struct corral *c)
{
        return c->eof;
}
