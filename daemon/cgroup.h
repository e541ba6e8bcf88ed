/*
 * cgroup.h -- cgroup v2, when corrald is given a delegated subtree
 * (systemd Delegate=yes): corrald moves itself into a leaf, each pool gets
 * a sub-cgroup (memory_max, cpu_max, pids_max when those controllers are
 * available), and each process a sub-cgroup of its pool, so that a
 * terminate kills the whole tree (cgroup.kill) — no grandchild escapes by
 * leaving the process group — and an OOM kill is reported as such.
 * Without delegation everything here is a no-op and corrald says so once:
 * process groups do the work.
 */
#ifndef CORRAL_CGROUP_H
#define CORRAL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

struct corrald;
struct cgroups;

struct cgroups *cgroups_new(void);
void cgroups_free(struct cgroups *);
bool cgroups_enabled(const struct cgroups *);
/* Why not, when not enabled (for logs and daemon.stats). */
const char *cgroups_reason(const struct cgroups *);

/* A pool's cgroup: created on first use; limits 0 / "" mean none. */
int cgroups_pool(struct cgroups *, const char *pool, uint64_t memory_max, const char *cpu_max,
                 uint64_t pids_max);
void cgroups_pool_remove(struct cgroups *, const char *pool);

/*
 * A process's cgroup under its pool: returns an open descriptor of its
 * cgroup.procs for the spawner to write the child into (-1: none), which
 * the caller closes after the spawn.
 */
int cgroups_process_open(struct cgroups *, const char *pool, uint64_t id);
/* Kill everything left in the process's cgroup. */
void cgroups_process_kill(struct cgroups *, const char *pool, uint64_t id);
/* After it ended: was it killed by the OOM killer? Then remove the cgroup. */
bool cgroups_process_done(struct cgroups *, const char *pool, uint64_t id);

#endif
