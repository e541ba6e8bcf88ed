/*
 * corralctl.c -- the command-line client of corrald: global options, the
 * command table, help, and the helpers the commands share (connecting,
 * reporting errors, parsing times and targets).
 *
 * The commands live in corralctl-*.c, one `const struct ctl_cmd` each.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "corralctl.h"

#define CTL_PROGNAME "corralctl"

/* The commands, in the order `corralctl --help` lists them. */
static const struct ctl_cmd *const ctl_cmds[] = {
    &ctl_cmd_spawn,     &ctl_cmd_run,    &ctl_cmd_start,       &ctl_cmd_restart,  &ctl_cmd_join,
    &ctl_cmd_terminate, &ctl_cmd_signal, &ctl_cmd_info,        &ctl_cmd_ps,       &ctl_cmd_logs,
    &ctl_cmd_pool,      &ctl_cmd_queue,  &ctl_cmd_put,         &ctl_cmd_get,      &ctl_cmd_ack,
    &ctl_cmd_nack,      &ctl_cmd_touch,  &ctl_cmd_peek,        &ctl_cmd_events,   &ctl_cmd_ping,
    &ctl_cmd_stats,     &ctl_cmd_hello,  &ctl_cmd_reopen_logs, &ctl_cmd_shutdown, &ctl_cmd_call,
    &ctl_cmd_help,
};
#define CTL_NCMDS (sizeof ctl_cmds / sizeof ctl_cmds[0])

static const char ctl_help_head[] =
    "Usage: corralctl [OPTIONS] COMMAND [ARGS...]\n"
    "\n"
    "Control corrald, the corral process supervisor.\n"
    "\n"
    "Options:\n"
    "  -s, --socket PATH    talk to the daemon listening at PATH\n"
    "  -j, --json           print results as JSON (also accepted after COMMAND)\n"
    "  -t, --timeout TIME   fail if the daemon does not answer within TIME\n"
    "                       (default 30s; 0 waits forever)\n"
    "  -h, --help           show this help; `corralctl COMMAND --help` for a command\n"
    "  -V, --version        show the version\n"
    "\n"
    "Commands:\n";

static const char ctl_help_tail[] =
    "\n"
    "A process is named by its id (an argument of digits only) or by its name.\n"
    "TIME is a number of seconds with an optional unit: 500ms, 1.5, 90s, 2m, 1h, 1d.\n"
    "BYTES is a number with an optional unit, in powers of 1024: 512, 64K, 16M, 1G.\n"
    "\n"
    "Socket: --socket, else $CORRAL_SOCKET, else /run/corral/corrald.sock for root,\n"
    "else $XDG_RUNTIME_DIR/corral/corrald.sock, else /tmp/corral-UID/corrald.sock.\n"
    "\n"
    "JSON: --json prints what the daemon returned, as one JSON value: a process\n"
    "record is {id, name, pool, argv, pid, state, started_at, ended_at, exit_code,\n"
    "signal, core_dumped, ready, created_at, last_exit, restarts, restart, status,\n"
    "reason, worker_index}, times in seconds since the epoch, null when unset;\n"
    "`pool info --json` describes a pool, `queue info --json` a queue. `events`,\n"
    "`logs` and `put --lines` print one object a line with --json.\n"
    "Byte strings are JSON strings when they are valid UTF-8, otherwise\n"
    "{\"$base64\": \"...\"}. The output is indented on a terminal, one line otherwise.\n"
    "\n"
    "Exit status:\n"
    "  0    success\n"
    "  1    the daemon returned an error, printed as `corralctl: CODE: MESSAGE`\n"
    "  2    usage error\n"
    "  3    cannot connect to the daemon\n"
    "  4    I/O error, protocol error or timeout talking to the daemon\n"
    "  124  nothing came in time: join's or pool join's --timeout expired; get\n"
    "       or peek found no message (code empty); put found the queue full for\n"
    "       its --timeout (code full)\n"
    "  130  (logs -f) interrupted by Ctrl-C; 128+N for signal N\n"
    "`join`, `run` and `logs -f` of a process instead exit like a shell's `wait`:\n"
    "with the process's exit code, 128+N if signal N ended it, 1 if it ended\n"
    "without either (failed, cancelled). spawn, start and restart with\n"
    "--wait-ready exit 1 if the process ended or failed before it was ready.\n"
    "\n"
    "Colour: `logs` colours process names and stderr lines only on a terminal,\n"
    "and never when $NO_COLOR is set (non-empty) or $TERM is dumb.\n";

/* Options every command takes, listed after its own. */
static const char ctl_common_help[] = "  -j, --json           print the result as JSON\n"
                                      "  -h, --help           show this help\n";

void
ctl_warn(const char *fmt, ...)
{
        va_list ap;

        fputs(CTL_PROGNAME ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
        size_t i;

        for (i = 0; i < CTL_NCMDS; i++) {
                if (strcmp(ctl_cmds[i]->name, name) == 0 ||
                    (ctl_cmds[i]->alias != NULL && strcmp(ctl_cmds[i]->alias, name) == 0))
                        return ctl_cmds[i];
        }
        return NULL;
}

const struct ctl_cmd *
ctl_subcmd_find(const struct ctl_cmd *cmd, const char *name)
{
        const struct ctl_cmd *const *sub;
        size_t n = strlen(cmd->name);

        for (sub = cmd->subcmds; sub != NULL && *sub != NULL; sub++) {
                /* "pool create": the parent's name, a space, then the subcommand's. */
                if (strncmp((*sub)->name, cmd->name, n) == 0 && (*sub)->name[n] == ' ' &&
                    strcmp((*sub)->name + n + 1, name) == 0)
                        return *sub;
        }
        return NULL;
}

static void
ctl_print_main_help(FILE *f)
{
        char path[PROTO_PATH_MAX];
        size_t i;

        fputs(ctl_help_head, f);
        for (i = 0; i < CTL_NCMDS; i++)
                fprintf(f, "  %-12s %s\n", ctl_cmds[i]->name, ctl_cmds[i]->summary);
        fputs(ctl_help_tail, f);
        if (corral_default_socket(path, sizeof path) != NULL)
                fprintf(f, "\nThe default socket here is %s.\n", path);
}

int
ctl_print_help(const struct ctl_cmd *cmd, FILE *f)
{
        const char *sep = *cmd->usage != '\0' ? " " : "";
        const struct ctl_cmd *const *sub;

        fprintf(f, "Usage: corralctl %s%s%s\n", cmd->name, sep, cmd->usage);
        if (cmd->alias != NULL)
                fprintf(f, "   or: corralctl %s%s%s\n", cmd->alias, sep, cmd->usage);
        fprintf(f, "\n%s.\n", cmd->summary);

        if (cmd->help != NULL)
                fprintf(f, "\n%s", cmd->help);
        if (cmd->subcmds != NULL) {
                fprintf(f, "\nSubcommands:\n");
                for (sub = cmd->subcmds; *sub != NULL; sub++)
                        fprintf(f, "  %-16s %s\n", (*sub)->name, (*sub)->summary);
        }
        fprintf(f, "\nOptions:\n%s%s", cmd->options != NULL ? cmd->options : "", ctl_common_help);
        if (cmd->example != NULL)
                fprintf(f, "\nExample%s:\n%s", strchr(cmd->example, '\n')[1] != '\0' ? "s" : "",
                        cmd->example);
        fputs("\nGlobal options such as --socket and --timeout go before the command;\n"
              "see `corralctl --help` for them and for the exit statuses.\n",
              f);
        return CTL_EXIT_OK;
}

const char *
ctl_socket_path(const struct ctl *ctl)
{
        static char buf[PROTO_PATH_MAX];

        if (ctl->socket != NULL)
                return ctl->socket;
        return corral_default_socket(buf, sizeof buf) != NULL ? buf : "(none)";
}

static bool
ctl_ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
ctl_connect(struct ctl *ctl)
{
        struct corral_error err;

        if (ctl->conn != NULL)
                return CTL_EXIT_OK;
        if ((ctl->conn = corral_connect(ctl->socket, &err)) == NULL) {
                ctl_warn("%s: %s", err.code, err.message);
                if (ctl_ends_with(err.message, strerror(ENOENT)) ||
                    ctl_ends_with(err.message, strerror(ECONNREFUSED)))
                        ctl_warn("is corrald running? (--socket PATH or $CORRAL_SOCKET "
                                 "name another socket)");
                return CTL_EXIT_CONNECT;
        }
        if (ctl->has_timeout)
                corral_set_timeout(ctl->conn, ctl->timeout);
        return CTL_EXIT_OK;
}

int
ctl_fail(struct ctl *ctl, const struct corral_error *err)
{
        ctl_warn("%s: %s", err->code, err->message);
        if (strcmp(err->code, "connect") == 0)
                return CTL_EXIT_CONNECT;
        if (strcmp(err->code, "io") == 0 || strcmp(err->code, "protocol") == 0 ||
            strcmp(err->code, "timeout") == 0)
                return CTL_EXIT_IO;
        return CTL_EXIT_SERVER;
}

int
ctl_usage_error(struct ctl *ctl, const char *fmt, ...)
{
        va_list ap;

        if (fmt != NULL) {
                fprintf(stderr, CTL_PROGNAME ": %s: ", ctl->cmd->name);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        fprintf(stderr, "Usage: corralctl %s %s\n", ctl->cmd->name, ctl->cmd->usage);
        fprintf(stderr, "Try 'corralctl %s --help' for more information.\n", ctl->cmd->name);
        return CTL_EXIT_USAGE;
}

/*
 * getopt_long() over a command's arguments (argv[0] is the command), with
 * -h/--help and -j/--json added; handles -j itself. stop_at_operand keeps
 * the arguments after the first operand (spawn's command line) untouched.
 */
int
ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
           const struct option *longopts, bool stop_at_operand)
{
        int ch;

        snprintf(ctl->optstring, sizeof ctl->optstring, "%s%shj", stop_at_operand ? "+" : "",
                 shortopts);
        while ((ch = getopt_long(argc, argv, ctl->optstring, longopts, NULL)) == 'j')
                ctl->json = true;
        return ch;
}

/* The options ctl_getopt() returns that a command does not handle itself. */
int
ctl_option_other(struct ctl *ctl, int ch)
{
        if (ch == 'h')
                return ctl_print_help(ctl->cmd, stdout);
        return ctl_usage_error(ctl, NULL);
}

/* Check the count of operands left after the options: CTL_EXIT_OK or a usage error. */
int
ctl_want_args(struct ctl *ctl, int argc, char **argv, int min, int max)
{
        int n = argc - optind;

        if (n < min)
                return ctl_usage_error(ctl, "missing argument");
        if (max >= 0 && n > max)
                return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind + max]);
        return CTL_EXIT_OK;
}

bool
ctl_parse_seconds(const char *s, double *out)
{
        static const struct {
                const char *suffix;
                double scale;
        } units[] = {{"", 1}, {"s", 1}, {"ms", 1e-3}, {"m", 60}, {"h", 3600}, {"d", 86400}};
        char *end;
        double v;
        size_t i;

        if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
                return false;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !(v >= 0) || v > 1e9)
                return false;
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
                if (strcmp(end, units[i].suffix) == 0) {
                        *out = v * units[i].scale;
                        return true;
                }
        }
        return false;
}

bool
ctl_parse_count(const char *s, uint64_t max, uint64_t *out)
{
        unsigned long long v;
        char *end;

        if (s == NULL || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return false;
        *out = v;
        return true;
}

bool
ctl_parse_bytes(const char *s, uint64_t *out)
{
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = {
            {"", 0},   {"B", 0},   {"K", 10},   {"k", 10}, {"KB", 10}, {"KiB", 10},
            {"M", 20}, {"MB", 20}, {"MiB", 20}, {"G", 30}, {"GB", 30}, {"GiB", 30},
        };
        unsigned long long v;
        char *end;
        size_t i;

        if (s == NULL || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return false;
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
                if (strcmp(end, units[i].suffix) == 0) {
                        if (v > (unsigned long long)INT64_MAX >> units[i].shift)
                                return false;
                        *out = (uint64_t)v << units[i].shift;
                        return true;
                }
        }
        return false;
}

bool
ctl_color(int fd)
{
        const char *v;

        if ((v = getenv("NO_COLOR")) != NULL && *v != '\0')
                return false;
        if ((v = getenv("TERM")) != NULL && strcmp(v, "dumb") == 0)
                return false;
        return isatty(fd) == 1;
}

bool
ctl_parse_target(const char *s, struct corral_target *t)
{
        unsigned long long id;
        char *end;

        t->id = 0;
        t->name = NULL;
        if (s == NULL || *s == '\0')
                return false;
        if (strspn(s, "0123456789") == strlen(s)) {
                errno = 0;
                id = strtoull(s, &end, 10);
                if (errno != 0 || *end != '\0')
                        return false;
                t->id = id;
                return true;
        }
        t->name = s;
        return true;
}

static int
ctl_help_run(struct ctl *ctl, int argc, char **argv)
{
        const struct ctl_cmd *cmd;
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1)
                return ctl_option_other(ctl, ch);
        if ((rc = ctl_want_args(ctl, argc, argv, 0, 2)) != CTL_EXIT_OK)
                return rc;
        if (optind == argc) {
                ctl_print_main_help(stdout);
                return CTL_EXIT_OK;
        }
        if ((cmd = ctl_cmd_find(argv[optind])) == NULL) {
                ctl_warn("unknown command '%s'", argv[optind]);
                fprintf(stderr, "Try 'corralctl --help' for the list of commands.\n");
                return CTL_EXIT_USAGE;
        }
        if (optind + 1 < argc && (cmd = ctl_subcmd_find(cmd, argv[optind + 1])) == NULL) {
                ctl_warn("unknown subcommand '%s %s'", argv[optind], argv[optind + 1]);
                fprintf(stderr, "Try 'corralctl help %s' for the list of subcommands.\n",
                        argv[optind]);
                return CTL_EXIT_USAGE;
        }
        return ctl_print_help(cmd, stdout);
}

const struct ctl_cmd ctl_cmd_help = {
    .name = "help",
    .run = ctl_help_run,
    .usage = "[COMMAND [SUBCOMMAND]]",
    .summary = "Show the help of corralctl or of one command",
};

int
main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"socket", required_argument, NULL, 's'},  {"json", no_argument, NULL, 'j'},
            {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
        };
        struct ctl ctl;
        char prog[64];
        int ch, rc;

        memset(&ctl, 0, sizeof ctl);
        argv[0] = CTL_PROGNAME; /* getopt's messages name it */
        while ((ch = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
                switch (ch) {
                case 's':
                        if (*optarg == '\0') {
                                ctl_warn("--socket: empty path");
                                return CTL_EXIT_USAGE;
                        }
                        ctl.socket = optarg;
                        break;
                case 'j':
                        ctl.json = true;
                        break;
                case 't':
                        if (!ctl_parse_seconds(optarg, &ctl.timeout)) {
                                ctl_warn("--timeout: invalid time '%s'", optarg);
                                return CTL_EXIT_USAGE;
                        }
                        ctl.has_timeout = true;
                        break;
                case 'h':
                        ctl_print_main_help(stdout);
                        return CTL_EXIT_OK;
                case 'V':
                        printf("corralctl %s (protocol %d)\n", CORRAL_VERSION, CORRAL_PROTOCOL);
                        return CTL_EXIT_OK;
                default:
                        fprintf(stderr, "Try 'corralctl --help' for more information.\n");
                        return CTL_EXIT_USAGE;
                }
        }
        if (optind == argc) {
                ctl_warn("missing command");
                fprintf(stderr, "Usage: corralctl [OPTIONS] COMMAND [ARGS...]\n"
                                "Try 'corralctl --help' for more information.\n");
                return CTL_EXIT_USAGE;
        }
        if ((ctl.cmd = ctl_cmd_find(argv[optind])) == NULL) {
                ctl_warn("unknown command '%s'", argv[optind]);
                fprintf(stderr, "Try 'corralctl --help' for the list of commands.\n");
                return CTL_EXIT_USAGE;
        }

        argc -= optind;
        argv += optind;
        snprintf(prog, sizeof prog, CTL_PROGNAME " %s", ctl.cmd->name);
        argv[0] = prog;
        optind = 0; /* a fresh getopt scan over the command's arguments */
        rc = ctl.cmd->run(&ctl, argc, argv);

        corral_close(ctl.conn);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                ctl_warn("write error: %s", strerror(errno));
                if (rc == CTL_EXIT_OK)
                        rc = CTL_EXIT_IO;
        }
        return rc;
}
