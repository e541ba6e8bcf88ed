/*
 * corralctl-queue.c -- `corralctl queue SUBCOMMAND`: create, info, list,
 * purge and delete queues. The message commands (put, get, ack, nack,
 * touch, peek: corralctl-message.c) are top-level commands, and also
 * subcommands here. Like `pool`, each subcommand is a `struct ctl_cmd`
 * named "queue create" so that usage and help read right.
 */
#include <stdlib.h>
#include <string.h>

#include "corralctl.h"

/* Long-only options of queue create. */
enum {
        OPT_MAXSIZE = 256,
        OPT_MAX_BYTES,
        OPT_DURABLE,
        OPT_FSYNC,
        OPT_VISIBILITY,
        OPT_MAX_ATTEMPTS,
        OPT_DEAD_LETTER,
};

/* The width of the keys of `queue info`. */
#define QUEUE_KEY_WIDTH 20

/*
 * 1536 as 1.5K and 3 MiB as 3.0M (for tables), or spelled out: "1.5 KiB",
 * "3.0 MiB", "5 bytes". Rounded, unlike the exact sizes of settings
 * (corralctl-output.c).
 */
void
ctl_format_size(uint64_t v, bool spelled, char *buf, size_t len)
{
        static const char units[] = "KMGTPE";
        double d = (double)v;
        int u = -1;

        while (d >= 1024 && u < 5) {
                d /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, len, "%llu%s", (unsigned long long)v, spelled ? " bytes" : "");
        else
                snprintf(buf, len, spelled ? "%.1f %ciB" : "%.1f%c", d, units[u]);
}

/* A queue record as JSON, with the daemon's names; NULL if out of memory. */
static json_t *
queue_json(const struct corral_queue_info *q)
{
        return json_pack(
            "{s:o,s:b,s:s,s:I,s:I,s:f,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
            "s:I,s:I}",
            "name", ctl_json_bytes(q->name, strlen(q->name)), "durable", q->durable, "fsync",
            q->fsync, "maxsize", (json_int_t)q->maxsize, "max_bytes", (json_int_t)q->max_bytes,
            "visibility_timeout", q->visibility_timeout, "max_attempts",
            (json_int_t)q->max_attempts, "dead_letter",
            q->dead_letter != NULL ? ctl_json_bytes(q->dead_letter, strlen(q->dead_letter))
                                   : json_null(),
            "count", (json_int_t)q->count, "ready", (json_int_t)q->ready, "reserved",
            (json_int_t)q->reserved, "delayed", (json_int_t)q->delayed, "bytes",
            (json_int_t)q->bytes, "getters", (json_int_t)q->getters, "putters",
            (json_int_t)q->putters, "total_put", (json_int_t)q->total_put, "total_got",
            (json_int_t)q->total_got, "total_acked", (json_int_t)q->total_acked, "total_expired",
            (json_int_t)q->total_expired, "total_dead_lettered", (json_int_t)q->total_dead_lettered,
            "log_bytes", (json_int_t)q->log_bytes);
}

/* Print a queue as JSON with --json (otherwise nothing), and clear it. */
static int
queue_out(struct ctl *ctl, struct corral_queue_info *q)
{
        int rc = CTL_EXIT_OK;

        if (ctl->json)
                rc = ctl_json_print(queue_json(q));
        corral_queue_clear(q);
        return rc;
}

static int
create_option(struct ctl *ctl, int ch, struct corral_queue_opts *o)
{
        uint64_t n;

        switch (ch) {
        case OPT_MAXSIZE:
                if (!ctl_parse_count(optarg, INT64_MAX, &o->maxsize))
                        return ctl_usage_error(ctl, "--maxsize: '%s' is not a count", optarg);
                return CTL_EXIT_OK;
        case OPT_MAX_BYTES:
                if (!ctl_parse_bytes(optarg, &o->max_bytes))
                        return ctl_usage_error(ctl, "--max-bytes: '%s' is not a size", optarg);
                return CTL_EXIT_OK;
        case OPT_DURABLE:
                o->durable = true;
                return CTL_EXIT_OK;
        case OPT_FSYNC:
                if (corral_fsync_parse(optarg, &o->fsync) == -1)
                        return ctl_usage_error(ctl, "--fsync: '%s' is not batch, always or never",
                                               optarg);
                return CTL_EXIT_OK;
        case OPT_VISIBILITY:
                if (!ctl_parse_seconds(optarg, &o->visibility_timeout))
                        return ctl_usage_error(ctl, "--visibility-timeout: invalid time '%s'",
                                               optarg);
                o->has_visibility_timeout = true;
                return CTL_EXIT_OK;
        case OPT_MAX_ATTEMPTS:
                if (!ctl_parse_count(optarg, 1000000, &n))
                        return ctl_usage_error(ctl, "--max-attempts: '%s' is not a count", optarg);
                o->max_attempts = (unsigned)n;
                return CTL_EXIT_OK;
        case OPT_DEAD_LETTER:
                o->dead_letter = optarg;
                return CTL_EXIT_OK;
        default:
                return ctl_option_other(ctl, ch);
        }
}

static int
queue_create_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"maxsize", required_argument, NULL, OPT_MAXSIZE},
            {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
            {"durable", no_argument, NULL, OPT_DURABLE},
            {"fsync", required_argument, NULL, OPT_FSYNC},
            {"visibility-timeout", required_argument, NULL, OPT_VISIBILITY},
            {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
            {"dead-letter", required_argument, NULL, OPT_DEAD_LETTER},
            CTL_COMMON_OPTIONS,
        };
        struct corral_queue_opts o;
        struct corral_queue_info q;
        struct corral_error err;
        int ch, rc;

        memset(&o, 0, sizeof o);
        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1) {
                if ((rc = create_option(ctl, ch, &o)) != CTL_EXIT_OK || ch == 'h')
                        return rc;
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK)
                return rc;
        if (o.fsync != CORRAL_FSYNC_DEFAULT && !o.durable)
                return ctl_usage_error(ctl, "--fsync is for a --durable queue");
        if ((rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        o.name = argv[optind];
        if (corral_queue_create(ctl->conn, &o, &q, &err) == -1)
                return ctl_fail(ctl, &err);
        return queue_out(ctl, &q);
}

static const struct ctl_cmd queue_create = {
    .name = "queue create",
    .run = queue_create_run,
    .usage = "NAME [--maxsize N] [--max-bytes BYTES]\n"
             "       [--durable [--fsync MODE]] [--visibility-timeout TIME]\n"
             "       [--max-attempts N] [--dead-letter QUEUE]",
    .summary = "Create a queue",
    .help = "Creates the queue NAME. When it holds --maxsize messages (in any state) or\n"
            "--max-bytes of data, put waits for room (back-pressure). A message got\n"
            "with --ack is reserved for --visibility-timeout, then comes back unless it\n"
            "was acked; after --max-attempts deliveries a message that comes back goes\n"
            "to the --dead-letter queue (which must exist), or is dropped.\n"
            "\n"
            "A --durable queue keeps an append-only log in the daemon's state directory\n"
            "and is recreated from it when the daemon starts. --fsync says when a put\n"
            "is acknowledged: batch (the default: after an fdatasync shared by the puts\n"
            "that arrive together), always (after its own fdatasync) or never (after\n"
            "the write: a power loss may lose recent puts, a crash of the daemon not).\n"
            "\n"
            "Prints nothing, or the queue with --json.\n",
    .options = "      --maxsize N      messages before put waits (default 0: unlimited)\n"
               "      --max-bytes BYTES\n"
               "                       bytes of data before put waits (default 0: unlimited)\n"
               "      --durable        keep the queue on disk\n"
               "      --fsync MODE     batch (default), always or never\n"
               "      --visibility-timeout TIME\n"
               "                       how long a reservation lasts (default 30s)\n"
               "      --max-attempts N deliveries before a returning message is dead\n"
               "                       (default 0: no limit)\n"
               "      --dead-letter QUEUE\n"
               "                       where dead messages go (default: dropped)\n",
    .example = "  corralctl queue create dead\n"
               "  corralctl queue create jobs --durable --max-attempts 3 --dead-letter dead\n",
};

static void
info_print(const struct corral_queue_info *q)
{
        const int w = QUEUE_KEY_WIDTH;

        printf("%-*s %s\n", w, "name:", q->name);
        printf("%-*s %s\n", w, "durable:", q->durable ? "yes" : "no");
        if (q->durable)
                printf("%-*s %s\n", w, "fsync:", q->fsync);
        if (q->maxsize > 0)
                printf("%-*s %llu\n", w, "maxsize:", (unsigned long long)q->maxsize);
        else
                printf("%-*s unlimited\n", w, "maxsize:");
        if (q->max_bytes > 0)
                printf("%-*s %llu\n", w, "max_bytes:", (unsigned long long)q->max_bytes);
        else
                printf("%-*s unlimited\n", w, "max_bytes:");
        printf("%-*s %gs\n", w, "visibility_timeout:", q->visibility_timeout);
        if (q->max_attempts > 0)
                printf("%-*s %u\n", w, "max_attempts:", q->max_attempts);
        else
                printf("%-*s unlimited\n", w, "max_attempts:");
        printf("%-*s %s\n", w, "dead_letter:", q->dead_letter != NULL ? q->dead_letter : "-");
        printf("%-*s %llu\n", w, "count:", (unsigned long long)q->count);
        printf("%-*s %llu\n", w, "ready:", (unsigned long long)q->ready);
        printf("%-*s %llu\n", w, "reserved:", (unsigned long long)q->reserved);
        printf("%-*s %llu\n", w, "delayed:", (unsigned long long)q->delayed);
        printf("%-*s %llu\n", w, "bytes:", (unsigned long long)q->bytes);
        printf("%-*s %llu\n", w, "getters:", (unsigned long long)q->getters);
        printf("%-*s %llu\n", w, "putters:", (unsigned long long)q->putters);
        printf("%-*s %llu\n", w, "total_put:", (unsigned long long)q->total_put);
        printf("%-*s %llu\n", w, "total_got:", (unsigned long long)q->total_got);
        printf("%-*s %llu\n", w, "total_acked:", (unsigned long long)q->total_acked);
        printf("%-*s %llu\n", w, "total_expired:", (unsigned long long)q->total_expired);
        printf("%-*s %llu\n", w,
               "total_dead_lettered:", (unsigned long long)q->total_dead_lettered);
        if (q->durable)
                printf("%-*s %llu\n", w, "log_bytes:", (unsigned long long)q->log_bytes);
}

/*
 * Options (common only), then NAME; then connect. False when the command
 * is done (--help, usage error, no connection) with *rc its status.
 */
static bool
queue_name_arg(struct ctl *ctl, int argc, char **argv, const char **name, int *rc)
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

static int
queue_info_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_queue_info q;
        struct corral_error err;
        const char *name = NULL;
        int rc;

        if (!queue_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_queue_info(ctl->conn, name, &q, &err) == -1)
                return ctl_fail(ctl, &err);
        if (!ctl->json)
                info_print(&q);
        return queue_out(ctl, &q);
}

static const struct ctl_cmd queue_info = {
    .name = "queue info",
    .run = queue_info_run,
    .usage = "NAME",
    .summary = "Show a queue: settings, messages, waiting calls, totals",
    .help = "Prints `key: value` lines: its settings (durable, fsync, maxsize,\n"
            "max_bytes, visibility_timeout, max_attempts, dead_letter); count (messages\n"
            "in every state), ready, reserved, delayed and bytes (of their data);\n"
            "getters and putters (calls waiting); totals since the daemon started\n"
            "(total_put, total_got, total_acked, total_expired, total_dead_lettered);\n"
            "and the size of a durable queue's log (log_bytes).\n",
};

enum {
        QCOL_NAME,
        QCOL_READY,
        QCOL_RESERVED,
        QCOL_DELAYED,
        QCOL_BYTES,
        QCOL_MAXSIZE,
        QCOL_DURABLE,
        QCOL_GETTERS,
        QCOL_PUTTERS,
        QCOL_DEAD,
        NQCOLS
};

static const char *const list_headers[NQCOLS] = {"NAME",    "READY",      "RESERVED", "DELAYED",
                                                 "BYTES",   "MAXSIZE",    "DURABLE",  "GETTERS",
                                                 "PUTTERS", "DEAD-LETTER"};

struct list_row {
        char cell[NQCOLS][80];
};

static void
list_fill(struct list_row *r, const struct corral_queue_info *q)
{
        const size_t n = sizeof r->cell[0];

        snprintf(r->cell[QCOL_NAME], n, "%s", q->name);
        snprintf(r->cell[QCOL_READY], n, "%llu", (unsigned long long)q->ready);
        snprintf(r->cell[QCOL_RESERVED], n, "%llu", (unsigned long long)q->reserved);
        snprintf(r->cell[QCOL_DELAYED], n, "%llu", (unsigned long long)q->delayed);
        ctl_format_size(q->bytes, false, r->cell[QCOL_BYTES], n);
        if (q->maxsize > 0)
                snprintf(r->cell[QCOL_MAXSIZE], n, "%llu", (unsigned long long)q->maxsize);
        else
                snprintf(r->cell[QCOL_MAXSIZE], n, "-");
        snprintf(r->cell[QCOL_DURABLE], n, "%s", q->durable ? q->fsync : "no");
        snprintf(r->cell[QCOL_GETTERS], n, "%llu", (unsigned long long)q->getters);
        snprintf(r->cell[QCOL_PUTTERS], n, "%llu", (unsigned long long)q->putters);
        snprintf(r->cell[QCOL_DEAD], n, "%s", q->dead_letter != NULL ? q->dead_letter : "-");
}

static void
list_print_row(const char *const cells[NQCOLS], const size_t width[NQCOLS])
{
        int i;

        for (i = 0; i < NQCOLS - 1; i++)
                printf("%-*s  ", (int)width[i], cells[i]);
        printf("%s\n", cells[NQCOLS - 1]);
}

static int
list_table(const struct corral_queue_info *v, size_t n)
{
        struct list_row *rows;
        const char *cells[NQCOLS];
        size_t width[NQCOLS], i, len;
        int c;

        if ((rows = calloc(n + 1, sizeof *rows)) == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        for (c = 0; c < NQCOLS; c++)
                width[c] = strlen(list_headers[c]);
        for (i = 0; i < n; i++) {
                list_fill(&rows[i], &v[i]);
                for (c = 0; c < NQCOLS; c++) {
                        if ((len = strlen(rows[i].cell[c])) > width[c])
                                width[c] = len;
                }
        }
        list_print_row(list_headers, width);
        for (i = 0; i < n; i++) {
                for (c = 0; c < NQCOLS; c++)
                        cells[c] = rows[i].cell[c];
                list_print_row(cells, width);
        }
        free(rows);
        return CTL_EXIT_OK;
}

static int
queue_list_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"quiet", no_argument, NULL, 'q'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_queue_info *v;
        struct corral_error err;
        bool quiet = false;
        json_t *a;
        size_t n, i;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "q", opts, false)) != -1) {
                if (ch != 'q')
                        return ctl_option_other(ctl, ch);
                quiet = true;
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 0, 0)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_queue_list(ctl->conn, &v, &n, &err) == -1)
                return ctl_fail(ctl, &err);
        if (ctl->json) {
                a = json_array();
                for (i = 0; a != NULL && i < n; i++) {
                        if (json_array_append_new(a, queue_json(&v[i])) == -1) {
                                json_decref(a);
                                a = NULL;
                        }
                }
                rc = ctl_json_print(a != NULL ? json_pack("{s:o}", "queues", a) : NULL);
        } else if (quiet) {
                for (i = 0; i < n; i++)
                        printf("%s\n", v[i].name);
        } else
                rc = list_table(v, n);
        corral_queue_list_free(v, n);
        return rc;
}

static const struct ctl_cmd queue_list = {
    .name = "queue list",
    .run = queue_list_run,
    .usage = "[--quiet]",
    .summary = "List the queues",
    .help = "Prints a table of the queues:\n"
            "\n"
            "  NAME         its name\n"
            "  READY        messages that a get would deliver now\n"
            "  RESERVED     messages got with --ack, not acked yet\n"
            "  DELAYED      messages put with --delay, not visible yet\n"
            "  BYTES        the size of their data (K, M, G: powers of 1024)\n"
            "  MAXSIZE      messages before put waits, or - for unlimited\n"
            "  DURABLE      its fsync mode if it is durable, else no\n"
            "  GETTERS      gets waiting for a message\n"
            "  PUTTERS      puts waiting for room\n"
            "  DEAD-LETTER  where messages past --max-attempts go, or -\n"
            "\n"
            "With --json: {\"queues\": [queue, ...]}, each as `queue info --json` prints\n"
            "it.\n",
    .options = "  -q, --quiet          print only the names, one per line\n",
};

static int
queue_purge_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_error err;
        const char *name = NULL;
        uint64_t n;
        int rc;

        if (!queue_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_queue_purge(ctl->conn, name, &n, &err) == -1)
                return ctl_fail(ctl, &err);
        if (ctl->json)
                return ctl_json_print(json_pack("{s:I}", "purged", (json_int_t)n));
        printf("%llu\n", (unsigned long long)n);
        return CTL_EXIT_OK;
}

static const struct ctl_cmd queue_purge = {
    .name = "queue purge",
    .run = queue_purge_run,
    .usage = "NAME",
    .summary = "Drop a queue's ready and delayed messages",
    .help = "Drops every ready and delayed message; reserved ones stay (until acked,\n"
            "or back). Prints how many were dropped, or {\"purged\": N} with --json.\n",
};

static int
queue_delete_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_error err;
        const char *name = NULL;
        int rc;

        if (!queue_name_arg(ctl, argc, argv, &name, &rc))
                return rc;
        if (corral_queue_delete(ctl->conn, name, &err) == -1)
                return ctl_fail(ctl, &err);
        return ctl->json ? ctl_json_print(json_object()) : CTL_EXIT_OK;
}

static const struct ctl_cmd queue_delete = {
    .name = "queue delete",
    .run = queue_delete_run,
    .usage = "NAME",
    .summary = "Remove a queue, its messages and its log",
    .help = "Removes the queue with every message in it and, if it is durable, its\n"
            "log. Calls waiting on it (get, put) fail with not_found.\n",
};

static const struct ctl_cmd *const queue_cmds[] = {
    &queue_create,       &queue_info,          &queue_list,         &queue_purge,
    &queue_delete,       &ctl_cmd_queue_put,   &ctl_cmd_queue_get,  &ctl_cmd_queue_ack,
    &ctl_cmd_queue_nack, &ctl_cmd_queue_touch, &ctl_cmd_queue_peek, NULL,
};

static int
queue_run(struct ctl *ctl, int argc, char **argv)
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

const struct ctl_cmd ctl_cmd_queue = {
    .name = "queue",
    .run = queue_run,
    .usage = "SUBCOMMAND [ARGS...]",
    .summary = "Create, inspect, purge and delete queues",
    .help = "Queues are named and shared through the daemon, by corralctl, libcorral\n"
            "and the processes it runs: a message put is got by one getter, lowest\n"
            "priority first, then oldest first. Got with --ack, a message is reserved\n"
            "until acked (or nacked, or its reservation expires, or the process or\n"
            "connection that got it ends), so a worker that dies does not lose it.\n"
            "`corralctl queue SUBCOMMAND --help` describes each subcommand; put, get,\n"
            "ack, nack, touch and peek are also commands of their own.\n",
    .example = "  corralctl queue create jobs --durable\n"
               "  seq 10 | corralctl put jobs --lines --quiet\n"
               "  corralctl queue list\n",
    .subcmds = queue_cmds,
};
