/*
 * corralctl-daemon.c -- the commands about the daemon itself (ping, stats,
 * hello, reopen-logs, shutdown) and `call`, which sends any method with JSON
 * parameters.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "proto.h"
#include "corralctl.h"

static double
now_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Option parsing for commands with no operand and no option of their own.
 * False when the command is done (--help, usage error) with *rc its status.
 */
static bool
no_args(struct ctl *ctl, int argc, char **argv, int *rc)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        int ch;

        if ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1) {
                *rc = ctl_option_other(ctl, ch);
                return false;
        }
        return (*rc = ctl_want_args(ctl, argc, argv, 0, 0)) == CTL_EXIT_OK;
}

static int
ping_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_error err;
        double t0, rtt;
        int rc;

        if (!no_args(ctl, argc, argv, &rc) || (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        t0 = now_seconds();
        if (corral_ping(ctl->conn, &err) == -1)
                return ctl_fail(ctl, &err);
        rtt = (now_seconds() - t0) * 1e3;
        if (ctl->json)
                return ctl_json_print(
                    json_pack("{s:s,s:f}", "socket", ctl_socket_path(ctl), "rtt_ms", rtt));
        printf("pong from %s: time=%.3f ms\n", ctl_socket_path(ctl), rtt);
        return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_ping = {
    .name = "ping",
    .run = ping_run,
    .usage = "",
    .summary = "Check that the daemon answers, and how fast",
    .help = "Sends daemon.ping and prints the round-trip time, not counting the time to\n"
            "connect. With --json: {\"socket\": PATH, \"rtt_ms\": MILLISECONDS}.\n",
};

/* A member of daemon.stats' answer (as JSON) as an integer; 0 if absent. */
static uint64_t
stat_uint(const json_t *stats, const char *key, const char *sub)
{
        const json_t *v = json_object_get(stats, key);

        if (sub != NULL)
                v = json_object_get(v, sub);
        return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

/* "used (limit N)", or "used" when the limit is 0 (none). */
static void
print_usage_line(const char *label, const json_t *stats, const char *key, const char *what)
{
        uint64_t used = stat_uint(stats, key, "used"), limit = stat_uint(stats, key, "limit");

        printf("%-12s %llu%s", label, (unsigned long long)used, what);
        if (limit > 0)
                printf(" (limit %llu)", (unsigned long long)limit);
        putchar('\n');
}

/* The summary of daemon.stats (a JSON object) and daemon.hello. */
static int
stats_print(struct ctl *ctl, const struct corral_hello *h, json_t *stats)
{
        char up[32], rss[32], qbytes[32];

        if (ctl->json) {
                json_object_set_new(stats, "socket", json_string(ctl_socket_path(ctl)));
                json_object_set_new(stats, "version", json_string(h->version));
                json_object_set_new(stats, "protocol", json_integer(h->protocol));
                json_object_set_new(stats, "pid", json_integer(h->pid));
                return ctl_json_print(json_incref(stats));
        }
        ctl_format_duration(json_number_value(json_object_get(stats, "uptime")), up, sizeof up);
        ctl_format_size(stat_uint(stats, "rss", NULL), true, rss, sizeof rss);
        ctl_format_size(stat_uint(stats, "queues", "bytes"), true, qbytes, sizeof qbytes);
        printf("corrald %s, pid %ld, up %s, on %s\n", h->version, (long)h->pid, up,
               ctl_socket_path(ctl));
        print_usage_line("processes", stats, "processes", " running");
        print_usage_line("history", stats, "history", " ended records kept");
        printf("%-12s %llu queues, %llu messages, %s\n", "queues",
               (unsigned long long)stat_uint(stats, "queues", "count"),
               (unsigned long long)stat_uint(stats, "queues", "messages"), qbytes);
        print_usage_line("connections", stats, "connections", "");
        print_usage_line("descriptors", stats, "descriptors", "");
        printf("%-12s %s resident\n", "memory", rss);
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_IO;
}

static int
stats_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_hello h;
        struct corral_result res;
        struct corral_error err;
        json_t *stats;
        int rc;

        if (!no_args(ctl, argc, argv, &rc) || (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_hello(ctl->conn, &h, &err) == -1)
                return ctl_fail(ctl, &err);
        if (corral_call(ctl->conn, PROTO_M_DAEMON_STATS, NULL, 0, &res, &err) == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        stats = ctl_json_from_msgpack(&res.obj);
        corral_result_free(&res);
        if (json_is_object(stats))
                rc = stats_print(ctl, &h, stats);
        else {
                ctl_warn("io: daemon.stats did not answer with a map");
                rc = CTL_EXIT_IO;
        }
        json_decref(stats);
out:
        corral_hello_clear(&h);
        return rc;
}

const struct ctl_cmd ctl_cmd_stats = {
    .name = "stats",
    .run = stats_run,
    .usage = "",
    .summary = "Show the daemon's version, uptime and usage against its limits",
    .help = "Asks daemon.hello and daemon.stats and prints a summary: version, pid,\n"
            "uptime, live processes, kept records, queues, connections, descriptors\n"
            "and memory, each against its configured limit. Exits 0 when the daemon\n"
            "answers and 3 when it cannot be reached, so that it also serves as a\n"
            "health check. With --json: daemon.stats' map (see proto/PROTOCOL.md) with\n"
            "socket, version, protocol and pid added.\n",
    .example = "  corralctl stats\n  corralctl stats --json | jq .processes\n",
};

static int
hello_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_hello h;
        struct corral_error err;
        json_t *methods;
        size_t i;
        int rc;

        if (!no_args(ctl, argc, argv, &rc) || (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_hello(ctl->conn, &h, &err) == -1)
                return ctl_fail(ctl, &err);
        if (ctl->json) {
                methods = json_array();
                for (i = 0; h.methods[i] != NULL; i++)
                        json_array_append_new(methods, json_string(h.methods[i]));
                rc = ctl_json_print(json_pack("{s:i,s:s,s:I,s:o}", "protocol", (int)h.protocol,
                                              "version", h.version, "pid", (json_int_t)h.pid,
                                              "methods", methods));
                corral_hello_clear(&h);
                return rc;
        }
        printf("socket:   %s\n", ctl_socket_path(ctl));
        printf("version:  %s\n", h.version);
        printf("protocol: %u%s\n", h.protocol,
               h.protocol == CORRAL_PROTOCOL ? "" : " (corralctl speaks another version)");
        printf("pid:      %ld\n", (long)h.pid);
        printf("methods: ");
        for (i = 0; h.methods[i] != NULL; i++)
                printf(" %s", h.methods[i]);
        putchar('\n');
        corral_hello_clear(&h);
        return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_hello = {
    .name = "hello",
    .run = hello_run,
    .usage = "",
    .summary = "Show the daemon's version, protocol, pid and methods",
};

/* Wait for the daemon to close the connection, as it does when it exits. */
static int
shutdown_wait(struct ctl *ctl)
{
        struct pollfd pfd = {.fd = corral_fd(ctl->conn), .events = POLLIN};
        double deadline = ctl->has_timeout && ctl->timeout > 0 ? now_seconds() + ctl->timeout : 0;
        char buf[4096];
        ssize_t n;
        int ms, r;

        for (;;) {
                ms = -1;
                if (deadline > 0 && (ms = (int)((deadline - now_seconds()) * 1e3) + 1) <= 0) {
                        ctl_warn("timeout: the daemon did not exit within %g s", ctl->timeout);
                        return CTL_EXIT_IO;
                }
                if ((r = poll(&pfd, 1, ms)) == -1 && errno != EINTR) {
                        ctl_warn("io: poll: %s", strerror(errno));
                        return CTL_EXIT_IO;
                }
                if (r <= 0)
                        continue;
                /* Nothing more is expected; whatever comes is read and dropped. */
                n = recv(pfd.fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n == 0 || (n == -1 && errno == ECONNRESET))
                        return CTL_EXIT_OK;
                if (n == -1 && errno != EINTR && errno != EAGAIN) {
                        ctl_warn("io: recv: %s", strerror(errno));
                        return CTL_EXIT_IO;
                }
        }
}

static int
shutdown_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"wait", no_argument, NULL, 'w'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_error err;
        bool wait = false;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "w", opts, false)) != -1) {
                if (ch != 'w')
                        return ctl_option_other(ctl, ch);
                wait = true;
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 0, 0)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_shutdown(ctl->conn, &err) == -1)
                return ctl_fail(ctl, &err);
        if (wait && (rc = shutdown_wait(ctl)) != CTL_EXIT_OK)
                return rc;
        return ctl->json ? ctl_json_print(json_object()) : CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_shutdown = {
    .name = "shutdown",
    .run = shutdown_run,
    .usage = "[--wait]",
    .summary = "Stop the daemon and every process it supervises",
    .help = "The daemon stops accepting connections, terminates every process (TERM,\n"
            "then KILL after each one's grace period), answers pending joins, and exits.\n",
    .options = "  -w, --wait           return only once the daemon has exited (bounded by\n"
               "                       the global --timeout if one is given)\n",
};

static int
reopen_logs_run(struct ctl *ctl, int argc, char **argv)
{
        struct corral_error err;
        int rc;

        if (!no_args(ctl, argc, argv, &rc) || (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_reopen_logs(ctl->conn, &err) == -1)
                return ctl_fail(ctl, &err);
        return ctl->json ? ctl_json_print(json_object()) : CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_reopen_logs = {
    .name = "reopen-logs",
    .run = reopen_logs_run,
    .usage = "",
    .summary = "Reopen the file: destinations of processes' output",
    .help = "Every process whose --stdout or --stderr is file:PATH gets PATH opened\n"
            "again (created if it was moved away), as SIGUSR1 to the daemon does: run it\n"
            "after an external logrotate has renamed the files. The daemon's own\n"
            "rotation (--log-max-bytes) needs nothing.\n",
    .example = "  # /etc/logrotate.d/myapp: postrotate corralctl reopen-logs; endscript\n",
};

static int
call_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {CTL_COMMON_OPTIONS};
        struct corral_result res;
        struct corral_error err;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        json_error_t jerr;
        json_t *params = NULL;
        const char *method;
        char *cause = NULL;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "", opts, false)) != -1)
                return ctl_option_other(ctl, ch);
        if ((rc = ctl_want_args(ctl, argc, argv, 1, 2)) != CTL_EXIT_OK)
                return rc;
        method = argv[optind];
        if (optind + 1 < argc) {
                if (strcmp(argv[optind + 1], "-") == 0)
                        params = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
                else
                        params = json_loads(argv[optind + 1], JSON_REJECT_DUPLICATES, &jerr);
                if (params == NULL)
                        return ctl_usage_error(ctl, "PARAMS: %s (line %d, column %d)", jerr.text,
                                               jerr.line, jerr.column);
                if (!json_is_object(params)) {
                        json_decref(params);
                        return ctl_usage_error(ctl, "PARAMS must be a JSON object");
                }
        }

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        if (params != NULL && ctl_json_to_msgpack(params, &pk, &cause) == -1) {
                rc = ctl_usage_error(ctl, "PARAMS: %s", cause != NULL ? cause : "out of memory");
                goto out;
        }
        if ((rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                goto out;
        if (corral_call(ctl->conn, method, params != NULL ? sb.data : NULL, sb.size, &res, &err) ==
            -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        rc = ctl_json_print(ctl_json_from_msgpack(&res.obj));
        corral_result_free(&res);
out:
        free(cause);
        msgpack_sbuffer_destroy(&sb);
        json_decref(params);
        return rc;
}

const struct ctl_cmd ctl_cmd_call = {
    .name = "call",
    .run = call_run,
    .usage = "METHOD [PARAMS|-]",
    .summary = "Call any method with JSON parameters; print its result as JSON",
    .help = "PARAMS is a JSON object, sent as the method's parameter map (- reads it\n"
            "from standard input); without it the method gets no parameters. The result\n"
            "is printed as JSON whether or not --json is given. In PARAMS, an object\n"
            "{\"$base64\": \"...\"} alone is sent as binary data; in the result, bytes that\n"
            "are not valid UTF-8 are shown the same way. See proto/PROTOCOL.md for the\n"
            "methods and their parameters. The call is bounded by the global --timeout\n"
            "(default 30s): give --timeout 0 before `call` for a join that waits longer.\n",
    .example = "  corralctl call daemon.hello\n"
               "  corralctl call process.list '{\"pool\": \"web\", \"live\": true}'\n"
               "  corralctl call process.join '{\"name\": \"job\", \"timeout\": 5}'\n",
};
