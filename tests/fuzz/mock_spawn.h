/*
 * mock_spawn.h -- the fuzz targets' stand-in for daemon/spawn.c: children
 * that are records in this process, never processes. See mock_spawn.c
 * for the programs it knows.
 */
#ifndef CORRAL_MOCK_SPAWN_H
#define CORRAL_MOCK_SPAWN_H

#include <stdbool.h>

struct corrald;

/* Forget every child and close what they held: between inputs, and daemons. */
void mock_spawn_reset(void);
/*
 * Let every live child do one step of its program (write, read, tell it
 * is ready, end); true if any did something. READY=1 goes to d's process
 * table as the notify socket would deliver it.
 */
bool mock_spawn_step(struct corrald *d);
/* A child has ended and waits to be reaped (process_reap_all()). */
bool mock_spawn_reapable(void);

#endif
