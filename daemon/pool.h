/*
 * pool.h -- named pools: task slots (at most `size` members hold a slot at
 * once; the rest wait, by priority then first come), defaults for their
 * members, optional replicas (`count` copies of one command, named
 * <pool>.<index>), close/join/terminate/delete, rolling restart.
 *
 * The pool table owns the pools; a pool does not own its members (the
 * process table does) but lists them. The pool "default" always exists.
 */
#ifndef CORRAL_POOL_H
#define CORRAL_POOL_H

#include <stdbool.h>
#include <sys/queue.h>

#include <msgpack.h>

#include "output.h"
#include "spawn.h"
#include "policy.h"
#include "process.h"
#include "request.h"

struct corrald;
struct event;
struct pool_table;

struct pool_replicas {
        char **argv;
        char **env; /* "K=V" or NULL */
        char *cwd;
        unsigned count;
};

struct pool_consume {
        char *queue;
        char **argv;
        char **env; /* "K=V" or NULL */
        char *cwd;
};

struct pool {
        struct pool_table *table;
        char *name;
        unsigned size;   /* slots; 0 = unlimited */
        unsigned active; /* members holding a slot */
        unsigned live;   /* members not in a final state */
        struct policy defaults;
        struct output_config output; /* members' stdout/stderr defaults */
        struct spawn_privs *privs;   /* user, group, limits for members; NULL: none */
        uid_t owner;                 /* who made it: its replicas and jobs count as that uid's */
        char *config_fp;             /* from the configuration file: what its members are */
        unsigned config_replicas; /* the replicas the file said last (a reload scales on change) */
        bool closed;
        bool deleting;
        bool creating; /* pool.create is starting its replicas */
        bool has_replicas;
        struct pool_replicas replicas;
        bool has_consume;
        struct pool_consume consume;
        struct process **workers; /* by index, up to replicas.count */
        unsigned nworkers;        /* allocated length of workers */
        struct process_list members;
        struct process_list pending; /* by priority, then seq */
        struct request_waitq join_waiters;
        struct request_waitq delete_waiters;
        /* Rolling restart: members still to restart, one at a time. */
        uint64_t *roll;
        unsigned nroll, roll_pos;
        struct request_waitq roll_waiters;
        struct event *sched_ev; /* starts pending members, from the loop */
        TAILQ_ENTRY(pool) entry;
};

TAILQ_HEAD(pool_list, pool);

struct pool_table *pool_table_new(struct corrald *);
void pool_table_free(struct pool_table *);
struct pool_list *pool_table_list(struct pool_table *);
struct pool *pool_find(struct pool_table *, const char *name);
struct pool *pool_default(struct pool_table *);
/* Find a request's pool by name; answers not_found itself and returns NULL. */
struct pool *pool_find_req(struct pool_table *, const char *name, struct request *);
unsigned pool_table_count(const struct pool_table *);

/* Create a pool from pool.create's parameters; NULL with *err. */
struct pool *pool_create(struct pool_table *, const struct proto_p_pool_create *,
                         struct proto_error *err);
/*
 * The same for a client that is not root (when corrald is): its replicas
 * and jobs run as that client (owner, ownership of the privs passes).
 */
struct pool *pool_create_for(struct pool_table *, const struct proto_p_pool_create *,
                             struct spawn_privs *owner_privs, uid_t owner, struct proto_error *err);
/* A pool with the default settings (a spawn named an unknown pool). */
struct pool *pool_create_default(struct pool_table *, const char *name);
/* The configuration changed the members' definition: take it (members at their restart). */
int pool_redefine(struct pool *, const struct proto_p_pool_create *, struct proto_error *err);
/* Change the replica count: start new workers or stop the highest ones. */
int pool_scale(struct pool *, unsigned count, struct proto_error *err);
void pool_terminate(struct pool *);
/* Start a rolling restart; the requests on roll_waiters hear when done. */
void pool_restart(struct pool *);
/* Remove the pool once its members have ended. */
void pool_delete(struct pool *);

/* Membership and slots, called by the process state machine. */
void pool_add_member(struct pool *, struct process *);
void pool_remove_member(struct pool *, struct process *);
bool pool_slot_free(const struct pool *);
void pool_enqueue(struct pool *, struct process *);
void pool_dequeue(struct pool *, struct process *);
/* Start pending members into free slots, soon (from the loop). */
void pool_schedule(struct pool *);
/* The first pending member whose dependencies are met, or NULL. */
struct process *pool_first_startable(const struct pool *);
/* A member changed state: slots, joins, rolling restart, deletion. */
void pool_member_changed(struct pool *, struct process *, enum process_state from);

/* Messages became ready in queue name: wake the pools consuming it. */
void pool_table_queue_ready(struct pool_table *, const char *name);
/* How many pools consume queue name. */
unsigned pool_table_consumers(struct pool_table *, const char *name);

/* Counts of members by state, for pool.info and events. */
void pool_pack(const struct pool *, msgpack_packer *);
/* Every member has reached a final state (and none is pending). */
bool pool_is_idle(const struct pool *);

#endif
