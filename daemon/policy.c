/* policy.c -- restart policy defaults, overrides and wire form. */
#include <signal.h>
#include <string.h>

#include "policy.h"
#include "proto.h"

void
policy_default(struct policy *p, double grace)
{
        memset(p, 0, sizeof *p);
        p->restart = RESTART_NO;
        p->success[0] = 1; /* exit code 0 */
        p->restart_delay = 0.1;
        p->restart_delay_max = 30;
        p->min_uptime = 1;
        p->start_limit_burst = 5;
        p->start_limit_interval = 10;
        p->failed_retry_after = 0;
        p->ready = READY_SPAWNED;
        p->ready_timeout = 30;
        p->stop_signal = SIGTERM;
        p->grace = grace;
}

void
policy_apply(struct policy *p, const struct proto_policy *o)
{
        size_t i;

        if (o->has_restart)
                p->restart = (enum policy_restart)o->restart;
        if (o->has_success_codes) {
                memset(p->success, 0, sizeof p->success);
                for (i = 0; i < o->nsuccess_codes; i++)
                        p->success[o->success_codes[i] / 8] |= 1u << (o->success_codes[i] % 8);
        }
        if (o->has_restart_delay)
                p->restart_delay = o->restart_delay;
        if (o->has_restart_delay_max)
                p->restart_delay_max = o->restart_delay_max;
        if (o->has_min_uptime)
                p->min_uptime = o->min_uptime;
        if (o->has_start_limit_burst)
                p->start_limit_burst = (unsigned)o->start_limit_burst;
        if (o->has_start_limit_interval)
                p->start_limit_interval = o->start_limit_interval;
        if (o->has_failed_retry_after)
                p->failed_retry_after = o->failed_retry_after;
        if (o->has_ready)
                p->ready = (enum policy_ready)o->ready;
        if (o->has_ready_timeout)
                p->ready_timeout = o->ready_timeout;
        if (o->has_stop_signal)
                p->stop_signal = o->stop_signal;
        if (o->has_grace)
                p->grace = o->grace;
        /* A maximum below the first delay would shrink the backoff. */
        if (p->restart_delay_max < p->restart_delay)
                p->restart_delay_max = p->restart_delay;
}

bool
policy_is_success(const struct policy *p, int code)
{
        return code >= 0 && code < 256 && (p->success[code / 8] & (1u << (code % 8)));
}

const char *
policy_restart_name(enum policy_restart r)
{
        static const char *const names[] = {"no", "on-failure", "always"};

        return names[r];
}

const char *
policy_ready_name(enum policy_ready r)
{
        static const char *const names[] = {"spawned", "uptime", "notify"};

        return names[r];
}

void
policy_pack_pairs(const struct policy *p, msgpack_packer *pk)
{
        unsigned code, n = 0;

        proto_pack_kv_str(pk, "restart", policy_restart_name(p->restart));
        proto_pack_str(pk, "success_codes");
        for (code = 0; code < 256; code++)
                n += policy_is_success(p, (int)code);
        msgpack_pack_array(pk, n);
        for (code = 0; code < 256; code++) {
                if (policy_is_success(p, (int)code))
                        msgpack_pack_int(pk, (int)code);
        }
        proto_pack_kv_double(pk, "restart_delay", p->restart_delay);
        proto_pack_kv_double(pk, "restart_delay_max", p->restart_delay_max);
        proto_pack_kv_double(pk, "min_uptime", p->min_uptime);
        proto_pack_kv_uint(pk, "start_limit_burst", p->start_limit_burst);
        proto_pack_kv_double(pk, "start_limit_interval", p->start_limit_interval);
        proto_pack_kv_double(pk, "failed_retry_after", p->failed_retry_after);
        proto_pack_kv_str(pk, "ready", policy_ready_name(p->ready));
        proto_pack_kv_double(pk, "ready_timeout", p->ready_timeout);
        proto_pack_kv_str(pk, "stop_signal", proto_signal_name(p->stop_signal));
        proto_pack_kv_double(pk, "grace", p->grace);
}
