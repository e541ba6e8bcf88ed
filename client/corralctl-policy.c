/*
 * corralctl-policy.c -- the restart-policy options that spawn, run and
 * `pool create` share (--restart, --success-codes, --start-limit, ...),
 * their help text, and the policy lines of `info`-style output.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "corralctl.h"

/* "0,3,75" into codes (at most 256); false if malformed. */
static bool
parse_codes(const char *s, int *codes, size_t *n)
{
        unsigned long v;
        char *end;

        *n = 0;
        if (*s == '\0')
                return true;
        for (;;) {
                if (*s < '0' || *s > '9' || *n >= 256)
                        return false;
                errno = 0;
                v = strtoul(s, &end, 10);
                if (errno != 0 || v > 255)
                        return false;
                codes[(*n)++] = (int)v;
                if (*end == '\0')
                        return true;
                if (*end != ',')
                        return false;
                s = end + 1;
        }
}

/* "N" or "N/TIME" for --start-limit. */
static bool
parse_start_limit(const char *s, struct corral_policy *p)
{
        unsigned long n;
        char *end;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        n = strtoul(s, &end, 10);
        if (errno != 0 || n > UINT_MAX)
                return false;
        if (*end == '/') {
                if (!ctl_parse_seconds(end + 1, &p->start_limit_interval))
                        return false;
                p->has_start_limit_interval = true;
        } else if (*end != '\0')
                return false;
        p->start_limit_burst = (unsigned)n;
        p->has_start_limit_burst = true;
        return true;
}

/* A TIME option into *v, setting *has. */
static bool
policy_seconds(const char *arg, double *v, bool *has)
{
        if (!ctl_parse_seconds(arg, v))
                return false;
        *has = true;
        return true;
}

bool
ctl_policy_option(struct ctl *ctl, int ch, const char *arg, struct ctl_policy *cp, int *rc)
{
        struct corral_policy *p = &cp->p;
        bool ok = true;

        *rc = CTL_EXIT_OK;
        switch (ch) {
        case CTL_OPT_RESTART:
                if (corral_restart_parse(arg, &p->restart) == -1) {
                        *rc = ctl_usage_error(
                            ctl, "--restart: '%s' is not no, on-failure or always", arg);
                        return true;
                }
                return true;
        case CTL_OPT_SUCCESS_CODES:
                if (!parse_codes(arg, cp->codes, &p->nsuccess_codes)) {
                        *rc = ctl_usage_error(ctl,
                                              "--success-codes: '%s' is not a list of exit codes "
                                              "0..255 such as 0,3",
                                              arg);
                        return true;
                }
                p->success_codes = cp->codes;
                p->has_success_codes = true;
                return true;
        case CTL_OPT_RESTART_DELAY:
                ok = policy_seconds(arg, &p->restart_delay, &p->has_restart_delay);
                break;
        case CTL_OPT_RESTART_DELAY_MAX:
                ok = policy_seconds(arg, &p->restart_delay_max, &p->has_restart_delay_max);
                break;
        case CTL_OPT_MIN_UPTIME:
                ok = policy_seconds(arg, &p->min_uptime, &p->has_min_uptime);
                break;
        case CTL_OPT_START_LIMIT:
                if (!parse_start_limit(arg, p))
                        *rc = ctl_usage_error(ctl, "--start-limit: '%s' is not N or N/TIME", arg);
                return true;
        case CTL_OPT_RETRY_AFTER:
                ok = policy_seconds(arg, &p->failed_retry_after, &p->has_failed_retry_after);
                break;
        case CTL_OPT_READY:
                if (corral_ready_parse(arg, &p->ready) == -1)
                        *rc = ctl_usage_error(ctl, "--ready: '%s' is not spawned, uptime or notify",
                                              arg);
                return true;
        case CTL_OPT_READY_TIMEOUT:
                ok = policy_seconds(arg, &p->ready_timeout, &p->has_ready_timeout);
                break;
        case CTL_OPT_STOP_SIGNAL:
                if ((p->stop_signal = corral_signal_number(arg)) <= 0) {
                        p->stop_signal = 0;
                        *rc = ctl_usage_error(ctl, "--stop-signal: unknown signal '%s'", arg);
                }
                return true;
        case CTL_OPT_GRACE:
                ok = policy_seconds(arg, &p->grace, &p->has_grace);
                break;
        default:
                return false;
        }
        if (!ok)
                *rc = ctl_usage_error(ctl, "invalid time '%s'", arg);
        return true;
}

/* A time of the policy as a `key: value` line, if given. */
static void
print_seconds(int width, const char *key, bool has, double v)
{
        if (has)
                printf("%-*s %gs\n", width, key, v);
}

void
ctl_policy_print(const struct corral_policy *p, int width)
{
        const char *name;
        size_t i;

        if ((name = corral_restart_name(p->restart)) != NULL)
                printf("%-*s %s\n", width, "restart:", name);
        if (p->has_success_codes) {
                printf("%-*s ", width, "success_codes:");
                for (i = 0; i < p->nsuccess_codes; i++)
                        printf("%s%d", i > 0 ? "," : "", p->success_codes[i]);
                printf("%s\n", p->nsuccess_codes == 0 ? "(none)" : "");
        }
        print_seconds(width, "restart_delay:", p->has_restart_delay, p->restart_delay);
        print_seconds(width, "restart_delay_max:", p->has_restart_delay_max, p->restart_delay_max);
        print_seconds(width, "min_uptime:", p->has_min_uptime, p->min_uptime);
        if (p->has_start_limit_burst && p->start_limit_burst == 0)
                printf("%-*s none\n", width, "start_limit:");
        else if (p->has_start_limit_burst)
                printf("%-*s %u in %gs\n", width, "start_limit:", p->start_limit_burst,
                       p->start_limit_interval);
        if (p->has_failed_retry_after && p->failed_retry_after > 0)
                printf("%-*s %gs\n", width, "failed_retry_after:", p->failed_retry_after);
        else if (p->has_failed_retry_after)
                printf("%-*s never\n", width, "failed_retry_after:");
        if ((name = corral_ready_name(p->ready)) != NULL)
                printf("%-*s %s\n", width, "ready:", name);
        print_seconds(width, "ready_timeout:", p->has_ready_timeout, p->ready_timeout);
        if (p->stop_signal > 0 && (name = proto_signal_name(p->stop_signal)) != NULL)
                printf("%-*s %s\n", width, "stop_signal:", name);
        print_seconds(width, "grace:", p->has_grace, p->grace);
}

static int
json_seconds(json_t *obj, const char *key, bool has, double v)
{
        return has ? json_object_set_new(obj, key, json_real(v)) : 0;
}

int
ctl_policy_json(const struct corral_policy *p, json_t *obj)
{
        const char *name;
        json_t *codes;
        size_t i;
        int rc = 0;

        if ((name = corral_restart_name(p->restart)) != NULL)
                rc |= json_object_set_new(obj, "restart", json_string(name));
        if (p->has_success_codes) {
                codes = json_array();
                for (i = 0; i < p->nsuccess_codes; i++)
                        rc |= json_array_append_new(codes, json_integer(p->success_codes[i]));
                rc |= json_object_set_new(obj, "success_codes", codes);
        }
        rc |= json_seconds(obj, "restart_delay", p->has_restart_delay, p->restart_delay);
        rc |=
            json_seconds(obj, "restart_delay_max", p->has_restart_delay_max, p->restart_delay_max);
        rc |= json_seconds(obj, "min_uptime", p->has_min_uptime, p->min_uptime);
        if (p->has_start_limit_burst)
                rc |= json_object_set_new(obj, "start_limit_burst",
                                          json_integer(p->start_limit_burst));
        rc |= json_seconds(obj, "start_limit_interval", p->has_start_limit_interval,
                           p->start_limit_interval);
        rc |= json_seconds(obj, "failed_retry_after", p->has_failed_retry_after,
                           p->failed_retry_after);
        if ((name = corral_ready_name(p->ready)) != NULL)
                rc |= json_object_set_new(obj, "ready", json_string(name));
        rc |= json_seconds(obj, "ready_timeout", p->has_ready_timeout, p->ready_timeout);
        if (p->stop_signal > 0 && (name = proto_signal_name(p->stop_signal)) != NULL)
                rc |= json_object_set_new(obj, "stop_signal", json_string(name));
        rc |= json_seconds(obj, "grace", p->has_grace, p->grace);
        return rc != 0 ? -1 : 0;
}
