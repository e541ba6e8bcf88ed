/*
 * process.h -- supervised process records and the table that owns them.
 *
 * The table owns every record: live ones, and ended ones up to the
 * history bound (oldest evicted first). A record moves through a small
 * state machine (process-state.c) driven by events: exit, signal death,
 * terminate request, grace expiry.
 */
#ifndef CORRAL_PROCESS_H
#define CORRAL_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <msgpack.h>

#include "proto.h"
#include "request.h"

struct corrald;
struct event;
struct stdin_feed;

enum process_state {
        PROCESS_RUNNING = 0,
        PROCESS_STOPPING,
        PROCESS_EXITED,
        PROCESS_KILLED,
        PROCESS_STOPPED,
        PROCESS_FAILED,
        PROCESS_STATE_COUNT
};

enum process_event {
        PROCESS_EV_EXIT = 0,  /* waitpid: exited */
        PROCESS_EV_SIGNALED,  /* waitpid: killed by a signal */
        PROCESS_EV_TERMINATE, /* process.terminate or shutdown */
        PROCESS_EV_GRACE,     /* the grace timer fired */
        PROCESS_EVENT_COUNT
};

struct process {
        struct process_table *table;
        uint64_t id;
        char *name;
        char *pool;
        char **argv;
        pid_t pid; /* also its process group and session */
        enum process_state state;
        double started_at; /* wall clock */
        double ended_at;
        int exit_code; /* -1 unless it exited */
        int term_signal;
        bool core_dumped;
        int stop_signal; /* of the current terminate */
        double grace;    /* of the current terminate */
        struct event *grace_timer;
        struct stdin_feed *feed;
        struct request_waitq waiters;     /* woken when the process reaches a final state */
        TAILQ_ENTRY(process) entry;       /* the table's list, by id */
        TAILQ_ENTRY(process) ended_entry; /* the table's ended list, while ended */
};

TAILQ_HEAD(process_list, process);

struct process_table *process_table_new(struct corrald *);
void process_table_free(struct process_table *);
/* Processes that have not ended. */
unsigned process_table_live(const struct process_table *);
struct process_list *process_table_list(struct process_table *);

/* Look up by id or by name (the newest with that name); NULL if none. */
struct process *process_find_id(struct process_table *, uint64_t);
struct process *process_find_name(struct process_table *, const char *);
/* Look up a request's target; answers not_found itself and returns NULL. */
struct process *process_find_target(struct process_table *, const struct proto_target *,
                                    struct request *);

/* Start a process; NULL with *err filled (exists, spawn_failed, ...). */
struct process *process_spawn(struct process_table *, const struct proto_p_spawn *,
                              struct proto_error *err);
/* Ask a process to stop: signal its group, KILL after grace seconds. */
void process_terminate(struct process *, int sig, double grace);
/* Reap every child that has ended (on SIGCHLD). */
void process_reap_all(struct process_table *);
/* Reap: called for every pid waitpid() returns. */
void process_reaped(struct process_table *, pid_t, int status);
/* Terminate every live process (shutdown); hurry: KILL at once. */
void process_terminate_all(struct process_table *, bool hurry);

bool process_is_final(const struct process *);
const char *process_state_name(enum process_state);
/* Pack the record as the protocol's process map. */
void process_pack(const struct process *, msgpack_packer *);

#endif
