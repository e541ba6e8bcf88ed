/*
 * process-table.h -- the table's insides, shared by process.c (records,
 * lookups, spawn) and process-state.c (the state machine and reaping).
 */
#ifndef CORRAL_PROCESS_TABLE_H
#define CORRAL_PROCESS_TABLE_H

#include <sys/queue.h>

#include "process.h"

struct process_table {
        struct corrald *daemon;
        struct process_list all;        /* every record, by id */
        struct process_list ended;      /* ended records, oldest first, for the history bound */
        void *by_id, *by_pid, *by_name; /* tsearch trees of struct process * */
        unsigned count, live, ended_count;
        uint64_t next_id;
};

struct process *process_find_pid(struct process_table *, pid_t);
/* The pid has been reaped: it no longer names this process. */
void process_pid_forget(struct process_table *, struct process *);
/* Bookkeeping on entering a final state: wake joins, trim history. May free p. */
void process_ended(struct process_table *, struct process *);

#endif
