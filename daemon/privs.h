/*
 * privs.h -- a pool's user, group, umask, limits, nice and OOM score,
 * resolved once (names to ids, supplementary groups) into what the
 * spawner applies in the child before exec.
 */
#ifndef CORRAL_PRIVS_H
#define CORRAL_PRIVS_H

#include "proto.h"
#include "spawn.h"

/* NULL with nothing to apply (and no error); -1 sets *err. Free with privs_free. */
int privs_resolve(const struct proto_privs *, struct spawn_privs **out, struct proto_error *err);
void privs_free(struct spawn_privs *);
/*
 * A client's own identity (uid, gid and the groups recorded when it
 * connected), keeping base's other settings: what a non-root client's
 * children run as when corrald is root.
 */
struct spawn_privs *privs_for_peer(uid_t, gid_t, const gid_t *groups, size_t ngroups,
                                   const struct spawn_privs *base);
/* The settings as key/value pairs for pool.info (PRIVS_PACK_PAIRS of them). */
#define PRIVS_PACK_PAIRS 3
void privs_pack_pairs(const struct spawn_privs *, msgpack_packer *);

#endif
