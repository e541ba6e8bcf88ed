/*
 * params.h -- typed parameters of every method, and the table-driven
 * decoder that fills them from a request's params map.
 *
 * Each method has a struct below and a `const struct proto_params_spec`
 * (in params.c) listing its fields: name, type, bounds, and where the
 * value goes. The daemon receives these structs, never msgpack objects.
 * Strings are NUL-terminated copies owned by the request's arena.
 */
#ifndef CORRAL_PROTO_PARAMS_H
#define CORRAL_PROTO_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proto_msg;
struct proto_arena;
struct proto_error;

enum proto_ftype {
        PF_STR,     /* str (no NUL byte inside), max_len bounds it */
        PF_NAME,    /* str that passes proto_name_valid() */
        PF_PATH,    /* absolute path: str starting with '/', < PROTO_PATH_MAX */
        PF_BYTES,   /* bin or str, any bytes; max_len bounds it */
        PF_BOOL,    /* bool */
        PF_INT,     /* int64 within [min, max] */
        PF_UINT,    /* uint64 within [min, max] (negatives rejected) */
        PF_SECONDS, /* int or float >= 0 and <= max, stored as double */
        PF_STRV,    /* array of str (no NUL inside), 1..max entries */
        PF_ENV,     /* map str -> str, stored as "K=V" strings; keys non-empty without '=' */
        PF_SIGNAL,  /* str signal name or int signal number, stored as int */
        PF_ENUM,    /* str, one of enum_names; stored as the int index */
        PF_INTV,    /* array of ints within [min, max], 0..max_len entries: int64_t * + count */
        PF_TARGETV, /* array of ids (uint) or names (str): struct proto_target * + count */
        PF_STRUCT,  /* map decoded with the sub spec into the struct at off */
};

#define PF_REQUIRED 0x1

struct proto_field {
        const char *name;
        enum proto_ftype type;
        unsigned flags;
        size_t off;       /* offset of the value in the struct */
        size_t has_off;   /* offset of a bool set when present; 0 = none */
        size_t count_off; /* PF_STRV, PF_ENV, PF_BYTES: offset of the size_t count/length */
        int64_t min, max; /* PF_INT, PF_UINT; max for PF_SECONDS (0 = none) */
        size_t max_len;   /* PF_STR, PF_BYTES, PF_STRV entries: 0 = default */
        const char *const *enum_names;       /* PF_ENUM: NULL-terminated */
        const struct proto_params_spec *sub; /* PF_STRUCT */
};

struct proto_params_spec {
        const char *method;
        const struct proto_field *fields;
        size_t nfields;
        size_t size; /* sizeof the params struct */
        /* Cross-field checks after decoding (e.g. id xor name); may be NULL. */
        int (*check)(const void *params, struct proto_error *);
};

/*
 * Decode msg's params (an empty array, or an array of one map) into out
 * (spec->size bytes, zeroed first), copying strings into arena.
 * Unknown keys, wrong types, out-of-range values and missing required
 * fields are invalid_params errors naming the field. Returns 0 or -1.
 */
int proto_params_decode(const struct proto_params_spec *, const struct proto_msg *, void *out,
                        struct proto_arena *, struct proto_error *);

/* The field of spec named name, or NULL. */
const struct proto_field *proto_spec_field(const struct proto_params_spec *, const char *name);
/*
 * Decode a parameter written as text (the configuration file) into out,
 * with the same types and bounds as on the wire. 0, or -1 with err.
 */
int proto_field_from_text(const struct proto_field *, const char *text, void *out,
                          struct proto_arena *, struct proto_error *);

/* The spec for a method name, or NULL. */
const struct proto_params_spec *proto_params_lookup(const char *method);

/* Which process a request means: exactly one of id or name. */
struct proto_target {
        uint64_t id;
        bool has_id;
        const char *name; /* NULL when absent */
};

struct proto_p_none {
        char unused;
};

/* Restart policy, readiness and stopping: every field optional. */
struct proto_policy {
        int restart; /* PROTO_RESTART_* */
        bool has_restart;
        const int64_t *success_codes; /* exit codes 0..255 */
        size_t nsuccess_codes;
        bool has_success_codes;
        double restart_delay;
        bool has_restart_delay;
        double restart_delay_max;
        bool has_restart_delay_max;
        double min_uptime;
        bool has_min_uptime;
        uint64_t start_limit_burst;
        bool has_start_limit_burst;
        double start_limit_interval;
        bool has_start_limit_interval;
        double failed_retry_after;
        bool has_failed_retry_after;
        int ready; /* PROTO_READY_* */
        bool has_ready;
        double ready_timeout;
        bool has_ready_timeout;
        int stop_signal;
        bool has_stop_signal;
        double grace;
        bool has_grace;
};

/* Where stdout and stderr go, and how much is kept: every field optional. */
struct proto_output {
        const char *out; /* "stdout": capture, null, inherit, journal, file:PATH, queue:NAME */
        const char *err; /* "stderr": the same, or stdout */
        uint64_t log_buffer;
        bool has_log_buffer;
        uint64_t log_max_bytes;
        bool has_log_max_bytes;
        uint64_t log_backups;
        bool has_log_backups;
};

/* Who a pool's processes run as, and their limits (root only): every field optional. */
struct proto_privs {
        const char *user;
        const char *group;
        uint64_t umask;
        bool has_umask;
        int64_t nice;
        bool has_nice;
        int64_t oom_score_adjust;
        bool has_oom_score_adjust;
        uint64_t nofile, nproc, core, as, cpu; /* soft = hard limits */
        bool has_nofile, has_nproc, has_core, has_as, has_cpu;
};

enum { PROTO_RESTART_NO = 0, PROTO_RESTART_ON_FAILURE, PROTO_RESTART_ALWAYS };
enum { PROTO_READY_SPAWNED = 0, PROTO_READY_UPTIME, PROTO_READY_NOTIFY };
enum { PROTO_WAIT_NONE = 0, PROTO_WAIT_READY };

struct proto_p_spawn {
        const char **argv; /* NULL-terminated, argc >= 1 */
        size_t argc;
        const char *name; /* NULL: the daemon picks "<basename>.<id>" */
        const char *pool; /* NULL: "default" */
        const char **env; /* "K=V", NULL-terminated; NULL when absent */
        size_t nenv;
        bool env_clear;  /* start from an empty environment, not the daemon's */
        const char *cwd; /* NULL: the daemon's working directory */
        const uint8_t *stdin_data;
        size_t stdin_len;
        bool has_stdin;
        struct proto_policy policy;
        int wait;                   /* PROTO_WAIT_*: answer at once, or once ready */
        struct proto_target *after; /* start only once these have exited successfully */
        size_t nafter;
        int64_t priority; /* lower starts first among pending; default 0 */
        bool has_priority;
        struct proto_output output;
        const char *stdin_queue; /* feed stdin from this queue, one message per line */
        bool follow;             /* follow its output from the first byte (process.logs) */
};

struct proto_p_join {
        struct proto_target t;
        double timeout; /* seconds */
        bool has_timeout;
        bool output; /* add the buffered output to the answer */
};

struct proto_p_terminate {
        struct proto_target t;
        int signal; /* default SIGTERM */
        bool has_signal;
        double grace; /* seconds before SIGKILL; default 10 */
        bool has_grace;
        bool wait; /* answer once the process has ended */
};

struct proto_p_signal {
        struct proto_target t;
        int signal;
        bool group; /* to the whole process group, not just the process */
};

struct proto_p_info {
        struct proto_target t;
};

struct proto_p_list {
        const char *pool; /* NULL: every pool */
        bool live;        /* only processes that have not ended */
};

/* process.start, process.restart */
struct proto_p_start {
        struct proto_target t;
        int wait;
};

struct proto_replicas {
        const char **argv;
        size_t argc;
        const char **env;
        size_t nenv;
        const char *cwd;
        uint64_t count;
};

/* A pool that runs its command once per message of a queue. */
struct proto_consume {
        const char *queue;
        const char **argv;
        size_t argc;
        const char **env;
        size_t nenv;
        const char *cwd;
};

struct proto_p_pool_create {
        const char *name;
        uint64_t size; /* slots; 0 = unlimited (1 for a consuming pool) */
        bool has_size;
        struct proto_policy policy;
        struct proto_replicas replicas;
        bool has_replicas;
        struct proto_consume consume;
        bool has_consume;
        struct proto_output output;
        struct proto_privs privs;
        uint64_t memory_max; /* cgroup limits of the pool (bytes; 0: none) */
        const char *cpu_max; /* "QUOTA PERIOD" as cgroup v2's cpu.max */
        uint64_t pids_max;
};

enum { PROTO_STREAM_BOTH = 0, PROTO_STREAM_STDOUT, PROTO_STREAM_STDERR };

struct proto_p_logs {
        struct proto_target t; /* or pool */
        const char *pool;
        int stream;    /* PROTO_STREAM_* */
        uint64_t tail; /* the last N lines */
        bool has_tail;
        bool follow;
};

/* pool.info, close, join, terminate, restart, delete */
struct proto_p_pool {
        const char *name;
        double timeout; /* join */
        bool has_timeout;
        bool wait; /* terminate */
};

struct proto_p_pool_scale {
        const char *name;
        uint64_t count;
};

struct proto_p_subscribe {
        const char **pools; /* NULL: all */
        size_t npools;
        const char **types; /* NULL: all */
        size_t ntypes;
};

enum { PROTO_FSYNC_BATCH = 0, PROTO_FSYNC_ALWAYS, PROTO_FSYNC_NEVER };

struct proto_p_queue_create {
        const char *name;
        uint64_t maxsize;   /* 0 = unlimited */
        uint64_t max_bytes; /* 0 = unlimited */
        bool durable;
        int fsync; /* PROTO_FSYNC_* */
        double visibility_timeout;
        bool has_visibility_timeout;
        uint64_t max_attempts; /* 0 = unlimited */
        const char *dead_letter;
};

/* queue.info, purge, delete */
struct proto_p_queue {
        const char *name;
};

struct proto_p_queue_put {
        const char *queue;
        const uint8_t *data;
        size_t len;
        bool has_data;
        int64_t priority;
        double delay;
        double timeout;
        bool has_timeout;
};

struct proto_p_queue_get {
        const char *queue;
        double timeout;
        bool has_timeout;
        bool ack;
};

/* queue.ack, nack, touch; queue.peek uses only queue */
struct proto_p_queue_msg {
        const char *queue;
        uint64_t msg_id;
        double delay; /* nack */
};

extern const struct proto_params_spec proto_spec_daemon_hello;
extern const struct proto_params_spec proto_spec_daemon_ping;
extern const struct proto_params_spec proto_spec_daemon_shutdown;
extern const struct proto_params_spec proto_spec_process_spawn;
extern const struct proto_params_spec proto_spec_process_join;
extern const struct proto_params_spec proto_spec_process_terminate;
extern const struct proto_params_spec proto_spec_process_signal;
extern const struct proto_params_spec proto_spec_process_info;
extern const struct proto_params_spec proto_spec_process_list;
extern const struct proto_params_spec proto_spec_process_start;
extern const struct proto_params_spec proto_spec_process_restart;
extern const struct proto_params_spec proto_spec_pool_create;
extern const struct proto_params_spec proto_spec_pool_info;
extern const struct proto_params_spec proto_spec_pool_list;
extern const struct proto_params_spec proto_spec_pool_scale;
extern const struct proto_params_spec proto_spec_pool_restart;
extern const struct proto_params_spec proto_spec_pool_close;
extern const struct proto_params_spec proto_spec_pool_join;
extern const struct proto_params_spec proto_spec_pool_terminate;
extern const struct proto_params_spec proto_spec_pool_delete;
extern const struct proto_params_spec proto_spec_events_subscribe;
extern const struct proto_params_spec proto_spec_queue_create;
extern const struct proto_params_spec proto_spec_queue_info;
extern const struct proto_params_spec proto_spec_queue_list;
extern const struct proto_params_spec proto_spec_queue_purge;
extern const struct proto_params_spec proto_spec_queue_delete;
extern const struct proto_params_spec proto_spec_queue_put;
extern const struct proto_params_spec proto_spec_queue_get;
extern const struct proto_params_spec proto_spec_queue_ack;
extern const struct proto_params_spec proto_spec_queue_nack;
extern const struct proto_params_spec proto_spec_queue_touch;
extern const struct proto_params_spec proto_spec_queue_peek;
extern const struct proto_params_spec proto_spec_process_logs;
extern const struct proto_params_spec proto_spec_daemon_reopen_logs;
extern const struct proto_params_spec proto_spec_daemon_reload;
extern const struct proto_params_spec proto_spec_daemon_stats;

#endif
