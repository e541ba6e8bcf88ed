/*
 * events.h -- the event stream: connections that called events.subscribe
 * receive MessagePack-RPC notifications [2, "event", [{type, ts, ...}]]
 * for process state changes and pool changes, filtered by pool and type.
 * A subscriber that does not read is bounded: past its output cap it gets
 * one "overflow" event and is disconnected, never blocking the daemon.
 */
#ifndef CORRAL_EVENTS_H
#define CORRAL_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct corrald;
struct conn;
struct pool;
struct process;
enum process_state;

struct events;

struct events *events_new(struct corrald *);
void events_free(struct events *);
/* Subscribe conn; pools/types NULL-terminated or NULL for all. */
void events_subscribe(struct events *, struct conn *, const char *const *pools,
                      const char *const *types);
/* The connection is going away. */
void events_unsubscribe(struct events *, struct conn *);
unsigned events_subscribers(const struct events *);

void events_process_state(struct corrald *, const struct process *, enum process_state from);
void events_process_start_limit(struct corrald *, const struct process *);
/* pool.created, pool.scaled, pool.closed, pool.joined, pool.restarted, pool.deleted */
void events_pool(struct corrald *, const struct pool *, const char *type);

struct queue;
/* queue.full, queue.dead_lettered (msg_id set) */
void events_queue(struct corrald *, const struct queue *, const char *type, uint64_t msg_id);

/* The event types a subscriber may ask for. */
bool events_type_valid(const char *);

#endif
