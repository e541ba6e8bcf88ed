/*
 * notify.c -- receive READY=1 / STATUS= from supervised children.
 *
 * An abstract-namespace datagram socket: no file to clean up and no
 * directory permissions in the way of children running as other users.
 * Anyone may send to it, so a message only counts for the process whose
 * pid (or process group) the kernel says sent it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"
#include "log.h"
#include "notify.h"
#include "process.h"
#include "xmalloc.h"

#define NOTIFY_MAX 4096 /* bytes of one message we look at */

struct notify {
        struct corrald *daemon;
        int fd;
        char path[64];
        struct event *ev;
};

/* The supervised process that sent it: by pid, or as a member of its group. */
static struct process *
notify_sender(struct corrald *d, pid_t pid)
{
        struct process *p = process_find_pid(d->processes, pid);
        pid_t pgid;

        if (p != NULL)
                return p;
        pgid = getpgid(pid);
        return pgid > 0 ? process_find_pid(d->processes, pgid) : NULL;
}

/* Apply the lines of one message (NUL-terminated) to p. */
static void
notify_apply(struct process *p, char *msg)
{
        char *line, *save = NULL, *status = NULL;
        bool ready = false;

        for (line = strtok_r(msg, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                if (strcmp(line, "READY=1") == 0)
                        ready = true;
                else if (strncmp(line, "STATUS=", 7) == 0)
                        status = line + 7;
        }
        process_notify(p, ready, status);
}

static void
notify_read_cb(evutil_socket_t fd, short what, void *arg)
{
        struct notify *n = arg;
        char buf[NOTIFY_MAX + 1];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control;
        struct iovec iov = {buf, NOTIFY_MAX};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof control.buf};
        struct cmsghdr *cm;
        struct ucred *cred = NULL;
        struct process *p;
        ssize_t len;

        /* Drain: datagrams coalesce under load. */
        for (;;) {
                mh.msg_controllen = sizeof control.buf;
                len = recvmsg(n->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
                if (len < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_warn("notify socket: %s", strerror(errno));
                        return;
                }
                cred = NULL;
                for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
                        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
                            cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                                cred = (struct ucred *)CMSG_DATA(cm);
                }
                if (cred == NULL || len > NOTIFY_MAX)
                        continue; /* no credentials, or too long: ignore */
                buf[len] = '\0';
                if ((p = notify_sender(n->daemon, cred->pid)) == NULL) {
                        log_debug("notify from pid %ld, which is not supervised", (long)cred->pid);
                        continue;
                }
                notify_apply(p, buf);
        }
}

struct notify *
notify_new(struct corrald *d, char **cause)
{
        struct notify *n = xcalloc(1, sizeof *n);
        struct sockaddr_un sun;
        socklen_t len;
        int one = 1;

        n->daemon = d;
        snprintf(n->path, sizeof n->path, "@corral-notify-%ld", (long)getpid());
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        /* Abstract: a leading NUL, then the name without the '@'. */
        memcpy(sun.sun_path + 1, n->path + 1, strlen(n->path) - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(n->path));
        n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (n->fd == -1 || bind(n->fd, (struct sockaddr *)&sun, len) == -1 ||
            setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == -1) {
                xasprintf(cause, "notify socket %s: %s", n->path, strerror(errno));
                if (n->fd != -1)
                        close(n->fd);
                free(n);
                return NULL;
        }
        n->ev = event_new(d->base, n->fd, EV_READ | EV_PERSIST, notify_read_cb, n);
        if (n->ev == NULL || event_add(n->ev, NULL) != 0)
                fatalx("cannot watch the notify socket");
        return n;
}

void
notify_free(struct notify *n)
{
        if (n == NULL)
                return;
        event_free(n->ev);
        close(n->fd);
        free(n);
}

const char *
notify_path(const struct notify *n)
{
        return n != NULL ? n->path : NULL;
}
