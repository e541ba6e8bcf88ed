/*
 * raw-server.c -- the reference server: the least a Unix-socket server
 * can do to answer the same bytes corrald answers.
 *
 * It knows nothing of MessagePack: every req_len bytes received are one
 * request, answered with a canned response (a real answer of corrald's,
 * captured by the bench) whose 4 msgid bytes are copied from the
 * request. With several kinds of request (queue.put and queue.get), each
 * kind is a request template and its answer; a request is recognised by
 * the bytes after its msgid (the method name and the start of its
 * params), a plain comparison. Single-threaded, level-triggered epoll,
 * answers written at once after each read. It runs as `corral-bench
 * --raw-server SOCK N (REQ_LEN REQ_FILE|- RESP_FILE)...`, a separate
 * process like corrald, so the client's and server's costs split over
 * the two cores the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"

#define RAW_READ    65536
#define RAW_MAX_OUT (256u * 1024 * 1024) /* a client that never reads is dropped */
#define RAW_CMP     24                   /* bytes after the msgid that tell kinds apart */

struct raw_conn {
        int fd;
        unsigned char *carry; /* a partial request left from the last read (max_req bytes) */
        size_t ncarry;
        unsigned char *out;
        size_t out_len, out_off, out_cap;
        bool want_out;
};

struct raw_kind_srv {
        const unsigned char *req; /* the template, or NULL: any request of req_len bytes */
        size_t req_len;
        const unsigned char *resp;
        size_t resp_len;
};

struct raw {
        int ep;
        struct raw_kind_srv kinds[RAW_KINDS_MAX];
        size_t nkinds, max_req;
        unsigned char *buf; /* one read plus a carried partial request */
};

static void
raw_conn_close(struct raw *s, struct raw_conn *c)
{
        epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c->out);
        free(c->carry);
        free(c);
}

/* Write what the socket takes; watch for writability only while output is left. */
static int
raw_flush(struct raw *s, struct raw_conn *c)
{
        struct epoll_event ev;
        ssize_t n;
        bool want;

        while (c->out_off < c->out_len) {
                n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (n <= 0)
                        return -1;
                c->out_off += (size_t)n;
        }
        if (c->out_off == c->out_len)
                c->out_off = c->out_len = 0;
        want = c->out_len > 0;
        if (want != c->want_out) {
                ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
                ev.data.ptr = c;
                epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = want;
        }
        return 0;
}

static void
raw_answer(struct raw_conn *c, const struct raw_kind_srv *k, const unsigned char *req)
{
        unsigned char *p;

        if (c->out_len + k->resp_len > c->out_cap) {
                c->out_cap = (c->out_len + k->resp_len) * 2;
                c->out = xrealloc(c->out, c->out_cap);
        }
        p = c->out + c->out_len;
        memcpy(p, k->resp, k->resp_len);
        memcpy(p + RPC_ID_OFFSET, req + RPC_ID_OFFSET, 4);
        c->out_len += k->resp_len;
}

/*
 * The kind of the request at p (have bytes there): the kind, NULL with
 * *more set if more bytes are needed to tell, NULL alone if none matches.
 */
static const struct raw_kind_srv *
raw_kind_of(const struct raw *s, const unsigned char *p, size_t have, bool *more)
{
        const size_t head = RPC_ID_OFFSET + 4;
        size_t i, cmp;

        *more = false;
        if (s->nkinds == 1 && s->kinds[0].req == NULL) {
                *more = have < s->kinds[0].req_len;
                return *more ? NULL : &s->kinds[0];
        }
        for (i = 0; i < s->nkinds; i++) {
                const struct raw_kind_srv *k = &s->kinds[i];

                cmp = k->req_len - head < RAW_CMP ? k->req_len - head : RAW_CMP;
                if (have < head + cmp) {
                        *more = true;
                        return NULL;
                }
                if (memcmp(p + head, k->req + head, cmp) == 0) {
                        *more = have < k->req_len;
                        return *more ? NULL : k;
                }
        }
        return NULL;
}

static int
raw_read(struct raw *s, struct raw_conn *c)
{
        const struct raw_kind_srv *k;
        size_t have, off;
        ssize_t n;
        bool more;

        memcpy(s->buf, c->carry, c->ncarry);
        do
                n = recv(c->fd, s->buf + c->ncarry, RAW_READ, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
        if (n <= 0)
                return -1;
        have = c->ncarry + (size_t)n;
        for (off = 0; off < have; off += k->req_len) {
                if ((k = raw_kind_of(s, s->buf + off, have - off, &more)) == NULL) {
                        if (!more)
                                return -1; /* not a request we know */
                        break;
                }
                raw_answer(c, k, s->buf + off);
        }
        c->ncarry = have - off;
        memcpy(c->carry, s->buf + off, c->ncarry);
        if (c->out_len > RAW_MAX_OUT)
                return -1;
        return raw_flush(s, c);
}

static int
raw_listen(const char *path)
{
        struct sockaddr_un sun;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (fd == -1 || strlen(path) >= sizeof sun.sun_path)
                return -1;
        memcpy(sun.sun_path, path, strlen(path) + 1);
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 || listen(fd, 128) == -1) {
                close(fd);
                return -1;
        }
        return fd;
}

int
raw_server_main(int argc, char **argv)
{
        struct epoll_event ev, evs[64];
        struct raw s;
        struct raw_conn *c;
        int lfd, n, i, fd;
        size_t len, k;

        memset(&s, 0, sizeof s);
        s.nkinds = argc >= 4 ? strtoul(argv[3], NULL, 10) : 0;
        if (s.nkinds < 1 || s.nkinds > RAW_KINDS_MAX || (size_t)argc != 4 + 3 * s.nkinds) {
                fprintf(stderr, "usage: corral-bench --raw-server SOCK N "
                                "(REQ_LEN REQ_FILE|- RESP_FILE)...\n");
                return 2;
        }
        for (k = 0; k < s.nkinds; k++) {
                struct raw_kind_srv *kd = &s.kinds[k];
                const char *reqf = argv[5 + 3 * k];

                kd->req_len = strtoul(argv[4 + 3 * k], NULL, 10);
                kd->req = NULL;
                if (strcmp(reqf, "-") != 0 &&
                    ((kd->req = (const unsigned char *)file_read(reqf, &len)) == NULL ||
                     len != kd->req_len)) {
                        fprintf(stderr, "raw-server: bad request file %s\n", reqf);
                        return 2;
                }
                kd->resp = (const unsigned char *)file_read(argv[6 + 3 * k], &len);
                kd->resp_len = len;
                if (kd->req_len <= RPC_ID_OFFSET + 4 || kd->req_len > RAW_REQ_MAX ||
                    kd->resp == NULL || kd->resp_len <= RPC_ID_OFFSET + 4 ||
                    (s.nkinds > 1 && kd->req == NULL)) {
                        fprintf(stderr, "raw-server: bad request length or response file\n");
                        return 2;
                }
                if (kd->req_len > s.max_req)
                        s.max_req = kd->req_len;
        }
        s.buf = xcalloc(1, RAW_READ + s.max_req);
        if ((lfd = raw_listen(argv[2])) == -1 || (s.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
                fprintf(stderr, "raw-server: cannot listen on %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        ev.events = EPOLLIN;
        ev.data.ptr = NULL; /* the listener */
        epoll_ctl(s.ep, EPOLL_CTL_ADD, lfd, &ev);
        for (;;) {
                n = epoll_wait(s.ep, evs, 64, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return 1;
                for (i = 0; i < n; i++) {
                        c = evs[i].data.ptr;
                        if (c == NULL) {
                                fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                                if (fd == -1)
                                        continue;
                                c = xcalloc(1, sizeof *c);
                                c->fd = fd;
                                c->carry = xcalloc(1, s.max_req);
                                ev.events = EPOLLIN;
                                ev.data.ptr = c;
                                epoll_ctl(s.ep, EPOLL_CTL_ADD, fd, &ev);
                                continue;
                        }
                        if ((evs[i].events & EPOLLOUT) && raw_flush(&s, c) != 0) {
                                raw_conn_close(&s, c);
                                continue;
                        }
                        if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                            raw_read(&s, c) != 0)
                                raw_conn_close(&s, c);
                }
        }
}

int
raw_server_start_kinds(struct bench *b, struct raw_server *rs, const struct raw_kind *kinds,
                       size_t nkinds, char **cause)
{
        static unsigned seq;
        char name[64], files[RAW_KINDS_MAX][2][256], lens[RAW_KINDS_MAX][32], nstr[16];
        const char *argv[5 + 3 * RAW_KINDS_MAX];
        size_t i, a = 0;
        int fd;

        if (nkinds < 1 || nkinds > RAW_KINDS_MAX)
                return fail(cause, "the reference server takes 1 to %d kinds of request",
                            RAW_KINDS_MAX);
        seq++;
        argv[a++] = b->self_path;
        argv[a++] = "--raw-server";
        snprintf(name, sizeof name, "raw-%u.sock", seq);
        snprintf(rs->sock, sizeof rs->sock, "%s", bench_path(b, name));
        argv[a++] = rs->sock;
        snprintf(nstr, sizeof nstr, "%zu", nkinds);
        argv[a++] = nstr;
        for (i = 0; i < nkinds; i++) {
                if (kinds[i].req_len > RAW_REQ_MAX)
                        return fail(cause, "reference requests are at most %d bytes (%zu)",
                                    RAW_REQ_MAX, kinds[i].req_len);
                snprintf(lens[i], sizeof lens[i], "%zu", kinds[i].req_len);
                snprintf(name, sizeof name, "raw-%u-%zu.req", seq, i);
                snprintf(files[i][0], sizeof files[i][0], "%s", bench_path(b, name));
                snprintf(name, sizeof name, "raw-%u-%zu.resp", seq, i);
                snprintf(files[i][1], sizeof files[i][1], "%s", bench_path(b, name));
                if ((kinds[i].req != NULL &&
                     file_write(files[i][0], kinds[i].req, kinds[i].req_len) != 0) ||
                    file_write(files[i][1], kinds[i].resp, kinds[i].resp_len) != 0)
                        return fail(cause, "cannot write %s: %s", files[i][1], strerror(errno));
                argv[a++] = lens[i];
                argv[a++] = kinds[i].req != NULL ? files[i][0] : "-";
                argv[a++] = files[i][1];
        }
        argv[a] = NULL;
        if ((rs->pid = proc_start(argv, NULL, bench_path(b, "raw-server.log"), SIGKILL, cause)) ==
            -1) {
                rs->pid = 0;
                return -1;
        }
        if ((fd = unix_connect_retry(rs->sock, 10, cause)) == -1) {
                raw_server_stop(rs);
                return -1;
        }
        close(fd);
        return 0;
}

int
raw_server_start(struct bench *b, struct raw_server *rs, size_t req_len, const void *resp,
                 size_t resp_len, char **cause)
{
        struct raw_kind k = {NULL, req_len, resp, resp_len};

        return raw_server_start_kinds(b, rs, &k, 1, cause);
}

void
raw_server_stop(struct raw_server *rs)
{
        if (rs->pid > 0)
                proc_stop(rs->pid, SIGTERM, 5);
        rs->pid = 0;
}
