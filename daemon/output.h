/*
 * output.h -- what happens to a child's stdout and stderr.
 *
 * Per stream, one of: capture (a pipe read by corrald into the process's
 * bounded line buffer, the default), file:PATH (appended, rotated by size,
 * reopened on SIGUSR1 / daemon.reopen_logs), journal (one journald entry
 * per line with the process name as identifier and POOL / PROCESS_ID
 * fields), queue:NAME (one queue message per line), null, inherit (the
 * daemon's own), and for stderr, stdout (merged into stdout's destination).
 *
 * Reading never blocks the daemon and never grows without bound: the line
 * buffer drops its oldest lines (and counts the bytes lost); a queue that
 * is full, or a follower that does not keep up, makes corrald stop
 * reading the pipe until there is room, so the child is slowed by its own
 * pipe rather than losing lines.
 */
#ifndef CORRAL_OUTPUT_H
#define CORRAL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "logring.h"
#include "proto.h"

struct corrald;
struct conn;
struct process;
struct spawn_req;
struct output;

enum output_kind {
        OUTPUT_CAPTURE = 0,
        OUTPUT_NULL,
        OUTPUT_INHERIT,
        OUTPUT_FILE,
        OUTPUT_JOURNAL,
        OUTPUT_QUEUE,
        OUTPUT_MERGE, /* stderr only: wherever stdout goes */
};

/* A pool's defaults or a process's settings; strings owned by the holder. */
struct output_config {
        char *out; /* spec of stdout; NULL: capture */
        char *err; /* spec of stderr; NULL: capture */
        uint64_t log_buffer;
        uint64_t log_max_bytes; /* file rotation; 0: never */
        unsigned log_backups;
};

#define OUTPUT_LOG_BUFFER_DEFAULT (64u * 1024)
#define OUTPUT_TAIL_DEFAULT       (16u * 1024) /* kept with an ended record */

void output_config_default(struct output_config *);
void output_config_copy(struct output_config *dst, const struct output_config *src);
void output_config_clear(struct output_config *);
/* Overlay what a request gave; -1 with err for a bad spec. */
int output_config_apply(struct output_config *, const struct proto_output *, struct proto_error *);
void output_config_pack_pairs(const struct output_config *, msgpack_packer *);
/* Destinations that must exist now (a queue:NAME's queue); -1 with err. */
int output_config_check(const struct output_config *, struct corrald *, struct proto_error *);
#define OUTPUT_CONFIG_PAIRS 5

struct output *output_new(struct corrald *, struct process *, const struct output_config *);
void output_free(struct output *);
/* New destinations and sizes, taken at the next run (output_prepare). */
void output_reconfigure(struct output *, const struct output_config *);
/*
 * Before a run: make the pipes and fill req's stdout/stderr; -1 with err
 * (e.g. journald unreachable, no such queue). After the spawn (or its
 * failure) call output_spawned(o, ok).
 */
int output_prepare(struct output *, struct spawn_req *, struct proto_error *err);
void output_spawned(struct output *, bool ok);
/* The run ended: read what is left in the pipes now. */
void output_drain(struct output *);
/* The record reached a final state: keep only a bounded tail. */
void output_ended(struct output *);
struct logring *output_ring(struct output *);

/* Pack {stdout: bin, stderr: bin, lost: uint} from the buffered lines (join output). */
void output_pack_tail(struct output *, msgpack_packer *);

/* Reopen every file destination (SIGUSR1, daemon.reopen_logs). */
void output_reopen_files(struct corrald *);

/* Followers: a connection that asked process.logs to follow. */
void output_follow(struct corrald *, struct conn *, uint64_t process_id, const char *pool,
                   unsigned streams);
void output_unfollow_conn(struct corrald *, struct conn *);
/* A process's record ended: tell its followers the stream is over. */
void output_follow_end(struct corrald *, const struct process *);
void output_follows_free(struct corrald *);
void output_files_free(struct corrald *);
bool output_follower_slow(struct corrald *, const struct process *);

#endif
