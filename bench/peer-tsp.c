/*
 * peer-tsp.c -- task-spooler as a peer for spawn throughput: the time to
 * run N `true` jobs through it with 2 slots, as its users do it: one
 * `tsp -n /bin/true` command per job (each a client process that queues
 * the job and forks its runner), then waiting for the last jobs.
 *
 * Each repetition uses its own server (TS_SOCKET in the bench's
 * directory), started by `tsp -S 2` and stopped by `tsp -K` and then by
 * PID: the server daemonises, and as the bench is a subreaper it comes
 * back to us as a child named "tsp", as do the job runners' remains.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

#define TSP_BIN     "/usr/bin/tsp"
#define TSP_TIMEOUT 30.0

static bool
tsp_available(struct bench *b, char **why)
{
        if (access(TSP_BIN, X_OK) != 0) {
                xasprintf(why, "%s is not installed (Debian package task-spooler)", TSP_BIN);
                return false;
        }
        return true;
}

/* Stop this repetition's server: politely, then by PID. */
static void
tsp_stop(const char *const *env)
{
        static const char *const kill_argv[] = {TSP_BIN, "-K", NULL};
        pid_t pids[16];
        size_t n, i;

        proc_run(kill_argv, env, 5);
        usleep(50000);
        n = proc_children_named("tsp", pids, 16);
        for (i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        proc_reap_orphans();
}

static int
tsp_run(struct bench *b, void *state, double *out, char **cause)
{
        static unsigned seq;
        static const char *const slots_argv[] = {TSP_BIN, "-S", "2", NULL};
        static const char *const job_argv[] = {TSP_BIN, "-n", "/bin/true", NULL};
        char sock_env[320], max_env[64], tmp_env[200], name[32], last[32], prev[32];
        const char *env[4], *wait_argv[4] = {TSP_BIN, "-w", NULL, NULL};
        uint64_t n = bench_size(b, 1000, 100), i;
        double t0;
        int rc = 0;

        seq++;
        snprintf(name, sizeof name, "tsp-%u.sock", seq);
        snprintf(sock_env, sizeof sock_env, "TS_SOCKET=%s", bench_path(b, name));
        snprintf(max_env, sizeof max_env, "TS_MAXFINISHED=%llu", (unsigned long long)n + 100);
        snprintf(tmp_env, sizeof tmp_env, "TMPDIR=%s", b->dir);
        env[0] = sock_env;
        env[1] = max_env;
        env[2] = tmp_env;
        env[3] = NULL;
        if (proc_run(slots_argv, env, TSP_TIMEOUT) != 0) {
                tsp_stop(env);
                return fail(cause, "tsp -S 2 failed");
        }
        t0 = now_mono();
        for (i = 0; i < n && rc == 0; i++) {
                if (proc_run(job_argv, env, TSP_TIMEOUT) != 0)
                        rc = fail(cause, "tsp -n /bin/true failed (job %llu)",
                                  (unsigned long long)i);
                if (i % 64 == 63)
                        proc_reap_orphans();
        }
        /* Jobs are numbered from 0 and at most 2 run at once: wait for the last two. */
        snprintf(prev, sizeof prev, "%llu", (unsigned long long)(n >= 2 ? n - 2 : 0));
        snprintf(last, sizeof last, "%llu", (unsigned long long)(n - 1));
        wait_argv[2] = prev;
        if (rc == 0 && proc_run(wait_argv, env, TSP_TIMEOUT) < 0)
                rc = fail(cause, "tsp -w %s timed out", prev);
        wait_argv[2] = last;
        if (rc == 0 && proc_run(wait_argv, env, TSP_TIMEOUT) < 0)
                rc = fail(cause, "tsp -w %s timed out", last);
        out[0] = (double)n / (now_mono() - t0);
        tsp_stop(env);
        return rc;
}

static const struct figure_def tsp_figures[] = {
    {"tsp_rate", "task-spooler, 2 slots: `tsp -n true` jobs", "proc/s", true, TARGET_NONE, 0, NULL},
};
static const char *const tsp_compare[] = {"pool2"};

const struct peer_def peer_tsp = {
    .name = "task-spooler",
    .what = "N `tsp -n /bin/true` commands (one client process each, as from a shell) then "
            "`tsp -w` on the last two jobs, 2 slots; compared with corrald's 2-slot pool",
    .figures = tsp_figures,
    .nfigures = 1,
    .compare = tsp_compare,
    .available = tsp_available,
    .run = tsp_run,
};
