/*
 * raw-server.c -- the reference server: the least a Unix-socket server
 * can do to answer the same bytes corrald answers.
 *
 * It knows nothing of MessagePack: every req_len bytes received are one
 * request, answered with a canned response (a real answer of corrald's,
 * captured by the bench) whose 4 msgid bytes are copied from the
 * request. Single-threaded, level-triggered epoll, answers written at
 * once after each read. It runs as `corral-bench --raw-server SOCK
 * REQ_LEN RESP_FILE`, a separate process like corrald, so the client's
 * and server's costs split over the two cores the same way.
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

#define RAW_READ     65536
#define RAW_MAX_OUT  (256u * 1024 * 1024) /* a client that never reads is dropped */
#define RAW_MAX_CONN 256

struct raw_conn {
        int fd;
        unsigned char carry[64]; /* a partial request left from the last read */
        size_t ncarry;
        unsigned char *out;
        size_t out_len, out_off, out_cap;
        bool want_out;
};

struct raw {
        int ep;
        size_t req_len;
        const unsigned char *resp;
        size_t resp_len;
};

static void
raw_conn_close(struct raw *s, struct raw_conn *c)
{
        epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c->out);
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
raw_answer(struct raw *s, struct raw_conn *c, const unsigned char *req)
{
        unsigned char *p;

        if (c->out_len + s->resp_len > c->out_cap) {
                c->out_cap = (c->out_len + s->resp_len) * 2;
                c->out = xrealloc(c->out, c->out_cap);
        }
        p = c->out + c->out_len;
        memcpy(p, s->resp, s->resp_len);
        memcpy(p + RPC_ID_OFFSET, req + RPC_ID_OFFSET, 4);
        c->out_len += s->resp_len;
}

static int
raw_read(struct raw *s, struct raw_conn *c)
{
        static unsigned char buf[RAW_READ + 64];
        size_t have, off;
        ssize_t n;

        memcpy(buf, c->carry, c->ncarry);
        do
                n = recv(c->fd, buf + c->ncarry, RAW_READ, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
        if (n <= 0)
                return -1;
        have = c->ncarry + (size_t)n;
        for (off = 0; off + s->req_len <= have; off += s->req_len)
                raw_answer(s, c, buf + off);
        c->ncarry = have - off;
        memcpy(c->carry, buf + off, c->ncarry);
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
        size_t len;

        if (argc != 5) {
                fprintf(stderr, "usage: corral-bench --raw-server SOCK REQ_LEN RESP_FILE\n");
                return 2;
        }
        memset(&s, 0, sizeof s);
        s.req_len = strtoul(argv[3], NULL, 10);
        s.resp = (const unsigned char *)file_read(argv[4], &len);
        s.resp_len = len;
        if (s.req_len <= RPC_ID_OFFSET + 4 || s.req_len > sizeof c->carry || s.resp == NULL ||
            s.resp_len <= RPC_ID_OFFSET + 4) {
                fprintf(stderr, "raw-server: bad request length or response file\n");
                return 2;
        }
        if ((lfd = raw_listen(argv[2])) == -1 || (s.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
                fprintf(stderr, "raw-server: cannot listen on %s: %s\n", argv[2],
                        strerror(errno));
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
raw_server_start(struct bench *b, struct raw_server *rs, size_t req_len, const void *resp,
                 size_t resp_len, char **cause)
{
        static unsigned seq;
        char name[64], respfile[256], lenstr[32];
        const char *argv[6];
        int fd;

        if (req_len > 64)
                return fail(cause, "reference requests are at most 64 bytes (%zu)", req_len);
        seq++;
        snprintf(name, sizeof name, "raw-%u.resp", seq);
        snprintf(respfile, sizeof respfile, "%s", bench_path(b, name));
        snprintf(name, sizeof name, "raw-%u.sock", seq);
        snprintf(rs->sock, sizeof rs->sock, "%s", bench_path(b, name));
        snprintf(lenstr, sizeof lenstr, "%zu", req_len);
        if (file_write(respfile, resp, resp_len) != 0)
                return fail(cause, "cannot write %s: %s", respfile, strerror(errno));
        argv[0] = b->self_path;
        argv[1] = "--raw-server";
        argv[2] = rs->sock;
        argv[3] = lenstr;
        argv[4] = respfile;
        argv[5] = NULL;
        if ((rs->pid = proc_start(argv, NULL, bench_path(b, "raw-server.log"), SIGKILL, cause)) ==
            -1)
                return -1;
        if ((fd = unix_connect_retry(rs->sock, 10, cause)) == -1) {
                raw_server_stop(rs);
                return -1;
        }
        close(fd);
        return 0;
}

void
raw_server_stop(struct raw_server *rs)
{
        if (rs->pid > 0)
                proc_stop(rs->pid, SIGTERM, 5);
        rs->pid = 0;
}
