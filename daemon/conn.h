/*
 * conn.h -- one client connection: a bufferevent, a proto_reader, and
 * the requests it has in flight. Owned by the daemon's conn list; a
 * connection is never freed inside its own callbacks but marked dead and
 * freed from the loop (conn_reap).
 */
#ifndef CORRAL_CONN_H
#define CORRAL_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct corrald;
struct conn;
struct request;

/* Take ownership of an accepted, non-blocking, close-on-exec socket. */
struct conn *conn_new(struct corrald *, int fd);
/* Free every connection marked dead (from the loop). */
void conn_reap(struct corrald *);
/* Free every connection now (daemon teardown). */
void conn_free_all(struct corrald *);
/* Flush and close every connection (the daemon is stopping). */
void conn_close_all(struct corrald *);
/* Queue bytes to the client; drops the connection if it falls too far behind. */
void conn_write(struct conn *, const void *, size_t);
/* Around a callback's work: what it writes to each connection goes out in one write at the end. */
void conn_batch_begin(struct corrald *);
void conn_batch_end(struct corrald *);
/* Write what the open batch has gathered now, before something slow (a spawn). */
void conn_batch_flush(struct corrald *);
/*
 * Queue an event to a subscriber: past the subscriber's backlog cap it
 * gets one overflow event and is disconnected.
 */
void conn_write_event(struct conn *, const void *, size_t);
void conn_set_subscribed(struct conn *, bool);
/* It follows some process's output (process.logs with follow). */
void conn_set_following(struct conn *, bool);
struct proto_msg;
struct proto_error;
/* Answer a stream-level error and hang up: the peer is not speaking the protocol. */
void conn_fail(struct conn *, const struct proto_msg *, const struct proto_error *);
/* Stop reading, flush what is queued (at most a few seconds), then close. */
void conn_close_after_flush(struct conn *);
/* Bytes still queued to the client. */
size_t conn_output_pending(const struct conn *);

/* Requests: the conn keeps the list of those parked so it can cancel them. */
void conn_request_parked(struct conn *, struct request *);
void conn_request_unparked(struct conn *, struct request *);
unsigned conn_parked_count(const struct conn *);

/* Queue reservations held by this connection (so closing it knows to release). */
void conn_reservations_add(struct conn *, int delta);
unsigned conn_reservations(const struct conn *);

struct process_pins;
/* The processes it spawned, pinned for its joins (process-pin.c). */
struct process_pins *conn_pins(struct conn *);

struct access_grant;
/* What the peer may do (from the [access] rules at accept or the last reload). */
const struct access_grant *conn_grant(const struct conn *);
/* Recompute every connection's grant (the rules changed). */
void conn_regrant_all(struct corrald *);
gid_t conn_peer_gid(const struct conn *);
/* Its supplementary groups, as recorded at accept. */
const gid_t *conn_peer_groups_list(const struct conn *, size_t *n);

/* The peer's credentials, from SO_PEERCRED at accept. */
pid_t conn_peer_pid(const struct conn *);
uid_t conn_peer_uid(const struct conn *);
uint64_t conn_id(const struct conn *);

#endif
