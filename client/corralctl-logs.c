/*
 * corralctl-logs.c -- `corralctl logs`: a process's (or a pool's) captured
 * output, like tail(1), and with -f as it comes; and the line printer that
 * `run` shares. stdout lines go to stdout and stderr lines to stderr, each
 * written whole and in the daemon's order; a pool's lines start with the
 * member's name, padded to a common width (like `docker compose logs`).
 * Colour only on a terminal: names in a colour per process, stderr lines
 * in red.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corralctl.h"

#define COLOR_RESET  "\033[0m"
#define COLOR_STDERR "\033[31m"
/* Seconds between checks for a signal while following. */
#define LOGS_ROUND 0.25

/* Names' colours, picked by process id: cyan, yellow, green, magenta, blue and bright ones. */
static const char *const palette[] = {"\033[36m", "\033[33m", "\033[32m", "\033[35m", "\033[34m",
                                      "\033[96m", "\033[93m", "\033[92m", "\033[95m", "\033[94m"};
#define NPALETTE (sizeof palette / sizeof palette[0])

struct ctl_logs {
        bool json;
        bool prefix;
        bool timestamps;
        bool color[2];  /* stdout, stderr */
        int width;      /* of the names */
        bool out_dirty; /* stdout has unflushed bytes */
};

struct ctl_logs *
ctl_logs_new(bool json, bool prefix, bool timestamps)
{
        struct ctl_logs *lp;

        if ((lp = calloc(1, sizeof *lp)) == NULL)
                return NULL;
        lp->json = json;
        lp->prefix = prefix;
        lp->timestamps = timestamps;
        lp->color[0] = !json && ctl_color(STDOUT_FILENO);
        lp->color[1] = !json && ctl_color(STDERR_FILENO);
        return lp;
}

void
ctl_logs_free(struct ctl_logs *lp)
{
        free(lp);
}

void
ctl_logs_width(struct ctl_logs *lp, const char *name)
{
        size_t n = name != NULL ? strlen(name) : 0;

        if (n > (size_t)lp->width && n <= 256)
                lp->width = (int)n;
}

void
ctl_logs_lost(uint64_t bytes)
{
        if (bytes > 0)
                ctl_warn("%llu bytes of older output were dropped", (unsigned long long)bytes);
}

int
ctl_logs_flush(struct ctl_logs *lp)
{
        lp->out_dirty = false;
        return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}

/* 2024-05-01T12:00:00.123, local time. */
static void
format_ts(double ts, char *buf, size_t len)
{
        time_t secs = (time_t)ts;
        struct tm tm;
        size_t n;

        if (ts <= 0 || localtime_r(&secs, &tm) == NULL) {
                snprintf(buf, len, "-");
                return;
        }
        n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, len - n, ".%03d", (int)((ts - (double)secs) * 1000) % 1000);
}

static int
print_json(struct ctl_logs *lp, const struct corral_log_line *l)
{
        json_t *j;

        j = json_pack("{s:I,s:o,s:s,s:f,s:o}", "id", (json_int_t)l->id, "name",
                      ctl_json_bytes(l->name, strlen(l->name)), "stream",
                      corral_stream_name(l->stream), "ts", l->ts, "data",
                      ctl_json_bytes(l->data != NULL ? l->data : "", l->len));
        if (j != NULL && l->pool != NULL &&
            json_object_set_new(j, "pool", ctl_json_bytes(l->pool, strlen(l->pool))) == -1) {
                json_decref(j);
                j = NULL;
        }
        if (j == NULL) {
                ctl_warn("cannot convert a line to JSON");
                return -1;
        }
        json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(16));
        putchar('\n');
        json_decref(j);
        lp->out_dirty = true;
        return 0;
}

int
ctl_logs_print(struct ctl_logs *lp, const struct corral_log_line *l)
{
        bool err = l->stream == CORRAL_STREAM_STDERR, color = lp->color[err];
        FILE *f = err ? stderr : stdout;
        char ts[64];

        if (l->kind == CORRAL_LOG_DROPPED) {
                if (ctl_logs_flush(lp) == -1)
                        return -1;
                ctl_warn("%llu lines (%zu bytes) of output were dropped: they were read too "
                         "slowly",
                         (unsigned long long)l->dropped, l->len);
                return 0;
        }
        if (l->kind != CORRAL_LOG_LINE)
                return 0;
        if (lp->json)
                return print_json(lp, l);
        /* Keep the daemon's order when both streams reach one file or terminal. */
        if (err && lp->out_dirty && ctl_logs_flush(lp) == -1)
                return -1;
        if (lp->prefix) {
                ctl_logs_width(lp, l->name);
                if (color)
                        fprintf(f, "%s%-*s |%s ", palette[l->id % NPALETTE], lp->width, l->name,
                                COLOR_RESET);
                else
                        fprintf(f, "%-*s | ", lp->width, l->name);
        }
        if (lp->timestamps) {
                format_ts(l->ts, ts, sizeof ts);
                fprintf(f, "%s ", ts);
        }
        if (err && color)
                fputs(COLOR_STDERR, f);
        if (l->len > 0)
                fwrite(l->data, 1, l->len, f);
        if (err && color)
                fputs(COLOR_RESET, f);
        fputc('\n', f);
        if (!err)
                lp->out_dirty = true;
        return ferror(f) ? -1 : 0;
}

/* The signal that interrupted `logs -f`, or 0. */
static volatile sig_atomic_t logs_signal;

static void
logs_on_signal(int sig)
{
        logs_signal = sig;
}

static void
logs_catch(int sig)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = logs_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
}

/* The exit status of a followed process that ended, as join gives it. */
static int
logs_status(struct ctl *ctl, const struct corral_log_line *end, struct corral_target t)
{
        struct corral_process p;
        struct corral_error err;
        int status;

        if (end != NULL) {
                if (end->signal > 0)
                        return 128 + end->signal;
                if (end->exit_code >= 0)
                        return end->exit_code;
                ctl_warn("%s (id %llu) ended in state %s without an exit status", end->name,
                         (unsigned long long)end->id, end->state);
                return CTL_EXIT_SERVER;
        }
        /* It had ended before the follow began: its record says how. */
        if (corral_info(ctl->conn, t, &p, &err) == -1)
                return ctl_fail(ctl, &err);
        if ((status = corral_process_status(&p)) < 0) {
                ctl_warn("%s (id %llu) ended in state %s without an exit status", p.name,
                         (unsigned long long)p.id, p.state);
                status = CTL_EXIT_SERVER;
        }
        corral_process_clear(&p);
        return status;
}

/* Print the followed lines until the process ends or a signal comes. */
static int
logs_follow(struct ctl *ctl, struct ctl_logs *lp, struct corral_target t, bool pool)
{
        struct corral_log_line line;
        struct corral_error err;
        int r, rc;

        logs_catch(SIGINT);
        logs_catch(SIGTERM);
        logs_catch(SIGHUP);
        for (;;) {
                if (logs_signal != 0)
                        return 128 + logs_signal;
                /* Flush only when nothing more is waiting: a burst costs one write. */
                if ((r = corral_logs_next(ctl->conn, &line, 0, &err)) == 0) {
                        if (ctl_logs_flush(lp) == -1)
                                return CTL_EXIT_IO;
                        r = corral_logs_next(ctl->conn, &line, LOGS_ROUND, &err);
                }
                if (r == 0)
                        continue;
                if (r == -1) {
                        if (strcmp(err.code, "protocol") == 0)
                                continue; /* a malformed line is skipped */
                        /* A pool's follow ends when the daemon does, as events do. */
                        if (pool && strcmp(err.code, "io") == 0 &&
                            strstr(err.message, "closed the connection") != NULL)
                                return CTL_EXIT_OK;
                        return ctl_fail(ctl, &err);
                }
                if (line.kind == CORRAL_LOG_END) {
                        if (ctl_logs_flush(lp) == -1)
                                rc = CTL_EXIT_IO;
                        else
                                rc = logs_status(ctl, &line, t);
                        corral_log_line_clear(&line);
                        return rc;
                }
                r = ctl_logs_print(lp, &line);
                corral_log_line_clear(&line);
                if (r == -1)
                        return CTL_EXIT_IO;
        }
}

/* The widest name among a pool's members, for the prefix. */
static void
logs_pool_width(struct ctl *ctl, struct ctl_logs *lp, const char *pool)
{
        struct corral_process *v;
        struct corral_error err;
        size_t n, i;

        if (corral_list(ctl->conn, pool, false, &v, &n, &err) == -1)
                return; /* process.logs says what is wrong */
        for (i = 0; i < n; i++)
                ctl_logs_width(lp, v[i].name);
        corral_process_list_free(v, n);
}

/* Long-only options. */
enum {
        OPT_STDOUT = 256,
        OPT_STDERR,
};

static int
logs_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"follow", no_argument, NULL, 'f'},
            {"tail", required_argument, NULL, 'n'},
            {"pool", required_argument, NULL, 'p'},
            {"stdout", no_argument, NULL, OPT_STDOUT},
            {"stderr", no_argument, NULL, OPT_STDERR},
            {"timestamps", no_argument, NULL, 't'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_logs_opts o;
        struct corral_logs logs;
        struct corral_error err;
        struct ctl_logs *lp = NULL;
        bool follow = false, timestamps = false;
        uint64_t tail;
        size_t i;
        int ch, rc;

        memset(&o, 0, sizeof o);
        while ((ch = ctl_getopt(ctl, argc, argv, "fn:p:t", opts, false)) != -1) {
                switch (ch) {
                case 'f':
                        follow = true;
                        break;
                case 'n':
                        if (!ctl_parse_count(optarg, 100000000, &tail))
                                return ctl_usage_error(ctl, "--tail: '%s' is not a count", optarg);
                        o.tail = (unsigned)tail;
                        o.has_tail = true;
                        break;
                case 'p':
                        o.pool = optarg;
                        break;
                case OPT_STDOUT:
                case OPT_STDERR:
                        if (o.stream != CORRAL_STREAM_BOTH)
                                return ctl_usage_error(ctl, "give --stdout or --stderr, not both");
                        o.stream = ch == OPT_STDOUT ? CORRAL_STREAM_STDOUT : CORRAL_STREAM_STDERR;
                        break;
                case 't':
                        timestamps = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, o.pool != NULL ? 0 : 1, o.pool != NULL ? 0 : 1)) !=
                CTL_EXIT_OK ||
            (o.pool == NULL && (rc = ctl_target_arg(ctl, argv, &o.target)) != CTL_EXIT_OK) ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if ((lp = ctl_logs_new(ctl->json, o.pool != NULL, timestamps)) == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        if (o.pool != NULL)
                logs_pool_width(ctl, lp, o.pool);
        if ((follow ? corral_logs_follow : corral_logs)(ctl->conn, &o, &logs, &err) == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        ctl_logs_lost(logs.lost);
        if (logs.truncated)
                ctl_warn("only the newest 4 MiB of output are shown");
        for (i = 0; i < logs.nlines && rc == CTL_EXIT_OK; i++) {
                if (ctl_logs_print(lp, &logs.lines[i]) == -1)
                        rc = CTL_EXIT_IO;
        }
        if (rc == CTL_EXIT_OK && follow && (o.pool != NULL || !logs.ended))
                rc = logs_follow(ctl, lp, o.target, o.pool != NULL);
        else if (rc == CTL_EXIT_OK && follow)
                rc = logs_status(ctl, NULL, o.target);
        corral_logs_clear(&logs);
out:
        if (ctl_logs_flush(lp) == -1 && rc == CTL_EXIT_OK)
                rc = CTL_EXIT_IO;
        ctl_logs_free(lp);
        return rc;
}

const struct ctl_cmd ctl_cmd_logs = {
    .name = "logs",
    .run = logs_run,
    .usage = "[-f] [-n N] [--stdout|--stderr] [-t] ID|NAME|--pool POOL",
    .summary = "Print what a process or a pool wrote (captured output)",
    .help = "Prints the lines the daemon captured from the process (stdout and stderr\n"
            "with the default --stdout/--stderr capture): its stdout lines to stdout,\n"
            "its stderr lines to stderr, in the order the daemon read them (stdout\n"
            "and stderr are two pipes: lines written to both at nearly the same moment\n"
            "may swap; --stderr stdout at spawn merges them). With --pool, the lines of\n"
            "every member, in time order, each after the member's name. On a terminal,\n"
            "names are coloured and stderr lines are red (not with $NO_COLOR).\n"
            "\n"
            "The daemon keeps the newest lines of each process, up to its --log-buffer\n"
            "(64K by default; 16K once it has ended); when older ones were dropped, a\n"
            "note on stderr says how many bytes.\n"
            "\n"
            "With -f, new lines are printed as they come, until the process ends: the\n"
            "status is then its own, as for join (its exit code, 128+N for signal N).\n"
            "A pool is followed, new members included, until interrupted. Ctrl-C only\n"
            "stops the printing (status 130); the process goes on.\n"
            "\n"
            "With --json, each line is one JSON object a line, on stdout: {\"id\", \"name\",\n"
            "\"pool\" (when following), \"stream\", \"ts\" (seconds since the epoch),\n"
            "\"data\"} (data as a string, or {\"$base64\": ...} if not UTF-8).\n",
    .options = "  -f, --follow         print new lines as they come, until it ends\n"
               "  -n, --tail N         only the last N lines (default: all that are kept)\n"
               "  -p, --pool POOL      the lines of every member of POOL\n"
               "      --stdout         only its stdout\n"
               "      --stderr         only its stderr\n"
               "  -t, --timestamps     start each line with the local time it was read\n",
    .example = "  corralctl logs web -n 20\n"
               "  corralctl logs -f --pool workers\n"
               "  corralctl logs job --stderr --json | jq -r .data\n",
};
