/*
 * server.c -- the listening socket.
 *
 * Two daemons must never share a path: a lock file (flock) beside the
 * socket is taken first, then a socket file that exists is removed only
 * if connect() to it is refused (nobody listening). On EMFILE the listener
 * pauses for a moment instead of spinning on the pending connection.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

struct server {
        struct corrald *daemon;
        char *path;
        char *lock_path;
        int lock_fd;
        struct evconnlistener *listener;
        struct event *resume_ev;  /* re-enables accepting after EMFILE */
        struct event *recheck_ev; /* decides on held_fd after a loop turn */
        int held_fd;              /* accepted at the limit, not yet refused: -1 if none */
        bool activated;           /* the socket came from systemd: not ours to remove */
};

char *
server_default_path(void)
{
        const char *env = getenv("CORRAL_SOCKET");
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        char *path;

        if (env != NULL && *env != '\0')
                return xstrdup(env);
        if (geteuid() == 0)
                return xstrdup("/run/corral/corrald.sock");
        if (xdg != NULL && *xdg == '/')
                xasprintf(&path, "%s/corral/corrald.sock", xdg);
        else
                xasprintf(&path, "/tmp/corral-%ld/corrald.sock", (long)geteuid());
        return path;
}

/* Create the socket's directory if missing: 0700, or 0750 for root's. */
static int
server_make_dir(const char *path, char **cause)
{
        char dir[PATH_MAX];
        char *slash;
        mode_t mode = geteuid() == 0 ? 0750 : 0700;

        if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
                xasprintf(cause, "socket path too long: %s", path);
                return -1;
        }
        if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, mode) == 0 || errno == EEXIST)
                return 0;
        xasprintf(cause, "cannot create %s: %s", dir, strerror(errno));
        return -1;
}

static int
server_fill_addr(struct sockaddr_un *sun, const char *path, char **cause)
{
        memset(sun, 0, sizeof *sun);
        sun->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sun->sun_path) {
                xasprintf(cause, "socket path too long (%zu bytes, at most %zu): %s", strlen(path),
                          sizeof sun->sun_path - 1, path);
                return -1;
        }
        memcpy(sun->sun_path, path, strlen(path) + 1);
        return 0;
}

/* 1: someone answers on path; 0: nobody (stale or absent); -1: cannot tell. */
static int
server_probe(const struct sockaddr_un *sun, char **cause)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r;

        if (fd == -1) {
                xasprintf(cause, "socket: %s", strerror(errno));
                return -1;
        }
        r = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
        close(fd);
        if (r == 0)
                return 1;
        if (errno == ECONNREFUSED || errno == ENOENT)
                return 0;
        xasprintf(cause, "cannot probe %s: %s", sun->sun_path, strerror(errno));
        return -1;
}

static int
server_lock(struct server *s, char **cause)
{
        xasprintf(&s->lock_path, "%s.lock", s->path);
        s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->lock_fd == -1) {
                xasprintf(cause, "cannot open %s: %s", s->lock_path, strerror(errno));
                return -1;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == -1) {
                if (errno == EWOULDBLOCK)
                        xasprintf(cause, "another corrald is already running on %s", s->path);
                else
                        xasprintf(cause, "cannot lock %s: %s", s->lock_path, strerror(errno));
                return -1;
        }
        return 0;
}

static int server_set_group(struct server *, char **cause);

static void
server_resume_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server *s = arg;

        if (s->listener != NULL)
                evconnlistener_enable(s->listener);
}

/* Past the limit, a polite refusal: one error, then the door closes. */
static void
server_refuse(struct corrald *d, int fd)
{
        struct proto_error err;
        msgpack_sbuffer sb;
        msgpack_packer pk;

        proto_error_set(&err, PROTO_E_LIMIT_REACHED, NULL, "corrald serves at most %u connections",
                        d->config.max_connections);
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        proto_pack_error_response(&pk, false, 0, &err);
        if (send(fd, sb.data, sb.size, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                log_debug("refusing a connection: %s", strerror(errno));
        msgpack_sbuffer_destroy(&sb);
        close(fd);
        log_warn("connection refused: %u connections already", d->nconns);
}

/* A loop turn after the limit was reached: the closes it saw have freed room, or not. */
static void
server_recheck_cb(evutil_socket_t unused, short what, void *arg)
{
        struct server *s = arg;
        int fd = s->held_fd;

        s->held_fd = -1;
        if (fd != -1) {
                if (s->daemon->nconns >= s->daemon->config.max_connections)
                        server_refuse(s->daemon, fd);
                else
                        conn_new(s->daemon, fd);
        }
        if (s->listener != NULL)
                evconnlistener_enable(s->listener);
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                 void *arg)
{
        struct server *s = arg;
        struct corrald *d = s->daemon;
        struct timeval now = {0, 0};

        /*
         * At the limit, wait one loop turn before refusing: clients that
         * connect and close at once leave connections whose close corrald
         * has not read yet, and they must not keep a real client out.
         */
        if (d->nconns >= d->config.max_connections) {
                if (s->held_fd != -1) {
                        server_refuse(d, fd);
                        return;
                }
                s->held_fd = fd;
                evconnlistener_disable(l);
                evtimer_add(s->recheck_ev, &now);
                return;
        }
        conn_new(d, fd);
}

static void
server_error_cb(struct evconnlistener *l, void *arg)
{
        struct server *s = arg;
        int err = EVUTIL_SOCKET_ERROR();
        struct timeval tv = {0, 100 * 1000};

        log_warn("accept: %s", evutil_socket_error_to_string(err));
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                /* The pending connection stays pending; retrying at once would spin. */
                evconnlistener_disable(l);
                evtimer_add(s->resume_ev, &tv);
        }
}

/* Watch a listening socket. */
static int
server_watch(struct server *s, int fd, char **cause)
{
        s->listener = evconnlistener_new(s->daemon->base, server_accept_cb, s,
                                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
        if (s->listener == NULL) {
                xasprintf(cause, "cannot watch the listening socket");
                return -1;
        }
        evconnlistener_set_error_cb(s->listener, server_error_cb);
        return 0;
}

/*
 * Socket activation: systemd (or systemd-socket-activate) passed the
 * listening socket. 1 if taken, 0 if none was passed, -1 on error.
 */
static int
server_activated(struct server *s, char **cause)
{
        struct sockaddr_un sun;
        socklen_t len = sizeof sun;
        int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START, r;

        if (n == 0)
                return 0;
        if (n < 0) {
                xasprintf(cause, "sd_listen_fds: %s", strerror(-n));
                return -1;
        }
        if (n > 1) {
                xasprintf(cause, "systemd passed %d sockets; corrald takes exactly one", n);
                return -1;
        }
        if ((r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0)) <= 0) {
                xasprintf(cause,
                          "the socket systemd passed is not a listening Unix stream socket%s%s",
                          r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
                return -1;
        }
        /* A passed socket may be blocking and inheritable: ours must be neither. */
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
                xasprintf(cause, "cannot set up the passed socket: %s", strerror(errno));
                return -1;
        }
        if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 && len > sizeof(sa_family_t) &&
            sun.sun_path[0] != '\0') {
                free(s->path);
                s->path = xstrndup(sun.sun_path, sizeof sun.sun_path);
        }
        s->activated = true;
        if (server_watch(s, fd, cause) != 0)
                return -1;
        return 1;
}

static int
server_listen(struct server *s, char **cause)
{
        struct sockaddr_un sun;
        mode_t old_umask;
        int fd, r;

        if (server_fill_addr(&sun, s->path, cause) != 0)
                return -1;
        if ((r = server_probe(&sun, cause)) != 0) {
                if (r > 0)
                        xasprintf(cause, "another corrald is already listening on %s", s->path);
                return -1;
        }
        if (unlink(s->path) == 0)
                log_info("replaced stale socket %s", s->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd == -1) {
                xasprintf(cause, "socket: %s", strerror(errno));
                return -1;
        }
        /* The socket's mode comes from the umask at bind time (never wider than asked). */
        old_umask = umask(~s->daemon->config.socket_mode & 0777);
        r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
        umask(old_umask);
        if (r == 0 && server_set_group(s, cause) != 0) {
                close(fd);
                unlink(s->path);
                return -1;
        }
        if (r == -1 || listen(fd, SOMAXCONN) == -1) {
                xasprintf(cause, "cannot listen on %s: %s", s->path, strerror(errno));
                close(fd);
                return -1;
        }
        if (server_watch(s, fd, cause) != 0) {
                close(fd);
                unlink(s->path);
                return -1;
        }
        return 0;
}

struct server *
server_new(struct corrald *d, const char *path, char **cause)
{
        struct server *s = xcalloc(1, sizeof *s);
        int r;

        s->daemon = d;
        s->path = xstrdup(path);
        s->lock_fd = -1;
        s->held_fd = -1;
        s->resume_ev = evtimer_new(d->base, server_resume_cb, s);
        s->recheck_ev = evtimer_new(d->base, server_recheck_cb, s);
        if (s->resume_ev == NULL || s->recheck_ev == NULL)
                fatalx("cannot create a timer");
        if ((r = server_activated(s, cause)) == 1) {
                log_info("listening on %s (socket activation)", s->path);
                return s;
        }
        if (r < 0 || server_make_dir(path, cause) != 0 || server_lock(s, cause) != 0 ||
            server_listen(s, cause) != 0) {
                if (s->lock_fd != -1)
                        close(s->lock_fd); /* the lock file stays: another daemon may hold it */
                event_free(s->resume_ev);
                event_free(s->recheck_ev);
                free(s->lock_path);
                free(s->path);
                free(s);
                return NULL;
        }
        log_info("listening on %s", s->path);
        return s;
}

void
server_close(struct server *s)
{
        if (s == NULL || s->listener == NULL)
                return;
        evconnlistener_free(s->listener);
        s->listener = NULL;
        evtimer_del(s->resume_ev);
        evtimer_del(s->recheck_ev);
        if (s->held_fd != -1) {
                close(s->held_fd);
                s->held_fd = -1;
        }
        if (s->activated)
                return; /* systemd's socket: it stays for the next start */
        if (unlink(s->path) == -1 && errno != ENOENT)
                log_warn("cannot remove %s: %s", s->path, strerror(errno));
}

void
server_free(struct server *s)
{
        server_close(s);
        event_free(s->resume_ev);
        event_free(s->recheck_ev);
        /*
         * The lock file stays: removing it would let a daemon that opened
         * it just before lock the unlinked inode while a third creates a
         * new one, and two daemons would share the path.
         */
        if (s->lock_fd != -1)
                close(s->lock_fd);
        free(s->lock_path);
        free(s->path);
        free(s);
}

/* Give the socket file to the configured group (socket_group). */
static int
server_set_group(struct server *s, char **cause)
{
        const char *name = s->daemon->config.socket_group;
        struct group gr, *res = NULL;
        char buf[16384];

        if (name == NULL)
                return 0;
        if (getgrnam_r(name, &gr, buf, sizeof buf, &res) != 0 || res == NULL) {
                xasprintf(cause, "socket_group: no group '%s'", name);
                return -1;
        }
        if (chown(s->path, (uid_t)-1, gr.gr_gid) == -1) {
                xasprintf(cause, "cannot give %s to group %s: %s", s->path, name, strerror(errno));
                return -1;
        }
        return 0;
}
