/*
 * fuzz_request.c -- libFuzzer target for the whole request path: a
 * client's bytes go through a real daemon context (context.c's
 * corrald_init(), started as main() starts it, from a configuration file
 * of access rules) over a socketpair that conn_new() adopts as server.c adopts an
 * accepted socket. Reading, framing, dispatch, validation, access, every
 * method, parked requests, events, queues (durable ones too), pools,
 * processes, output capture, reload, shutdown and teardown are the
 * daemon's own code. Children are mock_spawn.c's: no real process is ever
 * started or signalled.
 *
 * Input: byte 0 holds flags, the rest is what the client sends.
 *   bits 0-1: how the bytes arrive: 0 at once, 1 in chunks of 1-64 bytes,
 *             2 in chunks of 1-4096 bytes, 3 one message at a time;
 *   bit 2:    the client hangs up after its last byte (else it stays
 *             connected until the teardown);
 *   bits 3-7: seed of the chunk sizes.
 * The daemon ignores notifications from a client; two are commands to this
 * harness, acted on once everything sent before them has settled:
 *   [2, "fuzz.reconnect", []]  the client hangs up and connects again;
 *   [2, "fuzz.restart", []]    corrald is freed, as if killed, and started
 *                              again on the same state directory (durable
 *                              queues and saved pools come back); the
 *                              client connects to the new one;
 *   [2, "fuzz.as_read", []], [2, "fuzz.as_scoped", []], [2, "fuzz.as_none", []]
 *                              the client hangs up and connects again as
 *                              another user (its socket made with that
 *                              effective uid, so that SO_PEERCRED says so):
 *                              nobody (read access), daemon (control of
 *                              pool and queue "a" only) or bin (no rule:
 *                              refused); "fuzz.reconnect" connects as root
 *                              again. The configuration holds those rules.
 *
 * Each turn runs the event loop once without blocking, lets the mock
 * children take a step and reaps those that ended (as the SIGCHLD handler
 * does); after each part of the input the turns go on until nothing more
 * happens (bounded: timers that are not due never fire here, but zero
 * timeouts, delays and graces do). Answers are read and decoded as a
 * client would.
 *
 * Invariants checked (abort): the daemon's stream is well-formed
 * MessagePack-RPC and holds only responses and notifications; every error
 * decodes and none is "internal"; mock_spawn.c's checks on signals and
 * reaping; no leak once the daemon is freed (LeakSanitizer).
 *
 * Sandbox: one temporary directory per process (under $TMPDIR, else
 * /dev/shm, else /tmp; removed at exit, or by the next run after a crash)
 * holds the configuration (the [access] rules of the users above) and the
 * state directory, emptied after each
 * input. corrald runs as root here
 * with full access, so a file: destination could name any file: while an
 * input runs, open() and rename() below refuse (EACCES) to write outside
 * the sandbox, and map paths under /fuzz/ into it, so that file:
 * destinations can be fuzzed too. journald is a sink (sd_journal_send()).
 * CORRAL_FUZZ_LOG=debug (or info, warn) shows the daemon's log;
 * CORRAL_FUZZ_ANSWERS=FILE appends every byte the daemon sends to FILE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-journal.h>

#include "config-apply.h"
#include "config.h"
#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "mock_spawn.h"
#include "process.h"
#include "systemd.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHUNK_MODE   0x03
#define FUZZ_HANGUP       0x04
#define FUZZ_MAX_COMMANDS 8   /* reconnects and restarts per input */
#define FUZZ_QUIET_TURNS  3   /* turns in which nothing happens: settled */
#define FUZZ_SETTLE_TURNS 256 /* at most this many turns to settle, however busy */
#define FUZZ_STUCK_TURNS  64  /* turns the socket may refuse our bytes */
#define FUZZ_READ_CHUNK   65536

enum fuzz_cmd {
        FUZZ_CMD_NONE,
        FUZZ_CMD_RECONNECT,
        FUZZ_CMD_RESTART,
        FUZZ_CMD_AS_READ,
        FUZZ_CMD_AS_SCOPED,
        FUZZ_CMD_AS_NONE,
};

/* The harness's commands, and the user each reconnects as (0: root). */
static const struct {
        const char *method;
        enum fuzz_cmd cmd;
        uid_t uid;
        gid_t gid;
} fuzz_cmds[] = {
    {"fuzz.reconnect", FUZZ_CMD_RECONNECT, 0, 0},     {"fuzz.restart", FUZZ_CMD_RESTART, 0, 0},
    {"fuzz.as_read", FUZZ_CMD_AS_READ, 65534, 65534}, /* nobody, nogroup */
    {"fuzz.as_scoped", FUZZ_CMD_AS_SCOPED, 1, 1},     /* daemon */
    {"fuzz.as_none", FUZZ_CMD_AS_NONE, 2, 2},         /* bin */
};
#define FUZZ_NCMDS (sizeof fuzz_cmds / sizeof fuzz_cmds[0])

/* The configuration of every input: the rules of those users. */
static const char fuzz_config[] = "[access]\n"
                                  "user.nobody = read\n"
                                  "user.daemon = control pools=a queues=a\n";

struct fuzz_run {
        const uint8_t *data;
        size_t size;
        unsigned mode;
        uint32_t seed;
        size_t *bounds; /* where each whole message ends */
        size_t nbounds, next_bound;
        size_t cmd_end[FUZZ_MAX_COMMANDS]; /* where each command's message ends */
        enum fuzz_cmd cmd[FUZZ_MAX_COMMANDS];
        size_t ncmds;
        struct corrald *d;
        uid_t uid; /* whom the client connects as */
        gid_t gid;
        int fd;                  /* the client's end; -1 if none */
        struct proto_reader *rd; /* the client's reader of answers */
        bool gone;               /* the daemon hung up (or the client did) */
};

/* ---- the sandbox -------------------------------------------------------- */

static char sandbox[PATH_MAX / 2], conf_path[PATH_MAX], state_dir[PATH_MAX], files_dir[PATH_MAX],
    sock_path[PATH_MAX];
static bool guard;          /* an input is running: writes outside the sandbox are refused */
static int answers_fd = -1; /* CORRAL_FUZZ_ANSWERS */

/* /fuzz/X is X in the sandbox's fuzz directory; any other path is itself. */
static const char *
fuzz_map(const char *path, char *buf, size_t len)
{
        if (guard && strncmp(path, "/fuzz/", 6) == 0 &&
            (size_t)snprintf(buf, len, "%s%s", sandbox, path) < len)
                return buf;
        return path;
}

/* Inside the sandbox (with no way out through ".."), or /dev/null. */
static bool
fuzz_writable(const char *path)
{
        size_t n = strlen(sandbox);

        if (!guard || strcmp(path, "/dev/null") == 0)
                return true;
        return strncmp(path, sandbox, n) == 0 && path[n] == '/' && strstr(path, "/..") == NULL;
}

/* Every open() of the daemon comes here (the executable's own definition wins). */
int
open(const char *path, int flags, ...)
{
        char buf[PATH_MAX];
        mode_t mode = 0;

        if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
                va_list ap;

                va_start(ap, flags);
                mode = (mode_t)va_arg(ap, int);
                va_end(ap);
        }
        path = fuzz_map(path, buf, sizeof buf);
        if (((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) &&
            !fuzz_writable(path)) {
                errno = EACCES;
                return -1;
        }
        return openat(AT_FDCWD, path, flags, mode);
}

int
rename(const char *from, const char *to)
{
        char buf1[PATH_MAX], buf2[PATH_MAX];

        from = fuzz_map(from, buf1, sizeof buf1);
        to = fuzz_map(to, buf2, sizeof buf2);
        if (!fuzz_writable(from) || !fuzz_writable(to)) {
                errno = EACCES;
                return -1;
        }
        return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

/* journal destinations (sd_journal_send() is a macro for this one): the entry goes nowhere. */
int
sd_journal_send_with_location(const char *file, const char *line, const char *func,
                              const char *format, ...)
{
        return 0;
}

static int
fuzz_rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (ftw->level > 0)
                (type == FTW_DP ? rmdir : unlink)(path);
        return 0;
}

/* Empty dir, leaving dir itself. */
static void
fuzz_empty(const char *dir)
{
        nftw(dir, fuzz_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fuzz_cleanup(void)
{
        fuzz_empty(sandbox);
        rmdir(sandbox);
}

/*
 * A crash ends the process without atexit(): the sandboxes of processes
 * that are gone (named after their pid) are removed by the next one.
 */
static void
fuzz_remove_stale(const char *tmp)
{
        char path[PATH_MAX];
        struct dirent *de;
        struct stat st;
        DIR *dir;
        long pid;

        if ((dir = opendir(tmp)) == NULL)
                return;
        while ((de = readdir(dir)) != NULL) {
                if (sscanf(de->d_name, "corral-fuzz-request.%ld.", &pid) != 1 || pid <= 0)
                        continue;
                /* Signal 0 only asks whether that process still exists. */
                if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                snprintf(path, sizeof path, "%s/%s", tmp, de->d_name);
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
                        fuzz_empty(path);
                        rmdir(path);
                }
        }
        closedir(dir);
}

static void
fuzz_setup_once(void)
{
        const char *tmp = getenv("TMPDIR"), *level = getenv("CORRAL_FUZZ_LOG");
        const char *answers = getenv("CORRAL_FUZZ_ANSWERS");
        struct rlimit rl;

        /* tmpfs: the daemon's fsyncs cost nothing there. */
        if (tmp == NULL || *tmp != '/')
                tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        fuzz_remove_stale(tmp);
        snprintf(sandbox, sizeof sandbox, "%s/corral-fuzz-request.%ld.XXXXXX", tmp, (long)getpid());
        if (mkdtemp(sandbox) == NULL) {
                perror(sandbox);
                abort();
        }
        atexit(fuzz_cleanup);
        snprintf(conf_path, sizeof conf_path, "%s/corrald.conf", sandbox);
        snprintf(state_dir, sizeof state_dir, "%s/state", sandbox);
        snprintf(files_dir, sizeof files_dir, "%s/fuzz", sandbox);
        snprintf(sock_path, sizeof sock_path, "%s/corrald.sock", sandbox);
        if (answers != NULL && *answers != '\0' &&
            (answers_fd = openat(AT_FDCWD, answers, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                                 0600)) == -1) {
                perror(answers);
                abort();
        }
        log_init(LOG_LEVEL_ERROR, 0);
        if (level != NULL && log_level_from_name(level) >= 0)
                log_set_level(log_level_from_name(level));
        /* As corrald_setup_signals() does: a closed pipe costs an EPIPE. */
        signal(SIGPIPE, SIG_IGN);
        /* Never talk to the systemd that may have started us. */
        unsetenv("NOTIFY_SOCKET");
        /* As corrald_raise_nofile() does: each process costs a few pipes. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* ---- the daemon ---------------------------------------------------------- */

/* corrald as main() starts it, without the socket, signals and cgroups. */
static struct corrald *
fuzz_daemon_new(void)
{
        struct corrald *d = xcalloc(1, sizeof *d);
        struct config *cfg;
        char *cause = NULL;

        corrald_config_default(&d->config);
        d->config.config_path = xstrdup(conf_path);
        d->config.config_required = true;
        d->config.socket_path = xstrdup(sock_path); /* never listened on */
        d->config.state_dir = xstrdup(state_dir);
        /* Small limits, so that inputs reach them. */
        d->config.history = 8;
        d->config.max_processes = 32;
        d->config.max_waiting = 8;
        d->config.max_event_backlog = 64 * 1024;
        d->config.queue_max_message = 64 * 1024;
        if ((cfg = config_load(conf_path, true, &cause)) == NULL) {
                fprintf(stderr, "fuzz_request: %s\n", cause);
                abort();
        }
        config_daemon_settings(d, cfg, false);
        corrald_init(d);
        d->systemd = systemd_new(d);
        d->fd_dir = opendir("/proc/self/fd");
        if (config_apply_access(d, cfg, &cause) != 0)
                abort();
        corrald_restore(d);
        if (corrald_apply(d, cfg, &cause) != 0)
                abort();
        config_free(cfg);
        return d;
}

/* ---- the client ------------------------------------------------------------ */

static void
fuzz_connect(struct fuzz_run *r)
{
        struct proto_limits lim = {1u << 30, 0, 1u << 24};
        int sv[2];

        /*
         * The socket's credentials are its maker's effective ones. Not
         * root (no CAP_SETUID): as ourselves, whatever was asked.
         */
        if (r->uid != 0 && setegid(r->gid) == 0 && seteuid(r->uid) != 0 && setegid(0) != 0)
                abort();
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
                abort();
        if (geteuid() != getuid() && (seteuid(getuid()) != 0 || setegid(getgid()) != 0))
                abort();
        conn_new(r->d, sv[0]);
        r->fd = sv[1];
        r->rd = proto_reader_new(&lim); /* the daemon's answers are not the client's to bound */
        r->gone = false;
        if (r->rd == NULL)
                abort();
}

static void
fuzz_disconnect(struct fuzz_run *r)
{
        if (r->fd != -1)
                close(r->fd);
        r->fd = -1;
        proto_reader_free(r->rd);
        r->rd = NULL;
        r->gone = true;
}

/* Decode every whole message received; anything malformed is corrald's bug. */
static void
fuzz_check_answers(struct fuzz_run *r)
{
        struct proto_error err, e;
        struct proto_msg msg;
        int n;

        while ((n = proto_reader_next(r->rd, &msg, &err)) == 1) {
                if (msg.type == PROTO_REQUEST) {
                        fprintf(stderr, "fuzz_request: corrald sent a request\n");
                        abort();
                }
                if (msg.type == PROTO_RESPONSE && msg.error.type != MSGPACK_OBJECT_NIL) {
                        if (proto_error_decode(&msg.error, &e) != 0 || e.code == PROTO_E__COUNT) {
                                fprintf(stderr, "fuzz_request: an error that does not decode\n");
                                abort();
                        }
                        if (e.code == PROTO_E_INTERNAL) {
                                fprintf(stderr, "fuzz_request: internal error: %s\n", e.message);
                                abort();
                        }
                }
                proto_msg_clear(&msg);
        }
        if (n < 0) {
                fprintf(stderr, "fuzz_request: corrald sent a malformed stream: %s\n", err.message);
                abort();
        }
}

/* Read the answers there are; true if any came. */
static bool
fuzz_read_answers(struct fuzz_run *r)
{
        bool did = false;

        while (r->fd != -1) {
                size_t avail;
                void *space = proto_reader_space(r->rd, FUZZ_READ_CHUNK, &avail);
                ssize_t n;

                if (space == NULL)
                        abort();
                n = recv(r->fd, space, avail, MSG_DONTWAIT);
                if (n <= 0) {
                        if (n == 0 || (errno != EAGAIN && errno != EINTR))
                                r->gone = true; /* the daemon hung up */
                        break;
                }
                if (answers_fd != -1 && write(answers_fd, space, (size_t)n) != n)
                        abort();
                proto_reader_commit(r->rd, (size_t)n);
                fuzz_check_answers(r);
                did = true;
        }
        return did;
}

/* ---- the world turning ------------------------------------------------------ */

/* One turn: children, reaper, the loop once, answers. True if anything happened. */
static bool
fuzz_turn(struct fuzz_run *r)
{
        struct corrald *d = r->d;
        bool did = mock_spawn_step(d);

        if (mock_spawn_reapable()) {
                corrald_reap(d); /* as the SIGCHLD handler does */
                did = true;
        }
        event_base_loop(d->base, EVLOOP_NONBLOCK);
        if (fuzz_read_answers(r))
                did = true;
        return did || event_base_get_num_events(d->base, EVENT_BASE_COUNT_ACTIVE) > 0;
}

static void
fuzz_settle(struct fuzz_run *r)
{
        unsigned quiet = 0, turns = 0;

        while (quiet < FUZZ_QUIET_TURNS && turns++ < FUZZ_SETTLE_TURNS)
                quiet = fuzz_turn(r) ? 0 : quiet + 1;
}

/* How many bytes from pos (before end) arrive together. */
static size_t
fuzz_chunk(struct fuzz_run *r, size_t pos, size_t end)
{
        size_t n = end - pos;

        r->seed = r->seed * 1103515245u + 12345u;
        switch (r->mode) {
        case 1:
                n = 1 + (r->seed >> 16) % 64;
                break;
        case 2:
                n = 1 + (r->seed >> 16) % 4096;
                break;
        case 3:
                while (r->next_bound < r->nbounds && r->bounds[r->next_bound] <= pos)
                        r->next_bound++;
                if (r->next_bound < r->nbounds)
                        n = r->bounds[r->next_bound] - pos;
                break;
        }
        return n < end - pos ? n : end - pos;
}

/* Send [pos, end), a chunk per turn. */
static void
fuzz_feed(struct fuzz_run *r, size_t pos, size_t end)
{
        unsigned stuck = 0;

        while (pos < end && !r->gone && stuck < FUZZ_STUCK_TURNS) {
                ssize_t n = send(r->fd, r->data + pos, fuzz_chunk(r, pos, end),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n > 0) {
                        pos += (size_t)n;
                        stuck = 0;
                } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        r->gone = true; /* the daemon closed the connection */
                else
                        stuck++;
                fuzz_turn(r);
        }
}

/* Where the messages end, and the harness's commands among them. */
static void
fuzz_scan(struct fuzz_run *r)
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_error err;
        struct proto_msg msg;
        size_t avail;
        void *space;

        if (rd == NULL || (space = proto_reader_space(rd, r->size, &avail)) == NULL)
                abort();
        memcpy(space, r->data, r->size);
        proto_reader_commit(rd, r->size);
        r->bounds = xcalloc(r->size + 1, sizeof *r->bounds);
        while (proto_reader_next(rd, &msg, &err) == 1) {
                size_t end = r->size - proto_reader_pending(rd);
                enum fuzz_cmd cmd = FUZZ_CMD_NONE;

                r->bounds[r->nbounds++] = end;
                for (size_t i = 0; msg.type == PROTO_NOTIFICATION && i < FUZZ_NCMDS; i++) {
                        if (strcmp(msg.method, fuzz_cmds[i].method) == 0)
                                cmd = fuzz_cmds[i].cmd;
                }
                if (cmd != FUZZ_CMD_NONE && r->ncmds < FUZZ_MAX_COMMANDS) {
                        r->cmd_end[r->ncmds] = end;
                        r->cmd[r->ncmds++] = cmd;
                }
                proto_msg_clear(&msg);
        }
        proto_reader_free(rd);
}

static void
fuzz_command(struct fuzz_run *r, enum fuzz_cmd cmd)
{
        if (cmd != FUZZ_CMD_RESTART) {
                for (size_t i = 0; i < FUZZ_NCMDS; i++) {
                        if (fuzz_cmds[i].cmd == cmd) {
                                r->uid = fuzz_cmds[i].uid;
                                r->gid = fuzz_cmds[i].gid;
                        }
                }
                /* A stopping corrald has closed its socket: nobody connects any more. */
                if (r->d->stopping)
                        return;
                fuzz_disconnect(r);
                fuzz_settle(r);
                fuzz_connect(r);
        } else {
                fuzz_disconnect(r);
                corrald_free(r->d);
                free(r->d);
                mock_spawn_reset(); /* its children are gone with it */
                r->d = fuzz_daemon_new();
                fuzz_connect(r);
        }
        fuzz_settle(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_run r;
        size_t pos = 0, i;
        int fd;

        if (size < 1)
                return 0;
        if (sandbox[0] == '\0')
                fuzz_setup_once();
        memset(&r, 0, sizeof r);
        r.mode = data[0] & FUZZ_CHUNK_MODE;
        r.seed = data[0] >> 3;
        r.data = data + 1;
        r.size = size - 1;
        r.fd = -1;
        fuzz_scan(&r);
        /* The access rules alone, a fresh state directory, and /fuzz/. */
        if ((fd = openat(AT_FDCWD, conf_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
                -1 ||
            write(fd, fuzz_config, sizeof fuzz_config - 1) != (ssize_t)(sizeof fuzz_config - 1) ||
            close(fd) != 0 || mkdir(files_dir, 0700) != 0)
                abort();
        guard = true;
        r.d = fuzz_daemon_new();
        fuzz_connect(&r);
        for (i = 0; i < r.ncmds; i++) {
                fuzz_feed(&r, pos, r.cmd_end[i]);
                fuzz_settle(&r);
                fuzz_command(&r, r.cmd[i]);
                pos = r.cmd_end[i];
        }
        fuzz_feed(&r, pos, r.size);
        if ((data[0] & FUZZ_HANGUP) && r.fd != -1)
                shutdown(r.fd, SHUT_WR);
        fuzz_settle(&r);

        /* Everything goes: nothing may outlive the input. */
        fuzz_disconnect(&r);
        corrald_free(r.d);
        free(r.d);
        mock_spawn_reset();
        free(r.bounds);
        guard = false;
        fuzz_empty(sandbox);
        return 0;
}
