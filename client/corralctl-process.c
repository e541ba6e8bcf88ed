/*
 * corralctl-process.c -- the commands that act on one process: start,
 * restart, join, terminate, signal and info (spawn and run are in
 * corralctl-spawn.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "corralctl.h"

/* Parse the ID|NAME operand at argv[optind]. */
int
ctl_target_arg(struct ctl *ctl, char **argv, struct corral_target *t)
{
        if (!ctl_parse_target(argv[optind], t))
                return ctl_usage_error(ctl, "invalid process id or name '%s'", argv[optind]);
        return CTL_EXIT_OK;
}

/* Print a record as JSON, or nothing. */
int
ctl_record_out(struct ctl *ctl, struct corral_process *p)
{
        int rc = CTL_EXIT_OK;

        if (ctl->json)
                rc = ctl_json_print(ctl_json_record(p));
        corral_process_clear(p);
        return rc;
}

/*
 * What join --output got: printed as it was written (stdout, then
 * stderr), or with --json added to the record. Clears *cap.
 */
static int
join_output(struct ctl *ctl, struct corral_process *p, struct corral_captured *cap)
{
        json_t *j;
        int rc = CTL_EXIT_OK;

        ctl_logs_lost(cap->lost);
        if (ctl->json) {
                j = ctl_json_record(p);
                if (j != NULL &&
                    json_object_set_new(
                        j, "output",
                        json_pack("{s:o,s:o,s:I}", "stdout",
                                  ctl_json_bytes(cap->stdout_buf != NULL ? cap->stdout_buf : "",
                                                 cap->stdout_len),
                                  "stderr",
                                  ctl_json_bytes(cap->stderr_buf != NULL ? cap->stderr_buf : "",
                                                 cap->stderr_len),
                                  "lost", (json_int_t)cap->lost)) == -1) {
                        json_decref(j);
                        j = NULL;
                }
                rc = ctl_json_print(j);
        } else {
                if (cap->stdout_len > 0)
                        fwrite(cap->stdout_buf, 1, cap->stdout_len, stdout);
                fflush(stdout);
                if (cap->stderr_len > 0)
                        fwrite(cap->stderr_buf, 1, cap->stderr_len, stderr);
        }
        corral_process_clear(p);
        corral_captured_clear(cap);
        return rc;
}

static int
join_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"timeout", required_argument, NULL, 't'},
            {"output", no_argument, NULL, 'o'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_target t;
        struct corral_process p;
        struct corral_captured cap;
        struct corral_error err;
        struct timespec t0, t1;
        double timeout = -1, conn_timeout, elapsed;
        bool output = false;
        int ch, rc, r, status;

        while ((ch = ctl_getopt(ctl, argc, argv, "t:o", opts, false)) != -1) {
                switch (ch) {
                case 't':
                        if (!ctl_parse_seconds(optarg, &timeout))
                                return ctl_usage_error(ctl, "invalid time '%s'", optarg);
                        break;
                case 'o':
                        output = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (output)
                r = corral_join_output(ctl->conn, t, timeout, &p, &cap, &err);
        else
                r = corral_join(ctl->conn, t, timeout, &p, &err);
        if (r == -1) {
                /*
                 * "timeout" is the daemon's answer after --timeout, or ours
                 * when it did not answer for the connection timeout beyond
                 * that: tell them apart by the time it took.
                 */
                clock_gettime(CLOCK_MONOTONIC, &t1);
                elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
                conn_timeout = ctl->has_timeout ? ctl->timeout : 30;
                if (strcmp(err.code, "timeout") == 0 && timeout >= 0 &&
                    (conn_timeout <= 0 || elapsed < timeout + conn_timeout / 2)) {
                        ctl_warn("timeout: %s", err.message);
                        return CTL_EXIT_TIMEOUT;
                }
                return ctl_fail(ctl, &err);
        }
        if ((status = corral_process_status(&p)) < 0) {
                ctl_warn("%s (id %llu) ended in state %s without an exit status", p.name,
                         (unsigned long long)p.id, p.state);
                status = CTL_EXIT_SERVER;
        }
        rc = output ? join_output(ctl, &p, &cap) : ctl_record_out(ctl, &p);
        return rc != CTL_EXIT_OK ? rc : status;
}

const struct ctl_cmd ctl_cmd_join = {
    .name = "join",
    .run = join_run,
    .usage = "ID|NAME [--timeout TIME] [--output]",
    .summary = "Wait for a process to end and exit with its status",
    .help = "Waits until the process has ended (at once if it already has), then exits\n"
            "like a shell's `wait`: with the process's exit code, or 128+N if signal N\n"
            "ended it (137 for KILL, 143 for TERM). Prints its record with --json.\n"
            "\n"
            "With --output, first prints what it wrote, as the daemon kept it with its\n"
            "record (the newest 16K of its captured lines): its stdout on stdout, its\n"
            "stderr on stderr, like subprocess.communicate(). With --json, the record\n"
            "gets \"output\": {\"stdout\", \"stderr\", \"lost\"} instead.\n",
    .options = "  -t, --timeout TIME   wait at most TIME (0 only checks); then exit 124,\n"
               "                       like timeout(1). Default: wait as long as it takes\n"
               "  -o, --output         print its captured stdout and stderr\n",
    .example = "  corralctl join web --timeout 1m || echo \"web failed: $?\"\n"
               "  id=$(corralctl spawn -- make test) && corralctl join \"$id\" --output\n",
};

static int
terminate_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"signal", required_argument, NULL, 's'},
            {"grace", required_argument, NULL, 'g'},
            {"wait", no_argument, NULL, 'w'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_terminate_opts o = {.signal = 0, .grace = -1, .wait = false};
        struct corral_target t;
        struct corral_process p;
        struct corral_error err;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "s:g:w", opts, false)) != -1) {
                switch (ch) {
                case 's':
                        if ((o.signal = corral_signal_number(optarg)) <= 0)
                                return ctl_usage_error(ctl, "unknown signal '%s'", optarg);
                        break;
                case 'g':
                        if (!ctl_parse_seconds(optarg, &o.grace))
                                return ctl_usage_error(ctl, "invalid time '%s'", optarg);
                        break;
                case 'w':
                        o.wait = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;
        if (corral_terminate(ctl->conn, t, &o, &p, &err) == -1)
                return ctl_fail(ctl, &err);
        return ctl_record_out(ctl, &p);
}

const struct ctl_cmd ctl_cmd_terminate = {
    .name = "terminate",
    .run = terminate_run,
    .usage = "ID|NAME [--signal SIG] [--grace TIME] [--wait]",
    .summary = "Stop a process: a signal, then KILL after a grace period",
    .help = "Sends the stop signal to the process's group, and KILL to the group if it\n"
            "is still running after the grace period. Returns at once unless --wait.\n"
            "Terminating a process that has already ended does nothing. With --json,\n"
            "prints its record: state stopping, or its final state with --wait.\n",
    .options = "  -s, --signal SIG     the stop signal: TERM (default), INT, HUP, 9, SIGQUIT...\n"
               "  -g, --grace TIME     how long to wait before KILL (default: the daemon's, 10s)\n"
               "  -w, --wait           return only once the process has ended\n",
};

static int
signal_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"group", no_argument, NULL, 'g'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_target t;
        struct corral_error err;
        bool group = false;
        int ch, rc, sig;

        while ((ch = ctl_getopt(ctl, argc, argv, "g", opts, false)) != -1) {
                switch (ch) {
                case 'g':
                        group = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 2, 2)) != CTL_EXIT_OK ||
            (rc = ctl_target_arg(ctl, argv, &t)) != CTL_EXIT_OK)
                return rc;
        if ((sig = corral_signal_number(argv[optind + 1])) < 0)
                return ctl_usage_error(ctl, "unknown signal '%s'", argv[optind + 1]);
        if ((rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_signal(ctl->conn, t, sig, group, &err) == -1)
                return ctl_fail(ctl, &err);
        return ctl->json ? ctl_json_print(json_object()) : CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_signal = {
    .name = "signal",
    .run = signal_run,
    .usage = "ID|NAME SIG [--group]",
    .summary = "Send a signal to a running process",
    .help = "SIG is a name with or without SIG, in any case (HUP, sigusr1, RTMIN+2),\n"
            "or a number. It is an error (not_running) if the process has ended.\n",
    .options = "  -g, --group          signal its whole process group\n",
};

/* Length of the valid UTF-8 sequence of 2..4 bytes at s, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
        size_t n, i;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4;
        else
                return 0;
        for (i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        }
        /* Overlong forms, surrogates, beyond U+10FFFF. */
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
            (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                return 0;
        return n;
}

/* Whether s has a control byte or is not valid UTF-8. */
static bool
needs_escapes(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t n;

        while (*p != '\0') {
                if (*p < 0x20 || *p == 0x7f)
                        return true;
                if (*p < 0x80)
                        p++;
                else if ((n = utf8_len(p)) == 0)
                        return true;
                else
                        p += n;
        }
        return false;
}

/* An argument as a shell would read it back: bare, '...', or $'...' with escapes. */
static void
print_quoted(const char *s)
{
        static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_@%+=:,./-";
        const unsigned char *p = (const unsigned char *)s;
        size_t n;

        if (*s != '\0' && strspn(s, safe) == strlen(s)) {
                fputs(s, stdout);
                return;
        }
        if (!needs_escapes(s)) {
                putchar('\'');
                for (; *s != '\0'; s++) {
                        if (*s == '\'')
                                fputs("'\\''", stdout);
                        else
                                putchar(*s);
                }
                putchar('\'');
                return;
        }
        fputs("$'", stdout);
        while (*p != '\0') {
                if (*p == '\n')
                        fputs("\\n", stdout);
                else if (*p == '\t')
                        fputs("\\t", stdout);
                else if (*p == '\'' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p >= 0x20 && *p < 0x7f)
                        putchar(*p);
                else if (*p >= 0x80 && (n = utf8_len(p)) > 0) {
                        fwrite(p, 1, n, stdout);
                        p += n;
                        continue;
                } else
                        printf("\\x%02x", *p);
                p++;
        }
        putchar('\'');
}

/* A wall-clock time, and how long ago. */
void
ctl_print_time(double t)
{
        struct timespec now;
        struct tm tm;
        time_t secs = (time_t)t;
        char buf[64], ago[32];

        if (t <= 0 || localtime_r(&secs, &tm) == NULL) {
                puts("-");
                return;
        }
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
        clock_gettime(CLOCK_REALTIME, &now);
        ctl_format_duration((double)now.tv_sec - t, ago, sizeof ago);
        printf("%s (%s ago)\n", buf, ago);
}

static void
info_print(const struct corral_process *p)
{
        char buf[64];
        size_t i;

        printf("id:          %llu\n", (unsigned long long)p->id);
        printf("name:        %s\n", p->name);
        printf("pool:        %s\n", p->pool);
        if (p->worker_index >= 0)
                printf("worker:      %d\n", p->worker_index);
        printf("argv:        ");
        for (i = 0; p->argv[i] != NULL; i++) {
                if (i > 0)
                        putchar(' ');
                print_quoted(p->argv[i]);
        }
        putchar('\n');
        if (p->pid > 0)
                printf("pid:         %ld\n", (long)p->pid);
        else
                printf("pid:         -\n");
        printf("state:       %s\n", ctl_process_state(p));
        printf("ready:       %s\n", p->ready ? "yes" : "no");
        if (p->status != NULL) {
                printf("status:      ");
                print_quoted(p->status);
                putchar('\n');
        }
        if (p->reason != NULL)
                printf("reason:      %s\n", p->reason);
        printf("created_at:  ");
        ctl_print_time(p->created_at);
        printf("started_at:  ");
        ctl_print_time(p->started_at);
        printf("ended_at:    ");
        ctl_print_time(p->ended_at);
        ctl_format_duration(ctl_process_runtime(p), buf, sizeof buf);
        printf("uptime:      %s\n", p->started_at > 0 ? buf : "-");
        if (p->exit_code >= 0)
                printf("exit_code:   %d\n", p->exit_code);
        else
                printf("exit_code:   -\n");
        printf("signal:      %s\n", p->signal > 0 ? ctl_process_exit(p, buf, sizeof buf) : "-");
        printf("core_dumped: %s\n", p->core_dumped ? "yes" : "no");
        printf("restart:     %s\n", p->restart[0] != '\0' ? p->restart : "-");
        printf("restarts:    %u\n", p->restarts);
        printf("last_exit:   %s\n",
               ctl_format_exit(p->last_exit_code, p->last_signal, buf, sizeof buf));
}

static int
info_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        struct corral_target t;
        struct corral_process p;
        struct corral_error err;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1)
                return ctl_option_other(ctl, ch);
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;
        if (corral_info(ctl->conn, t, &p, &err) == -1)
                return ctl_fail(ctl, &err);
        if (!ctl->json)
                info_print(&p);
        return ctl_record_out(ctl, &p);
}

const struct ctl_cmd ctl_cmd_info = {
    .name = "info",
    .run = info_run,
    .usage = "ID|NAME",
    .summary = "Show one process's record",
    .help = "Prints the record as `key: value` lines: id, name, pool, worker (its\n"
            "index among its pool's replicas, if it is one), argv (quoted for a shell),\n"
            "pid, state, ready, status (the last STATUS= it sent with sd_notify, if\n"
            "any), reason (why it failed or was cancelled, if it was), created_at,\n"
            "started_at and ended_at (local time), uptime (how long it has run, or ran),\n"
            "exit_code, signal, core_dumped, restart (its restart policy), restarts (runs\n"
            "after the first) and last_exit (how its last run ended, also while it is\n"
            "being restarted). Absent values are shown as -. A name means the newest\n"
            "process with that name.\n",
};

int
ctl_check_ready(const struct corral_process *p)
{
        if (strcmp(p->state, "running") == 0 && p->ready)
                return CTL_EXIT_OK;
        ctl_warn("%s (id %llu) is %s, not ready%s%s", p->name, (unsigned long long)p->id, p->state,
                 p->reason != NULL ? ": " : "", p->reason != NULL ? p->reason : "");
        return CTL_EXIT_SERVER;
}

/* start and restart: the same options, another call. */
static int
start_common(struct ctl *ctl, int argc, char **argv,
             int (*fn)(struct corral *, struct corral_target, bool, struct corral_process *,
                       struct corral_error *))
{
        static const struct option opts[] = {
            {"wait-ready", no_argument, NULL, 'r'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_target t;
        struct corral_process p;
        struct corral_error err;
        bool wait_ready = false;
        int ch, rc, ready;

        while ((ch = ctl_getopt(ctl, argc, argv, "r", opts, false)) != -1) {
                if (ch != 'r')
                        return ctl_option_other(ctl, ch);
                wait_ready = true;
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;
        if (fn(ctl->conn, t, wait_ready, &p, &err) == -1)
                return ctl_fail(ctl, &err);
        ready = wait_ready ? ctl_check_ready(&p) : CTL_EXIT_OK;
        if ((rc = ctl_record_out(ctl, &p)) != CTL_EXIT_OK)
                return rc;
        return ready;
}

static int
start_run(struct ctl *ctl, int argc, char **argv)
{
        return start_common(ctl, argc, argv, corral_start);
}

const struct ctl_cmd ctl_cmd_start = {
    .name = "start",
    .run = start_run,
    .usage = "ID|NAME [--wait-ready]",
    .summary = "Start an ended or failed process again, same id and name",
    .help = "Starts the process again with the command, environment and policy it was\n"
            "spawned with, keeping its id and name, once its pool has a free slot. Its\n"
            "start limit is re-armed. A process that is still live is left alone. With\n"
            "--json, prints its record.\n",
    .options = "  -r, --wait-ready     return once it is ready; if it ends or fails before,\n"
               "                       exit 1\n",
    .example = "  corralctl start web --wait-ready\n",
};

static int
restart_run(struct ctl *ctl, int argc, char **argv)
{
        return start_common(ctl, argc, argv, corral_restart);
}

const struct ctl_cmd ctl_cmd_restart = {
    .name = "restart",
    .run = restart_run,
    .usage = "ID|NAME [--wait-ready]",
    .summary = "Stop a process and start it again, same id and name",
    .help = "Stops the process (its stop signal to its group, KILL after its grace\n"
            "period) and starts it again with the same id and name; an ended one is\n"
            "simply started. Without --wait-ready it returns at once, while the\n"
            "process is stopping. With --json, prints its record.\n",
    .options = "  -r, --wait-ready     return once the new run is ready; if it ends or fails\n"
               "                       before, exit 1\n",
    .example = "  corralctl restart api --wait-ready && echo \"api is back\"\n",
};
