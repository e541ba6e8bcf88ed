/*
 * corral.h -- libcorral, the C client of corrald.
 *
 * One `struct corral` is one connection to the daemon's Unix socket.
 * Calls are blocking and bounded by the connection's timeout (default
 * 30 s; join adds its own timeout on top, and the calls that wait for
 * something without a bound of their own say so). Every call returns 0
 * on success or -1 with *err filled: err->code is the server's error code
 * ("not_found", ...) or a local one ("connect", "io", "timeout",
 * "protocol", and "invalid_params" for arguments refused before
 * sending). A connection is not thread-safe; use one per thread.
 *
 * Structs the caller allocates grow at their end from one version to the
 * next: zero-initialise them, and rebuild against the installed header.
 */
#ifndef CORRAL_H
#define CORRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CORRAL_PROTOCOL 1

/*
 * libcorral is built with -fvisibility=hidden: only what is marked
 * CORRAL_API is exported from libcorral.so.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define CORRAL_API __attribute__((visibility("default")))
#else
#define CORRAL_API
#endif

struct corral;

struct corral_error {
        char code[32];     /* wire error code, or a local one */
        char field[65];    /* the offending parameter, or "" */
        char message[256]; /* human-readable */
};

/* A decoded msgpack object that owns its bytes (a result, an event). */
struct corral_result {
        msgpack_object obj;
        msgpack_unpacked unpacked;
        char *buf; /* the bytes obj points into */
};

/*
 * The socket path a client uses when none is given: $CORRAL_SOCKET, else
 * /run/corral/corrald.sock for root, else $XDG_RUNTIME_DIR/corral/corrald.sock,
 * else /tmp/corral-UID/corrald.sock. Writes into buf; returns buf or NULL.
 */
CORRAL_API char *corral_default_socket(char *buf, size_t len);

/* Connect to path (NULL: the default). NULL on failure with *err filled. */
CORRAL_API struct corral *corral_connect(const char *path, struct corral_error *err);
CORRAL_API void corral_close(struct corral *);
/* Seconds a call may take before it fails with "timeout" (<= 0: forever). */
CORRAL_API void corral_set_timeout(struct corral *, double seconds);
/* The socket's descriptor, e.g. for poll(). */
CORRAL_API int corral_fd(const struct corral *);

/*
 * A process record as the daemon reports it. state is one of: pending
 * (waiting for a pool slot or for the processes it comes after), starting
 * (spawned, not ready yet), running, stopping, backoff (waiting to be
 * restarted), and the final exited, killed, stopped, failed (could not be
 * kept running: see reason) and cancelled (a process it came after failed).
 */
struct corral_process {
        uint64_t id;
        char *name;
        char *pool;
        char **argv; /* NULL-terminated */
        pid_t pid;   /* 0 if it never ran */
        char state[16];
        double started_at; /* seconds since the epoch */
        double ended_at;   /* 0 while alive */
        int exit_code;     /* -1 unless it exited */
        int signal;        /* 0 unless killed by a signal */
        bool core_dumped;
        /*
         * Supervision (appended; zero, NULL or "" from a daemon that does not
         * send them, except worker_index and last_exit_code, then -1).
         */
        bool ready;         /* running and ready (see corral_policy.ready) */
        unsigned restarts;  /* runs after the first: by its policy, restart or start */
        char restart[16];   /* its restart policy: "no", "on-failure" or "always" */
        char *status;       /* the last STATUS= it sent (sd_notify), or NULL */
        char *reason;       /* why it failed or was cancelled, or NULL */
        int worker_index;   /* its index among its pool's replicas, or -1 */
        double created_at;  /* when the record was made; it may start later */
        int last_exit_code; /* the last run's exit code, even while it is restarted; or -1 */
        int last_signal;    /* the last run's killing signal, or 0 */
};
CORRAL_API void corral_process_clear(struct corral_process *);
/* A shell's view of how it ended: exit code, 128+signal, or -1 if alive. */
CORRAL_API int corral_process_status(const struct corral_process *);

struct corral_hello {
        unsigned protocol;
        char version[32];
        pid_t pid;
        char **methods; /* NULL-terminated */
};
CORRAL_API void corral_hello_clear(struct corral_hello *);

CORRAL_API int corral_hello(struct corral *, struct corral_hello *out, struct corral_error *err);
CORRAL_API int corral_ping(struct corral *, struct corral_error *err);
CORRAL_API int corral_shutdown(struct corral *, struct corral_error *err);

/*
 * Restart policy, readiness and stopping. Every field is optional: zero
 * (and has_* false) means "not given", and then the pool's default applies
 * (the daemon's defaults: restart no, success_codes {0}, restart_delay
 * 0.1 s doubling up to restart_delay_max 30 s, min_uptime 1 s, at most
 * start_limit_burst 5 starts per start_limit_interval 10 s, no
 * failed_retry_after, ready spawned, ready_timeout 30 s, stop_signal TERM,
 * the daemon's grace). Times are in seconds.
 */
enum corral_restart {
        CORRAL_RESTART_DEFAULT = 0, /* not given */
        CORRAL_RESTART_NO,          /* never restart it */
        CORRAL_RESTART_ON_FAILURE, /* when it exits with a code not in success_codes, or a signal */
        CORRAL_RESTART_ALWAYS,     /* whenever it ends on its own */
};
enum corral_ready {
        CORRAL_READY_DEFAULT = 0, /* not given */
        CORRAL_READY_SPAWNED,     /* ready as soon as it runs */
        CORRAL_READY_UPTIME,      /* ready once it has stayed up min_uptime */
        CORRAL_READY_NOTIFY,      /* ready when it sends READY=1 to $NOTIFY_SOCKET */
};
struct corral_policy {
        enum corral_restart restart;
        const int *success_codes; /* exit codes 0..255 counted as success */
        size_t nsuccess_codes;    /* 0 with has_success_codes: no code is success */
        bool has_success_codes;
        double restart_delay; /* the first delay before a restart */
        bool has_restart_delay;
        double restart_delay_max; /* the delay doubles up to this */
        bool has_restart_delay_max;
        double min_uptime; /* a run this long was healthy: the delay starts over */
        bool has_min_uptime;
        unsigned start_limit_burst; /* at most this many starts (0: no limit) ... */
        bool has_start_limit_burst;
        double start_limit_interval; /* ... within this long, else it fails */
        bool has_start_limit_interval;
        double failed_retry_after; /* once failed by the limit, retry after this (0: never) */
        bool has_failed_retry_after;
        enum corral_ready ready;
        double ready_timeout; /* not ready this long after starting: killed, a failed run */
        bool has_ready_timeout;
        int stop_signal; /* 0: not given */
        double grace;    /* after the stop signal, KILL after this long */
        bool has_grace;
};
/* "no", "on-failure", "always"; NULL for DEFAULT or an unknown value. */
CORRAL_API const char *corral_restart_name(enum corral_restart);
/* The policy named s into *out: 0, or -1 if unknown. */
CORRAL_API int corral_restart_parse(const char *s, enum corral_restart *out);
/* "spawned", "uptime", "notify"; NULL for DEFAULT or an unknown value. */
CORRAL_API const char *corral_ready_name(enum corral_ready);
CORRAL_API int corral_ready_parse(const char *s, enum corral_ready *out);

/* A target is an id (name NULL) or a name (id ignored). */
struct corral_target {
        uint64_t id;
        const char *name;
};

/*
 * Zero-initialise, then set what you need: fields left zero are not sent.
 * With wait_ready the call answers once the process is ready (state
 * running), or has ended or failed trying; it may first wait for a pool
 * slot or for the processes it comes after, so the call then waits
 * without the connection's timeout.
 */
struct corral_spawn_opts {
        const char *const *argv; /* NULL-terminated, required */
        const char *name;        /* optional */
        const char *pool;        /* optional */
        const char *const *env;  /* "K=V", NULL-terminated, optional */
        bool env_clear;
        const char *cwd; /* absolute, optional */
        const void *stdin_data;
        size_t stdin_len;
        bool has_stdin;
        /* Supervision (appended): */
        struct corral_policy policy; /* overrides of its pool's defaults */
        bool wait_ready;
        /* Start it only once each of these has exited successfully (pending until then). */
        const struct corral_target *after;
        size_t nafter;
        int priority; /* lower starts first among its pool's pending processes */
        bool has_priority;
};
CORRAL_API int corral_spawn(struct corral *, const struct corral_spawn_opts *,
                            struct corral_process *out, struct corral_error *err);

/* timeout < 0: wait forever; 0: poll. Fails with code "timeout" when it expires. */
CORRAL_API int corral_join(struct corral *, struct corral_target, double timeout,
                           struct corral_process *out, struct corral_error *err);

struct corral_terminate_opts {
        int signal;   /* 0: the daemon's default (TERM) */
        double grace; /* < 0: the daemon's default (10 s) */
        bool wait;
};
CORRAL_API int corral_terminate(struct corral *, struct corral_target,
                                const struct corral_terminate_opts *, struct corral_process *out,
                                struct corral_error *err);
CORRAL_API int corral_signal(struct corral *, struct corral_target, int signal, bool group,
                             struct corral_error *err);
CORRAL_API int corral_info(struct corral *, struct corral_target, struct corral_process *out,
                           struct corral_error *err);
/*
 * Start an ended, failed or cancelled process again, with the same id and
 * name (a live one is left alone). corral_restart() also stops a live one
 * first (its stop signal, KILL after its grace). wait_ready: as for spawn.
 */
CORRAL_API int corral_start(struct corral *, struct corral_target, bool wait_ready,
                            struct corral_process *out, struct corral_error *err);
CORRAL_API int corral_restart(struct corral *, struct corral_target, bool wait_ready,
                              struct corral_process *out, struct corral_error *err);
/* pool NULL: all. *out is an array of *n records; free with corral_process_list_free. */
CORRAL_API int corral_list(struct corral *, const char *pool, bool live_only,
                           struct corral_process **out, size_t *n, struct corral_error *err);
CORRAL_API void corral_process_list_free(struct corral_process *, size_t n);

/*
 * Pools. Every process is in one: "default" unless spawned with a pool
 * name (a pool named for the first time is created with the defaults). A
 * pool has slots (size: how many members may hold one at once, that is be
 * starting, running, stopping or in backoff; 0 = unlimited), defaults for
 * its members' policy, and optionally replicas: count copies of one
 * command, restarted by default (restart "always"), named POOL.INDEX and
 * given $CORRAL_POOL and $CORRAL_WORKER_INDEX.
 */
struct corral_replicas {
        const char *const *argv; /* NULL-terminated, required */
        const char *const *env;  /* "K=V", NULL-terminated, optional */
        const char *cwd;         /* absolute, optional */
        unsigned count;
};
struct corral_pool_opts {
        const char *name; /* required */
        unsigned size;    /* 0: unlimited */
        struct corral_policy policy;
        const struct corral_replicas *replicas; /* NULL: none */
};

/* How many members are in each state. */
struct corral_pool_states {
        unsigned pending, starting, running, stopping, backoff;
        unsigned exited, killed, stopped, failed, cancelled;
};

struct corral_pool {
        char *name;
        unsigned size;   /* 0: unlimited */
        unsigned active; /* members holding a slot */
        unsigned live;   /* members not in a final state */
        bool closed;     /* refuses new processes */
        bool rolling;    /* a rolling restart is under way */
        bool has_replicas;
        unsigned replicas;    /* the replica count (0 without replicas) */
        char **replicas_argv; /* NULL-terminated; NULL without replicas */
        char *replicas_cwd;   /* or NULL */
        struct corral_pool_states states;
        uint64_t *members; /* ids of its members, live and ended */
        size_t nmembers;
        /* Its defaults, every field given; success_codes belongs to the record. */
        struct corral_policy defaults;
};
CORRAL_API void corral_pool_clear(struct corral_pool *);
CORRAL_API void corral_pool_list_free(struct corral_pool *, size_t n);

/* out may be NULL in the calls below; otherwise clear it with corral_pool_clear(). */
CORRAL_API int corral_pool_create(struct corral *, const struct corral_pool_opts *,
                                  struct corral_pool *out, struct corral_error *err);
CORRAL_API int corral_pool_info(struct corral *, const char *name, struct corral_pool *out,
                                struct corral_error *err);
/* *out is an array of *n pools; free with corral_pool_list_free. */
CORRAL_API int corral_pool_list(struct corral *, struct corral_pool **out, size_t *n,
                                struct corral_error *err);
/* Set the replica count: new indices start, the highest stop gracefully. */
CORRAL_API int corral_pool_scale(struct corral *, const char *name, unsigned count,
                                 struct corral_pool *out, struct corral_error *err);
/*
 * Rolling restart: one live member at a time, each waited for until it is
 * running and ready again. Answers when the last one is, so it waits
 * without the connection's timeout.
 */
CORRAL_API int corral_pool_restart(struct corral *, const char *name, struct corral_pool *out,
                                   struct corral_error *err);
/* Refuse new processes (spawn fails with "closed"); members go on. */
CORRAL_API int corral_pool_close(struct corral *, const char *name, struct corral_pool *out,
                                 struct corral_error *err);
/*
 * Wait until every member is in a final state. timeout < 0: forever; 0:
 * poll. Fails with code "timeout" when it expires.
 */
CORRAL_API int corral_pool_join(struct corral *, const char *name, double timeout,
                                struct corral_pool *out, struct corral_error *err);
/*
 * Stop every member (pending ones never start, replicas go to 0). With
 * wait, answer once all have ended (without the connection's timeout).
 */
CORRAL_API int corral_pool_terminate(struct corral *, const char *name, bool wait,
                                     struct corral_pool *out, struct corral_error *err);
/*
 * Close the pool, stop its members and remove it once they have ended;
 * answers then (without the connection's timeout). Ended records keep the
 * pool's name. The default pool cannot be deleted.
 */
CORRAL_API int corral_pool_delete(struct corral *, const char *name, struct corral_error *err);

/*
 * Events. After corral_events_subscribe() the daemon sends the connection
 * an event whenever something happens, and the connection can still make
 * calls: events that arrive while a call waits for its answer are queued
 * (up to CORRAL_EVENT_QUEUE events; beyond that they are dropped and an
 * "overflow" event with "dropped": N takes their place).
 *
 * Types and their fields (every event has type and ts):
 *   process.state        id name pool from to pid restarts exit_code signal reason
 *   process.start_limit  id name pool restarts retry_after
 *   pool.created, pool.scaled, pool.closed, pool.joined, pool.restarted,
 *   pool.deleted         pool size replicas closed
 *   overflow             from the daemon (queued limit): this connection read
 *                        events too slowly and the daemon closes it; from
 *                        libcorral (dropped): its queue was full
 * Fields not modelled below are in raw (see corral_event_field()).
 */
#define CORRAL_EVENT_QUEUE 4096

struct corral_event {
        char type[32];
        double ts;                /* seconds since the epoch */
        uint64_t id;              /* process events, else 0 */
        char *name;               /* process events, else NULL */
        char *pool;               /* or NULL */
        char from[16];            /* process.state, else "" */
        char to[16];              /* process.state, else "" */
        pid_t pid;                /* 0 if none */
        int exit_code;            /* of its last run, or -1 */
        int signal;               /* that ended its last run, or 0 */
        char *reason;             /* or NULL */
        unsigned restarts;        /* process events */
        struct corral_result raw; /* raw.obj: the whole event map */
};
CORRAL_API void corral_event_clear(struct corral_event *);
/* A field of the event's map by name; NULL if absent. Valid until the event is cleared. */
CORRAL_API const msgpack_object *corral_event_field(const struct corral_event *, const char *key);

/*
 * Receive events of these pools and types from now on (NULL-terminated;
 * NULL: all). A second call replaces the filter. Events of processes and
 * pools both match pools; "overflow" is always sent.
 */
CORRAL_API int corral_events_subscribe(struct corral *, const char *const *pools,
                                       const char *const *types, struct corral_error *err);
/*
 * The next event, queued or read from the daemon, waiting up to timeout
 * seconds (< 0: forever; 0: only what has arrived). Returns 1 with *ev
 * filled (clear it with corral_event_clear()), 0 if none came in time,
 * -1 with *err on error, including the daemon closing the connection
 * (code "io"). With poll() on corral_fd(), call it with timeout 0 until
 * it returns 0 before polling again: events may already be buffered.
 */
CORRAL_API int corral_events_next(struct corral *, struct corral_event *ev, double timeout,
                                  struct corral_error *err);
/* Return non-zero to stop corral_events_run(). */
typedef int (*corral_event_fn)(const struct corral_event *, void *userdata);
/*
 * Call fn for each event until it returns non-zero (that value is
 * returned) or the daemon closes the connection (0 is returned); -1 with
 * *err on any other error. Waits without the connection's timeout.
 */
CORRAL_API int corral_events_run(struct corral *, corral_event_fn fn, void *userdata,
                                 struct corral_error *err);

/*
 * Generic call of any method. params is a packed msgpack map (or NULL for
 * none). On success *result holds the decoded result object, valid until
 * corral_result_free(); on a server error, -1 with *err.
 */
CORRAL_API int corral_call(struct corral *, const char *method, const void *params,
                           size_t params_len, struct corral_result *result,
                           struct corral_error *err);
CORRAL_API void corral_result_free(struct corral_result *);
/* Decode a process record object (e.g. from corral_call). 0 or -1. */
CORRAL_API int corral_process_decode(const msgpack_object *, struct corral_process *out);

/* Signal number for "TERM", "SIGTERM", "15"; -1 if unknown. */
CORRAL_API int corral_signal_number(const char *);

#ifdef __cplusplus
}
#endif

#endif
