/*
 * process-table.h -- the table's insides, shared by process.c (records,
 * lookups, creation, wire form) and process-state.c (the state machine
 * and reaping).
 */
#ifndef CORRAL_PROCESS_TABLE_H
#define CORRAL_PROCESS_TABLE_H

#include <sys/queue.h>

#include "process.h"

struct process_table {
        struct corrald *daemon;
        struct process_list all;        /* every record, by id */
        struct process_list ended;      /* evictable ended records, oldest first */
        void *by_id, *by_pid, *by_name; /* tsearch trees of struct process * */
        unsigned count, live, running, ended_count;
        unsigned pinned; /* ended records pinned by connections, not in ended_count */
        uint64_t next_id;
        uint64_t next_seq;
        struct event *trim_ev; /* evicts old records from the loop, never mid-transition */
};

/* The pid has been reaped, or a new run has a new pid. */
void process_pid_forget(struct process_table *, struct process *);
void process_pid_learn(struct process_table *, struct process *);
/* Register a new record: maps, pool membership. */
void process_register(struct process_table *, struct process *);
/* Entering or leaving a final state: joins, dependents, history. */
void process_ended(struct process_table *, struct process *);
void process_revived(struct process_table *, struct process *);
/* Make an ended record evictable, as the history's newest. */
void process_history_add(struct process_table *, struct process *);
/* Pinning (process-pin.c): p follows its life on its spawner's lists. */
void process_pin_attach(struct process *, struct process_pins *);
void process_pin_ended(struct process *);
void process_pin_revived(struct process *);
/* Unpin the oldest ended records of pins beyond max_pinned. */
void process_pins_bound(struct process_table *, struct process_pins *);
/* Off its spawner's lists without entering the history (the record is freed). */
void process_pin_drop(struct process *);
/* Run p's program now; 0, or -1 with err (spawn_failed) and errno. */
int process_exec(struct process *, struct proto_error *err);
/* The record just started a run (pid known): bookkeeping and state. */
void process_launched(struct process *);
/* Free a record that was never registered, or was just unregistered. */
void process_free(struct process *);
/* A new record that cannot start yet: queue it in its pool. */
void process_wait_turn(struct process *);
/* p reached a final state: satisfy or cancel the processes waiting for it. */
void process_wake_dependents(struct process *);
/* Settle already-ended dependencies, register with live ones; the first failed one or NULL. */
struct process *process_link_dependencies(struct process *);
bool process_deps_met(const struct process *);
/* Cancel q because dep ended without success. */
void process_cancel_for(struct process *q, const struct process *dep);
double process_now(void);
double process_mono(void);

#endif
