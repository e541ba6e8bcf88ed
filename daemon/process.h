/*
 * process.h -- supervised process records and the table that owns them.
 *
 * The table owns every record: live ones, ended ones up to the history
 * bound (oldest evicted first), and ended ones pinned for the connection
 * that spawned them until it joins them or closes (process-pin.c). A
 * record keeps its id and name across restarts. It moves through a state
 * machine (process-state.c) driven by events: start, exit, signal death,
 * readiness, timer expiry, terminate, restart, cancellation. Each member
 * of a pool holds one of its slots while starting, running, stopping or
 * backing off.
 */
#ifndef CORRAL_PROCESS_H
#define CORRAL_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <msgpack.h>

#include "policy.h"
#include "proto.h"
#include "request.h"

struct corrald;
struct event;
struct pool;
struct stdin_feed;
struct output;
struct output_config;
struct process_pins;
struct spawn_privs;

enum process_state {
        PROCESS_PENDING = 0, /* waiting for a pool slot or its dependencies */
        PROCESS_STARTING,    /* spawned, not ready yet */
        PROCESS_RUNNING,
        PROCESS_STOPPING,
        PROCESS_BACKOFF, /* waiting to be restarted */
        PROCESS_EXITED,
        PROCESS_KILLED,
        PROCESS_STOPPED,
        PROCESS_FAILED,
        PROCESS_CANCELLED,
        PROCESS_STATE_COUNT
};

enum process_event {
        PROCESS_EV_START = 0, /* a slot is free and dependencies are met */
        PROCESS_EV_EXIT,      /* waitpid: exited */
        PROCESS_EV_SIGNALED,  /* waitpid: killed by a signal */
        PROCESS_EV_READY,     /* READY=1, or min_uptime passed with ready=uptime */
        PROCESS_EV_TIMER,     /* the state's timer: ready timeout, grace, backoff, retry */
        PROCESS_EV_TERMINATE, /* process.terminate, pool.terminate, shutdown */
        PROCESS_EV_RESTART,   /* process.restart / process.start */
        PROCESS_EV_CANCEL,    /* a dependency failed */
        PROCESS_EVENT_COUNT
};

struct process {
        struct process_table *table;
        struct pool *pool; /* NULL once an ended record's pool is deleted */
        char *pool_name;
        uint64_t id;
        char *name;
        /* What to run, kept for restarts. */
        char **argv;
        char **env; /* "K=V" overrides, or NULL */
        bool env_clear;
        char *cwd;
        unsigned char *stdin_data;
        size_t stdin_len;
        bool has_stdin;
        char *stdin_queue; /* or feed stdin from this queue */
        char **extra_env;  /* set by the pool: CORRAL_POOL, CORRAL_WORKER_INDEX */
        int worker_index;  /* -1 unless a replica */
        struct policy policy;
        int priority; /* lower starts first among pending */
        uint64_t seq; /* FIFO order among equal priorities */

        pid_t pid;  /* of the current or last run; also its process group and session */
        bool alive; /* pid is ours and not reaped yet */
        enum process_state state;
        bool ready;
        double created_at;
        double started_at; /* the current (or last) run, wall clock */
        double ended_at;
        double start_mono; /* monotonic start of the current run */
        int exit_code;     /* of the last run: -1 unless it exited */
        int term_signal;
        bool core_dumped;
        bool oom_killed; /* the last run was killed by the OOM killer (cgroups) */
        bool has_ended_once;
        unsigned restarts;
        double delay;   /* the next backoff delay */
        double *starts; /* ring of monotonic start times, start_limit_burst long */
        unsigned nstarts, starts_head;
        char *status;            /* STATUS= from the child */
        char *reason;            /* why it failed or was cancelled */
        bool restart_after_stop; /* process.restart: start again once stopped */
        bool ready_timed_out;
        bool in_ended;        /* on the table's evictable ended list */
        bool roll_started;    /* restarted by its pool's rolling restart */
        uint64_t job_msg_id;  /* a consuming pool's job: the message it works on */
        uint32_t job_attempt; /* and which delivery of it this is */
        struct event *timer;
        struct stdin_feed *feed;
        struct output *output;     /* stdout and stderr, and the buffered lines */
        struct spawn_privs *privs; /* who it runs as, if not its pool's settings (owned) */
        uid_t owner;               /* the client that spawned it (corrald's uid for its own) */
        struct process_pins *pins; /* its spawning connection's, until joined or closed */
        bool pin_ended;            /* on pins->ended (pinned), else on pins->live */

        uint64_t *after; /* ids it waits for; 0 once satisfied */
        unsigned nafter;
        uint64_t *dependents; /* ids waiting for it */
        unsigned ndependents;

        struct request_waitq waiters;       /* woken on a final state */
        struct request_waitq ready_waiters; /* spawn/start wait: "ready" */
        TAILQ_ENTRY(process) entry;         /* the table's list, by id */
        TAILQ_ENTRY(process) ended_entry;   /* the table's ended list */
        TAILQ_ENTRY(process) pool_entry;    /* its pool's members */
        TAILQ_ENTRY(process) pending_entry; /* its pool's pending queue */
        TAILQ_ENTRY(process) pin_entry;     /* pins->live or pins->ended */
};

TAILQ_HEAD(process_list, process);

/*
 * The records one connection spawned (process.spawn), so that its join
 * never misses their final state: ended ones it has not joined are
 * pinned, kept out of the history's eviction, at most max_pinned of them
 * (the oldest pin goes first). Embedded in the connection; the lists
 * hold no reference the record does not hold back (p->pins).
 */
struct process_pins {
        struct process_list live;  /* not ended (again) yet */
        struct process_list ended; /* pinned, in the order they ended */
        unsigned nended;
};

void process_pins_init(struct process_pins *);
/* The connection closes: its pinned records become the history's newest. */
void process_pins_release(struct process_pins *);
/* by collected p's final state (process.join): unpin p if by spawned it. */
void process_unpin(struct process *, const struct process_pins *by);

struct process_table *process_table_new(struct corrald *);
void process_table_free(struct process_table *);
/* Processes that have not reached a final state. */
unsigned process_table_live(const struct process_table *);
unsigned process_table_running(const struct process_table *);
/* Live processes a client spawned. */
unsigned process_table_owned(const struct process_table *, uid_t);
/* Ended records in the history (evictable), and pinned ones (not). */
unsigned process_table_history(const struct process_table *);
unsigned process_table_pinned(const struct process_table *);
struct process_list *process_table_list(struct process_table *);

/* Look up by id or by name (the newest with that name); NULL if none. */
struct process *process_find_id(struct process_table *, uint64_t);
struct process *process_find_name(struct process_table *, const char *);
/* Look up a request's target; answers not_found itself and returns NULL. */
struct process *process_find_target(struct process_table *, const struct proto_target *,
                                    struct request *);

/* What process_new needs beyond the spawn request. */
struct process_spec {
        const struct proto_p_spawn *sp;
        struct pool *pool;
        const char *name;             /* overrides sp->name (replicas) */
        const char *const *extra_env; /* pool-provided variables */
        int worker_index;
        struct spawn_privs *privs; /* given to the process (process_new always takes it), or NULL */
        uid_t owner;
        struct process_pins *pins; /* the spawning connection's (process.spawn), or NULL */
};

/*
 * Create a process and start it now if its pool has a free slot and its
 * dependencies are met, else leave it pending. NULL with *err filled
 * (exists, not_found for a dependency, spawn_failed for an immediate
 * start that could not exec: then no record is kept).
 */
struct process *process_new(struct process_table *, const struct process_spec *,
                            struct proto_error *err);
/* Ask a process to stop: stop signal to its group, KILL after grace. */
void process_terminate(struct process *, int sig, double grace);
/* Stop (if alive) and start again, keeping id and name. */
void process_restart(struct process *);
/* Start a pending process: its pool granted a slot. */
void process_start(struct process *);
/* New program, environment, directory, policy and output for the next run. */
void process_redefine(struct process *, const char *const *argv, const char *const *env,
                      const char *cwd, const struct policy *, const struct output_config *);
/* READY=1 / STATUS= from the notify socket. */
void process_notify(struct process *, bool ready, const char *status);
/* Reap every child that has ended (on SIGCHLD). */
void process_reap_all(struct process_table *);
/* Terminate every live process (shutdown); hurry: KILL at once. */
void process_terminate_all(struct process_table *, bool hurry);
/* The live process whose pid or process group is pid; NULL if none. */
struct process *process_find_pid(struct process_table *, pid_t);

bool process_is_final(const struct process *);
bool process_holds_slot(const struct process *);
const char *process_state_name(enum process_state);
/* Pack the record as the protocol's process map. */
void process_pack(const struct process *, msgpack_packer *);
/* The same map with room for extra key/value pairs the caller packs next. */
void process_pack_extra(const struct process *, msgpack_packer *, unsigned extra);

#endif
