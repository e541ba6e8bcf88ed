/*
 * qload.c -- the queue load driver: producers put fixed-size messages and
 * consumers get them, over several connections at once, each connection
 * with at most `window` messages in flight (1: one request at a time, as
 * a simple client does; more: pipelined).
 *
 * One driver for every server that holds a queue -- corrald and the raw
 * reference (MessagePack-RPC), redis (RESP: LPUSH / BRPOP) and beanstalkd
 * (its text protocol: put / reserve / delete) -- so that the same loop,
 * buffers and accounting drive every figure of the queue scenarios; only
 * the bytes on the wire differ. All connections are served by one thread
 * with poll(), as rpc_pipeline() does: the client takes one core, the
 * server the other.
 *
 * A message counts once its consumer has finished with it: the get
 * answered (corrald without ack, redis), or the delete / ack answered
 * (beanstalkd, corrald with ack).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define QLOAD_READ  65536
#define QLOAD_STALL 30.0 /* seconds without progress before giving up */

struct qbuf {
        unsigned char *p;
        size_t off, len, cap; /* bytes [off, len) are pending */
};

struct qconn {
        int fd;
        bool producer;
        uint64_t quota, sent, done;
        unsigned inflight;
        struct qbuf out, in;     /* in: text protocols only */
        struct proto_reader *rd; /* MessagePack only */
        msgpack_packer pk;       /* packs acks into out */
        uint32_t next_id;
};

struct qload {
        const struct qload_spec *spec;
        unsigned char *put, *get; /* request templates (MessagePack: msgid patched) */
        size_t put_len, get_len;
        struct qconn *conns;
        size_t nconns;
};

/* ---- buffers ------------------------------------------------------------- */

static void
qbuf_add(struct qbuf *b, const void *p, size_t n)
{
        if (b->off > 0 && b->off == b->len)
                b->off = b->len = 0;
        if (b->len + n > b->cap) {
                if (b->off > 0) { /* slide the pending bytes down first */
                        memmove(b->p, b->p + b->off, b->len - b->off);
                        b->len -= b->off;
                        b->off = 0;
                }
                while (b->len + n > b->cap)
                        b->cap = b->cap ? b->cap * 2 : 65536;
                b->p = xrealloc(b->p, b->cap);
        }
        memcpy(b->p + b->len, p, n);
        b->len += n;
}

static int
qbuf_pk_write(void *data, const char *buf, size_t len)
{
        qbuf_add(data, buf, len);
        return 0;
}

/* Space for at least want more bytes at the end of b. */
static unsigned char *
qbuf_space(struct qbuf *b, size_t want, size_t *avail)
{
        if (b->off == b->len)
                b->off = b->len = 0;
        if (b->cap - b->len < want && b->off > 0) {
                memmove(b->p, b->p + b->off, b->len - b->off);
                b->len -= b->off;
                b->off = 0;
        }
        if (b->cap - b->len < want) {
                b->cap = b->len + want;
                b->p = xrealloc(b->p, b->cap);
        }
        *avail = b->cap - b->len;
        return b->p + b->len;
}

/* ---- requests ------------------------------------------------------------ */

struct qload_put_args {
        const char *queue;
        const unsigned char *data;
        size_t len;
};

static void
qload_params_put(msgpack_packer *pk, const void *arg)
{
        const struct qload_put_args *a = arg;

        msgpack_pack_map(pk, 2);
        proto_pack_kv_str(pk, "queue", a->queue);
        proto_pack_str(pk, "data");
        msgpack_pack_bin(pk, a->len);
        msgpack_pack_bin_body(pk, a->data, a->len);
}

struct qload_get_args {
        const char *queue;
        bool ack;
};

static void
qload_params_get(msgpack_packer *pk, const void *arg)
{
        const struct qload_get_args *a = arg;

        msgpack_pack_map(pk, 1 + a->ack);
        proto_pack_kv_str(pk, "queue", a->queue);
        if (a->ack)
                proto_pack_kv_bool(pk, "ack", true);
}

void *
qload_put_template(const char *queue, size_t msg_size, size_t *len)
{
        unsigned char *data = xcalloc(1, msg_size);
        struct qload_put_args a = {queue, data, msg_size};
        void *t;

        memset(data, 'x', msg_size);
        t = rpc_template(PROTO_M_QUEUE_PUT, qload_params_put, &a, len);
        free(data);
        return t;
}

void *
qload_get_template(const char *queue, bool ack, size_t *len)
{
        struct qload_get_args a = {queue, ack};

        return rpc_template(PROTO_M_QUEUE_GET, qload_params_get, &a, len);
}

/* The request templates of the protocol. */
static void
qload_templates(struct qload *ql)
{
        const struct qload_spec *sp = ql->spec;
        size_t n = sp->msg_size, klen = strlen(sp->queue);
        unsigned char *data = xcalloc(1, n);
        char head[128];
        int h;

        memset(data, 'x', n);
        switch (sp->proto) {
        case QLOAD_MSGPACK:
                ql->put = qload_put_template(sp->queue, n, &ql->put_len);
                ql->get = qload_get_template(sp->queue, sp->ack, &ql->get_len);
                break;
        case QLOAD_REDIS:
                h = snprintf(head, sizeof head, "*3\r\n$5\r\nLPUSH\r\n$%zu\r\n%s\r\n$%zu\r\n", klen,
                             sp->queue, n);
                ql->put_len = (size_t)h + n + 2;
                ql->put = xcalloc(1, ql->put_len);
                memcpy(ql->put, head, (size_t)h);
                memcpy(ql->put + h, data, n);
                memcpy(ql->put + h + n, "\r\n", 2);
                h = snprintf(head, sizeof head, "*3\r\n$5\r\nBRPOP\r\n$%zu\r\n%s\r\n$1\r\n0\r\n",
                             klen, sp->queue);
                ql->get_len = (size_t)h;
                ql->get = (unsigned char *)xstrdup(head);
                break;
        case QLOAD_BEANSTALK:
                /* The default tube: priority 0, no delay, 60 s to run. */
                h = snprintf(head, sizeof head, "put 0 0 60 %zu\r\n", n);
                ql->put_len = (size_t)h + n + 2;
                ql->put = xcalloc(1, ql->put_len);
                memcpy(ql->put, head, (size_t)h);
                memcpy(ql->put + h, data, n);
                memcpy(ql->put + h + n, "\r\n", 2);
                ql->get = (unsigned char *)xstrdup("reserve\r\n");
                ql->get_len = strlen("reserve\r\n");
                break;
        }
        free(data);
}

static void
qload_queue_request(struct qload *ql, struct qconn *c)
{
        const unsigned char *t = c->producer ? ql->put : ql->get;
        size_t len = c->producer ? ql->put_len : ql->get_len;

        qbuf_add(&c->out, t, len);
        if (ql->spec->proto == QLOAD_MSGPACK)
                rpc_patch_id(c->out.p + c->out.len - len, c->next_id++);
}

/* ---- answers ------------------------------------------------------------- */

static void
qload_params_ack(msgpack_packer *pk, const void *arg)
{
        const struct qload_put_args *a = arg; /* queue and msg_id (in len) */

        msgpack_pack_map(pk, 2);
        proto_pack_kv_str(pk, "queue", a->queue);
        proto_pack_kv_uint(pk, "msg_id", a->len);
}

static int
qload_msgpack_answers(struct qload *ql, struct qconn *c, char **cause)
{
        const struct qload_spec *sp = ql->spec;
        struct proto_error err;
        struct proto_msg msg;
        const msgpack_object *data;
        int n;

        while (proto_reader_pending(c->rd) > 0 && (n = proto_reader_next(c->rd, &msg, &err)) != 0) {
                if (n < 0)
                        return fail(cause, "malformed stream: %s", err.message);
                if (msg.type != PROTO_RESPONSE) {
                        proto_msg_clear(&msg);
                        return fail(cause, "a message of type %d, not a response", msg.type);
                }
                if (rpc_check(&msg, c->producer ? "queue.put" : "queue.get", cause) != 0) {
                        proto_msg_clear(&msg);
                        return -1;
                }
                if (!c->producer) {
                        data = rpc_get(&msg.result, "data");
                        if (data == NULL && sp->ack) {
                                /* The answer to an ack: the message is done below. */
                        } else if (data == NULL || data->type != MSGPACK_OBJECT_BIN ||
                                   data->via.bin.size != sp->msg_size) {
                                proto_msg_clear(&msg);
                                return fail(cause, "queue.get: not a %zu-byte message",
                                            sp->msg_size);
                        } else if (sp->ack) {
                                struct qload_put_args a = {sp->queue, NULL,
                                                           rpc_get_uint(&msg.result, "msg_id")};

                                proto_pack_request_head(&c->pk, c->next_id++, PROTO_M_QUEUE_ACK);
                                msgpack_pack_array(&c->pk, 1);
                                qload_params_ack(&c->pk, &a);
                                proto_msg_clear(&msg);
                                continue;
                        }
                }
                proto_msg_clear(&msg);
                c->done++;
                c->inflight--;
        }
        return 0;
}

/* The end of the line starting at p (after its \r\n), or NULL if incomplete. */
static const unsigned char *
qload_line(const unsigned char *p, const unsigned char *end)
{
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));

        return nl != NULL ? nl + 1 : NULL;
}

/* One RESP value at p: its end, NULL if incomplete; *bad on a protocol error or error reply. */
static const unsigned char *
qload_resp_value(const unsigned char *p, const unsigned char *end, size_t *bulk_len, bool *bad)
{
        const unsigned char *e, *q;
        long n, i;

        if (p >= end || (e = qload_line(p, end)) == NULL)
                return NULL;
        n = strtol((const char *)p + 1, NULL, 10);
        switch (*p) {
        case ':':
        case '+':
                return e;
        case '$':
                if (n < 0)
                        return e;
                if (end - e < n + 2)
                        return NULL;
                *bulk_len = (size_t)n;
                return e + n + 2;
        case '*':
                for (i = 0, q = e; i < n; i++) {
                        if ((q = qload_resp_value(q, end, bulk_len, bad)) == NULL || *bad)
                                return q;
                }
                return q;
        default: /* '-' an error, or garbage */
                *bad = true;
                return e;
        }
}

static int
qload_redis_answers(struct qload *ql, struct qconn *c, char **cause)
{
        const unsigned char *p = c->in.p + c->in.off, *end = c->in.p + c->in.len, *e;
        size_t bulk = 0;
        bool bad = false;

        while (p < end && (e = qload_resp_value(p, end, &bulk, &bad)) != NULL) {
                if (bad || (c->producer ? *p != ':' : (*p != '*' || bulk != ql->spec->msg_size)))
                        return fail(cause, "redis: unexpected reply %.*s",
                                    (int)(e - p > 60 ? 60 : e - p), (const char *)p);
                c->done++;
                c->inflight--;
                p = e;
        }
        c->in.off = (size_t)(p - c->in.p);
        return 0;
}

static int
qload_beanstalk_answers(struct qload *ql, struct qconn *c, char **cause)
{
        const unsigned char *p = c->in.p + c->in.off, *end = c->in.p + c->in.len, *e;
        unsigned long long id;
        unsigned long bytes;
        char del[64];
        int n;

        while (p < end && (e = qload_line(p, end)) != NULL) {
                if (c->producer && e - p > 9 && memcmp(p, "INSERTED ", 9) == 0) {
                        c->done++;
                        c->inflight--;
                } else if (!c->producer && e - p >= 9 && memcmp(p, "DELETED\r\n", 9) == 0) {
                        c->done++;
                        c->inflight--;
                } else if (!c->producer &&
                           sscanf((const char *)p, "RESERVED %llu %lu", &id, &bytes) == 2) {
                        if ((size_t)(end - e) < bytes + 2)
                                break; /* the job's body is not all here yet */
                        if (bytes != ql->spec->msg_size)
                                return fail(cause, "beanstalkd: a %lu-byte job", bytes);
                        e += bytes + 2;
                        n = snprintf(del, sizeof del, "delete %llu\r\n", id);
                        qbuf_add(&c->out, del, (size_t)n);
                } else {
                        return fail(cause, "beanstalkd: unexpected reply %.*s",
                                    (int)(e - p > 60 ? 60 : e - p), (const char *)p);
                }
                p = e;
        }
        c->in.off = (size_t)(p - c->in.p);
        return 0;
}

/* Read what is there and handle the complete answers. -1 on error or EOF. */
static int
qload_read(struct qload *ql, struct qconn *c, char **cause)
{
        unsigned char *space;
        size_t avail;
        ssize_t n;

        if (ql->spec->proto == QLOAD_MSGPACK) {
                if ((space = proto_reader_space(c->rd, QLOAD_READ, &avail)) == NULL)
                        return fail(cause, "out of memory");
        } else {
                space = qbuf_space(&c->in, QLOAD_READ, &avail);
        }
        do
                n = recv(c->fd, space, avail, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
        if (n <= 0)
                return fail(cause, "%s",
                            n == 0 ? "the server closed the connection" : strerror(errno));
        switch (ql->spec->proto) {
        case QLOAD_MSGPACK:
                proto_reader_commit(c->rd, (size_t)n);
                return qload_msgpack_answers(ql, c, cause);
        case QLOAD_REDIS:
                c->in.len += (size_t)n;
                return qload_redis_answers(ql, c, cause);
        case QLOAD_BEANSTALK:
                c->in.len += (size_t)n;
                return qload_beanstalk_answers(ql, c, cause);
        }
        return -1;
}

static int
qload_write(struct qconn *c, char **cause)
{
        ssize_t n;

        while (c->out.off < c->out.len) {
                n = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                if (n < 0)
                        return fail(cause, "send: %s", strerror(errno));
                c->out.off += (size_t)n;
        }
        return 0;
}

/* ---- connections ----------------------------------------------------------- */

int
qload_connect(const struct qload_spec *sp, char **cause)
{
        struct sockaddr_in sin;
        int fd, one = 1;

        if (sp->path != NULL)
                return unix_connect_retry(sp->path, 10, cause);
        if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
                return fail(cause, "socket: %s", strerror(errno));
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)sp->port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, always */
        if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
                close(fd);
                return fail(cause, "connect 127.0.0.1:%d: %s", sp->port, strerror(errno));
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
}

static void
qload_free(struct qload *ql)
{
        size_t i;

        for (i = 0; i < ql->nconns; i++) {
                struct qconn *c = &ql->conns[i];

                if (c->fd >= 0)
                        close(c->fd);
                proto_reader_free(c->rd);
                free(c->out.p);
                free(c->in.p);
        }
        free(ql->conns);
        free(ql->put);
        free(ql->get);
}

static int
qload_open(struct qload *ql, char **cause)
{
        const struct qload_spec *sp = ql->spec;
        struct proto_limits lim;
        size_t i;

        ql->nconns = sp->producers + sp->consumers;
        ql->conns = xcalloc(ql->nconns, sizeof *ql->conns);
        for (i = 0; i < ql->nconns; i++)
                ql->conns[i].fd = -1;
        proto_limits_default(&lim);
        for (i = 0; i < ql->nconns; i++) {
                struct qconn *c = &ql->conns[i];
                bool prod = i < sp->producers;
                unsigned k = prod ? sp->producers : sp->consumers;
                size_t idx = prod ? i : i - sp->producers;

                c->producer = prod;
                /* n spread over the k connections of the role, the remainder to the first. */
                c->quota = sp->n / k + (idx == 0 ? sp->n % k : 0);
                c->next_id = RPC_ID_BASE;
                msgpack_packer_init(&c->pk, &c->out, qbuf_pk_write);
                if (sp->proto == QLOAD_MSGPACK && (c->rd = proto_reader_new(&lim)) == NULL)
                        return fail(cause, "cannot create a reader");
                if ((c->fd = qload_connect(sp, cause)) == -1)
                        return -1;
        }
        return 0;
}

int
qload_run(const struct qload_spec *sp, double *rate, char **cause)
{
        struct qload ql;
        struct pollfd *pfd;
        uint64_t total = 0, done, last = 0;
        double t0, last_progress;
        size_t i;
        int rc = 0, k;

        memset(&ql, 0, sizeof ql);
        ql.spec = sp;
        if (sp->producers == 0 || sp->consumers == 0 || sp->window == 0 || sp->n == 0)
                return fail(cause, "qload: empty load");
        qload_templates(&ql);
        if (qload_open(&ql, cause) != 0) {
                qload_free(&ql);
                return -1;
        }
        pfd = xcalloc(ql.nconns, sizeof *pfd);
        for (i = 0; i < ql.nconns; i++)
                total += ql.conns[i].quota; /* n puts + n gets */
        t0 = last_progress = now_mono();
        for (;;) {
                done = 0;
                for (i = 0; i < ql.nconns && rc == 0; i++) {
                        struct qconn *c = &ql.conns[i];

                        while (c->inflight < sp->window && c->sent < c->quota) {
                                qload_queue_request(&ql, c);
                                c->inflight++;
                                c->sent++;
                        }
                        rc = qload_write(c, cause);
                        pfd[i].fd = c->fd;
                        pfd[i].events = POLLIN | (c->out.off < c->out.len ? POLLOUT : 0);
                        pfd[i].revents = 0;
                        done += c->done;
                }
                if (rc != 0 || done == total)
                        break;
                if (done != last) {
                        last = done;
                        last_progress = now_mono();
                } else if (now_mono() - last_progress > QLOAD_STALL) {
                        rc = fail(cause, "no progress for %gs (%llu of %llu answers)", QLOAD_STALL,
                                  (unsigned long long)done, (unsigned long long)total);
                        break;
                }
                k = poll(pfd, ql.nconns, 1000);
                if (k < 0 && errno != EINTR) {
                        rc = fail(cause, "poll: %s", strerror(errno));
                        break;
                }
                for (i = 0; k > 0 && i < ql.nconns && rc == 0; i++) {
                        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                                rc = qload_read(&ql, &ql.conns[i], cause);
                }
                if (rc != 0)
                        break;
        }
        *rate = (double)sp->n / (now_mono() - t0);
        free(pfd);
        qload_free(&ql);
        return rc;
}

/* ---- filling a queue (footprints, inflated daemons) ----------------------- */

int
qload_fill(const struct qload_spec *sp, double *seconds, char **cause)
{
        struct qload ql;
        struct pollfd pfd;
        struct qconn *c;
        double t0, last_progress;
        uint64_t last = 0;
        int rc = 0, k;

        memset(&ql, 0, sizeof ql);
        ql.spec = sp;
        qload_templates(&ql);
        ql.nconns = 1;
        ql.conns = xcalloc(1, sizeof *ql.conns);
        c = &ql.conns[0];
        c->producer = true;
        c->quota = sp->n;
        c->next_id = RPC_ID_BASE;
        msgpack_packer_init(&c->pk, &c->out, qbuf_pk_write);
        if (sp->proto == QLOAD_MSGPACK) {
                struct proto_limits lim;

                proto_limits_default(&lim);
                c->rd = proto_reader_new(&lim);
        }
        if ((c->fd = qload_connect(sp, cause)) == -1) {
                c->fd = -1;
                qload_free(&ql);
                return -1;
        }
        t0 = last_progress = now_mono();
        while (c->done < c->quota && rc == 0) {
                while (c->inflight < sp->window && c->sent < c->quota) {
                        qload_queue_request(&ql, c);
                        c->inflight++;
                        c->sent++;
                }
                if ((rc = qload_write(c, cause)) != 0)
                        break;
                pfd.fd = c->fd;
                pfd.events = POLLIN | (c->out.off < c->out.len ? POLLOUT : 0);
                k = poll(&pfd, 1, 1000);
                if (k > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
                        rc = qload_read(&ql, c, cause);
                if (c->done != last) {
                        last = c->done;
                        last_progress = now_mono();
                } else if (now_mono() - last_progress > QLOAD_STALL) {
                        rc = fail(cause, "filling stalled at %llu of %llu",
                                  (unsigned long long)c->done, (unsigned long long)c->quota);
                }
        }
        *seconds = now_mono() - t0;
        qload_free(&ql);
        return rc;
}
