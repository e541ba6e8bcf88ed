/*
 * corralctl-message.c -- the commands on a queue's messages: put, get,
 * ack, nack, touch and peek. Each is a top-level command and also a
 * subcommand of `queue` (the same fields under two names). Message data
 * is bytes: get and peek write it to stdout exactly, nothing added.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "corralctl.h"

/* Long-only options. */
enum {
        OPT_LINES = 256,
        OPT_PRIORITY,
        OPT_DELAY,
        OPT_ACK,
};

/* The longest line put --lines reads: the daemon refuses more anyway. */
#define LINE_MAX_BYTES PROTO_MAX_MESSAGE_DEFAULT

/* empty (get, peek) and full (put) mean "nothing in time": status 124. */
static int
msg_fail(struct ctl *ctl, const struct corral_error *err)
{
        if (strcmp(err->code, "empty") == 0 || strcmp(err->code, "full") == 0) {
                ctl_warn("%s: %s", err->code, err->message);
                return CTL_EXIT_TIMEOUT;
        }
        return ctl_fail(ctl, err);
}

/* MSG_ID: a positive integer. */
static bool
parse_msg_id(const char *s, uint64_t *out)
{
        return ctl_parse_count(s, INT64_MAX, out) && *out > 0;
}

/* What put prints for one message: its id, or {"msg_id": N} a line with --json. */
static int
put_print(struct ctl *ctl, uint64_t id, bool quiet)
{
        if (ctl->json)
                printf("{\"msg_id\":%llu}\n", (unsigned long long)id);
        else if (!quiet)
                printf("%llu\n", (unsigned long long)id);
        /* A reader of the pipe sees each id as its put is done. */
        return fflush(stdout) != 0 || ferror(stdout) ? CTL_EXIT_IO : CTL_EXIT_OK;
}

static int
put_one(struct ctl *ctl, const char *queue, const char *data, size_t len,
        const struct corral_put_opts *o, bool quiet)
{
        struct corral_error err;
        uint64_t id;

        if (corral_queue_put(ctl->conn, queue, data, len, o, &id, &err) == -1)
                return msg_fail(ctl, &err);
        return put_print(ctl, id, quiet);
}

/* The next line of f without its newline into *buf: 1, 0 at the end, -1 on error. */
static int
read_line(FILE *f, char **buf, size_t *cap, size_t *len)
{
        char *nbuf;
        int c;

        *len = 0;
        while ((c = getc(f)) != EOF) {
                if (c == '\n')
                        return 1;
                if (*len + 1 >= *cap) {
                        if (*cap >= LINE_MAX_BYTES) {
                                errno = EFBIG;
                                return -1;
                        }
                        if ((nbuf = realloc(*buf, *cap != 0 ? *cap * 2 : 4096)) == NULL)
                                return -1;
                        *buf = nbuf;
                        *cap = *cap != 0 ? *cap * 2 : 4096;
                }
                (*buf)[(*len)++] = (char)c;
        }
        if (ferror(f))
                return -1;
        return *len > 0 ? 1 : 0; /* a last line without a newline counts */
}

/* put --lines from stdin: one message per line, put as each line comes. */
static int
put_stdin_lines(struct ctl *ctl, const char *queue, const struct corral_put_opts *o, bool quiet)
{
        char *buf = NULL;
        size_t cap = 0, len;
        int r, rc = CTL_EXIT_OK;

        while (rc == CTL_EXIT_OK && (r = read_line(stdin, &buf, &cap, &len)) == 1)
                rc = put_one(ctl, queue, buf, len, o, quiet);
        /* Too large is bad input, as for spawn --stdin-file; a read error is I/O. */
        if (rc == CTL_EXIT_OK && r == -1) {
                ctl_warn("standard input: %s",
                         errno == EFBIG ? "a line is longer than 16 MiB" : strerror(errno));
                rc = errno == EFBIG ? CTL_EXIT_USAGE : CTL_EXIT_IO;
        }
        free(buf);
        return rc;
}

/* put --lines DATA: one message per line of DATA. */
static int
put_data_lines(struct ctl *ctl, const char *queue, const char *data,
               const struct corral_put_opts *o, bool quiet)
{
        const char *nl;
        int rc = CTL_EXIT_OK;

        while (rc == CTL_EXIT_OK && *data != '\0') {
                nl = strchr(data, '\n');
                rc = put_one(ctl, queue, data, nl != NULL ? (size_t)(nl - data) : strlen(data), o,
                             quiet);
                if (nl == NULL)
                        break;
                data = nl + 1;
        }
        return rc;
}

static int
put_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"lines", no_argument, NULL, OPT_LINES},
            {"priority", required_argument, NULL, OPT_PRIORITY},
            {"delay", required_argument, NULL, OPT_DELAY},
            {"timeout", required_argument, NULL, 't'},
            {"quiet", no_argument, NULL, 'q'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_put_opts o;
        const char *queue, *data;
        char *buf, *cause = NULL, *end;
        bool lines = false, quiet = false;
        size_t len;
        long v;
        int ch, rc;

        memset(&o, 0, sizeof o);
        while ((ch = ctl_getopt(ctl, argc, argv, "t:q", opts, false)) != -1) {
                switch (ch) {
                case OPT_LINES:
                        lines = true;
                        break;
                case OPT_PRIORITY:
                        errno = 0;
                        v = strtol(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end != '\0' || v < INT32_MIN ||
                            v > INT32_MAX)
                                return ctl_usage_error(ctl, "--priority: '%s' is not an integer",
                                                       optarg);
                        o.priority = (int)v;
                        break;
                case OPT_DELAY:
                        if (!ctl_parse_seconds(optarg, &o.delay))
                                return ctl_usage_error(ctl, "--delay: invalid time '%s'", optarg);
                        break;
                case 't':
                        if (!ctl_parse_seconds(optarg, &o.timeout))
                                return ctl_usage_error(ctl, "--timeout: invalid time '%s'", optarg);
                        o.has_timeout = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 2)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        queue = argv[optind];
        data = optind + 1 < argc ? argv[optind + 1] : "-";
        if (strcmp(data, "-") != 0)
                return lines ? put_data_lines(ctl, queue, data, &o, quiet)
                             : put_one(ctl, queue, data, strlen(data), &o, quiet);
        if (lines)
                return put_stdin_lines(ctl, queue, &o, quiet);
        if ((buf = ctl_read_file("-", &len, &cause)) == NULL) {
                ctl_warn("standard input: %s", cause != NULL ? cause : "out of memory");
                free(cause);
                return CTL_EXIT_USAGE;
        }
        rc = put_one(ctl, queue, buf, len, &o, quiet);
        free(buf);
        return rc;
}

#define PUT_FIELDS                                                                                 \
        .run = put_run,                                                                            \
        .usage = "QUEUE [DATA | -] [--lines] [--priority N] [--delay TIME]\n"                      \
                 "       [--timeout TIME] [--quiet]",                                              \
        .summary = "Put a message (or one per line) into a queue",                                 \
        .help = "Puts DATA into QUEUE as one message, or what it reads from standard input\n"      \
                "(DATA - or none) until its end. With --lines, each line is a message of\n"        \
                "its own (without its newline), put as soon as it is read: a pipe can\n"           \
                "feed a queue as it goes. Prints each new message's id on a line, or\n"            \
                "{\"msg_id\": N} with --json.\n"                                                   \
                "\n"                                                                               \
                "When the queue is full (its --maxsize or --max-bytes), put waits for room,\n"     \
                "as long as it takes unless --timeout: then it exits 124 (full).\n",               \
        .options = "      --lines          one message per line\n"                                 \
                   "      --priority N     lower is delivered first (default 0)\n"                 \
                   "      --delay TIME     visible only after TIME\n"                              \
                   "  -t, --timeout TIME   wait at most TIME for room (0: fail at once)\n"         \
                   "  -q, --quiet          do not print the ids\n",                                \
        .example = "  corralctl put jobs '{\"url\": \"https://example.com\"}'\n"                   \
                   "  find . -name '*.jpg' | corralctl put images --lines --quiet\n"               \
                   "  corralctl put jobs - < payload.bin\n"

const struct ctl_cmd ctl_cmd_put = {.name = "put", PUT_FIELDS};
const struct ctl_cmd ctl_cmd_queue_put = {.name = "queue put", PUT_FIELDS};

/* A message got or peeked: its data on stdout, its id on stderr; or JSON. */
static int
message_out(struct ctl *ctl, struct corral_message *m, bool quiet)
{
        int rc = CTL_EXIT_OK;

        if (ctl->json)
                rc = ctl_json_print(
                    json_pack("{s:I,s:o,s:I,s:i}", "msg_id", (json_int_t)m->msg_id, "data",
                              ctl_json_bytes(m->data != NULL ? m->data : "", m->len), "attempt",
                              (json_int_t)m->attempt, "priority", m->priority));
        else {
                if (m->len > 0)
                        fwrite(m->data, 1, m->len, stdout);
                if (!quiet) {
                        fflush(stdout);
                        fprintf(stderr, "%llu\n", (unsigned long long)m->msg_id);
                }
        }
        corral_message_clear(m);
        return rc;
}

static int
get_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"timeout", required_argument, NULL, 't'},
            {"ack", no_argument, NULL, OPT_ACK},
            {"quiet", no_argument, NULL, 'q'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_message m;
        struct corral_error err;
        double timeout = -1;
        bool ack = false, quiet = false;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "t:q", opts, false)) != -1) {
                switch (ch) {
                case 't':
                        if (!ctl_parse_seconds(optarg, &timeout))
                                return ctl_usage_error(ctl, "--timeout: invalid time '%s'", optarg);
                        break;
                case OPT_ACK:
                        ack = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_queue_get(ctl->conn, argv[optind], timeout, ack, &m, &err) == -1)
                return msg_fail(ctl, &err);
        return message_out(ctl, &m, quiet);
}

#define GET_FIELDS                                                                                 \
        .run = get_run, .usage = "QUEUE [--timeout TIME] [--ack] [--quiet]",                       \
        .summary = "Take the next message of a queue",                                             \
        .help = "Waits for a message (as long as it takes, unless --timeout), takes it,\n"         \
                "and writes its data to stdout exactly as it was put, and its id on a line\n"      \
                "to stderr. With --json, prints {\"msg_id\", \"data\", \"attempt\" (deliveries,\n" \
                "this one included), \"priority\"} on stdout. Exits 124 (empty) if none came\n"    \
                "in time.\n"                                                                       \
                "\n"                                                                               \
                "With --ack the message is not removed but reserved, until `corralctl ack\n"       \
                "QUEUE MSG_ID` (or nack, or the queue's visibility timeout). The reservation\n"    \
                "belongs to the supervised process corralctl runs in (a script that run,\n"        \
                "spawn or a pool started): the message comes back at once when that\n"             \
                "process ends. Outside one, it belongs to corralctl itself, and comes back\n"      \
                "as soon as get returns: use --ack in scripts the daemon runs.\n",                 \
        .options = "  -t, --timeout TIME   wait at most TIME (0: fail at once if none is ready)\n" \
                   "      --ack            reserve it until acked, instead of removing it\n"       \
                   "  -q, --quiet          do not print the id\n",                                 \
        .example = "  corralctl get jobs --timeout 10s > job.json\n"                               \
                   "  # in a script that corrald runs:\n"                                          \
                   "  id=$(corralctl get jobs --ack 2>&1 >job.json) && ./work job.json &&\n"       \
                   "      corralctl ack jobs \"$id\"\n"

const struct ctl_cmd ctl_cmd_get = {.name = "get", GET_FIELDS};
const struct ctl_cmd ctl_cmd_queue_get = {.name = "queue get", GET_FIELDS};

static int
peek_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"quiet", no_argument, NULL, 'q'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_message m;
        struct corral_error err;
        bool quiet = false;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "q", opts, false)) != -1) {
                if (ch != 'q')
                        return ctl_option_other(ctl, ch);
                quiet = true;
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 1)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_queue_peek(ctl->conn, argv[optind], &m, &err) == -1)
                return msg_fail(ctl, &err);
        return message_out(ctl, &m, quiet);
}

#define PEEK_FIELDS                                                                                \
        .run = peek_run, .usage = "QUEUE [--quiet]",                                               \
        .summary = "Show the next message of a queue without taking it",                           \
        .help = "Writes the data of the message a get would take now to stdout, and its\n"         \
                "id to stderr, as get does; the message stays. Exits 124 (empty) if no\n"          \
                "message is ready.\n",                                                             \
        .options = "  -q, --quiet          do not print the id\n"

const struct ctl_cmd ctl_cmd_peek = {.name = "peek", PEEK_FIELDS};
const struct ctl_cmd ctl_cmd_queue_peek = {.name = "queue peek", PEEK_FIELDS};

/*
 * ack, nack and touch (which: 'a', 'n', 't'): QUEUE MSG_ID, with nack's
 * --delay; touch prints the new visibility timeout with --json.
 */
static int
reserved_run(struct ctl *ctl, int argc, char **argv, char which)
{
        static const struct option nack_opts[] = {
            {"delay", required_argument, NULL, OPT_DELAY},
            CTL_COMMON_OPTIONS,
        };
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        struct corral_error err;
        double delay = 0, vt = 0;
        uint64_t id;
        int ch, rc, r;

        while ((ch = ctl_getopt(ctl, argc, argv, "", which == 'n' ? nack_opts : opts, false)) !=
               -1) {
                if (ch != OPT_DELAY)
                        return ctl_option_other(ctl, ch);
                if (!ctl_parse_seconds(optarg, &delay))
                        return ctl_usage_error(ctl, "--delay: invalid time '%s'", optarg);
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 2, 2)) != CTL_EXIT_OK)
                return rc;
        if (!parse_msg_id(argv[optind + 1], &id))
                return ctl_usage_error(ctl, "MSG_ID: '%s' is not a message id", argv[optind + 1]);
        if ((rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (which == 'a')
                r = corral_queue_ack(ctl->conn, argv[optind], id, &err);
        else if (which == 'n')
                r = corral_queue_nack(ctl->conn, argv[optind], id, delay, &err);
        else
                r = corral_queue_touch(ctl->conn, argv[optind], id, &vt, &err);
        if (r == -1)
                return ctl_fail(ctl, &err);
        if (!ctl->json)
                return CTL_EXIT_OK;
        return ctl_json_print(which == 't' ? json_pack("{s:f}", "visibility_timeout", vt)
                                           : json_object());
}

static int
ack_run(struct ctl *ctl, int argc, char **argv)
{
        return reserved_run(ctl, argc, argv, 'a');
}

static int
nack_run(struct ctl *ctl, int argc, char **argv)
{
        return reserved_run(ctl, argc, argv, 'n');
}

static int
touch_run(struct ctl *ctl, int argc, char **argv)
{
        return reserved_run(ctl, argc, argv, 't');
}

#define RESERVED_HELP                                                                              \
        "MSG_ID is the id `get --ack` printed. It is an error (not_found) if the\n"                \
        "message is not reserved any more: acked, returned, or its reservation\n"                  \
        "expired.\n"

#define ACK_FIELDS                                                                                 \
        .run = ack_run, .usage = "QUEUE MSG_ID", .summary = "Acknowledge a reserved message",      \
        .help = "Removes a message got with --ack: its work is done. On a durable queue\n"         \
                "the removal is on disk when ack returns, so the message never comes back.\n"      \
                "\n" RESERVED_HELP,                                                                \
        .example = "  corralctl ack jobs 42\n"

const struct ctl_cmd ctl_cmd_ack = {.name = "ack", ACK_FIELDS};
const struct ctl_cmd ctl_cmd_queue_ack = {.name = "queue ack", ACK_FIELDS};

#define NACK_FIELDS                                                                                \
        .run = nack_run, .usage = "QUEUE MSG_ID [--delay TIME]",                                   \
        .summary = "Return a reserved message to its queue",                                       \
        .help = "Gives a message got with --ack back: it is ready again at once, or after\n"       \
                "--delay. Past the queue's --max-attempts it goes to its dead letters\n"           \
                "instead.\n"                                                                       \
                "\n" RESERVED_HELP,                                                                \
        .options = "      --delay TIME     ready again only after TIME\n",                         \
        .example = "  corralctl nack jobs 42 --delay 30s\n"

const struct ctl_cmd ctl_cmd_nack = {.name = "nack", NACK_FIELDS};
const struct ctl_cmd ctl_cmd_queue_nack = {.name = "queue nack", NACK_FIELDS};

#define TOUCH_FIELDS                                                                               \
        .run = touch_run, .usage = "QUEUE MSG_ID",                                                 \
        .summary = "Extend the reservation of a message",                                          \
        .help = "A worker that needs longer than the queue's visibility timeout touches its\n"     \
                "message: the reservation then lasts that long again from now. Prints\n"           \
                "nothing, or {\"visibility_timeout\": SECONDS} with --json.\n"                     \
                "\n" RESERVED_HELP,                                                                \
        .example = "  while sleep 20; do corralctl touch jobs \"$id\" || break; done &\n"

const struct ctl_cmd ctl_cmd_touch = {.name = "touch", TOUCH_FIELDS};
const struct ctl_cmd ctl_cmd_queue_touch = {.name = "queue touch", TOUCH_FIELDS};
