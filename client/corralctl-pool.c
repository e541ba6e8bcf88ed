/*
 * corralctl-pool.c -- `corralctl pool SUBCOMMAND`: create, info, list,
 * scale, restart, close, join, terminate and delete a pool. Each
 * subcommand is a `struct ctl_cmd` of its own (named "pool create" so
 * that usage and help read right); `pool` dispatches among them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "corralctl.h"

/* Long-only options of pool create. */
enum {
        OPT_SIZE = 256,
        OPT_REPLICAS,
        OPT_CONSUME,
};

/* The width of the keys of `pool info`. */
#define POOL_KEY_WIDTH 19

static bool
parse_count(const char *s, unsigned *out)
{
        unsigned long v;
        char *end;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > 1000000000UL)
                return false;
        *out = (unsigned)v;
        return true;
}

/* Print a pool as JSON with --json (otherwise nothing), and clear it. */
static int
pool_out(struct ctl *ctl, struct corral_pool *pool)
{
        int rc = CTL_EXIT_OK;

        if (ctl->json)
                rc = ctl_json_print(ctl_json_pool(pool));
        corral_pool_clear(pool);
        return rc;
}

/*
 * The usual shape: options (common only), then NAME; then connect. False
 * when the command is done (--help, usage error, no connection) with *rc
 * its status.
 */
static bool
pool_name_arg(struct ctl *ctl, int argc, char **argv, const char **name, int *rc)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        int ch;

        if ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1) {
                *rc = ctl_option_other(ctl, ch);
                return false;
        }
        if ((*rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK)
                return false;
        *name = argv[optind];
        return (*rc = ctl_connect(ctl)) == CTL_EXIT_OK;
}

/* What pool create parsed, and the memory behind it. */
struct create_args {
        struct corral_pool_opts o;
        struct corral_replicas r;
        struct corral_consume q;
        struct ctl_policy policy;
        struct ctl_output output;
        char **env;
        size_t nenv;
        const char *cwd_arg;
        char *cwd;
        bool has_count;
};

static void
create_args_free(struct create_args *a)
{
        size_t i;

        for (i = 0; i < a->nenv; i++)
                free(a->env[i]);
        free(a->env);
        free(a->cwd);
        ctl_output_free(&a->output);
}

static int
create_option(struct ctl *ctl, int ch, struct create_args *a)
{
        char *cause = NULL;
        int rc;

        switch (ch) {
        case OPT_SIZE:
                if (!parse_count(optarg, &a->o.size))
                        return ctl_usage_error(ctl, "--size: '%s' is not a count", optarg);
                return CTL_EXIT_OK;
        case OPT_REPLICAS:
                if (!parse_count(optarg, &a->r.count))
                        return ctl_usage_error(ctl, "--replicas: '%s' is not a count", optarg);
                a->has_count = true;
                return CTL_EXIT_OK;
        case OPT_CONSUME:
                a->q.queue = optarg;
                return CTL_EXIT_OK;
        case 'e':
                if ((a->env[a->nenv] = ctl_env_arg(optarg, &cause)) == NULL) {
                        rc = ctl_usage_error(ctl, "--env %s: %s", optarg,
                                             cause != NULL ? cause : "out of memory");
                        free(cause);
                        return rc;
                }
                a->nenv++;
                return CTL_EXIT_OK;
        case 'w':
                a->cwd_arg = optarg;
                return CTL_EXIT_OK;
        default:
                return ctl_option_other(ctl, ch);
        }
}

/*
 * The command of the replicas (or of the jobs, with --consume), its
 * environment and directory, once the options are read.
 */
static int
create_replicas(struct ctl *ctl, int argc, char **argv, struct create_args *a)
{
        const char *what = a->q.queue != NULL ? "--consume" : "--replicas";

        if (a->q.queue != NULL && a->has_count)
                return ctl_usage_error(ctl, "a pool has --replicas or --consume, not both");
        if (optind + 1 == argc) {
                if (a->has_count || a->q.queue != NULL)
                        return ctl_usage_error(ctl,
                                               "%s needs the command to run: "
                                               "-- COMMAND [ARGS...]",
                                               what);
                if (a->nenv > 0 || a->cwd_arg != NULL)
                        return ctl_usage_error(ctl, "--env and --cwd are for the replicas' "
                                                    "command, and there is none");
                return CTL_EXIT_OK;
        }
        if (!a->has_count)
                a->r.count = 1;
        if (a->cwd_arg != NULL && *a->cwd_arg == '\0')
                return ctl_usage_error(ctl, "--cwd: empty directory");
        if ((a->cwd = ctl_spawn_cwd(a->cwd_arg)) == NULL && a->cwd_arg != NULL) {
                ctl_warn("--cwd %s: %s", a->cwd_arg, strerror(errno));
                return CTL_EXIT_USAGE;
        }
        if (a->q.queue != NULL) {
                a->q.argv = (const char *const *)argv + optind + 1;
                a->q.env = a->nenv > 0 ? (const char *const *)a->env : NULL;
                a->q.cwd = a->cwd;
                a->o.consume = &a->q;
                return CTL_EXIT_OK;
        }
        a->r.argv = (const char *const *)argv + optind + 1;
        a->r.env = a->nenv > 0 ? (const char *const *)a->env : NULL;
        a->r.cwd = a->cwd;
        a->o.replicas = &a->r;
        return CTL_EXIT_OK;
}

static int
pool_create_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"size", required_argument, NULL, OPT_SIZE},
            {"replicas", required_argument, NULL, OPT_REPLICAS},
            {"consume", required_argument, NULL, OPT_CONSUME},
            {"env", required_argument, NULL, 'e'},
            {"cwd", required_argument, NULL, 'w'},
            CTL_POLICY_OPTIONS,
            CTL_OUTPUT_OPTIONS,
            CTL_COMMON_OPTIONS,
        };
        struct create_args a;
        struct corral_pool pool;
        struct corral_error err;
        int ch, rc = CTL_EXIT_OK;

        memset(&a, 0, sizeof a);
        if ((a.env = calloc((size_t)argc + 1, sizeof *a.env)) == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        /* Options may follow NAME; the command comes after --. */
        while ((ch = ctl_getopt(ctl, argc, argv, "e:w:", opts, false)) != -1) {
                if (!ctl_policy_option(ctl, ch, optarg, &a.policy, &rc) &&
                    !ctl_output_option(ctl, ch, optarg, &a.output, &rc))
                        rc = create_option(ctl, ch, &a);
                if (rc != CTL_EXIT_OK || ch == 'h')
                        goto out;
        }
        if (optind == argc) {
                rc = ctl_usage_error(ctl, "missing the pool's name");
                goto out;
        }
        if ((rc = create_replicas(ctl, argc, argv, &a)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                goto out;
        a.o.name = argv[optind];
        a.o.policy = a.policy.p;
        a.o.output = a.output.o;
        if (corral_pool_create(ctl->conn, &a.o, &pool, &err) == -1)
                rc = ctl_fail(ctl, &err);
        else
                rc = pool_out(ctl, &pool);
out:
        create_args_free(&a);
        return rc;
}

static const struct ctl_cmd pool_create = {
    .name = "pool create",
    .run = pool_create_run,
    .usage = "NAME [--size N] [OPTIONS]\n"
             "       [--replicas N | --consume QUEUE] [-e K=V] [-w DIR] [-- COMMAND ARGS...]",
    .summary = "Create a pool: slots, defaults, replicas or a queue to consume",
    .help = "Creates the pool NAME. At most --size of its members hold a slot at once\n"
            "(starting, running, stopping or in backoff); the others wait, pending, in\n"
            "order of priority then arrival. Its members get the policy options as\n"
            "defaults, which spawn's own options override.\n"
            "\n"
            "With a COMMAND, the pool runs --replicas copies of it (1 if not given),\n"
            "named NAME.0, NAME.1, ..., with $CORRAL_POOL and $CORRAL_WORKER_INDEX set,\n"
            "restarted whenever they end (--restart always, unless given otherwise).\n"
            "They run in corralctl's working directory unless --cwd says otherwise.\n"
            "`pool scale` changes their count.\n"
            "\n"
            "With --consume QUEUE instead, the pool runs COMMAND once per message of\n"
            "QUEUE (which must exist), in at most --size slots (1 if not given): the\n"
            "message on its stdin, $CORRAL_QUEUE, $CORRAL_MSG_ID and $CORRAL_ATTEMPT set.\n"
            "An exit code in --success-codes acks the message; any other end returns it\n"
            "to the queue after --restart-delay (doubled per attempt, up to\n"
            "--restart-delay-max), and past the queue's --max-attempts it goes to its\n"
            "dead letters. --restart does not apply: each message is one process.\n"
            "\n"
            "A pool that spawn names for the first time is created with the defaults;\n"
            "create it first to choose its settings. Prints nothing, or the pool with\n"
            "--json.\n",
    .options = "      --size N         slots (default 0: unlimited; 1 with --consume)\n"
               "      --replicas N     run N copies of COMMAND\n"
               "      --consume QUEUE  run COMMAND once per message of QUEUE\n"
               "  -e, --env K=V        an environment variable of COMMAND (repeatable);\n"
               "                       --env K passes K's value from corralctl's environment\n"
               "  -w, --cwd DIR        COMMAND's directory (relative: to corralctl's)\n"
               "\n"
               "Output defaults of its members:\n" CTL_OUTPUT_HELP_LINES "\n"
               "Policy defaults of its members:\n" CTL_POLICY_HELP_LINES "\n"
               "Common options:\n",
    .example = "  corralctl pool create batch --size 4 --restart on-failure\n"
               "  corralctl pool create web --replicas 3 --ready notify -- ./server\n"
               "  corralctl pool create resize --size 8 --consume images -- ./resize.sh\n",
};

/* "running=3 pending=1": the counts that are not 0. */
static void
format_states(const struct corral_pool *pool, char *buf, size_t len)
{
        const struct corral_pool_states *s = &pool->states;
        const struct {
                const char *name;
                unsigned n;
        } v[] = {
            {"pending", s->pending},     {"starting", s->starting}, {"running", s->running},
            {"stopping", s->stopping},   {"backoff", s->backoff},   {"exited", s->exited},
            {"killed", s->killed},       {"stopped", s->stopped},   {"failed", s->failed},
            {"cancelled", s->cancelled},
        };
        size_t i, off = 0;
        int n;

        buf[0] = '\0';
        for (i = 0; i < sizeof v / sizeof v[0]; i++) {
                if (v[i].n == 0)
                        continue;
                n = snprintf(buf + off, len - off, "%s%s=%u", off > 0 ? " " : "", v[i].name,
                             v[i].n);
                if (n < 0 || (size_t)n >= len - off)
                        break;
                off += (size_t)n;
        }
        if (pool->rolling)
                snprintf(buf + off, len - off, "%s(rolling restart)", off > 0 ? " " : "");
        else if (off == 0)
                snprintf(buf, len, "-");
}

static void
info_print(const struct corral_pool *pool)
{
        char states[256];
        size_t i;
        const int w = POOL_KEY_WIDTH;

        printf("%-*s %s\n", w, "name:", pool->name);
        if (pool->size > 0)
                printf("%-*s %u\n", w, "size:", pool->size);
        else
                printf("%-*s unlimited\n", w, "size:");
        printf("%-*s %u\n", w, "active:", pool->active);
        printf("%-*s %u\n", w, "live:", pool->live);
        printf("%-*s %s\n", w, "closed:", pool->closed ? "yes" : "no");
        printf("%-*s %s\n", w, "rolling:", pool->rolling ? "yes" : "no");
        if (pool->has_replicas) {
                printf("%-*s %u:", w, "replicas:", pool->replicas);
                for (i = 0; pool->replicas_argv != NULL && pool->replicas_argv[i] != NULL; i++)
                        printf(" %s", pool->replicas_argv[i]);
                putchar('\n');
                if (pool->replicas_cwd != NULL)
                        printf("%-*s %s\n", w, "replicas_cwd:", pool->replicas_cwd);
        } else
                printf("%-*s -\n", w, "replicas:");
        if (pool->has_consume) {
                printf("%-*s %s:", w, "consume:", pool->consume_queue);
                for (i = 0; pool->consume_argv != NULL && pool->consume_argv[i] != NULL; i++)
                        printf(" %s", pool->consume_argv[i]);
                putchar('\n');
                if (pool->consume_cwd != NULL)
                        printf("%-*s %s\n", w, "consume_cwd:", pool->consume_cwd);
        }
        format_states(pool, states, sizeof states);
        printf("%-*s %s\n", w, "states:", states);
        printf("%-*s", w, "members:");
        for (i = 0; i < pool->nmembers; i++)
                printf(" %llu", (unsigned long long)pool->members[i]);
        printf("%s\n", pool->nmembers == 0 ? " -" : "");
        ctl_policy_print(&pool->defaults, w);
        ctl_output_print(pool, w);
}

static int
pool_info_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_pool pool;
        struct corral_error err;
        const char *name = NULL;
        int rc;

        if (!pool_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_pool_info(ctl->conn, name, &pool, &err) == -1)
                return ctl_fail(ctl, &err);
        if (!ctl->json)
                info_print(&pool);
        return pool_out(ctl, &pool);
}

static const struct ctl_cmd pool_info = {
    .name = "pool info",
    .run = pool_info_run,
    .usage = "NAME",
    .summary = "Show a pool: slots, counts, replicas, members and defaults",
    .help = "Prints `key: value` lines: name, size (slots), active (members holding a\n"
            "slot), live (members not ended), closed, rolling (a rolling restart is\n"
            "under way), replicas (count and command), consume (the queue and command\n"
            "of a pool that consumes one), states (how many members are in each state,\n"
            "those not 0), members (their ids), then the policy and output defaults.\n",
};

enum {
        PCOL_NAME,
        PCOL_SIZE,
        PCOL_ACTIVE,
        PCOL_LIVE,
        PCOL_REPLICAS,
        PCOL_CLOSED,
        PCOL_STATES,
        NPCOLS
};

static const char *const list_headers[NPCOLS] = {"NAME",     "SIZE",   "ACTIVE", "LIVE",
                                                 "REPLICAS", "CLOSED", "STATES"};

struct list_row {
        char cell[NPCOLS][256];
};

static void
list_fill(struct list_row *r, const struct corral_pool *pool)
{
        const size_t n = sizeof r->cell[0];

        snprintf(r->cell[PCOL_NAME], n, "%s", pool->name);
        if (pool->size > 0)
                snprintf(r->cell[PCOL_SIZE], n, "%u", pool->size);
        else
                snprintf(r->cell[PCOL_SIZE], n, "-");
        snprintf(r->cell[PCOL_ACTIVE], n, "%u", pool->active);
        snprintf(r->cell[PCOL_LIVE], n, "%u", pool->live);
        if (pool->has_replicas)
                snprintf(r->cell[PCOL_REPLICAS], n, "%u", pool->replicas);
        else
                snprintf(r->cell[PCOL_REPLICAS], n, "-");
        snprintf(r->cell[PCOL_CLOSED], n, "%s", pool->closed ? "yes" : "no");
        format_states(pool, r->cell[PCOL_STATES], n);
}

static void
list_print_row(const char *const cells[NPCOLS], const size_t width[NPCOLS])
{
        int i;

        for (i = 0; i < NPCOLS - 1; i++)
                printf("%-*s  ", (int)width[i], cells[i]);
        printf("%s\n", cells[NPCOLS - 1]);
}

static int
list_table(const struct corral_pool *v, size_t n)
{
        struct list_row *rows;
        const char *cells[NPCOLS];
        size_t width[NPCOLS], i, len;
        int c;

        if ((rows = calloc(n + 1, sizeof *rows)) == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        for (c = 0; c < NPCOLS; c++)
                width[c] = strlen(list_headers[c]);
        for (i = 0; i < n; i++) {
                list_fill(&rows[i], &v[i]);
                for (c = 0; c < NPCOLS; c++) {
                        if ((len = strlen(rows[i].cell[c])) > width[c])
                                width[c] = len;
                }
        }
        list_print_row(list_headers, width);
        for (i = 0; i < n; i++) {
                for (c = 0; c < NPCOLS; c++)
                        cells[c] = rows[i].cell[c];
                list_print_row(cells, width);
        }
        free(rows);
        return CTL_EXIT_OK;
}

static int
pool_list_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        struct corral_pool *v;
        struct corral_error err;
        json_t *a;
        size_t n, i;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1)
                return ctl_option_other(ctl, ch);
        if ((rc = ctl_want_args(ctl, argc, argv, 0, 0)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_pool_list(ctl->conn, &v, &n, &err) == -1)
                return ctl_fail(ctl, &err);
        if (!ctl->json)
                rc = list_table(v, n);
        else {
                a = json_array();
                for (i = 0; a != NULL && i < n; i++) {
                        if (json_array_append_new(a, ctl_json_pool(&v[i])) == -1) {
                                json_decref(a);
                                a = NULL;
                        }
                }
                rc = ctl_json_print(a != NULL ? json_pack("{s:o}", "pools", a) : NULL);
        }
        corral_pool_list_free(v, n);
        return rc;
}

static const struct ctl_cmd pool_list = {
    .name = "pool list",
    .run = pool_list_run,
    .usage = "",
    .summary = "List the pools",
    .help = "Prints a table of the pools:\n"
            "\n"
            "  NAME      its name\n"
            "  SIZE      its slots, or - for unlimited\n"
            "  ACTIVE    members holding a slot (starting, running, stopping, backoff)\n"
            "  LIVE      members that have not ended\n"
            "  REPLICAS  its replica count, or - without replicas\n"
            "  CLOSED    yes if it refuses new processes\n"
            "  STATES    how many members are in each state (those not 0), and\n"
            "            \"(rolling restart)\" during one\n"
            "\n"
            "With --json: {\"pools\": [pool, ...]}, each as `pool info --json` prints it.\n",
};

static int
pool_scale_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        struct corral_pool pool;
        struct corral_error err;
        unsigned count;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1)
                return ctl_option_other(ctl, ch);
        if ((rc = ctl_want_args(ctl, argc, argv, 2, 2)) != CTL_EXIT_OK)
                return rc;
        if (!parse_count(argv[optind + 1], &count))
                return ctl_usage_error(ctl, "COUNT: '%s' is not a count", argv[optind + 1]);
        if ((rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_pool_scale(ctl->conn, argv[optind], count, &pool, &err) == -1)
                return ctl_fail(ctl, &err);
        return pool_out(ctl, &pool);
}

static const struct ctl_cmd pool_scale = {
    .name = "pool scale",
    .run = pool_scale_run,
    .usage = "NAME COUNT",
    .summary = "Change how many replicas a pool runs",
    .help = "New indices start; the highest ones stop gracefully (their stop signal,\n"
            "KILL after their grace); the others are left alone. Only for a pool\n"
            "created with replicas. Prints nothing, or the pool with --json.\n",
    .example = "  corralctl pool scale web 8\n",
};

static int
pool_restart_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_pool pool;
        struct corral_error err;
        const char *name = NULL;
        int rc;

        if (!pool_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_pool_restart(ctl->conn, name, &pool, &err) == -1)
                return ctl_fail(ctl, &err);
        return pool_out(ctl, &pool);
}

static const struct ctl_cmd pool_restart = {
    .name = "pool restart",
    .run = pool_restart_run,
    .usage = "NAME",
    .summary = "Restart a pool's live members one at a time",
    .help = "A rolling restart: each live member in turn is stopped and started again,\n"
            "and the next one only once it is running and ready. Returns when the last\n"
            "one is, however long that takes (the global --timeout does not apply).\n"
            "Prints nothing, or the pool with --json.\n",
};

static int
pool_close_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_pool pool;
        struct corral_error err;
        const char *name = NULL;
        int rc;

        if (!pool_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_pool_close(ctl->conn, name, &pool, &err) == -1)
                return ctl_fail(ctl, &err);
        return pool_out(ctl, &pool);
}

static const struct ctl_cmd pool_close = {
    .name = "pool close",
    .run = pool_close_run,
    .usage = "NAME",
    .summary = "Refuse new processes in a pool",
    .help = "From now on, spawn into the pool fails (error \"closed\"); its members go\n"
            "on, and its replicas are still kept up. Use it before `pool join` to wait\n"
            "for a batch to finish. Prints nothing, or the pool with --json.\n",
};

static double
now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
pool_join_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"timeout", required_argument, NULL, 't'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_pool pool;
        struct corral_error err;
        double timeout = -1, conn, t0;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "t:", opts, false)) != -1) {
                if (ch != 't')
                        return ctl_option_other(ctl, ch);
                if (!ctl_parse_seconds(optarg, &timeout))
                        return ctl_usage_error(ctl, "invalid time '%s'", optarg);
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        t0 = now_mono();
        if (corral_pool_join(ctl->conn, argv[optind], timeout, &pool, &err) == -1) {
                /* The daemon's "timeout" comes after --timeout; ours, much later. */
                conn = ctl->has_timeout ? ctl->timeout : 30;
                if (strcmp(err.code, "timeout") == 0 && timeout >= 0 &&
                    (conn <= 0 || now_mono() - t0 < timeout + conn / 2)) {
                        ctl_warn("timeout: %s", err.message);
                        return CTL_EXIT_TIMEOUT;
                }
                return ctl_fail(ctl, &err);
        }
        return pool_out(ctl, &pool);
}

static const struct ctl_cmd pool_join = {
    .name = "pool join",
    .run = pool_join_run,
    .usage = "NAME [--timeout TIME]",
    .summary = "Wait until every member of a pool has ended",
    .help = "Waits until no member of the pool is live: each has exited, been killed\n"
            "or stopped, failed or been cancelled (at once if none is live). Exits 0\n"
            "then, whatever their statuses (see `ps --pool NAME` for them), or 124 if\n"
            "--timeout expires first. A pool with replicas only ends once scaled to 0\n"
            "or terminated. Prints nothing, or the pool with --json.\n",
    .options = "  -t, --timeout TIME   wait at most TIME (0 only checks); then exit 124\n",
    .example = "  corralctl pool close batch && corralctl pool join batch --timeout 1h\n",
};

static int
pool_terminate_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"wait", no_argument, NULL, 'w'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_pool pool;
        struct corral_error err;
        bool wait = false;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "w", opts, false)) != -1) {
                if (ch != 'w')
                        return ctl_option_other(ctl, ch);
                wait = true;
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_pool_terminate(ctl->conn, argv[optind], wait, &pool, &err) == -1)
                return ctl_fail(ctl, &err);
        return pool_out(ctl, &pool);
}

static const struct ctl_cmd pool_terminate = {
    .name = "pool terminate",
    .run = pool_terminate_run,
    .usage = "NAME [--wait]",
    .summary = "Stop every member of a pool",
    .help = "Pending members never start; live ones get their stop signal, then KILL\n"
            "after their grace; replicas go to 0. The pool stays (open, unless closed).\n"
            "Prints nothing, or the pool with --json.\n",
    .options = "  -w, --wait           return once every member has ended (the global\n"
               "                       --timeout does not apply)\n",
};

static int
pool_delete_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_error err;
        const char *name = NULL;
        int rc;

        if (!pool_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_pool_delete(ctl->conn, name, &err) == -1)
                return ctl_fail(ctl, &err);
        return ctl->json ? ctl_json_print(json_object()) : CTL_EXIT_OK;
}

static const struct ctl_cmd pool_delete = {
    .name = "pool delete",
    .run = pool_delete_run,
    .usage = "NAME",
    .summary = "Stop a pool's members and remove the pool",
    .help = "Closes the pool, stops its members like `pool terminate`, and removes the\n"
            "pool once they have ended; returns then (the global --timeout does not\n"
            "apply). Records of its ended processes keep its name. The default pool\n"
            "cannot be deleted.\n",
};

static const struct ctl_cmd *const pool_cmds[] = {
    &pool_create, &pool_info, &pool_list,      &pool_scale,  &pool_restart,
    &pool_close,  &pool_join, &pool_terminate, &pool_delete, NULL,
};

static int
pool_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        const struct ctl_cmd *sub;
        char prog[64];
        int ch;

        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, true)) != -1)
                return ctl_option_other(ctl, ch);
        if (optind == argc)
                return ctl_usage_error(ctl, "missing the subcommand");
        if ((sub = ctl_subcmd_find(ctl->cmd, argv[optind])) == NULL)
                return ctl_usage_error(ctl, "unknown subcommand '%s'", argv[optind]);
        ctl->cmd = sub;
        argc -= optind;
        argv += optind;
        snprintf(prog, sizeof prog, "corralctl %s", sub->name);
        argv[0] = prog;
        optind = 0; /* a fresh getopt scan over the subcommand's arguments */
        return sub->run(ctl, argc, argv);
}

const struct ctl_cmd ctl_cmd_pool = {
    .name = "pool",
    .run = pool_run,
    .usage = "SUBCOMMAND [ARGS...]",
    .summary = "Create, inspect, scale, restart, join and delete pools",
    .help = "Every process belongs to a pool: \"default\" unless spawned with --pool. A\n"
            "pool bounds how many of its members run at once (its slots), gives them\n"
            "policy defaults, and may keep replicas of one command up. `corralctl pool\n"
            "SUBCOMMAND --help` describes each subcommand.\n",
    .example = "  corralctl pool create web --replicas 2 -- python3 -m http.server\n"
               "  corralctl pool scale web 4 && corralctl pool list\n"
               "  corralctl pool restart web\n",
    .subcmds = pool_cmds,
};
