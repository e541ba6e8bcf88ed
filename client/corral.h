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
 * Where a process's stdout and stderr go, and how much of them is kept;
 * every field optional (NULL or has_* false: the pool's setting, whose
 * defaults are capture, capture, 64 KiB, 0 and 5). A destination is one of:
 *   "capture"     lines kept in a buffer of log_buffer bytes (the oldest
 *                 dropped when full), read with corral_logs()
 *   "file:PATH"   appended to PATH (absolute), rotated past log_max_bytes
 *                 into PATH.1 ... PATH.<log_backups>
 *   "journal"     one journald entry per line
 *   "queue:NAME"  one message per line into that queue
 *   "null", "inherit" (the daemon's own), and for stderr "stdout" (merged)
 */
struct corral_output {
        const char *stdout_to;
        const char *stderr_to;
        uint64_t log_buffer; /* bytes */
        bool has_log_buffer;
        uint64_t log_max_bytes; /* 0: never rotate */
        bool has_log_max_bytes;
        unsigned log_backups;
        bool has_log_backups;
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
        /* Output (appended): */
        struct corral_output output;
        /* Feed its stdin from this queue, one message a line (not with has_stdin). */
        const char *stdin_queue;
        /*
         * Follow its output from the first byte: its lines then come as
         * corral_logs_next() items, as after corral_logs_follow().
         */
        bool follow;
};
CORRAL_API int corral_spawn(struct corral *, const struct corral_spawn_opts *,
                            struct corral_process *out, struct corral_error *err);

/* timeout < 0: wait forever; 0: poll. Fails with code "timeout" when it expires. */
CORRAL_API int corral_join(struct corral *, struct corral_target, double timeout,
                           struct corral_process *out, struct corral_error *err);

/*
 * What a process printed, as kept with its record once it has ended
 * (subprocess.communicate()): the captured lines of each stream joined by
 * newlines, the newest 16 KiB at most; lost counts the bytes dropped
 * before them. Each buffer is NUL-terminated beyond its length (it may
 * hold NUL bytes), or NULL if empty.
 */
struct corral_captured {
        char *stdout_buf;
        size_t stdout_len;
        char *stderr_buf;
        size_t stderr_len;
        uint64_t lost;
};
CORRAL_API void corral_captured_clear(struct corral_captured *);
/* corral_join(), and what it printed into *output (clear it after). */
CORRAL_API int corral_join_output(struct corral *, struct corral_target, double timeout,
                                  struct corral_process *out, struct corral_captured *output,
                                  struct corral_error *err);

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
/*
 * A pool that consumes a queue runs argv once per message of queue, in at
 * most size slots (1 if 0): the message on its stdin, and $CORRAL_QUEUE,
 * $CORRAL_MSG_ID and $CORRAL_ATTEMPT set. An exit code in the pool's
 * success_codes acks the message; any other end returns it to the queue
 * after the pool's restart delay (doubling per attempt).
 */
struct corral_consume {
        const char *queue;       /* required; it must exist */
        const char *const *argv; /* NULL-terminated, required */
        const char *const *env;  /* "K=V", NULL-terminated, optional */
        const char *cwd;         /* absolute, optional */
};
struct corral_pool_opts {
        const char *name; /* required */
        unsigned size;    /* 0: unlimited (1 for a consuming pool) */
        struct corral_policy policy;
        const struct corral_replicas *replicas; /* NULL: none */
        /* Appended: */
        const struct corral_consume *consume; /* NULL: none; not with replicas */
        struct corral_output output;          /* its members' defaults */
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
        /* Appended (NULL or 0 from a daemon that does not send them): */
        bool has_consume;
        char *consume_queue;
        char **consume_argv; /* NULL-terminated */
        char *consume_cwd;   /* or NULL */
        /* Its members' output defaults: stdout_to ... log_backups, all given. */
        char *stdout_to;
        char *stderr_to;
        uint64_t log_buffer;
        uint64_t log_max_bytes;
        unsigned log_backups;
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
 *   queue.full           queue count bytes (a put found it full)
 *   queue.dead_lettered  queue msg_id count bytes
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
 * Queues: named, shared through the daemon (Python's multiprocessing.Queue
 * with beanstalkd's reliable delivery). A message is ready (lowest
 * priority first, then oldest), delayed, or reserved (got with ack, until
 * corral_queue_ack(), nack, the visibility timeout, or the end of the
 * connection or of the supervised process that got it).
 */
enum corral_fsync {
        CORRAL_FSYNC_DEFAULT = 0, /* not given: batch */
        CORRAL_FSYNC_BATCH,       /* puts that arrive together share one fdatasync */
        CORRAL_FSYNC_ALWAYS,      /* one fdatasync per put */
        CORRAL_FSYNC_NEVER,       /* write only: a power loss may lose recent puts */
};
/* "batch", "always", "never"; NULL for DEFAULT or an unknown value. */
CORRAL_API const char *corral_fsync_name(enum corral_fsync);
CORRAL_API int corral_fsync_parse(const char *s, enum corral_fsync *out);

/* Zero-initialise, then set what you need. */
struct corral_queue_opts {
        const char *name;   /* required */
        uint64_t maxsize;   /* messages (every state) before put waits; 0: unlimited */
        uint64_t max_bytes; /* bytes of data before put waits; 0: unlimited */
        bool durable;       /* keep a log in the daemon's state directory */
        enum corral_fsync fsync;
        double visibility_timeout; /* a reservation lasts this long (default 30 s) */
        bool has_visibility_timeout;
        unsigned max_attempts;   /* deliveries before a returning message is dead (0: no limit) */
        const char *dead_letter; /* the queue that gets those (it must exist); NULL: dropped */
};

/* A queue's record. */
struct corral_queue_info {
        char *name;
        bool durable;
        char fsync[16]; /* "batch", "always", "never" */
        uint64_t maxsize;
        uint64_t max_bytes;
        double visibility_timeout;
        unsigned max_attempts;
        char *dead_letter; /* or NULL */
        uint64_t count;    /* messages in every state */
        uint64_t ready;
        uint64_t reserved;
        uint64_t delayed;
        uint64_t bytes;   /* of message data */
        uint64_t getters; /* requests waiting */
        uint64_t putters;
        /* Since the daemon started: */
        uint64_t total_put;
        uint64_t total_got;
        uint64_t total_acked;
        uint64_t total_expired;
        uint64_t total_dead_lettered;
        uint64_t log_bytes; /* the size of a durable queue's log */
};
CORRAL_API void corral_queue_clear(struct corral_queue_info *);
CORRAL_API void corral_queue_list_free(struct corral_queue_info *, size_t n);

/*
 * A message got or peeked. data is NUL-terminated beyond len (it may hold
 * NUL bytes), or NULL when len is 0.
 */
struct corral_message {
        uint64_t msg_id;
        char *data;
        size_t len;
        unsigned attempt; /* deliveries of this message, this one included */
        int priority;
};
CORRAL_API void corral_message_clear(struct corral_message *);

/* out may be NULL; otherwise clear it with corral_queue_clear(). */
CORRAL_API int corral_queue_create(struct corral *, const struct corral_queue_opts *,
                                   struct corral_queue_info *out, struct corral_error *err);
CORRAL_API int corral_queue_info(struct corral *, const char *name, struct corral_queue_info *out,
                                 struct corral_error *err);
/* *out is an array of *n records; free with corral_queue_list_free. */
CORRAL_API int corral_queue_list(struct corral *, struct corral_queue_info **out, size_t *n,
                                 struct corral_error *err);
/* Drop the ready and delayed messages (reserved ones stay); *purged (may be NULL) counts them. */
CORRAL_API int corral_queue_purge(struct corral *, const char *name, uint64_t *purged,
                                  struct corral_error *err);
/* Remove the queue, its messages and its log; waiting calls get "not_found". */
CORRAL_API int corral_queue_delete(struct corral *, const char *name, struct corral_error *err);

struct corral_put_opts {
        int priority; /* lower is delivered first */
        double delay; /* visible only after this long */
        /*
         * When the queue is full: how long to wait for room (0: fail at
         * once with code "full"); without has_timeout, as long as it takes.
         */
        double timeout;
        bool has_timeout;
};
/* Put len bytes; opts may be NULL. *msg_id (may be NULL) is the new message's id. */
CORRAL_API int corral_queue_put(struct corral *, const char *queue, const void *data, size_t len,
                                const struct corral_put_opts *, uint64_t *msg_id,
                                struct corral_error *err);
/*
 * Take the next ready message, waiting up to timeout seconds (< 0:
 * forever; 0: fail at once) for one; fails with code "empty" when none
 * came. With ack it is reserved, not removed: corral_queue_ack() it.
 */
CORRAL_API int corral_queue_get(struct corral *, const char *queue, double timeout, bool ack,
                                struct corral_message *out, struct corral_error *err);
/* The next ready message without taking it; code "empty" if none. */
CORRAL_API int corral_queue_peek(struct corral *, const char *queue, struct corral_message *out,
                                 struct corral_error *err);
/* Remove a reserved message ("not_found" if it is not reserved any more). */
CORRAL_API int corral_queue_ack(struct corral *, const char *queue, uint64_t msg_id,
                                struct corral_error *err);
/* Return a reserved message now, or after delay seconds (> 0). */
CORRAL_API int corral_queue_nack(struct corral *, const char *queue, uint64_t msg_id, double delay,
                                 struct corral_error *err);
/* Extend a reservation by the queue's visibility timeout (into *visibility_timeout, or NULL). */
CORRAL_API int corral_queue_touch(struct corral *, const char *queue, uint64_t msg_id,
                                  double *visibility_timeout, struct corral_error *err);

/*
 * Captured output (destination "capture"): corral_logs() returns the
 * buffered lines of a process, or of every member of a pool interleaved
 * in time order; corral_logs_follow() does the same, then the daemon
 * sends each new line, and the end of a followed process, which
 * corral_logs_next() takes. Like events, they are queued while a call
 * waits for its answer, up to CORRAL_LOG_QUEUE_BYTES of line data; beyond
 * that lines are dropped and one CORRAL_LOG_DROPPED item takes their
 * place.
 */
#define CORRAL_LOG_QUEUE_BYTES (16u * 1024 * 1024)

enum corral_stream {
        CORRAL_STREAM_BOTH = 0, /* in a request: both; never in a line */
        CORRAL_STREAM_STDOUT,
        CORRAL_STREAM_STDERR,
};
/* "both", "stdout", "stderr"; NULL if unknown. */
CORRAL_API const char *corral_stream_name(enum corral_stream);

enum corral_log_kind {
        CORRAL_LOG_LINE = 0, /* a line: every field but state, exit_code, signal, dropped */
        CORRAL_LOG_END,      /* the followed process ended: id, name, state, exit_code, signal */
        CORRAL_LOG_DROPPED,  /* dropped lines (libcorral's queue was full): dropped, len, ts */
};
struct corral_log_line {
        enum corral_log_kind kind;
        uint64_t id;
        char *name;
        char *pool; /* followed lines; NULL in corral_logs()'s answer */
        enum corral_stream stream;
        double ts; /* seconds since the epoch, when corrald read it */
        /*
         * The line without its newline (a line longer than 16 KiB comes
         * in pieces), NUL-terminated beyond len; or NULL if empty.
         */
        char *data;
        size_t len;       /* DROPPED: the bytes of data dropped */
        char state[16];   /* END: its final state */
        int exit_code;    /* END: -1 unless it exited */
        int signal;       /* END: 0 unless a signal ended it */
        uint64_t dropped; /* DROPPED: how many lines */
};
CORRAL_API void corral_log_line_clear(struct corral_log_line *);

struct corral_logs_opts {
        struct corral_target target; /* the process, unless pool is given */
        const char *pool;            /* every member of this pool */
        enum corral_stream stream;   /* BOTH (default), STDOUT or STDERR */
        unsigned tail;               /* only the last tail lines... */
        bool has_tail;               /* ...if set; otherwise all */
};
struct corral_logs {
        struct corral_log_line *lines; /* oldest first */
        size_t nlines;
        uint64_t lost;  /* bytes dropped from the buffers before these lines */
        bool truncated; /* cut to its newest 4 MiB */
        bool ended;     /* the process has ended (following it then gives nothing) */
};
CORRAL_API void corral_logs_clear(struct corral_logs *);

CORRAL_API int corral_logs(struct corral *, const struct corral_logs_opts *,
                           struct corral_logs *out, struct corral_error *err);
/*
 * corral_logs(), then follow: new lines of the process (or of the pool,
 * new members included) arrive, and for a process a CORRAL_LOG_END item
 * when it reaches a final state (none if out->ended). A pool is followed
 * until the connection is closed. The connection may still make calls.
 */
CORRAL_API int corral_logs_follow(struct corral *, const struct corral_logs_opts *,
                                  struct corral_logs *out, struct corral_error *err);
/*
 * The next followed item, waiting up to timeout seconds (< 0: forever;
 * 0: only what has arrived): 1 with *line filled (clear it with
 * corral_log_line_clear()), 0 if none came in time, -1 with *err (code
 * "io" when the daemon closed the connection).
 */
CORRAL_API int corral_logs_next(struct corral *, struct corral_log_line *line, double timeout,
                                struct corral_error *err);
/* Return non-zero to stop corral_logs_run(). */
typedef int (*corral_log_fn)(const struct corral_log_line *, void *userdata);
/*
 * Call fn for each followed item until it returns non-zero (that value is
 * returned), a CORRAL_LOG_END item has been handed to it (0), or the
 * daemon closes the connection (0); -1 with *err on any other error.
 * Waits without the connection's timeout.
 */
CORRAL_API int corral_logs_run(struct corral *, corral_log_fn fn, void *userdata,
                               struct corral_error *err);

/* Reopen every file: destination (after an external logrotate). */
CORRAL_API int corral_reopen_logs(struct corral *, struct corral_error *err);

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
