/*
 * corralctl-output.c -- the output options that spawn, run and `pool
 * create` share (--stdout, --stderr, --log-buffer, --log-max-bytes,
 * --log-backups), and a pool's output defaults in `pool info`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "corralctl.h"

void
ctl_output_free(struct ctl_output *co)
{
        free(co->paths[0]);
        free(co->paths[1]);
        memset(co, 0, sizeof *co);
}

/*
 * A destination as given, except that a relative file:PATH is made
 * absolute from corralctl's directory (the daemon's is another). *spec
 * points into arg or into co->paths[i].
 */
static int
output_dest(struct ctl *ctl, const char *opt, const char *arg, struct ctl_output *co, int i,
            const char **spec)
{
        char *dir;

        if (*arg == '\0')
                return ctl_usage_error(ctl, "%s: empty destination", opt);
        if (strncmp(arg, "file:", 5) != 0 || arg[5] == '/') {
                *spec = arg;
                return CTL_EXIT_OK;
        }
        if (arg[5] == '\0')
                return ctl_usage_error(ctl, "%s: file: needs a path", opt);
        if ((dir = ctl_spawn_cwd(NULL)) == NULL) {
                ctl_warn("%s %s: %s", opt, arg, strerror(errno));
                return CTL_EXIT_USAGE;
        }
        free(co->paths[i]);
        if (asprintf(&co->paths[i], "file:%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/",
                     arg + 5) == -1)
                co->paths[i] = NULL;
        free(dir);
        if (co->paths[i] == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        *spec = co->paths[i];
        return CTL_EXIT_OK;
}

bool
ctl_output_option(struct ctl *ctl, int ch, const char *arg, struct ctl_output *co, int *rc)
{
        struct corral_output *o = &co->o;
        uint64_t n;

        *rc = CTL_EXIT_OK;
        switch (ch) {
        case CTL_OPT_STDOUT:
                *rc = output_dest(ctl, "--stdout", arg, co, 0, &o->stdout_to);
                return true;
        case CTL_OPT_STDERR:
                *rc = output_dest(ctl, "--stderr", arg, co, 1, &o->stderr_to);
                return true;
        case CTL_OPT_LOG_BUFFER:
                if (!ctl_parse_bytes(arg, &o->log_buffer))
                        *rc = ctl_usage_error(ctl, "--log-buffer: '%s' is not a size", arg);
                o->has_log_buffer = true;
                return true;
        case CTL_OPT_LOG_MAX_BYTES:
                if (!ctl_parse_bytes(arg, &o->log_max_bytes))
                        *rc = ctl_usage_error(ctl, "--log-max-bytes: '%s' is not a size", arg);
                o->has_log_max_bytes = true;
                return true;
        case CTL_OPT_LOG_BACKUPS:
                if (!ctl_parse_count(arg, 1000000, &n))
                        *rc = ctl_usage_error(ctl, "--log-backups: '%s' is not a count", arg);
                o->log_backups = (unsigned)n;
                o->has_log_backups = true;
                return true;
        default:
                return false;
        }
}

/* 65536 as 64K: the largest unit that divides it. */
static void
format_bytes(uint64_t v, char *buf, size_t len)
{
        static const char units[] = "KMG";
        int u = -1;

        while (u < 2 && v >= 1024 && v % 1024 == 0) {
                v /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, len, "%llu", (unsigned long long)v);
        else
                snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
}

void
ctl_output_print(const struct corral_pool *pool, int width)
{
        char buf[32];

        if (pool->stdout_to == NULL)
                return; /* a daemon without output settings */
        printf("%-*s %s\n", width, "stdout:", pool->stdout_to);
        printf("%-*s %s\n", width, "stderr:", pool->stderr_to != NULL ? pool->stderr_to : "-");
        format_bytes(pool->log_buffer, buf, sizeof buf);
        printf("%-*s %s\n", width, "log_buffer:", buf);
        if (pool->log_max_bytes > 0)
                format_bytes(pool->log_max_bytes, buf, sizeof buf);
        printf("%-*s %s\n", width, "log_max_bytes:", pool->log_max_bytes > 0 ? buf : "never");
        printf("%-*s %u\n", width, "log_backups:", pool->log_backups);
}

int
ctl_output_json(const struct corral_pool *pool, json_t *obj)
{
        int rc = 0;

        if (pool->stdout_to == NULL)
                return 0;
        rc |= json_object_set_new(obj, "stdout",
                                  ctl_json_bytes(pool->stdout_to, strlen(pool->stdout_to)));
        rc |= json_object_set_new(obj, "stderr",
                                  pool->stderr_to != NULL
                                      ? ctl_json_bytes(pool->stderr_to, strlen(pool->stderr_to))
                                      : json_null());
        rc |= json_object_set_new(obj, "log_buffer", json_integer((json_int_t)pool->log_buffer));
        rc |= json_object_set_new(obj, "log_max_bytes",
                                  json_integer((json_int_t)pool->log_max_bytes));
        rc |= json_object_set_new(obj, "log_backups", json_integer(pool->log_backups));
        return rc != 0 ? -1 : 0;
}
