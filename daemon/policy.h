/*
 * policy.h -- how a process is kept: restart policy, backoff, start
 * limit, readiness and stopping. A pool holds defaults for its members; a
 * spawn may override any of them for one process.
 */
#ifndef CORRAL_POLICY_H
#define CORRAL_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

struct proto_policy;

enum policy_restart { RESTART_NO = 0, RESTART_ON_FAILURE, RESTART_ALWAYS };
enum policy_ready { READY_SPAWNED = 0, READY_UPTIME, READY_NOTIFY };

struct policy {
        enum policy_restart restart;
        uint8_t success[32]; /* bitmap of exit codes counted as success */
        double restart_delay;
        double restart_delay_max;
        double min_uptime;
        unsigned start_limit_burst;
        double start_limit_interval;
        double failed_retry_after; /* 0: stay failed until process.start */
        enum policy_ready ready;
        double ready_timeout;
        int stop_signal;
        double grace;
};

/* The built-in defaults; grace is the daemon's --grace. */
void policy_default(struct policy *, double grace);
/* Overlay the fields a request gave. */
void policy_apply(struct policy *, const struct proto_policy *);
bool policy_is_success(const struct policy *, int exit_code);
const char *policy_restart_name(enum policy_restart);
const char *policy_ready_name(enum policy_ready);
/* Pack the policy's fields as key/value pairs (POLICY_PACK_PAIRS of them). */
#define POLICY_PACK_PAIRS 12
void policy_pack_pairs(const struct policy *, msgpack_packer *);

#endif
