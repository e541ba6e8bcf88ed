/*
 * spec.c -- the parameters of every method, as tables for the decoder in
 * params.c. Each row is one parameter of PROTOCOL.md: its wire name, type,
 * bounds and where it lands in the method's struct. Cross-field rules
 * (exactly one of id or name) are the specs' check functions.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

#define SECONDS_MAX     1000000000 /* about 31 years: "forever" is leaving it out */
#define TERMINATE_GRACE 10.0
#define NFIELDS(a)      (sizeof(a) / sizeof((a)[0]))

/* The target is the first member, so one check serves every method. */
_Static_assert(offsetof(struct proto_p_join, t) == 0, "target first");
_Static_assert(offsetof(struct proto_p_terminate, t) == 0, "target first");
_Static_assert(offsetof(struct proto_p_signal, t) == 0, "target first");
_Static_assert(offsetof(struct proto_p_info, t) == 0, "target first");
_Static_assert(offsetof(struct proto_p_start, t) == 0, "target first");
_Static_assert(offsetof(struct proto_p_logs, t) == 0, "target first");

/* id and name rows; the target is at offset 0 of every struct using them. */
#define TARGET_ID                                                                                  \
        {                                                                                          \
                .name = "id", .type = PF_UINT, .off = offsetof(struct proto_target, id),           \
                .has_off = offsetof(struct proto_target, has_id)                                   \
        }
#define TARGET_NAME                                                                                \
        {                                                                                          \
                .name = "name", .type = PF_NAME, .off = offsetof(struct proto_target, name)        \
        }

static int
check_target(const void *params, struct proto_error *err)
{
        const struct proto_target *t = params;

        if (t->has_id == (t->name != NULL)) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "id",
                                "give exactly one of id or name");
                return -1;
        }
        return 0;
}

const struct proto_params_spec proto_spec_daemon_hello = {.method = PROTO_M_DAEMON_HELLO,
                                                          .size = sizeof(struct proto_p_none)};
const struct proto_params_spec proto_spec_daemon_ping = {.method = PROTO_M_DAEMON_PING,
                                                         .size = sizeof(struct proto_p_none)};
const struct proto_params_spec proto_spec_daemon_shutdown = {.method = PROTO_M_DAEMON_SHUTDOWN,
                                                             .size = sizeof(struct proto_p_none)};

/* The restart-policy rows, for any struct embedding a proto_policy at member. */
static const char *const restart_names[] = {"no", "on-failure", "always", NULL};
static const char *const ready_names[] = {"spawned", "uptime", "notify", NULL};
static const char *const wait_names[] = {"none", "ready", NULL};

#define POLICY_OFF(T, M, f) (offsetof(T, M) + offsetof(struct proto_policy, f))
#define POLICY_SECONDS(T, M, key)                                                                  \
        {                                                                                          \
                .name = #key, .type = PF_SECONDS, .off = POLICY_OFF(T, M, key),                    \
                .has_off = POLICY_OFF(T, M, has_##key), .max = SECONDS_MAX                         \
        }
#define POLICY_FIELDS(T, M)                                                                        \
        {.name = "restart",                                                                        \
         .type = PF_ENUM,                                                                          \
         .off = POLICY_OFF(T, M, restart),                                                         \
         .has_off = POLICY_OFF(T, M, has_restart),                                                 \
         .enum_names = restart_names},                                                             \
            {.name = "success_codes",                                                              \
             .type = PF_INTV,                                                                      \
             .off = POLICY_OFF(T, M, success_codes),                                               \
             .has_off = POLICY_OFF(T, M, has_success_codes),                                       \
             .count_off = POLICY_OFF(T, M, nsuccess_codes),                                        \
             .min = 0,                                                                             \
             .max = 255,                                                                           \
             .max_len = 256},                                                                      \
            POLICY_SECONDS(T, M, restart_delay), POLICY_SECONDS(T, M, restart_delay_max),          \
            POLICY_SECONDS(T, M, min_uptime),                                                      \
            {.name = "start_limit_burst",                                                          \
             .type = PF_UINT,                                                                      \
             .off = POLICY_OFF(T, M, start_limit_burst),                                           \
             .has_off = POLICY_OFF(T, M, has_start_limit_burst),                                   \
             .max = 10000},                                                                        \
            POLICY_SECONDS(T, M, start_limit_interval), POLICY_SECONDS(T, M, failed_retry_after),  \
            {.name = "ready",                                                                      \
             .type = PF_ENUM,                                                                      \
             .off = POLICY_OFF(T, M, ready),                                                       \
             .has_off = POLICY_OFF(T, M, has_ready),                                               \
             .enum_names = ready_names},                                                           \
            POLICY_SECONDS(T, M, ready_timeout),                                                   \
            {.name = "stop_signal",                                                                \
             .type = PF_SIGNAL,                                                                    \
             .off = POLICY_OFF(T, M, stop_signal),                                                 \
             .has_off = POLICY_OFF(T, M, has_stop_signal)},                                        \
            POLICY_SECONDS(T, M, grace)

#define OUTPUT_OFF(T, M, f) (offsetof(T, M) + offsetof(struct proto_output, f))
#define OUTPUT_UINT(T, M, key, maxv)                                                               \
        {                                                                                          \
                .name = #key, .type = PF_UINT, .off = OUTPUT_OFF(T, M, key),                       \
                .has_off = OUTPUT_OFF(T, M, has_##key), .max = maxv                                \
        }
#define OUTPUT_FIELDS(T, M)                                                                        \
        {.name = "stdout", .type = PF_STR, .off = OUTPUT_OFF(T, M, out)},                          \
            {.name = "stderr", .type = PF_STR, .off = OUTPUT_OFF(T, M, err)},                      \
            OUTPUT_UINT(T, M, log_buffer, 256 * 1024 * 1024),                                      \
            OUTPUT_UINT(T, M, log_max_bytes, INT64_MAX), OUTPUT_UINT(T, M, log_backups, 1000)

#define PRIVS_OFF(T, M, f) (offsetof(T, M) + offsetof(struct proto_privs, f))
#define PRIVS_NUM(T, M, key, ty, lo, hi)                                                           \
        {                                                                                          \
                .name = #key, .type = ty, .off = PRIVS_OFF(T, M, key),                             \
                .has_off = PRIVS_OFF(T, M, has_##key), .min = lo, .max = hi                        \
        }
#define PRIVS_FIELDS(T, M)                                                                         \
        {.name = "user", .type = PF_STR, .off = PRIVS_OFF(T, M, user), .max_len = 256},            \
            {.name = "group", .type = PF_STR, .off = PRIVS_OFF(T, M, group), .max_len = 256},      \
            PRIVS_NUM(T, M, umask, PF_UINT, 0, 0777), PRIVS_NUM(T, M, nice, PF_INT, -20, 19),      \
            PRIVS_NUM(T, M, oom_score_adjust, PF_INT, -1000, 1000),                                \
            PRIVS_NUM(T, M, nofile, PF_UINT, 0, INT64_MAX),                                        \
            PRIVS_NUM(T, M, nproc, PF_UINT, 0, INT64_MAX),                                         \
            PRIVS_NUM(T, M, core, PF_UINT, 0, INT64_MAX),                                          \
            PRIVS_NUM(T, M, as, PF_UINT, 0, INT64_MAX),                                            \
            PRIVS_NUM(T, M, cpu, PF_UINT, 0, INT64_MAX)

static const struct proto_field spawn_fields[] = {
    {.name = "argv",
     .type = PF_STRV,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_spawn, argv),
     .count_off = offsetof(struct proto_p_spawn, argc),
     .max = PROTO_ARGV_MAX},
    {.name = "name", .type = PF_NAME, .off = offsetof(struct proto_p_spawn, name)},
    {.name = "pool", .type = PF_NAME, .off = offsetof(struct proto_p_spawn, pool)},
    {.name = "env",
     .type = PF_ENV,
     .off = offsetof(struct proto_p_spawn, env),
     .count_off = offsetof(struct proto_p_spawn, nenv),
     .max = PROTO_ENV_MAX},
    {.name = "env_clear", .type = PF_BOOL, .off = offsetof(struct proto_p_spawn, env_clear)},
    {.name = "cwd", .type = PF_PATH, .off = offsetof(struct proto_p_spawn, cwd)},
    {.name = "stdin",
     .type = PF_BYTES,
     .off = offsetof(struct proto_p_spawn, stdin_data),
     .has_off = offsetof(struct proto_p_spawn, has_stdin),
     .count_off = offsetof(struct proto_p_spawn, stdin_len),
     .max_len = PROTO_MAX_MESSAGE_DEFAULT},
    {.name = "wait",
     .type = PF_ENUM,
     .off = offsetof(struct proto_p_spawn, wait),
     .enum_names = wait_names},
    {.name = "after",
     .type = PF_TARGETV,
     .off = offsetof(struct proto_p_spawn, after),
     .count_off = offsetof(struct proto_p_spawn, nafter),
     .max_len = 1024},
    {.name = "priority",
     .type = PF_INT,
     .off = offsetof(struct proto_p_spawn, priority),
     .has_off = offsetof(struct proto_p_spawn, has_priority),
     .min = -1000000,
     .max = 1000000},
    POLICY_FIELDS(struct proto_p_spawn, policy),
    OUTPUT_FIELDS(struct proto_p_spawn, output),
    {.name = "stdin_queue", .type = PF_NAME, .off = offsetof(struct proto_p_spawn, stdin_queue)},
    {.name = "follow", .type = PF_BOOL, .off = offsetof(struct proto_p_spawn, follow)},
};

static int
check_spawn(const void *params, struct proto_error *err)
{
        const struct proto_p_spawn *sp = params;

        if (sp->has_stdin && sp->stdin_queue != NULL) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "stdin_queue",
                                "give stdin or stdin_queue, not both");
                return -1;
        }
        return 0;
}
const struct proto_params_spec proto_spec_process_spawn = {
    .method = PROTO_M_PROCESS_SPAWN,
    .fields = spawn_fields,
    .nfields = NFIELDS(spawn_fields),
    .size = sizeof(struct proto_p_spawn),
    .check = check_spawn,
};

static const struct proto_field join_fields[] = {
    TARGET_ID,
    TARGET_NAME,
    {.name = "output", .type = PF_BOOL, .off = offsetof(struct proto_p_join, output)},
    {.name = "timeout",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_join, timeout),
     .has_off = offsetof(struct proto_p_join, has_timeout),
     .max = SECONDS_MAX},
};
const struct proto_params_spec proto_spec_process_join = {
    .method = PROTO_M_PROCESS_JOIN,
    .fields = join_fields,
    .nfields = NFIELDS(join_fields),
    .size = sizeof(struct proto_p_join),
    .check = check_target,
};

/*
 * Besides the target, fills the documented defaults (TERM, 10 s) so that
 * signal and grace are usable as they are; has_signal / has_grace still
 * tell whether the client gave them. params is the decoder's writable
 * output: const only in the hook's signature.
 */
static int
check_terminate(const void *params, struct proto_error *err)
{
        struct proto_p_terminate *p = (struct proto_p_terminate *)(uintptr_t)params;

        if (check_target(params, err) < 0)
                return -1;
        if (!p->has_signal)
                p->signal = SIGTERM;
        if (!p->has_grace)
                p->grace = TERMINATE_GRACE;
        return 0;
}

static const struct proto_field terminate_fields[] = {
    TARGET_ID,
    TARGET_NAME,
    {.name = "signal",
     .type = PF_SIGNAL,
     .off = offsetof(struct proto_p_terminate, signal),
     .has_off = offsetof(struct proto_p_terminate, has_signal)},
    {.name = "grace",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_terminate, grace),
     .has_off = offsetof(struct proto_p_terminate, has_grace),
     .max = SECONDS_MAX},
    {.name = "wait", .type = PF_BOOL, .off = offsetof(struct proto_p_terminate, wait)},
};
const struct proto_params_spec proto_spec_process_terminate = {
    .method = PROTO_M_PROCESS_TERMINATE,
    .fields = terminate_fields,
    .nfields = NFIELDS(terminate_fields),
    .size = sizeof(struct proto_p_terminate),
    .check = check_terminate,
};

static const struct proto_field signal_fields[] = {
    TARGET_ID,
    TARGET_NAME,
    {.name = "signal",
     .type = PF_SIGNAL,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_signal, signal)},
    {.name = "group", .type = PF_BOOL, .off = offsetof(struct proto_p_signal, group)},
};
const struct proto_params_spec proto_spec_process_signal = {
    .method = PROTO_M_PROCESS_SIGNAL,
    .fields = signal_fields,
    .nfields = NFIELDS(signal_fields),
    .size = sizeof(struct proto_p_signal),
    .check = check_target,
};

static const struct proto_field info_fields[] = {
    TARGET_ID,
    TARGET_NAME,
};
const struct proto_params_spec proto_spec_process_info = {
    .method = PROTO_M_PROCESS_INFO,
    .fields = info_fields,
    .nfields = NFIELDS(info_fields),
    .size = sizeof(struct proto_p_info),
    .check = check_target,
};

static const struct proto_field list_fields[] = {
    {.name = "pool", .type = PF_NAME, .off = offsetof(struct proto_p_list, pool)},
    {.name = "live", .type = PF_BOOL, .off = offsetof(struct proto_p_list, live)},
};
const struct proto_params_spec proto_spec_process_list = {
    .method = PROTO_M_PROCESS_LIST,
    .fields = list_fields,
    .nfields = NFIELDS(list_fields),
    .size = sizeof(struct proto_p_list),
};

static const struct proto_field start_fields[] = {
    TARGET_ID,
    TARGET_NAME,
    {.name = "wait",
     .type = PF_ENUM,
     .off = offsetof(struct proto_p_start, wait),
     .enum_names = wait_names},
};
const struct proto_params_spec proto_spec_process_start = {
    .method = PROTO_M_PROCESS_START,
    .fields = start_fields,
    .nfields = NFIELDS(start_fields),
    .size = sizeof(struct proto_p_start),
    .check = check_target,
};
const struct proto_params_spec proto_spec_process_restart = {
    .method = PROTO_M_PROCESS_RESTART,
    .fields = start_fields,
    .nfields = NFIELDS(start_fields),
    .size = sizeof(struct proto_p_start),
    .check = check_target,
};

static const struct proto_field replicas_fields[] = {
    {.name = "argv",
     .type = PF_STRV,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_replicas, argv),
     .count_off = offsetof(struct proto_replicas, argc),
     .max = PROTO_ARGV_MAX},
    {.name = "env",
     .type = PF_ENV,
     .off = offsetof(struct proto_replicas, env),
     .count_off = offsetof(struct proto_replicas, nenv),
     .max = PROTO_ENV_MAX},
    {.name = "cwd", .type = PF_PATH, .off = offsetof(struct proto_replicas, cwd)},
    {.name = "count",
     .type = PF_UINT,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_replicas, count),
     .max = 10000},
};
static const struct proto_params_spec replicas_spec = {
    .method = "replicas",
    .fields = replicas_fields,
    .nfields = NFIELDS(replicas_fields),
    .size = sizeof(struct proto_replicas),
};

static const struct proto_field consume_fields[] = {
    {.name = "queue",
     .type = PF_NAME,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_consume, queue)},
    {.name = "argv",
     .type = PF_STRV,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_consume, argv),
     .count_off = offsetof(struct proto_consume, argc),
     .max = PROTO_ARGV_MAX},
    {.name = "env",
     .type = PF_ENV,
     .off = offsetof(struct proto_consume, env),
     .count_off = offsetof(struct proto_consume, nenv),
     .max = PROTO_ENV_MAX},
    {.name = "cwd", .type = PF_PATH, .off = offsetof(struct proto_consume, cwd)},
};
static const struct proto_params_spec consume_spec = {
    .method = "consume",
    .fields = consume_fields,
    .nfields = NFIELDS(consume_fields),
    .size = sizeof(struct proto_consume),
};

static int
check_pool_create(const void *params, struct proto_error *err)
{
        const struct proto_p_pool_create *pc = params;

        if (pc->has_replicas && pc->has_consume) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "consume",
                                "a pool has replicas or consumes a queue, not both");
                return -1;
        }
        return 0;
}

static const struct proto_field pool_create_fields[] = {
    {.name = "name",
     .type = PF_NAME,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_pool_create, name)},
    {.name = "size",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_pool_create, size),
     .has_off = offsetof(struct proto_p_pool_create, has_size),
     .max = 1000000},
    {.name = "consume",
     .type = PF_STRUCT,
     .off = offsetof(struct proto_p_pool_create, consume),
     .has_off = offsetof(struct proto_p_pool_create, has_consume),
     .sub = &consume_spec},
    {.name = "replicas",
     .type = PF_STRUCT,
     .off = offsetof(struct proto_p_pool_create, replicas),
     .has_off = offsetof(struct proto_p_pool_create, has_replicas),
     .sub = &replicas_spec},
    POLICY_FIELDS(struct proto_p_pool_create, policy),
    OUTPUT_FIELDS(struct proto_p_pool_create, output),
    PRIVS_FIELDS(struct proto_p_pool_create, privs),
    {.name = "memory_max",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_pool_create, memory_max),
     .max = INT64_MAX},
    {.name = "cpu_max",
     .type = PF_STR,
     .off = offsetof(struct proto_p_pool_create, cpu_max),
     .max_len = 64},
    {.name = "pids_max",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_pool_create, pids_max),
     .max = INT64_MAX},
};
const struct proto_params_spec proto_spec_pool_create = {
    .method = PROTO_M_POOL_CREATE,
    .fields = pool_create_fields,
    .nfields = NFIELDS(pool_create_fields),
    .size = sizeof(struct proto_p_pool_create),
    .check = check_pool_create,
};

#define POOL_NAME_FIELD                                                                            \
        {                                                                                          \
                .name = "name", .type = PF_NAME, .flags = PF_REQUIRED,                             \
                .off = offsetof(struct proto_p_pool, name)                                         \
        }
static const struct proto_field pool_fields[] = {POOL_NAME_FIELD};
static const struct proto_field pool_join_fields[] = {
    POOL_NAME_FIELD,
    {.name = "timeout",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_pool, timeout),
     .has_off = offsetof(struct proto_p_pool, has_timeout),
     .max = SECONDS_MAX},
};
static const struct proto_field pool_terminate_fields[] = {
    POOL_NAME_FIELD,
    {.name = "wait", .type = PF_BOOL, .off = offsetof(struct proto_p_pool, wait)},
};
#define POOL_SPEC(var, m, rows)                                                                    \
        const struct proto_params_spec var = {                                                     \
            .method = m,                                                                           \
            .fields = rows,                                                                        \
            .nfields = NFIELDS(rows),                                                              \
            .size = sizeof(struct proto_p_pool),                                                   \
        }
POOL_SPEC(proto_spec_pool_info, PROTO_M_POOL_INFO, pool_fields);
POOL_SPEC(proto_spec_pool_restart, PROTO_M_POOL_RESTART, pool_fields);
POOL_SPEC(proto_spec_pool_close, PROTO_M_POOL_CLOSE, pool_fields);
POOL_SPEC(proto_spec_pool_delete, PROTO_M_POOL_DELETE, pool_fields);
POOL_SPEC(proto_spec_pool_join, PROTO_M_POOL_JOIN, pool_join_fields);
POOL_SPEC(proto_spec_pool_terminate, PROTO_M_POOL_TERMINATE, pool_terminate_fields);

const struct proto_params_spec proto_spec_pool_list = {.method = PROTO_M_POOL_LIST,
                                                       .size = sizeof(struct proto_p_none)};

static const struct proto_field pool_scale_fields[] = {
    {.name = "name",
     .type = PF_NAME,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_pool_scale, name)},
    {.name = "count",
     .type = PF_UINT,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_pool_scale, count),
     .max = 10000},
};
const struct proto_params_spec proto_spec_pool_scale = {
    .method = PROTO_M_POOL_SCALE,
    .fields = pool_scale_fields,
    .nfields = NFIELDS(pool_scale_fields),
    .size = sizeof(struct proto_p_pool_scale),
};

static const struct proto_field subscribe_fields[] = {
    {.name = "pools",
     .type = PF_STRV,
     .off = offsetof(struct proto_p_subscribe, pools),
     .count_off = offsetof(struct proto_p_subscribe, npools),
     .max = 1024,
     .max_len = PROTO_NAME_MAX},
    {.name = "types",
     .type = PF_STRV,
     .off = offsetof(struct proto_p_subscribe, types),
     .count_off = offsetof(struct proto_p_subscribe, ntypes),
     .max = 64,
     .max_len = 64},
};
const struct proto_params_spec proto_spec_events_subscribe = {
    .method = PROTO_M_EVENTS_SUBSCRIBE,
    .fields = subscribe_fields,
    .nfields = NFIELDS(subscribe_fields),
    .size = sizeof(struct proto_p_subscribe),
};

static const char *const fsync_names[] = {"batch", "always", "never", NULL};

static const struct proto_field queue_create_fields[] = {
    {.name = "name",
     .type = PF_NAME,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_queue_create, name)},
    {.name = "maxsize",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_queue_create, maxsize),
     .max = INT64_MAX},
    {.name = "max_bytes",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_queue_create, max_bytes),
     .max = INT64_MAX},
    {.name = "durable", .type = PF_BOOL, .off = offsetof(struct proto_p_queue_create, durable)},
    {.name = "fsync",
     .type = PF_ENUM,
     .off = offsetof(struct proto_p_queue_create, fsync),
     .enum_names = fsync_names},
    {.name = "visibility_timeout",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_queue_create, visibility_timeout),
     .has_off = offsetof(struct proto_p_queue_create, has_visibility_timeout),
     .max = SECONDS_MAX},
    {.name = "max_attempts",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_queue_create, max_attempts),
     .max = 1000000},
    {.name = "dead_letter",
     .type = PF_NAME,
     .off = offsetof(struct proto_p_queue_create, dead_letter)},
};
const struct proto_params_spec proto_spec_queue_create = {
    .method = PROTO_M_QUEUE_CREATE,
    .fields = queue_create_fields,
    .nfields = NFIELDS(queue_create_fields),
    .size = sizeof(struct proto_p_queue_create),
};

static const struct proto_field queue_name_fields[] = {
    {.name = "name",
     .type = PF_NAME,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_queue, name)},
};
#define QUEUE_SPEC(var, m)                                                                         \
        const struct proto_params_spec var = {                                                     \
            .method = m,                                                                           \
            .fields = queue_name_fields,                                                           \
            .nfields = NFIELDS(queue_name_fields),                                                 \
            .size = sizeof(struct proto_p_queue),                                                  \
        }
QUEUE_SPEC(proto_spec_queue_info, PROTO_M_QUEUE_INFO);
QUEUE_SPEC(proto_spec_queue_purge, PROTO_M_QUEUE_PURGE);
QUEUE_SPEC(proto_spec_queue_delete, PROTO_M_QUEUE_DELETE);
const struct proto_params_spec proto_spec_queue_list = {.method = PROTO_M_QUEUE_LIST,
                                                        .size = sizeof(struct proto_p_none)};

#define QUEUE_FIELD(T)                                                                             \
        {                                                                                          \
                .name = "queue", .type = PF_NAME, .flags = PF_REQUIRED, .off = offsetof(T, queue)  \
        }
static const struct proto_field queue_put_fields[] = {
    QUEUE_FIELD(struct proto_p_queue_put),
    {.name = "data",
     .type = PF_BYTES,
     .flags = PF_REQUIRED,
     .off = offsetof(struct proto_p_queue_put, data),
     .has_off = offsetof(struct proto_p_queue_put, has_data),
     .count_off = offsetof(struct proto_p_queue_put, len),
     .max_len = PROTO_MAX_MESSAGE_DEFAULT},
    {.name = "priority",
     .type = PF_INT,
     .off = offsetof(struct proto_p_queue_put, priority),
     .min = INT32_MIN,
     .max = INT32_MAX},
    {.name = "delay",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_queue_put, delay),
     .max = SECONDS_MAX},
    {.name = "timeout",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_queue_put, timeout),
     .has_off = offsetof(struct proto_p_queue_put, has_timeout),
     .max = SECONDS_MAX},
};
const struct proto_params_spec proto_spec_queue_put = {
    .method = PROTO_M_QUEUE_PUT,
    .fields = queue_put_fields,
    .nfields = NFIELDS(queue_put_fields),
    .size = sizeof(struct proto_p_queue_put),
};

static const struct proto_field queue_get_fields[] = {
    QUEUE_FIELD(struct proto_p_queue_get),
    {.name = "timeout",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_queue_get, timeout),
     .has_off = offsetof(struct proto_p_queue_get, has_timeout),
     .max = SECONDS_MAX},
    {.name = "ack", .type = PF_BOOL, .off = offsetof(struct proto_p_queue_get, ack)},
};
const struct proto_params_spec proto_spec_queue_get = {
    .method = PROTO_M_QUEUE_GET,
    .fields = queue_get_fields,
    .nfields = NFIELDS(queue_get_fields),
    .size = sizeof(struct proto_p_queue_get),
};

#define MSG_ID_FIELD                                                                               \
        {                                                                                          \
                .name = "msg_id", .type = PF_UINT, .flags = PF_REQUIRED,                           \
                .off = offsetof(struct proto_p_queue_msg, msg_id), .min = 1, .max = INT64_MAX      \
        }
static const struct proto_field queue_msg_fields[] = {
    QUEUE_FIELD(struct proto_p_queue_msg),
    MSG_ID_FIELD,
};
static const struct proto_field queue_nack_fields[] = {
    QUEUE_FIELD(struct proto_p_queue_msg),
    MSG_ID_FIELD,
    {.name = "delay",
     .type = PF_SECONDS,
     .off = offsetof(struct proto_p_queue_msg, delay),
     .max = SECONDS_MAX},
};
static const struct proto_field queue_peek_fields[] = {
    QUEUE_FIELD(struct proto_p_queue_msg),
};
#define QUEUE_MSG_SPEC(var, m, rows)                                                               \
        const struct proto_params_spec var = {                                                     \
            .method = m,                                                                           \
            .fields = rows,                                                                        \
            .nfields = NFIELDS(rows),                                                              \
            .size = sizeof(struct proto_p_queue_msg),                                              \
        }
QUEUE_MSG_SPEC(proto_spec_queue_ack, PROTO_M_QUEUE_ACK, queue_msg_fields);
QUEUE_MSG_SPEC(proto_spec_queue_touch, PROTO_M_QUEUE_TOUCH, queue_msg_fields);
QUEUE_MSG_SPEC(proto_spec_queue_nack, PROTO_M_QUEUE_NACK, queue_nack_fields);
QUEUE_MSG_SPEC(proto_spec_queue_peek, PROTO_M_QUEUE_PEEK, queue_peek_fields);

static const char *const stream_names[] = {"both", "stdout", "stderr", NULL};

/* Exactly one of id, name or pool. */
static int
check_logs(const void *params, struct proto_error *err)
{
        const struct proto_p_logs *lp = params;
        int given = lp->t.has_id + (lp->t.name != NULL) + (lp->pool != NULL);

        if (given != 1) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "id",
                                "give exactly one of id, name or pool");
                return -1;
        }
        return 0;
}

static const struct proto_field logs_fields[] = {
    TARGET_ID,
    TARGET_NAME,
    {.name = "pool", .type = PF_NAME, .off = offsetof(struct proto_p_logs, pool)},
    {.name = "stream",
     .type = PF_ENUM,
     .off = offsetof(struct proto_p_logs, stream),
     .enum_names = stream_names},
    {.name = "tail",
     .type = PF_UINT,
     .off = offsetof(struct proto_p_logs, tail),
     .has_off = offsetof(struct proto_p_logs, has_tail),
     .max = 100000000},
    {.name = "follow", .type = PF_BOOL, .off = offsetof(struct proto_p_logs, follow)},
};
const struct proto_params_spec proto_spec_process_logs = {
    .method = PROTO_M_PROCESS_LOGS,
    .fields = logs_fields,
    .nfields = NFIELDS(logs_fields),
    .size = sizeof(struct proto_p_logs),
    .check = check_logs,
};
const struct proto_params_spec proto_spec_daemon_stats = {.method = PROTO_M_DAEMON_STATS,
                                                          .size = sizeof(struct proto_p_none)};
const struct proto_params_spec proto_spec_daemon_reload = {.method = PROTO_M_DAEMON_RELOAD,
                                                           .size = sizeof(struct proto_p_none)};
const struct proto_params_spec proto_spec_daemon_reopen_logs = {
    .method = PROTO_M_DAEMON_REOPEN_LOGS, .size = sizeof(struct proto_p_none)};

static const struct proto_params_spec *const specs[] = {
    &proto_spec_daemon_hello,       &proto_spec_daemon_ping,     &proto_spec_daemon_shutdown,
    &proto_spec_process_spawn,      &proto_spec_process_join,    &proto_spec_process_terminate,
    &proto_spec_process_signal,     &proto_spec_process_info,    &proto_spec_process_list,
    &proto_spec_process_start,      &proto_spec_process_restart, &proto_spec_pool_create,
    &proto_spec_pool_info,          &proto_spec_pool_list,       &proto_spec_pool_scale,
    &proto_spec_pool_restart,       &proto_spec_pool_close,      &proto_spec_pool_join,
    &proto_spec_pool_terminate,     &proto_spec_pool_delete,     &proto_spec_events_subscribe,
    &proto_spec_queue_create,       &proto_spec_queue_info,      &proto_spec_queue_list,
    &proto_spec_queue_purge,        &proto_spec_queue_delete,    &proto_spec_queue_put,
    &proto_spec_queue_get,          &proto_spec_queue_ack,       &proto_spec_queue_nack,
    &proto_spec_queue_touch,        &proto_spec_queue_peek,      &proto_spec_process_logs,
    &proto_spec_daemon_reopen_logs, &proto_spec_daemon_reload,   &proto_spec_daemon_stats,
};

const struct proto_params_spec *
proto_params_lookup(const char *method)
{
        if (method == NULL)
                return NULL;
        for (size_t i = 0; i < NFIELDS(specs); i++) {
                if (strcmp(specs[i]->method, method) == 0)
                        return specs[i];
        }
        return NULL;
}
