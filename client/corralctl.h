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
        CTL_EXIT_SERVER = 1,   /* the daemon answered with an error */
        CTL_EXIT_USAGE = 2,    /* bad command line */
        CTL_EXIT_CONNECT = 3,  /* cannot connect to the daemon */
        CTL_EXIT_IO = 4,       /* I/O, protocol error or timeout talking to it */
        CTL_EXIT_TIMEOUT = 124 /* join: the process did not end in time */
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
int ctl_want_args(struct ctl *, int argc, char **argv, int min, int max);

/* Long options every command accepts; end each command's option table with it. */
#define CTL_COMMON_OPTIONS                                                                         \
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'j'},                        \
        {                                                                                          \
                NULL, 0, NULL, 0                                                                   \
        }

/* corralctl-json.c */
json_t *ctl_json_from_msgpack(const msgpack_object *);
int ctl_json_to_msgpack(const json_t *, msgpack_packer *, char **cause);
json_t *ctl_json_record(const struct corral_process *);
int ctl_json_print(json_t *);

/* corralctl-ps.c */
void ctl_format_duration(double seconds, char *buf, size_t len);
double ctl_process_runtime(const struct corral_process *);
const char *ctl_process_exit(const struct corral_process *, char *buf, size_t len);

/* The commands, one entry each. */
extern const struct ctl_cmd ctl_cmd_spawn;
extern const struct ctl_cmd ctl_cmd_join;
extern const struct ctl_cmd ctl_cmd_terminate;
extern const struct ctl_cmd ctl_cmd_signal;
extern const struct ctl_cmd ctl_cmd_info;
extern const struct ctl_cmd ctl_cmd_ps;
extern const struct ctl_cmd ctl_cmd_ping;
extern const struct ctl_cmd ctl_cmd_hello;
extern const struct ctl_cmd ctl_cmd_shutdown;
extern const struct ctl_cmd ctl_cmd_call;
extern const struct ctl_cmd ctl_cmd_help;

#endif
