/*
 * sec_support.c -- clients with another identity, configured daemons and
 * json_pack-built calls on raw connections, for the security tests. See
 * sec_support.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sec_support.h"
#include "sv_support.h"

static void
sec_sleep_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
}

/* ---- the daemon --------------------------------------------------------- */

void
sec_write_config(const struct harness *h, const char *conf)
{
        char path[512], tmp[520];
        FILE *fp;

        snprintf(path, sizeof path, "%s/corrald.conf", h->dir);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        fp = fopen(tmp, "w");
        T_ASSERTF(fp != NULL, "%s: %s", tmp, strerror(errno));
        fprintf(fp, "[daemon]\nsocket_mode = 0666\nstate_dir = %s/state\n%s\n", h->dir,
                conf != NULL ? conf : "");
        T_ASSERT(fclose(fp) == 0);
        /* Atomic: a reload never reads half a file. */
        T_ASSERTF(rename(tmp, path) == 0, "rename %s: %s", tmp, strerror(errno));
}

struct harness *
sec_start(const char *conf, const char *const *extra)
{
        struct harness *h;
        char path[512], drop[512];
        const char *args[24];
        size_t n = 0;

        if (geteuid() != 0) {
                /* Other identities need root: setuid children, pools with a user. */
                printf("SKIP: the security tests run as root\n");
                exit(0);
        }
        h = harness_new();

        /* mkdtemp made it 0700: the other users' clients must reach the socket. */
        T_ASSERT(chmod(h->dir, 0755) == 0);
        snprintf(drop, sizeof drop, "%s/drop", h->dir);
        T_ASSERT(mkdir(drop, 0777) == 0 && chmod(drop, 01777) == 0);
        sec_write_config(h, conf);
        snprintf(path, sizeof path, "%s/corrald.conf", h->dir);
        args[n++] = "--config";
        args[n++] = path;
        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
                T_ASSERT(n < 23);
                args[n++] = extra[i];
        }
        args[n] = NULL;
        harness_launch(h, args);
        return h;
}

const char *
sec_drop(const struct harness *h, const char *name)
{
        static char bufs[8][512];
        static int next;
        char *b = bufs[next++ % 8];

        snprintf(b, sizeof bufs[0], "%s/drop/%s", h->dir, name);
        return b;
}

long
sec_rss_kib(pid_t pid)
{
        char path[64], *text, *p;
        long kib = -1;

        snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
        if ((text = file_read(path, NULL)) == NULL)
                return -1;
        if ((p = strstr(text, "\nVmRSS:")) != NULL)
                kib = strtol(p + 7, NULL, 10);
        free(text);
        return kib;
}

double
sec_cpu_seconds(pid_t pid)
{
        char path[64], *text, *p;
        unsigned long long ut = 0, st = 0;

        snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
        text = file_read(path, NULL);
        T_ASSERTF(text != NULL, "cannot read %s", path);
        p = strrchr(text, ')');
        /* After ")": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
         * stime */
        T_ASSERT(
            p != NULL &&
            sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2);
        free(text);
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

bool
sec_log_has(const struct harness *h, const char *text)
{
        char *log = file_read(h->log, NULL);
        bool found = log != NULL && strstr(log, text) != NULL;

        free(log);
        return found;
}

/* ---- identities --------------------------------------------------------- */

uid_t
sec_uid(const char *user)
{
        struct passwd *pw = getpwnam(user);

        T_ASSERTF(pw != NULL, "no user %s on this machine", user);
        return pw->pw_uid;
}

gid_t
sec_gid(const char *group)
{
        struct group *gr = getgrnam(group);

        T_ASSERTF(gr != NULL, "no group %s on this machine", group);
        return gr->gr_gid;
}

void
sec_id(struct sec_id *id, const char *user, const char *group, const char *const *groups)
{
        struct passwd *pw = getpwnam(user);

        T_ASSERTF(pw != NULL, "no user %s on this machine", user);
        memset(id, 0, sizeof *id);
        id->uid = pw->pw_uid;
        id->gid = group != NULL ? sec_gid(group) : pw->pw_gid;
        for (size_t i = 0; groups != NULL && groups[i] != NULL; i++) {
                T_ASSERT(id->ngroups < SEC_MAX_GROUPS);
                id->groups[id->ngroups++] = sec_gid(groups[i]);
        }
}

/* In a child: take the identity for good. 0, or -1 with errno. */
static int
sec_become(const struct sec_id *id)
{
        uid_t r, e, s;

        if (setgroups(id->ngroups, id->groups) == -1 ||
            setresgid(id->gid, id->gid, id->gid) == -1 ||
            setresuid(id->uid, id->uid, id->uid) == -1)
                return -1;
        if (getresuid(&r, &e, &s) == -1 || r != id->uid || e != id->uid || s != id->uid) {
                errno = EPERM;
                return -1;
        }
        return 0;
}

/* In a child: connect to path; the descriptor or -1. */
static int
sec_connect(const char *path)
{
        struct sockaddr_un sun;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd == -1)
                return -1;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sun.sun_path) {
                close(fd);
                errno = ENAMETOOLONG;
                return -1;
        }
        memcpy(sun.sun_path, path, strlen(path));
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
                close(fd);
                return -1;
        }
        return fd;
}

/* In a child: close every descriptor but 0, 1, 2 and keep. */
static void
sec_close_others(int keep)
{
        if (keep > 3)
                syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U);
        syscall(SYS_close_range, (unsigned)(keep < 3 ? 3 : keep + 1), ~0U, 0U);
}

/* The child of sec_peer_new: never returns. */
static void
sec_peer_child(const struct harness *h, const struct sec_id *id, int ctl)
{
        char msg[256], c = 'F';
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = {&c, 1};
        struct msghdr mh;
        struct cmsghdr *cm;
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Other peers' control ends stay with the test only: their EOF must come. */
        sec_close_others(ctl);
        if (sec_become(id) == -1) {
                snprintf(msg, sizeof msg, "Ecannot become uid %ld gid %ld: %s", (long)id->uid,
                         (long)id->gid, strerror(errno));
                goto fail;
        }
        if ((fd = sec_connect(h->sock)) == -1) {
                snprintf(msg, sizeof msg, "Euid %ld cannot connect to %.120s: %s", (long)id->uid,
                         h->sock, strerror(errno));
                goto fail;
        }
        memset(&mh, 0, sizeof mh);
        memset(&u, 0, sizeof u);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        if (sendmsg(ctl, &mh, 0) != 1)
                _exit(1);
        close(fd);
        /* Stay the peer the daemon knows until the test lets go. */
        for (;;) {
                ssize_t n = read(ctl, &c, 1);

                if (n == 0 || (n == -1 && errno != EINTR))
                        break;
        }
        _exit(0);
fail:
        if (write(ctl, msg, strlen(msg)) < 0)
                _exit(1);
        _exit(1);
}

struct sec_peer *
sec_peer_new(const struct harness *h, const struct sec_id *id)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        char data[256];
        struct iovec iov = {data, sizeof data - 1};
        struct msghdr mh;
        struct cmsghdr *cm;
        struct sec_peer *p;
        struct pollfd pfd;
        int sp[2], fd = -1;
        ssize_t n;

        T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
        fflush(NULL);
        p = calloc(1, sizeof *p);
        T_ASSERT(p != NULL);
        p->pid = fork();
        T_ASSERTF(p->pid != -1, "fork: %s", strerror(errno));
        if (p->pid == 0) {
                close(sp[0]);
                sec_peer_child(h, id, sp[1]);
        }
        close(sp[1]);
        p->ctl = sp[0];
        pfd.fd = p->ctl;
        pfd.events = POLLIN;
        T_ASSERTF(poll(&pfd, 1, (int)(SEC_WAIT * 1000)) == 1, "the peer child did not answer");
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        n = recvmsg(p->ctl, &mh, MSG_CMSG_CLOEXEC);
        T_ASSERTF(n > 0, "the peer child failed before connecting");
        data[n] = '\0';
        T_ASSERTF(data[0] == 'F', "peer child: %s", data + 1);
        for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        }
        T_ASSERTF(fd != -1, "the peer child sent no descriptor");
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        p->raw = calloc(1, sizeof *p->raw);
        T_ASSERT(p->raw != NULL);
        p->raw->fd = fd;
        T_ASSERT(msgpack_unpacker_init(&p->raw->up, 65536));
        return p;
}

void
sec_peer_release(struct sec_peer *p)
{
        if (p->ctl == -1)
                return;
        close(p->ctl);
        p->ctl = -1;
        while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
                ;
}

void
sec_peer_free(struct sec_peer *p)
{
        if (p == NULL)
                return;
        sec_peer_release(p);
        raw_close(p->raw);
        free(p);
}

int
sec_run_as(const struct sec_id *id, int (*fn)(void *), void *arg)
{
        double deadline = now_mono() + 60;
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        T_ASSERTF(pid != -1, "fork: %s", strerror(errno));
        if (pid == 0) {
                int r;

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                sec_close_others(-1);
                signal(SIGPIPE, SIG_IGN);
                if (sec_become(id) == -1) {
                        fprintf(stderr, "cannot become uid %ld: %s\n", (long)id->uid,
                                strerror(errno));
                        _exit(126);
                }
                r = fn(arg);
                fflush(NULL);
                /* _exit: the harness's atexit cleanup is the test process's, not ours. */
                _exit(r);
        }
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                T_ASSERTF(w == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
                if (now_mono() > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        t_fail(__FILE__, __LINE__, "the client running as uid %ld hung",
                               (long)id->uid);
                }
                sec_sleep_ms(10);
        }
}

/* ---- calls on raw connections ------------------------------------------ */

static uint32_t sec_next_msgid = 1;

/* Send method with params (stolen; NULL: none) and wait for its response. */
static const char *
sec_call_json(struct raw *r, msgpack_unpacked *m, const char *method, json_t *params)
{
        static char code[8][64];
        static int next;
        char *out = code[next++ % 8];
        uint32_t msgid = sec_next_msgid++;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        int rc;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 4);
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint32(&pk, msgid);
        pk_str(&pk, method);
        if (params != NULL) {
                msgpack_pack_array(&pk, 1);
                sv_pack_json(&pk, params);
                json_decref(params);
        } else
                msgpack_pack_array(&pk, 0);
        if (!raw_send(r, sb.data, sb.size)) {
                msgpack_sbuffer_destroy(&sb);
                snprintf(out, 64, "(closed)");
                return out;
        }
        msgpack_sbuffer_destroy(&sb);
        for (;;) {
                const msgpack_object *o;

                rc = raw_next(r, SEC_WAIT, m);
                if (rc != 1) {
                        snprintf(out, 64, rc == 0 ? "(closed)" : "(timeout)");
                        return out;
                }
                o = &m->data;
                /* Notifications (events, followed output) are [2, method, params]. */
                if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
                    o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
                    o->via.array.ptr[0].via.u64 != 1)
                        continue;
                /* A stream-level error (nil msgid) answers whatever was asked. */
                if (resp_msgid_nil(o) || resp_msgid(o) == msgid)
                        break;
        }
        snprintf(out, 64, "%s",
                 resp_error(&m->data) == NULL ? "" : resp_error_str(&m->data, "code"));
        return out;
}

static const char *
sec_vcall(struct raw *r, msgpack_unpacked *m, const char *method, const char *fmt, va_list ap)
{
        json_t *params = NULL;

        if (fmt != NULL) {
                json_error_t jerr;

                params = json_vpack_ex(&jerr, 0, fmt, ap);
                T_ASSERTF(params != NULL, "json_pack(\"%s\"): %s", fmt, jerr.text);
        }
        return sec_call_json(r, m, method, params);
}

const char *
sec_call(struct raw *r, msgpack_unpacked *m, const char *method, const char *fmt, ...)
{
        const char *code;
        va_list ap;

        va_start(ap, fmt);
        code = sec_vcall(r, m, method, fmt, ap);
        va_end(ap);
        return code;
}

const char *
sec_call_text(struct raw *r, msgpack_unpacked *m, const char *method, const char *json)
{
        json_t *params = NULL;

        if (json != NULL) {
                json_error_t jerr;

                params = json_loads(json, JSON_DECODE_ANY, &jerr);
                T_ASSERTF(params != NULL, "json_loads(%s): %s", json, jerr.text);
        }
        return sec_call_json(r, m, method, params);
}

const char *
sec_error_message(const msgpack_unpacked *m)
{
        return resp_error(&m->data) != NULL ? resp_error_str(&m->data, "message") : "";
}

void
sec_expect_at(const char *file, int line, struct raw *r, msgpack_unpacked *m, const char *want,
              const char *method, const char *fmt, ...)
{
        const char *code;
        va_list ap;

        va_start(ap, fmt);
        code = sec_vcall(r, m, method, fmt, ap);
        va_end(ap);
        if (strcmp(code, want) == 0)
                return;
        t_fail(file, line, "%s %s: got %s%s%s, expected %s", method, fmt != NULL ? fmt : "",
               code[0] != '\0' ? code : "success", code[0] != '\0' && code[0] != '(' ? ": " : "",
               code[0] != '\0' && code[0] != '(' ? sec_error_message(m) : "",
               want[0] != '\0' ? want : "success");
}

int64_t
sec_result_int(const msgpack_unpacked *m, const char *key)
{
        const msgpack_object *v = obj_get(resp_result(&m->data), key);

        T_ASSERTF(v != NULL, "the result has no %s", key);
        return obj_int(v);
}

int64_t
sec_result_int2(const msgpack_unpacked *m, const char *key1, const char *key2)
{
        const msgpack_object *v = obj_get(obj_get(resp_result(&m->data), key1), key2);

        T_ASSERTF(v != NULL, "the result has no %s.%s", key1, key2);
        return obj_int(v);
}

uint64_t
sec_spawn_at(const char *file, int line, struct raw *r, const char *pool, const char *const *argv)
{
        json_t *params = json_object(), *av = json_array();
        msgpack_unpacked m;
        const char *code;
        uint64_t id;

        for (size_t i = 0; argv[i] != NULL; i++)
                json_array_append_new(av, json_string(argv[i]));
        json_object_set_new(params, "argv", av);
        if (pool != NULL)
                json_object_set_new(params, "pool", json_string(pool));
        msgpack_unpacked_init(&m);
        code = sec_call_json(r, &m, "process.spawn", params);
        if (code[0] != '\0')
                t_fail(file, line, "spawn %s into %s: %s: %s", argv[0], pool ? pool : "default",
                       code, sec_error_message(&m));
        id = (uint64_t)sec_result_int(&m, "id");
        msgpack_unpacked_destroy(&m);
        return id;
}

void
sec_terminate(struct raw *r, uint64_t id)
{
        msgpack_unpacked m;

        msgpack_unpacked_init(&m);
        SEC_OK(r, &m, "process.terminate", "{s:I, s:b, s:f}", "id", (json_int_t)id, "wait", 1,
               "grace", 5.0);
        msgpack_unpacked_destroy(&m);
}

bool
sec_wait_connections(struct raw *r, int64_t want)
{
        double deadline = now_mono() + SEC_WAIT;
        msgpack_unpacked m;
        int64_t used = -1;

        msgpack_unpacked_init(&m);
        while (now_mono() < deadline) {
                SEC_OK(r, &m, "daemon.stats", NULL);
                used = sec_result_int2(&m, "connections", "used");
                if (used == want)
                        break;
                sec_sleep_ms(20);
        }
        msgpack_unpacked_destroy(&m);
        return used == want;
}

/* ---- what a child ran as ------------------------------------------------ */

void
sec_status_read(const char *path, struct sec_status *st)
{
        char *text, *line;

        T_ASSERTF(wait_file(path, SEC_WAIT), "%s never appeared", path);
        text = file_read(path, NULL);
        T_ASSERTF(text != NULL, "cannot read %s", path);
        memset(st, 0, sizeof *st);
        for (int i = 0; i < 4; i++)
                st->uid[i] = st->gid[i] = -2;
        st->cap_eff = ~0ULL;
        for (line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
                if (strncmp(line, "Uid:", 4) == 0)
                        T_ASSERT(sscanf(line + 4, "%ld %ld %ld %ld", &st->uid[0], &st->uid[1],
                                        &st->uid[2], &st->uid[3]) == 4);
                else if (strncmp(line, "Gid:", 4) == 0)
                        T_ASSERT(sscanf(line + 4, "%ld %ld %ld %ld", &st->gid[0], &st->gid[1],
                                        &st->gid[2], &st->gid[3]) == 4);
                else if (strncmp(line, "CapEff:", 7) == 0)
                        T_ASSERT(sscanf(line + 7, "%llx", &st->cap_eff) == 1);
                else if (strncmp(line, "Groups:", 7) == 0) {
                        char *p = line + 7, *end;

                        for (;;) {
                                long g = strtol(p, &end, 10);

                                if (end == p || st->ngroups == 64)
                                        break;
                                st->groups[st->ngroups++] = g;
                                p = end;
                        }
                }
        }
        free(text);
        T_ASSERTF(st->uid[0] != -2 && st->gid[0] != -2, "%s is not a copy of /proc/PID/status",
                  path);
}

bool
sec_status_is(const struct sec_status *st, const struct sec_id *id, char *why, size_t len)
{
        char groups[256] = "";
        size_t i, j;

        for (i = 0; i < st->ngroups; i++)
                snprintf(groups + strlen(groups), sizeof groups - strlen(groups), " %ld",
                         st->groups[i]);
        snprintf(why, len, "uids %ld %ld %ld %ld, gids %ld %ld %ld %ld, groups [%s ], CapEff %llx",
                 st->uid[0], st->uid[1], st->uid[2], st->uid[3], st->gid[0], st->gid[1], st->gid[2],
                 st->gid[3], groups, st->cap_eff);
        for (i = 0; i < 4; i++) {
                if (st->uid[i] != (long)id->uid || st->gid[i] != (long)id->gid)
                        return false;
        }
        if (st->cap_eff != 0 || st->ngroups != id->ngroups)
                return false;
        for (i = 0; i < id->ngroups; i++) {
                for (j = 0; j < st->ngroups && st->groups[j] != (long)id->groups[i]; j++)
                        ;
                if (j == st->ngroups)
                        return false;
        }
        return true;
}

const char *
sec_status_cmd(const char *path, const char *rest)
{
        static char bufs[4][1024];
        static int next;
        char *b = bufs[next++ % 4];

        /* Renamed into place: a reader never sees half a file. */
        snprintf(b, sizeof bufs[0], "cat /proc/self/status > %s.tmp && mv %s.tmp %s%s%s", path,
                 path, path, rest != NULL ? "; " : "", rest != NULL ? rest : "");
        return b;
}
