/*
 * rpc.c -- the bench's own MessagePack-RPC client.
 *
 * It speaks the wire protocol directly (proto_reader for framing, the
 * pack helpers for requests) so that it can pipeline and so that the same
 * client code drives corrald and the raw reference server: whatever the
 * client costs, it costs both sides of a ratio alike.
 *
 * The socket stays blocking with a receive/send timeout (one recv per
 * answer in a ping-pong, no poll); pipelined loops use MSG_DONTWAIT and
 * poll(). Every msgid is >= RPC_ID_BASE so that it packs in 5 bytes and
 * a template's msgid can be patched in place.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define RPC_TIMEOUT    60.0 /* seconds a blocked send or receive may take */
#define RPC_READ_CHUNK 65536

struct rpc *
rpc_from_fd(int fd)
{
        struct timeval tv = {(time_t)RPC_TIMEOUT, 0};
        struct proto_limits lim;
        struct rpc *r;

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        r = xcalloc(1, sizeof *r);
        r->fd = fd;
        proto_limits_default(&lim);
        if ((r->rd = proto_reader_new(&lim)) == NULL) {
                fputs("corral-bench: out of memory\n", stderr);
                abort();
        }
        msgpack_sbuffer_init(&r->out);
        msgpack_packer_init(&r->pk, &r->out, msgpack_sbuffer_write);
        r->next_id = RPC_ID_BASE;
        return r;
}

struct rpc *
rpc_connect(const char *path, char **cause)
{
        int fd = unix_connect_retry(path, 10, cause);

        return fd == -1 ? NULL : rpc_from_fd(fd);
}

void
rpc_free(struct rpc *r)
{
        if (r == NULL)
                return;
        close(r->fd);
        proto_reader_free(r->rd);
        msgpack_sbuffer_destroy(&r->out);
        free(r);
}

static uint32_t
rpc_next_id(struct rpc *r)
{
        uint32_t id = r->next_id++;

        if (r->next_id == 0)
                r->next_id = RPC_ID_BASE;
        return id;
}

static void
rpc_pack(msgpack_packer *pk, uint32_t id, const char *method, rpc_params_fn params, const void *arg)
{
        proto_pack_request_head(pk, id, method);
        if (params == NULL) {
                msgpack_pack_array(pk, 0);
        } else {
                msgpack_pack_array(pk, 1);
                params(pk, arg);
        }
}

uint32_t
rpc_queue(struct rpc *r, const char *method, rpc_params_fn params, const void *arg)
{
        uint32_t id = rpc_next_id(r);

        rpc_pack(&r->pk, id, method, params, arg);
        return id;
}

void
rpc_queue_bytes(struct rpc *r, const void *p, size_t len)
{
        msgpack_sbuffer_write(&r->out, p, len);
}

size_t
rpc_out_pending(const struct rpc *r)
{
        return r->out.size - r->out_off;
}

/* Send queued bytes; flags 0 blocks (bounded by SO_SNDTIMEO). */
static int
rpc_send(struct rpc *r, int flags, char **cause)
{
        ssize_t n;

        while (r->out_off < r->out.size) {
                n = send(r->fd, r->out.data + r->out_off, r->out.size - r->out_off,
                         flags | MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT))
                        return 0;
                if (n < 0)
                        return fail(cause, "send: %s", strerror(errno));
                r->out_off += (size_t)n;
        }
        msgpack_sbuffer_clear(&r->out);
        r->out_off = 0;
        return 0;
}

int
rpc_write_some(struct rpc *r, char **cause)
{
        return rpc_send(r, MSG_DONTWAIT, cause);
}

static int
rpc_recv(struct rpc *r, int flags, char **cause)
{
        size_t avail;
        void *space = proto_reader_space(r->rd, RPC_READ_CHUNK, &avail);
        ssize_t n;

        if (space == NULL)
                return fail(cause, "out of memory for the reader");
        do
                n = recv(r->fd, space, avail, flags);
        while (n < 0 && errno == EINTR);
        if (n > 0) {
                proto_reader_commit(r->rd, (size_t)n);
                return 1;
        }
        if (n == 0)
                return fail(cause, "the server closed the connection");
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT))
                return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
                return fail(cause, "no answer within %gs", RPC_TIMEOUT);
        return fail(cause, "recv: %s", strerror(errno));
}

int
rpc_read_some(struct rpc *r, char **cause)
{
        return rpc_recv(r, MSG_DONTWAIT, cause);
}

int
rpc_next_any(struct rpc *r, struct proto_msg *msg, char **cause)
{
        struct proto_error err;
        int n;

        /* Nothing buffered yet (proto_reader_next would offset a NULL buffer). */
        if (proto_reader_pending(r->rd) == 0) {
                memset(msg, 0, sizeof *msg);
                return 0;
        }
        n = proto_reader_next(r->rd, msg, &err);
        if (n < 0)
                return fail(cause, "malformed stream from the server: %s", err.message);
        return n;
}

int
rpc_next(struct rpc *r, struct proto_msg *msg, char **cause)
{
        int n = rpc_next_any(r, msg, cause);

        if (n > 0 && msg->type != PROTO_RESPONSE) {
                proto_msg_clear(msg);
                return fail(cause, "the server sent a message of type %d", msg->type);
        }
        return n;
}

int
rpc_wait(struct rpc *r, struct proto_msg *msg, double timeout, char **cause)
{
        double deadline = now_mono() + timeout;
        struct pollfd pfd = {r->fd, POLLIN, 0};
        int n;

        if (rpc_send(r, 0, cause) != 0)
                return -1;
        for (;;) {
                if ((n = rpc_next(r, msg, cause)) != 0)
                        return n > 0 ? 0 : -1;
                if (timeout <= RPC_TIMEOUT) {
                        if (rpc_recv(r, 0, cause) < 0)
                                return -1;
                        continue;
                }
                /* Longer than the socket's own timeout: poll in slices. */
                n = poll(&pfd, 1, 1000);
                if (n > 0 && rpc_recv(r, MSG_DONTWAIT, cause) < 0)
                        return -1;
                if (n == 0 && now_mono() > deadline)
                        return fail(cause, "no answer within %gs", timeout);
        }
}

int
rpc_check(const struct proto_msg *msg, const char *what, char **cause)
{
        struct proto_error err;

        if (msg->error.type == MSGPACK_OBJECT_NIL)
                return 0;
        if (proto_error_decode(&msg->error, &err) != 0)
                return fail(cause, "%s: malformed error", what);
        return fail(cause, "%s: %s: %s", what, proto_err_name(err.code), err.message);
}

int
rpc_call(struct rpc *r, const char *method, rpc_params_fn params, const void *arg,
         struct proto_msg *msg, char **cause)
{
        uint32_t id = rpc_queue(r, method, params, arg);

        if (rpc_wait(r, msg, RPC_TIMEOUT, cause) != 0)
                return -1;
        if (msg->msgid != id) {
                proto_msg_clear(msg);
                return fail(cause, "%s: answer for msgid %u, expected %u", method, msg->msgid, id);
        }
        if (rpc_check(msg, method, cause) != 0) {
                proto_msg_clear(msg);
                return -1;
        }
        return 0;
}

const msgpack_object *
rpc_get(const msgpack_object *map, const char *key)
{
        size_t len = strlen(key);
        uint32_t i;

        if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
                return NULL;
        for (i = 0; i < map->via.map.size; i++) {
                const msgpack_object *k = &map->via.map.ptr[i].key;

                if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
                    memcmp(k->via.str.ptr, key, len) == 0)
                        return &map->via.map.ptr[i].val;
        }
        return NULL;
}

uint64_t
rpc_get_uint(const msgpack_object *map, const char *key)
{
        const msgpack_object *o = rpc_get(map, key);

        return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

bool
rpc_str_is(const msgpack_object *o, const char *s)
{
        size_t len = strlen(s);

        return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
               memcmp(o->via.str.ptr, s, len) == 0;
}

const msgpack_object *
rpc_state_event(const struct proto_msg *msg)
{
        const msgpack_object *ev;

        if (msg->type != PROTO_NOTIFICATION || strcmp(msg->method, "event") != 0 ||
            msg->params.type != MSGPACK_OBJECT_ARRAY || msg->params.via.array.size < 1)
                return NULL;
        ev = &msg->params.via.array.ptr[0];
        return rpc_str_is(rpc_get(ev, "type"), "process.state") ? ev : NULL;
}

void
rpc_params_subscribe(msgpack_packer *pk, const void *pool)
{
        msgpack_pack_map(pk, pool != NULL ? 2 : 1);
        proto_pack_str(pk, "types");
        msgpack_pack_array(pk, 1);
        proto_pack_str(pk, "process.state");
        if (pool != NULL) {
                proto_pack_str(pk, "pools");
                msgpack_pack_array(pk, 1);
                proto_pack_str(pk, pool);
        }
}

void
rpc_patch_id(void *msg, uint32_t id)
{
        unsigned char *p = (unsigned char *)msg + RPC_ID_OFFSET;

        p[0] = (unsigned char)(id >> 24);
        p[1] = (unsigned char)(id >> 16);
        p[2] = (unsigned char)(id >> 8);
        p[3] = (unsigned char)id;
}

void *
rpc_template(const char *method, rpc_params_fn params, const void *arg, size_t *len)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        rpc_pack(&pk, RPC_ID_BASE, method, params, arg);
        *len = sb.size;
        return msgpack_sbuffer_release(&sb);
}

void *
rpc_repack(const struct proto_msg *msg, size_t *len)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_object(&pk, msg->unpacked.data);
        *len = sb.size;
        return msgpack_sbuffer_release(&sb);
}

int
rpc_pingpong(struct rpc *r, const void *req, size_t req_len, size_t n, double *samples,
             char **cause)
{
        void *buf = xcalloc(1, req_len);
        struct proto_msg msg;
        size_t i;
        double t0;
        uint32_t id;
        int rc = 0;

        memcpy(buf, req, req_len);
        for (i = 0; i < n && rc == 0; i++) {
                id = rpc_next_id(r);
                rpc_patch_id(buf, id);
                t0 = now_mono();
                rpc_queue_bytes(r, buf, req_len);
                if (rpc_wait(r, &msg, RPC_TIMEOUT, cause) != 0) {
                        rc = -1;
                        break;
                }
                samples[i] = (now_mono() - t0) * 1e6;
                if (msg.msgid != id)
                        rc = fail(cause, "answer for msgid %u, expected %u", msg.msgid, id);
                else
                        rc = rpc_check(&msg, "ping-pong", cause);
                proto_msg_clear(&msg);
        }
        free(buf);
        return rc;
}

/* Per-connection state of a pipelined run. */
struct pipe_conn {
        struct rpc *r;
        unsigned inflight;
};

int
rpc_pipeline(struct rpc **conns, size_t nconn, const void *req, size_t req_len, uint64_t total,
             unsigned window, double *seconds, char **cause)
{
        struct pipe_conn *pc = xcalloc(nconn, sizeof *pc);
        struct pollfd *pfd = xcalloc(nconn, sizeof *pfd);
        unsigned char *buf = xcalloc(1, req_len);
        uint64_t sent = 0, done = 0;
        double t0 = now_mono(), deadline = t0 + RPC_TIMEOUT;
        struct proto_msg msg;
        size_t i;
        int rc = 0, n;

        memcpy(buf, req, req_len);
        for (i = 0; i < nconn; i++)
                pc[i].r = conns[i];
        while (done < total && rc == 0) {
                for (i = 0; i < nconn && rc == 0; i++) {
                        struct rpc *r = pc[i].r;

                        /* Top the window up: requests go out in batches. */
                        while (pc[i].inflight < window && sent < total) {
                                rpc_patch_id(buf, rpc_next_id(r));
                                rpc_queue_bytes(r, buf, req_len);
                                pc[i].inflight++;
                                sent++;
                        }
                        rc = rpc_write_some(r, cause);
                        pfd[i].fd = r->fd;
                        pfd[i].events = POLLIN | (rpc_out_pending(r) > 0 ? POLLOUT : 0);
                        pfd[i].revents = 0;
                }
                if (rc != 0)
                        break;
                n = poll(pfd, nconn, 1000);
                if (n < 0 && errno != EINTR) {
                        rc = fail(cause, "poll: %s", strerror(errno));
                        break;
                }
                if (n <= 0) {
                        if (now_mono() > deadline)
                                rc = fail(cause, "pipelined answers stalled (%llu of %llu)",
                                          (unsigned long long)done, (unsigned long long)total);
                        continue;
                }
                for (i = 0; i < nconn && rc == 0; i++) {
                        if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        if (rpc_read_some(pc[i].r, cause) < 0) {
                                rc = -1;
                                break;
                        }
                        while ((n = rpc_next(pc[i].r, &msg, cause)) > 0) {
                                rc = rpc_check(&msg, "pipelined request", cause);
                                proto_msg_clear(&msg);
                                if (rc != 0)
                                        break;
                                pc[i].inflight--;
                                done++;
                        }
                        if (n < 0)
                                rc = -1;
                }
                deadline = now_mono() + RPC_TIMEOUT;
        }
        *seconds = now_mono() - t0;
        free(buf);
        free(pfd);
        free(pc);
        return rc;
}

void
rpc_params_target_id(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 1);
        proto_pack_kv_uint(pk, "id", *(const uint64_t *)arg);
}

void
rpc_params_spawn(msgpack_packer *pk, const void *arg)
{
        const struct spawn_args *sa = arg;
        size_t argc = 0, i;

        while (sa->argv[argc] != NULL)
                argc++;
        msgpack_pack_map(pk, 1 + (sa->name != NULL) + (sa->pool != NULL));
        proto_pack_str(pk, "argv");
        msgpack_pack_array(pk, argc);
        for (i = 0; i < argc; i++)
                proto_pack_str(pk, sa->argv[i]);
        if (sa->name != NULL)
                proto_pack_kv_str(pk, "name", sa->name);
        if (sa->pool != NULL)
                proto_pack_kv_str(pk, "pool", sa->pool);
}
