/*
 * peer-supervisord.c -- supervisord as a peer: its idle RSS, the round
 * trip of supervisor.getState (XML-RPC over HTTP/1.1 on its Unix socket,
 * keep-alive), and how long its autorestart takes to bring back a
 * SIGKILLed program.
 *
 * The client is C, like the bench's MessagePack client, so the peer's
 * figure is its server's latency and not a Python client's: it writes one
 * prebuilt request and reads the answer until Content-Length is met, with
 * the least parsing that proves the answer (status 200, "RUNNING").
 * supervisord runs in the foreground with a configuration of our own in
 * the bench's directory, no programs, and is stopped by PID.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define SV_BIN    "/usr/bin/supervisord"
#define SV_WARMUP 200
#define SV_BUF    16384

static const char sv_body[] = "<?xml version=\"1.0\"?>\n<methodCall><methodName>supervisor.getState"
                              "</methodName><params></params></methodCall>\n";

struct sv {
        pid_t pid;
        char sock[192];
        int fd;
        char req[512];
        size_t req_len;
        char buf[SV_BUF];
        size_t n;
        double *samples;
        size_t nsamples;
};

static bool
sv_available(struct bench *b, char **why)
{
        if (access(SV_BIN, X_OK) != 0) {
                xasprintf(why, "%s is not installed (Debian package supervisor)", SV_BIN);
                return false;
        }
        return true;
}

static void
sv_stop(struct sv *sv)
{
        if (sv->fd >= 0)
                close(sv->fd);
        sv->fd = -1;
        if (sv->pid > 0)
                proc_stop(sv->pid, SIGTERM, 10);
        sv->pid = 0;
}

/* The request for one XML-RPC call, kept in sv->req. */
static void
sv_set_body(struct sv *sv, const char *body)
{
        sv->req_len = (size_t)snprintf(sv->req, sizeof sv->req,
                                       "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\n"
                                       "Content-Type: text/xml\r\nContent-Length: %zu\r\n\r\n%s",
                                       strlen(body), body);
}

/* One call of sv->req: send, then read the whole answer into sv->buf. */
static int
sv_exchange(struct sv *sv, char **cause)
{
        const char *hdr_end, *cl;
        size_t off = 0, want = 0;
        ssize_t n;

        while (off < sv->req_len) {
                n = send(sv->fd, sv->req + off, sv->req_len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return fail(cause, "supervisord: send: %s", strerror(errno));
                off += (size_t)n;
        }
        sv->n = 0;
        for (;;) {
                n = recv(sv->fd, sv->buf + sv->n, sizeof sv->buf - 1 - sv->n, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return fail(cause, "supervisord: %s",
                                    n == 0 ? "connection closed" : strerror(errno));
                sv->n += (size_t)n;
                sv->buf[sv->n] = '\0';
                if ((hdr_end = strstr(sv->buf, "\r\n\r\n")) == NULL) {
                        if (sv->n >= sizeof sv->buf - 1)
                                return fail(cause, "supervisord: headers too long");
                        continue;
                }
                if (want == 0) {
                        if (strncmp(sv->buf, "HTTP/1.1 200", 12) != 0)
                                return fail(cause, "supervisord: %.40s", sv->buf);
                        if ((cl = strcasestr(sv->buf, "\r\nContent-Length:")) == NULL ||
                            cl > hdr_end)
                                return fail(cause, "supervisord: no Content-Length");
                        want = (size_t)(hdr_end + 4 - sv->buf) + strtoul(cl + 17, NULL, 10);
                        if (want >= sizeof sv->buf)
                                return fail(cause, "supervisord: answer too long");
                }
                if (sv->n >= want)
                        break;
        }
        return 0;
}

/* One call whose answer must say RUNNING (getState; getProcessInfo of a running program). */
static int
sv_call(struct sv *sv, char **cause)
{
        if (sv_exchange(sv, cause) != 0)
                return -1;
        if (strstr(sv->buf, "RUNNING") == NULL)
                return fail(cause, "supervisord: unexpected answer");
        return 0;
}

/* Start supervisord with extra configuration sections (programs), or none. */
static int
sv_start(struct bench *b, struct sv *sv, const char *programs, char **cause)
{
        static unsigned seq;
        char conf[320], log[320], name[64], *text;
        const char *argv[5];
        struct timeval tv = {30, 0};
        double deadline;

        memset(sv, 0, sizeof *sv);
        sv->fd = -1;
        seq++;
        snprintf(name, sizeof name, "supervisord-%u.sock", seq);
        snprintf(sv->sock, sizeof sv->sock, "%s", bench_path(b, name));
        snprintf(name, sizeof name, "supervisord-%u.conf", seq);
        snprintf(conf, sizeof conf, "%s", bench_path(b, name));
        snprintf(name, sizeof name, "supervisord-%u.log", seq);
        snprintf(log, sizeof log, "%s", bench_path(b, name));
        xasprintf(&text,
                  "[unix_http_server]\nfile=%s\n\n"
                  "[supervisord]\nnodaemon=true\n%slogfile=%s\npidfile=%s.pid\n"
                  "childlogdir=%s\n\n"
                  "[rpcinterface:supervisor]\n"
                  "supervisor.rpcinterface_factory = supervisor.rpcinterface:"
                  "make_main_rpcinterface\n%s",
                  sv->sock,
                  /* As root it warns unless told which user to stay. */
                  geteuid() == 0 ? "user=root\n" : "", log, sv->sock, b->dir,
                  programs != NULL ? programs : "");
        if (file_write(conf, text, strlen(text)) != 0) {
                free(text);
                return fail(cause, "cannot write %s", conf);
        }
        free(text);
        argv[0] = SV_BIN;
        argv[1] = "-n";
        argv[2] = "-c";
        argv[3] = conf;
        argv[4] = NULL;
        if ((sv->pid = proc_start(argv, NULL, log, SIGTERM, cause)) == -1) {
                sv->pid = 0;
                return -1;
        }
        /* Python takes a moment to start: up to 20 s for the socket. */
        deadline = now_mono() + 20;
        while ((sv->fd = unix_connect_retry(sv->sock, 0.5, NULL)) == -1) {
                if (now_mono() > deadline || proc_wait(sv->pid, 0, NULL)) {
                        sv_stop(sv);
                        return fail(cause, "supervisord did not open %s (see %s)", sv->sock, log);
                }
        }
        setsockopt(sv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sv_set_body(sv, sv_body);
        if (sv_call(sv, cause) != 0) {
                sv_stop(sv);
                return -1;
        }
        return 0;
}

/* ---- round trip ------------------------------------------------------------ */

static int
sv_rt_setup(struct bench *b, void **statep, char **cause)
{
        struct sv *sv = xcalloc(1, sizeof *sv);
        size_t i;

        *statep = sv;
        if (sv_start(b, sv, NULL, cause) != 0)
                return -1;
        sv->nsamples = bench_size(b, 3000, 300);
        sv->samples = xcalloc(sv->nsamples, sizeof *sv->samples);
        for (i = 0; i < SV_WARMUP; i++) {
                if (sv_call(sv, cause) != 0)
                        return -1;
        }
        return 0;
}

static int
sv_rt_run(struct bench *b, void *state, double *out, char **cause)
{
        struct sv *sv = state;
        double t0;
        size_t i;

        for (i = 0; i < sv->nsamples; i++) {
                t0 = now_mono();
                if (sv_call(sv, cause) != 0)
                        return -1;
                sv->samples[i] = (now_mono() - t0) * 1e6;
        }
        out[0] = stats_quantile(sv->samples, sv->nsamples, 0.50);
        out[1] = stats_quantile_sorted(sv->samples, sv->nsamples, 0.99);
        return 0;
}

static void
sv_rt_teardown(struct bench *b, void *state)
{
        struct sv *sv = state;

        if (sv == NULL)
                return;
        sv_stop(sv);
        free(sv->samples);
        free(sv);
}

static const struct figure_def sv_rt_figures[] = {
    {"getstate_p50", "supervisor.getState round trip p50", "µs", false, TARGET_NONE, 0, NULL},
    {"getstate_p99", "supervisor.getState round trip p99", "µs", false, TARGET_NONE, 0, NULL},
};
static const char *const sv_rt_compare[] = {"p50", "p99"};

const struct peer_def peer_supervisord_roundtrip = {
    .name = "supervisord",
    .what = "supervisor.getState over XML-RPC/HTTP on its Unix socket, C client, keep-alive",
    .figures = sv_rt_figures,
    .nfigures = 2,
    .compare = sv_rt_compare,
    .available = sv_available,
    .setup = sv_rt_setup,
    .run = sv_rt_run,
    .teardown = sv_rt_teardown,
};

/* ---- idle footprint -------------------------------------------------------- */

static int
sv_fp_run(struct bench *b, void *state, double *out, char **cause)
{
        struct sv sv;

        if (sv_start(b, &sv, NULL, cause) != 0)
                return -1;
        usleep(100000);
        out[0] = (double)proc_rss_kib(sv.pid);
        sv_stop(&sv);
        return 0;
}

static const struct figure_def sv_fp_figures[] = {
    {"idle_rss", "supervisord RSS, idle (no programs)", "KiB", false, TARGET_NONE, 0, NULL},
};
static const char *const sv_fp_compare[] = {"idle_rss"};

const struct peer_def peer_supervisord_footprint = {
    .name = "supervisord",
    .what = "supervisord with no programs, after one getState",
    .figures = sv_fp_figures,
    .nfigures = 1,
    .compare = sv_fp_compare,
    .available = sv_available,
    .run = sv_fp_run,
};

/* ---- restart latency --------------------------------------------------------- */

#define SV_RS_PROGRAM "restart"
#define SV_RS_RUNNING 5.0 /* seconds to wait for RUNNING before a kill */

static const char sv_rs_info[] =
    "<?xml version=\"1.0\"?>\n<methodCall><methodName>supervisor.getProcessInfo</methodName>"
    "<params><param><value><string>" SV_RS_PROGRAM "</string></value></param></params>"
    "</methodCall>\n";

struct sv_rs {
        struct sv sv;
        int fifo;
        char fifo_path[256];
        pid_t pid;
        double *samples;
        size_t n;
};

/*
 * Wait until supervisord reports the program RUNNING: killed while still
 * STARTING, it would count an early exit and back off, which is not what
 * is measured.
 */
static int
sv_rs_wait_running(struct sv_rs *rs, char **cause)
{
        double deadline = now_mono() + SV_RS_RUNNING;

        for (;;) {
                if (sv_exchange(&rs->sv, cause) != 0)
                        return -1;
                if (strstr(rs->sv.buf, "<string>RUNNING</string>") != NULL)
                        return 0;
                if (now_mono() > deadline)
                        return fail(cause, "supervisord: %s not RUNNING within %gs", SV_RS_PROGRAM,
                                    SV_RS_RUNNING);
                usleep(1000);
        }
}

static int
sv_rs_setup(struct bench *b, void **statep, char **cause)
{
        struct sv_rs *rs = xcalloc(1, sizeof *rs);
        char *programs;
        int rc;

        *statep = rs;
        rs->sv.fd = -1;
        rs->n = bench_size(b, 4, 2); /* each restart takes it about a second */
        rs->samples = xcalloc(rs->n, sizeof *rs->samples);
        if ((rs->fifo = restart_fifo_open(b, "restart-sv.fifo", rs->fifo_path, sizeof rs->fifo_path,
                                          cause)) == -1)
                return -1;
        /* Its best case: no startsecs to wait, restarted at once, no start limit in reach. */
        xasprintf(&programs,
                  "\n[program:%s]\ncommand=%s %s\nautorestart=true\nstartsecs=0\n"
                  "startretries=1000\nstopsignal=KILL\n",
                  SV_RS_PROGRAM, b->child_path, rs->fifo_path);
        rc = sv_start(b, &rs->sv, programs, cause);
        free(programs);
        if (rc != 0)
                return -1;
        sv_set_body(&rs->sv, sv_rs_info);
        if (restart_fifo_wait(rs->fifo, 0, 20, &rs->pid, cause) != 0)
                return -1;
        return sv_rs_wait_running(rs, cause);
}

static int
sv_rs_run(struct bench *b, void *state, double *out, char **cause)
{
        struct sv_rs *rs = state;
        pid_t pid;
        double t0;
        size_t i;

        for (i = 0; i < rs->n; i++) {
                if (sv_rs_wait_running(rs, cause) != 0)
                        return -1;
                t0 = now_mono();
                kill(rs->pid, SIGKILL);
                if (restart_fifo_wait(rs->fifo, rs->pid, 30, &pid, cause) != 0)
                        return -1;
                rs->samples[i] = (now_mono() - t0) * 1e6;
                rs->pid = pid;
        }
        out[0] = stats_quantile(rs->samples, rs->n, 0.50);
        out[1] = stats_quantile_sorted(rs->samples, rs->n, 0.99);
        return 0;
}

static void
sv_rs_teardown(struct bench *b, void *state)
{
        struct sv_rs *rs = state;

        if (rs == NULL)
                return;
        sv_stop(&rs->sv);
        if (rs->pid > 0)
                kill(rs->pid, SIGKILL);
        proc_reap_orphans();
        if (rs->fifo >= 0)
                close(rs->fifo);
        free(rs->samples);
        free(rs);
}

static const struct figure_def sv_rs_figures[] = {
    {"sv_restart_p50", "supervisord autorestart: SIGKILL → replacement running p50", "µs", false,
     TARGET_NONE, 0, NULL},
    {"sv_restart_p99", "supervisord autorestart: SIGKILL → replacement running p99 (max)", "µs",
     false, TARGET_NONE, 0, NULL},
};
static const char *const sv_rs_compare[] = {"p50", "p99"};

const struct peer_def peer_supervisord_restart = {
    .name = "supervisord",
    .what = "supervisord running the same child with autorestart=true, startsecs=0 (its "
            "fastest); each kill waits until getProcessInfo says RUNNING, then the same FIFO "
            "clock; few samples per repetition (p99 is their maximum)",
    .figures = sv_rs_figures,
    .nfigures = 2,
    .compare = sv_rs_compare,
    .available = sv_available,
    .setup = sv_rs_setup,
    .run = sv_rs_run,
    .teardown = sv_rs_teardown,
};
