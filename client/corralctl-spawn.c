/*
 * corralctl-spawn.c -- starting processes: `spawn` (start one and print
 * its id) and `run` (start one and wait for it, like a shell runs a
 * command). Both take the same options, parsed here once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "corralctl.h"

/* Long-only options. */
enum {
        OPT_ENV_CLEAR = 256,
        OPT_STDIN_DATA,
        OPT_STDIN_FILE,
        OPT_WAIT_READY,
        OPT_AFTER,
        OPT_PRIORITY,
        OPT_STDIN_QUEUE,
};

char *
ctl_read_file(const char *path, size_t *len, char **cause)
{
        size_t cap = 65536, n = 0;
        char *buf, *nbuf;
        ssize_t r;
        int fd;

        if (strcmp(path, "-") == 0)
                fd = STDIN_FILENO;
        else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
                *cause = strdup(strerror(errno));
                return NULL;
        }
        if ((buf = malloc(cap)) == NULL)
                goto fail;
        for (;;) {
                if (n == cap) {
                        if (cap >= PROTO_MAX_MESSAGE_DEFAULT) {
                                errno = EFBIG;
                                goto fail;
                        }
                        if ((nbuf = realloc(buf, cap * 2)) == NULL)
                                goto fail;
                        buf = nbuf;
                        cap *= 2;
                }
                if ((r = read(fd, buf + n, cap - n)) == 0)
                        break;
                if (r == -1) {
                        if (errno == EINTR)
                                continue;
                        goto fail;
                }
                n += (size_t)r;
        }
        if (fd != STDIN_FILENO)
                close(fd);
        *len = n;
        return buf;
fail:
        *cause =
            strdup(errno == EFBIG ? "larger than the daemon accepts (16 MiB)" : strerror(errno));
        free(buf);
        if (fd != STDIN_FILENO)
                close(fd);
        return NULL;
}

/* "K=V" as given, or "K" completed from our own environment (like docker -e K). */
char *
ctl_env_arg(const char *arg, char **cause)
{
        const char *val;
        char *s;

        if (*arg == '=' || *arg == '\0') {
                *cause = strdup("the variable name is empty");
                return NULL;
        }
        if (strchr(arg, '=') != NULL)
                return strdup(arg);
        if ((val = getenv(arg)) == NULL) {
                *cause = strdup("not KEY=VALUE, and KEY is not set here");
                return NULL;
        }
        if (asprintf(&s, "%s=%s", arg, val) == -1)
                return NULL;
        return s;
}

/* The directory a relative --cwd means, or our own with none. NULL if unknown. */
char *
ctl_spawn_cwd(const char *arg)
{
        char *here, *s;

        if (arg != NULL && *arg == '/')
                return strdup(arg);
        if ((here = getcwd(NULL, 0)) == NULL)
                return NULL;
        if (arg == NULL || strcmp(arg, ".") == 0)
                return here;
        if (asprintf(&s, "%s%s%s", here, strcmp(here, "/") == 0 ? "" : "/", arg) == -1)
                s = NULL;
        free(here);
        return s;
}

/* What spawn and run parsed: the options, and the memory behind them. */
struct spawn_args {
        struct corral_spawn_opts o;
        struct ctl_policy policy;
        struct ctl_output output;
        bool quiet; /* run: do not print its output */
        char **env;
        size_t nenv;
        struct corral_target *after;
        size_t nafter;
        char *cwd, *data;
};

static void
spawn_args_free(struct spawn_args *a)
{
        size_t i;

        for (i = 0; i < a->nenv; i++)
                free(a->env[i]);
        free(a->env);
        free(a->after);
        free(a->cwd);
        free(a->data);
        ctl_output_free(&a->output);
}

/* --priority: an integer; the daemon checks its range. */
static bool
parse_priority(const char *s, int *out)
{
        long v;
        char *end;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < -1000000000L || v > 1000000000L)
                return false;
        *out = (int)v;
        return true;
}

static const struct option spawn_opts[] = {
    {"name", required_argument, NULL, 'n'},
    {"pool", required_argument, NULL, 'p'},
    {"env", required_argument, NULL, 'e'},
    {"env-clear", no_argument, NULL, OPT_ENV_CLEAR},
    {"cwd", required_argument, NULL, 'w'},
    {"stdin-data", required_argument, NULL, OPT_STDIN_DATA},
    {"stdin-file", required_argument, NULL, OPT_STDIN_FILE},
    {"wait-ready", no_argument, NULL, OPT_WAIT_READY},
    {"after", required_argument, NULL, OPT_AFTER},
    {"priority", required_argument, NULL, OPT_PRIORITY},
    {"stdin-queue", required_argument, NULL, OPT_STDIN_QUEUE},
    {"quiet", no_argument, NULL, 'q'},
    CTL_POLICY_OPTIONS,
    CTL_OUTPUT_OPTIONS,
    CTL_COMMON_OPTIONS,
};

/* One option of spawn and run (not the policy's); CTL_EXIT_OK or a status. */
static int
spawn_option(struct ctl *ctl, int ch, struct spawn_args *a, const char **cwd_arg,
             const char **stdin_file)
{
        char *cause = NULL;
        int rc;

        switch (ch) {
        case 'n':
                a->o.name = optarg;
                return CTL_EXIT_OK;
        case 'p':
                a->o.pool = optarg;
                return CTL_EXIT_OK;
        case 'e':
                if ((a->env[a->nenv] = ctl_env_arg(optarg, &cause)) == NULL) {
                        rc = ctl_usage_error(ctl, "--env %s: %s", optarg,
                                             cause != NULL ? cause : "out of memory");
                        free(cause);
                        return rc;
                }
                a->nenv++;
                return CTL_EXIT_OK;
        case OPT_ENV_CLEAR:
                a->o.env_clear = true;
                return CTL_EXIT_OK;
        case 'w':
                *cwd_arg = optarg;
                return CTL_EXIT_OK;
        case OPT_STDIN_DATA:
        case OPT_STDIN_FILE:
        case OPT_STDIN_QUEUE:
                if (a->o.has_stdin || a->o.stdin_queue != NULL)
                        return ctl_usage_error(ctl, "--stdin-data, --stdin-file and "
                                                    "--stdin-queue may be given once, and only "
                                                    "one of them");
                if (ch == OPT_STDIN_QUEUE) {
                        a->o.stdin_queue = optarg;
                        return CTL_EXIT_OK;
                }
                a->o.has_stdin = true;
                if (ch == OPT_STDIN_DATA) {
                        a->o.stdin_data = optarg;
                        a->o.stdin_len = strlen(optarg);
                } else
                        *stdin_file = optarg;
                return CTL_EXIT_OK;
        case OPT_WAIT_READY:
                a->o.wait_ready = true;
                return CTL_EXIT_OK;
        case OPT_AFTER:
                if (!ctl_parse_target(optarg, &a->after[a->nafter]))
                        return ctl_usage_error(ctl, "--after: invalid process id or name '%s'",
                                               optarg);
                a->nafter++;
                return CTL_EXIT_OK;
        case OPT_PRIORITY:
                if (!parse_priority(optarg, &a->o.priority))
                        return ctl_usage_error(ctl, "--priority: '%s' is not an integer", optarg);
                a->o.has_priority = true;
                return CTL_EXIT_OK;
        case 'q':
                if (ctl->cmd != &ctl_cmd_run)
                        return ctl_usage_error(ctl, "--quiet is an option of run");
                a->quiet = true;
                return CTL_EXIT_OK;
        default:
                return ctl_option_other(ctl, ch);
        }
}

/*
 * Parse spawn's and run's command line into *a (free it with
 * spawn_args_free() whatever the result). CTL_EXIT_OK, or the status to
 * exit with (a usage error, or --help's 0 with *done set).
 */
static int
spawn_parse(struct ctl *ctl, int argc, char **argv, struct spawn_args *a, bool *done)
{
        const char *cwd_arg = NULL, *stdin_file = NULL;
        char *cause = NULL;
        int ch, rc;

        memset(a, 0, sizeof *a);
        *done = false;
        /* Each option takes at most one slot: argc bounds both lists. */
        if ((a->env = calloc((size_t)argc + 1, sizeof *a->env)) == NULL ||
            (a->after = calloc((size_t)argc + 1, sizeof *a->after)) == NULL) {
                ctl_warn("out of memory");
                *done = true;
                return CTL_EXIT_IO;
        }
        while ((ch = ctl_getopt(ctl, argc, argv, "n:p:e:w:q", spawn_opts, true)) != -1) {
                if (!ctl_policy_option(ctl, ch, optarg, &a->policy, &rc) &&
                    !ctl_output_option(ctl, ch, optarg, &a->output, &rc))
                        rc = spawn_option(ctl, ch, a, &cwd_arg, &stdin_file);
                if (rc != CTL_EXIT_OK || ch == 'h') {
                        *done = true;
                        return rc;
                }
        }
        *done = true;
        if (optind == argc)
                return ctl_usage_error(ctl, "missing the command to run");
        if (cwd_arg != NULL && *cwd_arg == '\0')
                return ctl_usage_error(ctl, "--cwd: empty directory");
        if (stdin_file != NULL) {
                if ((a->data = ctl_read_file(stdin_file, &a->o.stdin_len, &cause)) == NULL) {
                        ctl_warn("--stdin-file %s: %s", stdin_file,
                                 cause != NULL ? cause : "out of memory");
                        free(cause);
                        return CTL_EXIT_USAGE;
                }
                a->o.stdin_data = a->data;
        }
        /* Like a shell, run it here: in our directory, not the daemon's. */
        if ((a->cwd = ctl_spawn_cwd(cwd_arg)) == NULL) {
                if (cwd_arg != NULL) {
                        ctl_warn("--cwd %s: %s", cwd_arg, strerror(errno));
                        return CTL_EXIT_USAGE;
                }
                ctl_warn("warning: no working directory (%s): it runs in the daemon's",
                         strerror(errno));
        }
        a->o.cwd = a->cwd;
        a->o.argv = (const char *const *)argv + optind;
        a->o.env = a->nenv > 0 ? (const char *const *)a->env : NULL;
        a->o.policy = a->policy.p;
        a->o.output = a->output.o;
        a->o.after = a->after;
        a->o.nafter = a->nafter;
        *done = false;
        return CTL_EXIT_OK;
}

static int
spawn_run(struct ctl *ctl, int argc, char **argv)
{
        struct spawn_args a;
        struct corral_process p;
        struct corral_error err;
        bool done;
        int rc, ready;

        if ((rc = spawn_parse(ctl, argc, argv, &a, &done)) != CTL_EXIT_OK || done ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                goto out;
        if (corral_spawn(ctl->conn, &a.o, &p, &err) == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        if (!ctl->json)
                printf("%llu\n", (unsigned long long)p.id);
        ready = a.o.wait_ready ? ctl_check_ready(&p) : CTL_EXIT_OK;
        if ((rc = ctl_record_out(ctl, &p)) == CTL_EXIT_OK)
                rc = ready;
out:
        spawn_args_free(&a);
        return rc;
}

/* The help of spawn's options, shared with run. */
#define SPAWN_OPTIONS_HELP                                                                         \
        "  -n, --name NAME      name it (default: the command's basename and the id,\n"            \
        "                       e.g. sleep.7); no other live process may have it\n"                \
        "  -p, --pool POOL      put it in POOL (default: default); a new name makes a\n"           \
        "                       pool with the default settings\n"                                  \
        "  -e, --env K=V        set an environment variable (repeatable); --env K\n"               \
        "                       passes K's value from corralctl's environment\n"                   \
        "      --env-clear      start from an empty environment, not the daemon's\n"               \
        "  -w, --cwd DIR        run in DIR; a relative DIR is taken from corralctl's\n"            \
        "                       working directory\n"                                               \
        "      --stdin-data STR write STR to its standard input, then close it\n"                  \
        "      --stdin-file FILE\n"                                                                \
        "                       the same with FILE's contents (- for corralctl's stdin)\n"         \
        "      --after ID|NAME  start it only once that process has exited successfully\n"         \
        "                       (repeatable); it is pending until then, and cancelled\n"           \
        "                       if that one fails\n"                                               \
        "      --priority N     among its pool's pending processes, lower N starts\n"              \
        "                       first (default 0)\n"                                               \
        "      --stdin-queue QUEUE\n"                                                              \
        "                       feed its stdin from QUEUE while it runs, one message a\n"          \
        "                       line\n"

const struct ctl_cmd ctl_cmd_spawn = {
    .name = "spawn",
    .run = spawn_run,
    .usage = "[OPTIONS] [--] COMMAND [ARGS...]",
    .summary = "Start a process under the daemon and print its id",
    .help = "The daemon starts COMMAND (looked up in PATH) in a new session, with\n"
            "stdin on /dev/null unless --stdin-* is given, and stdout and stderr\n"
            "captured (see `corralctl logs`) unless --stdout/--stderr say otherwise. It\n"
            "runs in corralctl's working directory unless --cwd says otherwise. Prints\n"
            "the new process's id, or its record with --json.\n"
            "\n"
            "It starts at once unless its pool has no free slot or --after names a\n"
            "process that has not exited yet; it is then pending. The policy options\n"
            "override its pool's defaults (see `corralctl pool create`).\n"
            "\n"
            "With --wait-ready, the answer comes once it is ready (see --ready); if it\n"
            "ends or fails before that, the id is printed and the status is 1.\n"
            "\n"
            "Options end at COMMAND; use -- before a COMMAND that starts with '-'.\n",
    .options = SPAWN_OPTIONS_HELP
    "      --wait-ready     return once it is ready, however long that takes\n"
    "\n"
    "Output (default: its pool's):\n" CTL_OUTPUT_HELP_LINES "\n"
    "Restart policy, readiness and stopping (default: its pool's):\n" CTL_POLICY_HELP_LINES "\n"
    "Common options:\n",
    .example = "  id=$(corralctl spawn --name web -e PORT=8080 -- python3 -m http.server)\n"
               "  corralctl spawn --name api --restart on-failure --start-limit 3/1m \\\n"
               "      --ready notify --wait-ready -- ./api-server\n"
               "  corralctl spawn --after migrate -- ./app\n",
};

/* The signal that interrupted `run`, or 0. */
static volatile sig_atomic_t run_signal;

static void
run_on_signal(int sig)
{
        run_signal = sig;
}

static void
run_catch(int sig)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = run_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL); /* no SA_RESTART: a wait is cut short */
}

static double
run_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The first signal to corralctl stops the process (its stop signal, then
 * KILL after its grace), a second one KILLs it at once.
 */
static int
run_interrupt(struct ctl *ctl, const struct spawn_args *a, struct corral_target t, int *stops,
              struct corral_error *err)
{
        struct corral_terminate_opts to = {.signal = 0, .grace = -1, .wait = false};
        struct corral_process tmp;

        if (run_signal == 0 || *stops >= 2)
                return 0;
        ++*stops;
        to.signal = *stops > 1 ? SIGKILL : a->o.policy.stop_signal;
        to.grace = a->o.policy.has_grace ? a->o.policy.grace : -1;
        run_signal = 0;
        if (corral_terminate(ctl->conn, t, &to, &tmp, err) == -1)
                return -1;
        corral_process_clear(&tmp);
        return 0;
}

/* Join in short rounds so that a signal to corralctl is seen within one. */
static int
run_join(struct ctl *ctl, const struct spawn_args *a, struct corral_target t,
         struct corral_process *p, struct corral_error *err)
{
        const double round = 1.0;
        double conn = ctl->has_timeout ? ctl->timeout : 30, t0;
        int stops = 0;

        for (;;) {
                if (run_interrupt(ctl, a, t, &stops, err) == -1)
                        return -1;
                t0 = run_now();
                if (corral_join(ctl->conn, t, round, p, err) == 0)
                        return 0;
                /* The daemon's "timeout" comes after a round; ours, much later. */
                if (strcmp(err->code, "timeout") != 0 ||
                    (conn > 0 && run_now() - t0 >= round + conn / 2))
                        return -1;
        }
}

/*
 * Writing the output failed: the reader has gone (a closed pipe), or the
 * disk is full. Stop the process, as a shell pipeline would, and print
 * no more; stdout goes to /dev/null so that what is buffered cannot fail
 * again at exit.
 */
static void
run_output_failed(bool *printing)
{
        int saved = errno, fd;

        if (!*printing)
                return;
        *printing = false;
        if (saved != EPIPE)
                ctl_warn("write error: %s", strerror(saved));
        if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
                dup2(fd, STDOUT_FILENO);
                close(fd);
        }
        clearerr(stdout);
        if (run_signal == 0)
                run_signal = SIGPIPE;
}

/* Print followed lines until the process ends. */
static int
run_print(struct ctl *ctl, const struct spawn_args *a, struct corral_target t, struct ctl_logs *lp,
          bool ended, bool *printing, struct corral_error *err)
{
        struct corral_log_line line;
        int stops = 0, r;

        while (!ended) {
                if (run_interrupt(ctl, a, t, &stops, err) == -1)
                        return -1;
                /* Flush only when nothing more is waiting: a burst costs one write. */
                if ((r = corral_logs_next(ctl->conn, &line, 0, err)) == 0) {
                        if (*printing && ctl_logs_flush(lp) == -1)
                                run_output_failed(printing);
                        r = corral_logs_next(ctl->conn, &line, 0.25, err);
                }
                if (r == 0 || (r == -1 && strcmp(err->code, "protocol") == 0))
                        continue;
                if (r == -1)
                        return -1;
                ended = line.kind == CORRAL_LOG_END;
                if (*printing && ctl_logs_print(lp, &line) == -1)
                        run_output_failed(printing);
                corral_log_line_clear(&line);
        }
        if (*printing && ctl_logs_flush(lp) == -1)
                run_output_failed(printing);
        return 0;
}

/*
 * Print the process's output as it comes (process.logs with follow), then
 * its record as join gives it. *fallback when the daemon cannot follow.
 */
static int
run_stream(struct ctl *ctl, const struct spawn_args *a, struct corral_target t,
           struct corral_process *p, struct corral_error *err, bool *fallback)
{
        struct corral_logs_opts lo;
        struct corral_logs backlog;
        struct ctl_logs *lp;
        bool printing = true;
        size_t i;
        int rc;

        memset(&lo, 0, sizeof lo);
        lo.target = t;
        *fallback = false;
        memset(&backlog, 0, sizeof backlog);
        /* Spawned with follow: every line comes as a notification, from the first. */
        if (!a->o.follow && corral_logs_follow(ctl->conn, &lo, &backlog, err) == -1) {
                *fallback = strcmp(err->code, "unknown_method") == 0;
                return -1;
        }
        if ((lp = ctl_logs_new(false, false, false)) == NULL) {
                corral_logs_clear(&backlog);
                snprintf(err->code, sizeof err->code, "io");
                snprintf(err->message, sizeof err->message, "out of memory");
                return -1;
        }
        /* It wrote faster than its buffer before the follow began. */
        if (backlog.lost > 0)
                ctl_warn("%llu bytes of its first output were dropped (a larger --log-buffer "
                         "keeps them)",
                         (unsigned long long)backlog.lost);
        for (i = 0; i < backlog.nlines && printing; i++) {
                if (ctl_logs_print(lp, &backlog.lines[i]) == -1)
                        run_output_failed(&printing);
        }
        rc = run_print(ctl, a, t, lp, backlog.ended, &printing, err);
        corral_logs_clear(&backlog);
        ctl_logs_free(lp);
        if (rc == 0)
                rc = corral_join(ctl->conn, t, -1, p, err);
        return rc;
}

static int
run_run(struct ctl *ctl, int argc, char **argv)
{
        struct spawn_args a;
        struct corral_process p;
        struct corral_target t;
        struct corral_error err;
        bool done, fallback;
        int rc, r, status;

        if ((rc = spawn_parse(ctl, argc, argv, &a, &done)) != CTL_EXIT_OK || done ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                goto out;
        run_catch(SIGINT);
        run_catch(SIGTERM);
        run_catch(SIGHUP);
        signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, handled */
        /* Follow from the spawn itself, so that not a byte of output is missed. */
        a.o.follow = !a.quiet && !ctl->json;
        r = corral_spawn(ctl->conn, &a.o, &p, &err);
        if (r == -1 && a.o.follow && strcmp(err.code, "invalid_params") == 0 &&
            strcmp(err.field, "follow") == 0) {
                a.o.follow = false; /* an older daemon: follow after the spawn */
                r = corral_spawn(ctl->conn, &a.o, &p, &err);
        }
        if (r == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        t.id = p.id;
        t.name = NULL;
        corral_process_clear(&p);
        /* With --json, stdout is for the record alone. */
        if (a.quiet || ctl->json)
                r = run_join(ctl, &a, t, &p, &err);
        else if ((r = run_stream(ctl, &a, t, &p, &err, &fallback)) == -1 && fallback)
                r = run_join(ctl, &a, t, &p, &err); /* a daemon without process.logs */
        if (r == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        if ((status = corral_process_status(&p)) < 0) {
                ctl_warn("%s (id %llu) ended in state %s without an exit status%s%s", p.name,
                         (unsigned long long)p.id, p.state, p.reason != NULL ? ": " : "",
                         p.reason != NULL ? p.reason : "");
                status = CTL_EXIT_SERVER;
        }
        if ((rc = ctl_record_out(ctl, &p)) == CTL_EXIT_OK)
                rc = status;
out:
        spawn_args_free(&a);
        return rc;
}

const struct ctl_cmd ctl_cmd_run = {
    .name = "run",
    .run = run_run,
    .usage = "[OPTIONS] [--] COMMAND [ARGS...]",
    .summary = "Start a process under the daemon and wait for it to end",
    .help = "Like spawn, then join: waits until the process has ended (restarts\n"
            "included: with --restart, until its policy gives up) and exits like a\n"
            "shell's `wait`, with its exit code or 128+N if signal N ended it. A process\n"
            "that never ran (failed, cancelled) gives status 1. Prints its final record\n"
            "with --json.\n"
            "\n"
            "Meanwhile its output is printed as it comes: its stdout lines on stdout,\n"
            "its stderr lines on stderr (when they are captured, the default: see\n"
            "--stdout, and `corralctl logs`). Not with --quiet or --json. Its output\n"
            "is passed on as fast as corralctl prints it, from its first byte, and the\n"
            "process waits for that. If corralctl's stdout is closed (`| head`), the\n"
            "process is stopped.\n"
            "\n"
            "If corralctl gets INT, TERM or HUP meanwhile, it stops the process (its\n"
            "stop signal, then KILL after its grace) and still waits for it; a second\n"
            "one KILLs it.\n"
            "\n"
            "Options end at COMMAND; use -- before a COMMAND that starts with '-'.\n",
    .options = SPAWN_OPTIONS_HELP
    "      --wait-ready     accepted, as for spawn (run waits for the end anyway)\n"
    "  -q, --quiet          do not print its output (it is still captured)\n"
    "\n"
    "Output (default: its pool's):\n" CTL_OUTPUT_HELP_LINES "\n"
    "Restart policy, readiness and stopping (default: its pool's):\n" CTL_POLICY_HELP_LINES "\n"
    "Common options:\n",
    .example = "  corralctl run --pool batch -- make -j8 && echo built\n"
               "  corralctl run --stderr stdout -- ./test.sh | tee test.log\n"
               "  corralctl run --restart on-failure --start-limit 3 -- ./flaky-job\n",
};
