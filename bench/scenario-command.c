/*
 * scenario-command.c -- 1b. whole command: `corralctl status` as a shell
 * runs it, against a daemon supervising 10 sleeping processes.
 *
 * Each sample is one run of `corralctl -s SOCK status` (an alias of ps:
 * exec, dynamic linking, connect, process.list, print the table, exit),
 * timed at the parent from before posix_spawn to after waitpid, with
 * stdin, stdout and stderr on /dev/null; it must exit with 0. Reference:
 * the same loop running /bin/true (same spawn code, same stdio), the
 * least a command costs, so that the ratio is what corralctl adds to an
 * exec: its libraries, its connection and its request.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define CMD_SLEEPERS 10
#define CMD_WARMUP   10
#define CMD_TIMEOUT  10.0 /* seconds one run may take before the scenario fails */

extern char **environ;

static const char *const cmd_true_argv[] = {"/bin/true", NULL};

static const struct figure_def cmd_figures[] = {
    {"p50", "`corralctl status` (10 processes) as a whole command p50", "µs", false,
     TARGET_RATIO_MAX, 1.5, "≤ 1.5× /bin/true"},
    {"p99", "`corralctl status` as a whole command p99", "µs", false, TARGET_NONE, 0, NULL},
};

struct cmd_state {
        const char *argv[5]; /* corralctl -s SOCK status */
        pid_t pids[CMD_SLEEPERS];
        size_t spawned;
        size_t n;
        double *samples;
};

/* Wait for pid, at most CMD_TIMEOUT s; its status. 0, or -1 (killed and reaped). */
static int
cmd_wait(pid_t pid, int *status, char **cause)
{
        struct pollfd pfd;
        int fd, k = -1;
        pid_t r;

        /*
         * A pidfd bounds the wait without a sleeping poll loop (which would
         * add to the time); without one, proc_wait's bounded loop.
         */
        if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) != -1) {
                pfd = (struct pollfd){fd, POLLIN, 0};
                while ((k = poll(&pfd, 1, (int)(CMD_TIMEOUT * 1000))) == -1 && errno == EINTR)
                        ;
                close(fd);
        }
        if (k == 1) {
                while ((r = waitpid(pid, status, 0)) == -1 && errno == EINTR)
                        ;
                if (r == pid)
                        return 0;
        } else if (proc_wait(pid, k == 0 ? 0 : CMD_TIMEOUT, status))
                return 0;
        kill(pid, SIGKILL);
        proc_wait(pid, CMD_TIMEOUT, NULL);
        return fail(cause, "still running after %gs (killed)", CMD_TIMEOUT);
}

/* Run argv once as a whole command; *us from before the spawn to after the wait. */
static int
cmd_run_once(const char *const *argv, double *us, char **cause)
{
        posix_spawn_file_actions_t fa;
        double t0;
        pid_t pid;
        int error, status;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        t0 = now_mono();
        error = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (error != 0)
                return fail(cause, "cannot run %s: %s", argv[0], strerror(error));
        if (cmd_wait(pid, &status, cause) != 0)
                return fail_prefix(cause, argv[0]);
        *us = (now_mono() - t0) * 1e6;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return fail(cause, "%s exited with %d", argv[0], WEXITSTATUS(status));
        return fail(cause, "%s was killed by signal %d", argv[0], WTERMSIG(status));
}

static int
cmd_loop(struct cmd_state *st, const char *const *argv, size_t n, double *out, char **cause)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (cmd_run_once(argv, &st->samples[i], cause) != 0)
                        return -1;
        }
        if (out != NULL) {
                out[0] = stats_quantile(st->samples, n, 0.50);
                out[1] = stats_quantile_sorted(st->samples, n, 0.99);
        }
        return 0;
}

static int
cmd_setup(struct bench *b, void **statep, char **cause)
{
        struct cmd_state *st = xcalloc(1, sizeof *st);

        *statep = st;
        st->n = bench_size(b, 300, 30);
        st->samples = xcalloc(st->n > CMD_WARMUP ? st->n : CMD_WARMUP, sizeof *st->samples);
        if (access(b->corralctl_path, X_OK) != 0)
                return fail(cause, "cannot run %s: %s", b->corralctl_path, strerror(errno));
        st->argv[0] = b->corralctl_path;
        st->argv[1] = "-s";
        st->argv[2] = b->sock;
        st->argv[3] = "status";
        st->argv[4] = NULL;
        if (sleepers_spawn(b->conn, CMD_SLEEPERS, st->pids, &st->spawned, cause) != 0)
                return -1;
        bench_note("command: %zu runs per figure of `corralctl -s SOCK status` (%s) against a "
                   "daemon with %zu sleeping processes, each timed from posix_spawn to waitpid, "
                   "stdio on /dev/null; the reference runs /bin/true the same way",
                   st->n, b->corralctl_path, st->spawned);
        /* Warm up both: page cache, the dynamic loader's cache, the daemon's allocations. */
        if (cmd_loop(st, st->argv, CMD_WARMUP, NULL, cause) != 0 ||
            cmd_loop(st, cmd_true_argv, CMD_WARMUP, NULL, cause) != 0)
                return -1;
        return 0;
}

static int
cmd_run(struct bench *b, void *state, double *out, char **cause)
{
        struct cmd_state *st = state;

        return cmd_loop(st, st->argv, st->n, out, cause);
}

static int
cmd_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct cmd_state *st = state;

        return cmd_loop(st, cmd_true_argv, st->n, out, cause);
}

static void
cmd_teardown(struct bench *b, void *state)
{
        struct cmd_state *st = state;
        char *why = NULL;

        if (st == NULL)
                return;
        /* Kill the sleepers while the daemon still runs, so it reaps them. */
        if (st->spawned > 0 && b->conn != NULL &&
            sleepers_kill(b->conn, st->pids, st->spawned, &why) != 0)
                bench_note("command: cleanup: %s", why);
        free(why);
        free(st->samples);
        free(st);
}

const struct scenario scenario_command = {
    .name = "command",
    .title = "1b. Whole command",
    .reference = "/bin/true run the same way (posix_spawn with stdio on /dev/null, then waitpid)",
    .figures = cmd_figures,
    .nfigures = sizeof cmd_figures / sizeof cmd_figures[0],
    .fresh_daemon = true,
    .setup = cmd_setup,
    .run = cmd_run,
    .reference_run = cmd_reference,
    .teardown = cmd_teardown,
};
