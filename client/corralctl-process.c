/*
 * corralctl-process.c -- the commands that act on one process: spawn,
 * join, terminate, signal and info.
 */
#include <errno.h>
#include <fcntl.h>
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
};

/* Parse the ID|NAME operand at argv[optind]. */
static int
target_arg(struct ctl *ctl, char **argv, struct corral_target *t)
{
        if (!ctl_parse_target(argv[optind], t))
                return ctl_usage_error(ctl, "invalid process id or name '%s'", argv[optind]);
        return CTL_EXIT_OK;
}

/* Print a record as JSON, or nothing. */
static int
record_out(struct ctl *ctl, struct corral_process *p)
{
        int rc = CTL_EXIT_OK;

        if (ctl->json)
                rc = ctl_json_print(ctl_json_record(p));
        corral_process_clear(p);
        return rc;
}

/* Read all of path ("-": standard input), at most a message's worth. */
static char *
read_file(const char *path, size_t *len, char **cause)
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
static char *
env_arg(const char *arg, char **cause)
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
static char *
spawn_cwd(const char *arg)
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

static int
spawn_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"name", required_argument, NULL, 'n'},
            {"pool", required_argument, NULL, 'p'},
            {"env", required_argument, NULL, 'e'},
            {"env-clear", no_argument, NULL, OPT_ENV_CLEAR},
            {"cwd", required_argument, NULL, 'w'},
            {"stdin-data", required_argument, NULL, OPT_STDIN_DATA},
            {"stdin-file", required_argument, NULL, OPT_STDIN_FILE},
            CTL_COMMON_OPTIONS,
        };
        struct corral_spawn_opts o;
        struct corral_process p;
        struct corral_error err;
        const char *cwd_arg = NULL, *stdin_file = NULL;
        char **env, *cwd = NULL, *data = NULL, *cause = NULL;
        size_t nenv = 0, i;
        int ch, rc = CTL_EXIT_USAGE;

        memset(&o, 0, sizeof o);
        if ((env = calloc((size_t)argc + 1, sizeof *env)) == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        while ((ch = ctl_getopt(ctl, argc, argv, "n:p:e:w:", opts, true)) != -1) {
                switch (ch) {
                case 'n':
                        o.name = optarg;
                        break;
                case 'p':
                        o.pool = optarg;
                        break;
                case 'e':
                        if ((env[nenv] = env_arg(optarg, &cause)) == NULL) {
                                rc = ctl_usage_error(ctl, "--env %s: %s", optarg,
                                                     cause != NULL ? cause : "out of memory");
                                goto out;
                        }
                        nenv++;
                        break;
                case OPT_ENV_CLEAR:
                        o.env_clear = true;
                        break;
                case 'w':
                        cwd_arg = optarg;
                        break;
                case OPT_STDIN_DATA:
                case OPT_STDIN_FILE:
                        if (o.has_stdin) {
                                rc = ctl_usage_error(ctl, "--stdin-data and --stdin-file "
                                                          "may be given once, not both");
                                goto out;
                        }
                        o.has_stdin = true;
                        if (ch == OPT_STDIN_DATA) {
                                o.stdin_data = optarg;
                                o.stdin_len = strlen(optarg);
                        } else
                                stdin_file = optarg;
                        break;
                default:
                        rc = ctl_option_other(ctl, ch);
                        goto out;
                }
        }
        if (optind == argc) {
                rc = ctl_usage_error(ctl, "missing the command to run");
                goto out;
        }
        if (cwd_arg != NULL && *cwd_arg == '\0') {
                rc = ctl_usage_error(ctl, "--cwd: empty directory");
                goto out;
        }
        if (stdin_file != NULL) {
                if ((data = read_file(stdin_file, &o.stdin_len, &cause)) == NULL) {
                        ctl_warn("--stdin-file %s: %s", stdin_file,
                                 cause != NULL ? cause : "out of memory");
                        rc = CTL_EXIT_USAGE;
                        goto out;
                }
                o.stdin_data = data;
        }
        /* Like a shell, run it here: in our directory, not the daemon's. */
        if ((cwd = spawn_cwd(cwd_arg)) == NULL) {
                if (cwd_arg != NULL) {
                        ctl_warn("--cwd %s: %s", cwd_arg, strerror(errno));
                        rc = CTL_EXIT_USAGE;
                        goto out;
                }
                ctl_warn("warning: no working directory (%s): it runs in the daemon's",
                         strerror(errno));
        }
        o.cwd = cwd;
        o.argv = (const char *const *)argv + optind;
        o.env = nenv > 0 ? (const char *const *)env : NULL;

        if ((rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                goto out;
        if (corral_spawn(ctl->conn, &o, &p, &err) == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        if (!ctl->json)
                printf("%llu\n", (unsigned long long)p.id);
        rc = record_out(ctl, &p);
out:
        for (i = 0; i < nenv; i++)
                free(env[i]);
        free(env);
        free(cwd);
        free(data);
        free(cause);
        return rc;
}

const struct ctl_cmd ctl_cmd_spawn = {
    .name = "spawn",
    .run = spawn_run,
    .usage = "[OPTIONS] [--] COMMAND [ARGS...]",
    .summary = "Start a process under the daemon and print its id",
    .help = "The daemon starts COMMAND (looked up in PATH) in a new session, with\n"
            "stdin, stdout and stderr on /dev/null unless --stdin-* is given. It runs in\n"
            "corralctl's working directory unless --cwd says otherwise. Prints the new\n"
            "process's id, or its record with --json.\n",
    .options = "  -n, --name NAME      name it (default: the command's basename and the id,\n"
               "                       e.g. sleep.7); no other live process may have it\n"
               "  -p, --pool POOL      put it in POOL (default: default)\n"
               "  -e, --env K=V        set an environment variable (repeatable); --env K\n"
               "                       passes K's value from corralctl's environment\n"
               "      --env-clear      start from an empty environment, not the daemon's\n"
               "  -w, --cwd DIR        run in DIR; a relative DIR is taken from corralctl's\n"
               "                       working directory\n"
               "      --stdin-data STR write STR to its standard input, then close it\n"
               "      --stdin-file FILE\n"
               "                       the same with FILE's contents (- for corralctl's stdin)\n"
               "\n"
               "Options end at COMMAND; use -- before a COMMAND that starts with '-'.\n",
    .example = "  id=$(corralctl spawn --name web -e PORT=8080 -- python3 -m http.server)\n",
};

static int
join_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"timeout", required_argument, NULL, 't'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_target t;
        struct corral_process p;
        struct corral_error err;
        struct timespec t0, t1;
        double timeout = -1, conn_timeout, elapsed;
        int ch, rc, status;

        while ((ch = ctl_getopt(ctl, argc, argv, "t:", opts, false)) != -1) {
                switch (ch) {
                case 't':
                        if (!ctl_parse_seconds(optarg, &timeout))
                                return ctl_usage_error(ctl, "invalid time '%s'", optarg);
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (corral_join(ctl->conn, t, timeout, &p, &err) == -1) {
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
        if ((rc = record_out(ctl, &p)) != CTL_EXIT_OK)
                return rc;
        return status;
}

const struct ctl_cmd ctl_cmd_join = {
    .name = "join",
    .run = join_run,
    .usage = "ID|NAME [--timeout TIME]",
    .summary = "Wait for a process to end and exit with its status",
    .help = "Waits until the process has ended (at once if it already has), then exits\n"
            "like a shell's `wait`: with the process's exit code, or 128+N if signal N\n"
            "ended it (137 for KILL, 143 for TERM). Prints its record with --json.\n",
    .options = "  -t, --timeout TIME   wait at most TIME (0 only checks); then exit 124,\n"
               "                       like timeout(1). Default: wait as long as it takes\n",
    .example = "  corralctl join web --timeout 1m || echo \"web failed: $?\"\n",
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
            (rc = target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;
        if (corral_terminate(ctl->conn, t, &o, &p, &err) == -1)
                return ctl_fail(ctl, &err);
        return record_out(ctl, &p);
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
            (rc = target_arg(ctl, argv, &t)) != CTL_EXIT_OK)
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
static void
print_time(double t)
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
        printf("state:       %s\n", p->state);
        printf("started_at:  ");
        print_time(p->started_at);
        printf("ended_at:    ");
        print_time(p->ended_at);
        ctl_format_duration(ctl_process_runtime(p), buf, sizeof buf);
        printf("uptime:      %s\n", p->started_at > 0 ? buf : "-");
        if (p->exit_code >= 0)
                printf("exit_code:   %d\n", p->exit_code);
        else
                printf("exit_code:   -\n");
        printf("signal:      %s\n", p->signal > 0 ? ctl_process_exit(p, buf, sizeof buf) : "-");
        printf("core_dumped: %s\n", p->core_dumped ? "yes" : "no");
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
            (rc = target_arg(ctl, argv, &t)) != CTL_EXIT_OK || (rc = ctl_connect(ctl)) != 0)
                return rc;
        if (corral_info(ctl->conn, t, &p, &err) == -1)
                return ctl_fail(ctl, &err);
        if (!ctl->json)
                info_print(&p);
        return record_out(ctl, &p);
}

const struct ctl_cmd ctl_cmd_info = {
    .name = "info",
    .run = info_run,
    .usage = "ID|NAME",
    .summary = "Show one process's record",
    .help = "Prints the record as `key: value` lines: id, name, pool, argv (quoted for\n"
            "a shell), pid, state, started_at and ended_at (local time), uptime (how\n"
            "long it has run, or ran), exit_code, signal and core_dumped. Absent values\n"
            "are shown as -. A name means the newest process with that name.\n",
};
