/*
 * state.h -- the runtime changes that survive a restart of corrald (pools
 * made over the socket, replica counts, closed pools), kept in the state
 * directory.
 */
#ifndef CORRAL_STATE_H
#define CORRAL_STATE_H

#include <stdbool.h>

struct corrald;
struct state;

struct state *state_new(struct corrald *);
void state_free(struct state *);
/* Something worth saving changed: save soon (from the loop). */
void state_changed(struct state *);
/* Before the configuration is applied: read the saved replica counts. */
void state_load(struct state *);
/* The saved replica count of configured pool name, if any. */
bool state_saved_replicas(const struct state *, const char *name, unsigned *count);
/* After the configuration is applied: recreate what was saved. */
void state_restore(struct state *);

#endif
