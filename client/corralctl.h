/*
 * corralctl.h -- shared by the files of corralctl: the command table entry,
 * the run context, and the helpers every command uses.
 *
 * Each corralctl-*.c file defines its commands as `const struct ctl_cmd`
 * entries; corralctl.c gathers them in one table and dispatches by name.
 */
#ifndef CORRALCTL_H
#define CORRALCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "corral.h"

/* Exit statuses, documented in `corralctl --help`. */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_SERVER = 1,  /* the daemon answered with an error */
        CTL_EXIT_USAGE = 2,   /* bad command line */
        CTL_EXIT_CONNECT = 3, /* cannot connect to the daemon */
        CTL_EXIT_IO = 4,      /* I/O, protocol error or timeout talking to it */
        /* join: the process did not end in time; get/peek: empty; put: full */
        CTL_EXIT_TIMEOUT = 124
};

struct ctl;

struct ctl_cmd {
        const char *name;
        const char *alias; /* another name, or NULL */
        /* argv[0] is the command name; returns the exit status. */
        int (*run)(struct ctl *, int argc, char **argv);
        const char *usage;   /* the arguments, after "corralctl NAME " */
        const char *summary; /* one line for the command list */
        /* `corralctl NAME --help`: each part optional, lines ending in \n. */
        const char *help;    /* what it does */
        const char *options; /* its own options, before the common ones */
        const char *example;
        /* A command with subcommands (`pool create`): NULL-terminated, or NULL. */
        const struct ctl_cmd *const *subcmds;
};

struct ctl {
        const char *socket; /* --socket, or NULL for the default */
        bool json;          /* --json */
        double timeout;     /* --timeout; meaningful if has_timeout */
        bool has_timeout;
        struct corral *conn; /* connected by ctl_connect() */
        const struct ctl_cmd *cmd;
        char optstring[64]; /* ctl_getopt()'s, built per command */
};

/* corralctl.c */
const struct ctl_cmd *ctl_cmd_find(const char *name);
/* The subcommand of cmd named name ("create" for "pool create"), or NULL. */
const struct ctl_cmd *ctl_subcmd_find(const struct ctl_cmd *cmd, const char *name);
int ctl_connect(struct ctl *);
const char *ctl_socket_path(const struct ctl *);
int ctl_fail(struct ctl *, const struct corral_error *);
int ctl_usage_error(struct ctl *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_print_help(const struct ctl_cmd *, FILE *);
int ctl_getopt(struct ctl *, int argc, char **argv, const char *shortopts,
               const struct option *longopts, bool stop_at_operand);
int ctl_option_other(struct ctl *, int ch);
bool ctl_parse_seconds(const char *, double *);
bool ctl_parse_target(const char *, struct corral_target *);
/* Digits only, at most max. */
bool ctl_parse_count(const char *, uint64_t max, uint64_t *out);
/* BYTES: digits with an optional K, M or G (powers of 1024). */
bool ctl_parse_bytes(const char *, uint64_t *out);
/* Whether to colour what goes to fd: a terminal, $NO_COLOR unset or empty, $TERM not dumb. */
bool ctl_color(int fd);
int ctl_want_args(struct ctl *, int argc, char **argv, int min, int max);

/* Long options every command accepts; end each command's option table with it. */
#define CTL_COMMON_OPTIONS                                                                         \
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'j'},                        \
        {                                                                                          \
                NULL, 0, NULL, 0                                                                   \
        }

/* corralctl-policy.c: the restart-policy options of spawn, run and pool create. */
enum {
        CTL_OPT_RESTART = 512,
        CTL_OPT_SUCCESS_CODES,
        CTL_OPT_RESTART_DELAY,
        CTL_OPT_RESTART_DELAY_MAX,
        CTL_OPT_MIN_UPTIME,
        CTL_OPT_START_LIMIT,
        CTL_OPT_RETRY_AFTER,
        CTL_OPT_READY,
        CTL_OPT_READY_TIMEOUT,
        CTL_OPT_STOP_SIGNAL,
        CTL_OPT_GRACE,
};
/* Put in a command's option table, before CTL_COMMON_OPTIONS. */
#define CTL_POLICY_OPTIONS                                                                         \
        {"restart", required_argument, NULL, CTL_OPT_RESTART},                                     \
            {"success-codes", required_argument, NULL, CTL_OPT_SUCCESS_CODES},                     \
            {"restart-delay", required_argument, NULL, CTL_OPT_RESTART_DELAY},                     \
            {"restart-delay-max", required_argument, NULL, CTL_OPT_RESTART_DELAY_MAX},             \
            {"min-uptime", required_argument, NULL, CTL_OPT_MIN_UPTIME},                           \
            {"start-limit", required_argument, NULL, CTL_OPT_START_LIMIT},                         \
            {"retry-after", required_argument, NULL, CTL_OPT_RETRY_AFTER},                         \
            {"ready", required_argument, NULL, CTL_OPT_READY},                                     \
            {"ready-timeout", required_argument, NULL, CTL_OPT_READY_TIMEOUT},                     \
            {"stop-signal", required_argument, NULL, CTL_OPT_STOP_SIGNAL},                         \
        {                                                                                          \
                "grace", required_argument, NULL, CTL_OPT_GRACE                                    \
        }
/* The policy being parsed, with room for its success codes. */
struct ctl_policy {
        struct corral_policy p;
        int codes[256];
};
/* Their lines for a command's --help. */
#define CTL_POLICY_HELP_LINES                                                                      \
        "      --restart POLICY no (default), on-failure (an exit code not in the\n"               \
        "                       success codes, or a signal) or always (whenever it\n"              \
        "                       ends on its own); replicas default to always\n"                    \
        "      --success-codes LIST\n"                                                             \
        "                       exit codes that count as success (default 0), e.g. 0,3;\n"         \
        "                       an empty LIST makes every exit a failure\n"                        \
        "      --restart-delay TIME\n"                                                             \
        "                       first delay before a restart (default 100ms); it doubles\n"        \
        "                       after each quick failure...\n"                                     \
        "      --restart-delay-max TIME\n"                                                         \
        "                       ...up to this (default 30s)\n"                                     \
        "      --min-uptime TIME\n"                                                                \
        "                       a run this long was healthy: the delay starts over\n"              \
        "                       (default 1s); also the wait of --ready uptime\n"                   \
        "      --start-limit N[/TIME]\n"                                                           \
        "                       at most N starts within TIME (default 5/10s), else it\n"           \
        "                       fails; 0 means no limit\n"                                         \
        "      --retry-after TIME\n"                                                               \
        "                       once failed by the start limit, try again after TIME\n"            \
        "                       (default: never)\n"                                                \
        "      --ready HOW      when it counts as ready: spawned (default: at once),\n"            \
        "                       uptime (after --min-uptime) or notify (when it sends\n"            \
        "                       READY=1 to $NOTIFY_SOCKET, as with sd_notify)\n"                   \
        "      --ready-timeout TIME\n"                                                             \
        "                       not ready within TIME: killed, and the run failed\n"               \
        "                       (default 30s)\n"                                                   \
        "      --stop-signal SIG\n"                                                                \
        "                       how terminate, restart and scaling down stop it\n"                 \
        "                       (default TERM)\n"                                                  \
        "      --grace TIME     KILL it this long after the stop signal (default: the\n"           \
        "                       daemon's, 10s)\n"
/*
 * If ch is one of the policy options, apply arg to *cp and return true
 * with *rc CTL_EXIT_OK or a usage error's status; false otherwise.
 */
bool ctl_policy_option(struct ctl *, int ch, const char *arg, struct ctl_policy *cp, int *rc);
/* The given fields as `key: value` lines, keys padded to width. */
void ctl_policy_print(const struct corral_policy *, int width);
/* The given fields as members of obj; -1 if out of memory. */
int ctl_policy_json(const struct corral_policy *, json_t *obj);

/* corralctl-output.c: the output options of spawn, run and pool create. */
enum {
        CTL_OPT_STDOUT = 560,
        CTL_OPT_STDERR,
        CTL_OPT_LOG_BUFFER,
        CTL_OPT_LOG_MAX_BYTES,
        CTL_OPT_LOG_BACKUPS,
};
/* Put in a command's option table, before CTL_COMMON_OPTIONS. */
#define CTL_OUTPUT_OPTIONS                                                                         \
        {"stdout", required_argument, NULL, CTL_OPT_STDOUT},                                       \
            {"stderr", required_argument, NULL, CTL_OPT_STDERR},                                   \
            {"log-buffer", required_argument, NULL, CTL_OPT_LOG_BUFFER},                           \
            {"log-max-bytes", required_argument, NULL, CTL_OPT_LOG_MAX_BYTES},                     \
        {                                                                                          \
                "log-backups", required_argument, NULL, CTL_OPT_LOG_BACKUPS                        \
        }
/* The output being parsed, and the paths made absolute for it. */
struct ctl_output {
        struct corral_output o;
        char *paths[2];
};
void ctl_output_free(struct ctl_output *);
/* Their lines for a command's --help. */
#define CTL_OUTPUT_HELP_LINES                                                                      \
        "      --stdout DEST    where its stdout goes (default capture):\n"                        \
        "                         capture     kept in a buffer: `corralctl logs`\n"                \
        "                         file:PATH   appended to PATH (relative: to corralctl's\n"        \
        "                                     directory), rotated by --log-max-bytes\n"            \
        "                         journal     one journald entry per line\n"                       \
        "                         queue:NAME  one message per line into queue NAME\n"              \
        "                         null        discarded\n"                                         \
        "                         inherit     the daemon's own stdout\n"                           \
        "      --stderr DEST    where its stderr goes: the same, or stdout (merged into\n"         \
        "                       stdout's destination); default capture\n"                          \
        "      --log-buffer BYTES\n"                                                               \
        "                       the capture buffer (default 64K): the oldest lines are\n"          \
        "                       dropped beyond it\n"                                               \
        "      --log-max-bytes BYTES\n"                                                            \
        "                       rotate a file: destination past this size (default 0:\n"           \
        "                       never)\n"                                                          \
        "      --log-backups N  rotated files kept, PATH.1 (newest) to PATH.N (default 5)\n"
/*
 * If ch is one of the output options, apply arg to *co and return true
 * with *rc CTL_EXIT_OK or a usage error's status; false otherwise.
 */
bool ctl_output_option(struct ctl *, int ch, const char *arg, struct ctl_output *co, int *rc);
/* A pool's output defaults as `key: value` lines, keys padded to width. */
void ctl_output_print(const struct corral_pool *, int width);
/* The same as members of obj; -1 if out of memory. */
int ctl_output_json(const struct corral_pool *, json_t *obj);

/* corralctl-spawn.c: also used by pool create and put. */
char *ctl_env_arg(const char *arg, char **cause);
char *ctl_spawn_cwd(const char *arg);
/* All of path ("-": standard input), at most 16 MiB; NULL with *cause (freed by the caller). */
char *ctl_read_file(const char *path, size_t *len, char **cause);

/* corralctl-process.c: also used by spawn, run and pool info. */
int ctl_target_arg(struct ctl *, char **argv, struct corral_target *);
/* Print a record as JSON with --json (otherwise nothing), and clear it. */
int ctl_record_out(struct ctl *, struct corral_process *);
/*
 * A --wait-ready answer that is not running means it never became ready:
 * say why; CTL_EXIT_SERVER then, else CTL_EXIT_OK.
 */
int ctl_check_ready(const struct corral_process *);
void ctl_print_time(double t);

/* corralctl-logs.c: also used by run and join --output. */
struct ctl_logs;
/*
 * A printer of log lines: stdout lines to stdout, stderr lines to stderr
 * (or every line as a JSON object on stdout with json); prefix: each line
 * starts with its process's name, padded to the widest seen.
 */
struct ctl_logs *ctl_logs_new(bool json, bool prefix, bool timestamps);
void ctl_logs_free(struct ctl_logs *);
/* Make the prefix at least as wide as name. */
void ctl_logs_width(struct ctl_logs *, const char *name);
/* Print one line; -1 if writing failed. */
int ctl_logs_print(struct ctl_logs *, const struct corral_log_line *);
/* Flush stdout; -1 if writing failed. */
int ctl_logs_flush(struct ctl_logs *);
/* Say on stderr that bytes of older output were dropped (if not 0). */
void ctl_logs_lost(uint64_t bytes);

/* corralctl-json.c */
json_t *ctl_json_from_msgpack(const msgpack_object *);
/* Bytes as a JSON string if valid UTF-8, else {"$base64": "..."}. */
json_t *ctl_json_bytes(const char *p, size_t n);
int ctl_json_to_msgpack(const json_t *, msgpack_packer *, char **cause);
json_t *ctl_json_record(const struct corral_process *);
json_t *ctl_json_pool(const struct corral_pool *);
int ctl_json_print(json_t *);

/* corralctl-queue.c: 1536 as 1.5K, or spelled out as "1.5 KiB" ("5 bytes"). */
void ctl_format_size(uint64_t v, bool spelled, char *buf, size_t len);

/* corralctl-ps.c */
void ctl_format_duration(double seconds, char *buf, size_t len);
double ctl_process_runtime(const struct corral_process *);
const char *ctl_process_exit(const struct corral_process *, char *buf, size_t len);
const char *ctl_process_state(const struct corral_process *);
/* "1", "TERM" or "-" for an exit code (-1: none) and a signal (0: none). */
const char *ctl_format_exit(int exit_code, int sig, char *buf, size_t len);

/* The commands, one entry each. */
extern const struct ctl_cmd ctl_cmd_spawn;
extern const struct ctl_cmd ctl_cmd_run;
extern const struct ctl_cmd ctl_cmd_start;
extern const struct ctl_cmd ctl_cmd_restart;
extern const struct ctl_cmd ctl_cmd_join;
extern const struct ctl_cmd ctl_cmd_terminate;
extern const struct ctl_cmd ctl_cmd_signal;
extern const struct ctl_cmd ctl_cmd_info;
extern const struct ctl_cmd ctl_cmd_ps;
extern const struct ctl_cmd ctl_cmd_logs;
extern const struct ctl_cmd ctl_cmd_pool;
extern const struct ctl_cmd ctl_cmd_queue;
extern const struct ctl_cmd ctl_cmd_put;
extern const struct ctl_cmd ctl_cmd_get;
extern const struct ctl_cmd ctl_cmd_ack;
extern const struct ctl_cmd ctl_cmd_nack;
extern const struct ctl_cmd ctl_cmd_touch;
extern const struct ctl_cmd ctl_cmd_peek;
/* The same under `queue` (queue put, ...). */
extern const struct ctl_cmd ctl_cmd_queue_put;
extern const struct ctl_cmd ctl_cmd_queue_get;
extern const struct ctl_cmd ctl_cmd_queue_ack;
extern const struct ctl_cmd ctl_cmd_queue_nack;
extern const struct ctl_cmd ctl_cmd_queue_touch;
extern const struct ctl_cmd ctl_cmd_queue_peek;
extern const struct ctl_cmd ctl_cmd_events;
extern const struct ctl_cmd ctl_cmd_ping;
extern const struct ctl_cmd ctl_cmd_stats;
extern const struct ctl_cmd ctl_cmd_hello;
extern const struct ctl_cmd ctl_cmd_reopen_logs;
extern const struct ctl_cmd ctl_cmd_shutdown;
extern const struct ctl_cmd ctl_cmd_call;
extern const struct ctl_cmd ctl_cmd_help;

#endif
