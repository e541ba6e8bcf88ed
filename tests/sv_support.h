/*
 * sv_support.h -- support for the supervision tests (test_supervise.c,
 * test_pool.c, test_events.c), on top of harness.h.
 *
 * Methods are called through libcorral's generic corral_call(); their
 * parameters are written as jansson json_pack() formats and packed to
 * MessagePack here, so a test reads like the protocol document:
 *
 *     sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv", sv_argv("exit-code", "1", NULL),
 *              "restart", "on-failure", "restart_delay", 0.05);
 *
 * Records, pool records and events are decoded into plain structs with
 * fixed buffers (nothing to free); a malformed one fails the test. Event
 * streams use a raw connection of the harness and keep every event seen,
 * so a test can check order and content after the fact.
 */
#ifndef CORRAL_TEST_SV_SUPPORT_H
#define CORRAL_TEST_SV_SUPPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <msgpack.h>

#include "harness.h"

#ifndef SVC_HELPER_PATH
#error "SVC_HELPER_PATH must be defined by the build"
#endif

/* Generous bounds: a loaded 2-core machine under ASan is slow. */
#define SV_WAIT 20.0

/* ---- daemon and calls --------------------------------------------------- */

/* A daemon (extra args NULL-terminated, may be NULL) and a connection to it. */
void sv_start(struct harness **h, struct corral **c, const char *const *extra);
/* Close, stop the daemon (exit status 0 required), and require no leftovers. */
void sv_stop(struct harness *h, struct corral *c);

/* [SVC_HELPER_PATH, mode, args...]: the args list ends with NULL. */
json_t *sv_argv(const char *mode, ...) __attribute__((sentinel));
/* A JSON value as MessagePack (integers as ints, reals as float64). */
void sv_pack_json(msgpack_packer *, const json_t *);

/*
 * Call method with params built by json_pack(fmt, ...) (fmt NULL: no
 * params). 0 with *res filled (free it with corral_result_free), or -1
 * with *err. res may be NULL.
 */
int sv_callf(struct corral *, const char *method, struct corral_result *res,
             struct corral_error *err, const char *fmt, ...);
int sv_callv(struct corral *, const char *method, struct corral_result *res,
             struct corral_error *err, const char *fmt, va_list ap);

/* ---- process records ---------------------------------------------------- */

struct sv_proc {
        uint64_t id;
        char name[80];
        char pool[80];
        char state[16];
        pid_t pid;
        bool ready;
        double created_at;
        double started_at; /* 0: nil */
        double ended_at;   /* 0: nil */
        bool has_exit_code;
        int exit_code;
        char signal[16]; /* "" when nil */
        bool has_last_exit;
        int last_exit_code;   /* -1 when nil */
        char last_signal[16]; /* "" when nil */
        unsigned restarts;
        char restart[16];
        char status[256]; /* "" when nil */
        bool has_reason;
        char reason[256];
        int worker_index; /* -1 when nil */
};

/* Decode a record, checking the type of every field; fails the test otherwise. */
void sv_proc_decode(const msgpack_object *, struct sv_proc *);

/* process.spawn that must succeed. */
void sv_spawn(struct corral *, struct sv_proc *out, const char *fmt, ...);
/* process.spawn that may fail: 0 or -1 with *err. */
int sv_spawn_try(struct corral *, struct sv_proc *out, struct corral_error *err, const char *fmt,
                 ...);
/* A method with a target {id} returning a record; 0 or -1 with *err. */
int sv_proc_call(struct corral *, const char *method, uint64_t id, struct sv_proc *out,
                 struct corral_error *err, const char *extra_key, const char *extra_val);
void sv_info(struct corral *, uint64_t id, struct sv_proc *out);
/* process.join that must answer within SV_WAIT. */
void sv_join(struct corral *, uint64_t id, struct sv_proc *out);
/* process.terminate {id, wait: true}: the final record. */
void sv_terminate_wait(struct corral *, uint64_t id, struct sv_proc *out);

/*
 * Poll process.info until the record is in state (NULL: any) with at
 * least min_restarts restarts, for up to timeout seconds. The last record
 * seen is in *out either way.
 */
bool sv_wait_proc(struct corral *, uint64_t id, const char *state, unsigned min_restarts,
                  double timeout, struct sv_proc *out);

/* ---- pools -------------------------------------------------------------- */

#define SV_POOL_MEMBERS 64

struct sv_pool {
        char name[80];
        unsigned size, active, live;
        bool closed, rolling;
        bool has_replicas;
        unsigned replicas_count;
        char restart[16];
        unsigned running, pending, starting, stopping, backoff;
        unsigned exited, killed, stopped, failed, cancelled;
        uint64_t members[SV_POOL_MEMBERS];
        size_t nmembers;
};

void sv_pool_decode(const msgpack_object *, struct sv_pool *);
/* A pool method whose result is a pool record; 0 or -1 with *err. out may be NULL. */
int sv_pool_call(struct corral *, const char *method, struct sv_pool *out, struct corral_error *err,
                 const char *fmt, ...);
void sv_pool_info(struct corral *, const char *name, struct sv_pool *out);

/* ---- events ------------------------------------------------------------- */

struct sv_event {
        char type[32];
        double ts;
        /* process.state, process.start_limit */
        uint64_t id;
        char name[80];
        char pool[80];
        char from[16], to[16];
        pid_t pid;
        unsigned restarts;
        bool has_exit_code;
        int exit_code;
        char signal[16];
        bool has_reason;
        char reason[256];
        double retry_after;
        /* pool.* */
        unsigned size, replicas;
        bool closed;
        /* overflow */
        uint64_t queued, limit;
};

struct sv_sub {
        struct raw *raw;
        struct sv_event *ev;
        size_t n, cap;
};

/* Subscribe on a new connection; params from json_pack(fmt, ...) (NULL: none). */
struct sv_sub *sv_subscribe(const struct harness *, const char *fmt, ...);
void sv_sub_free(struct sv_sub *);
/*
 * A request on the subscribed connection (params from json_pack, fmt NULL:
 * none); events that come first are kept. Returns whether it succeeded;
 * the error code is copied into code (32 bytes) when given.
 */
bool sv_sub_request(struct sv_sub *, uint32_t msgid, const char *method, char *code,
                    const char *fmt, ...);
/* Take in what arrives within timeout seconds; returns how many events came. */
size_t sv_sub_poll(struct sv_sub *, double timeout);
/* Read until pred holds (checked after each event) or timeout; pred's result. */
bool sv_sub_wait(struct sv_sub *, bool (*pred)(struct sv_sub *, void *), void *arg, double timeout);
/* process.state events of id into to (NULL: any) among those seen. */
size_t sv_sub_count(const struct sv_sub *, uint64_t id, const char *to);
/* Wait until sv_sub_count(id, to) >= n. */
bool sv_sub_wait_count(struct sv_sub *, uint64_t id, const char *to, size_t n, double timeout);
/* Wait for an event of this type (any pool/process) */
bool sv_sub_wait_type(struct sv_sub *, const char *type, double timeout);
/* Index of the first event at or after start matching type, id (0: any) and to (NULL: any). */
long sv_sub_find(const struct sv_sub *, size_t start, const char *type, uint64_t id,
                 const char *to);
/* "from>to from>to ..." of id's process.state events (0: all), for messages. */
const char *sv_sub_trace(const struct sv_sub *, uint64_t id);

/* ---- miscellany --------------------------------------------------------- */

/* The pid written to path (waits for the file). */
pid_t sv_read_pid(const char *path, double timeout);
/* Lines in a file (0 if missing). */
size_t sv_count_lines(const char *path);
/* Wait until path has at least n lines; whether it has. */
bool sv_wait_lines(const char *path, size_t n, double timeout);
/* Resident set size of pid in KiB, or -1. */
long sv_rss_kb(pid_t);
/* Create an empty file (a go-ahead for wait-file children). */
void sv_touch(const char *path);

/* Scan the daemon's log from *off for needle; advances *off. */
bool sv_log_has(const struct harness *, size_t *off, const char *needle);

#endif
