/*
 * corralctl-events.c -- `corralctl events`: subscribe and print each event
 * as one line (human or JSON) until interrupted or the daemon closes the
 * connection. Every line is flushed at once so that it works in a pipe.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "corralctl.h"

/* Long-only options. */
enum {
        OPT_TYPE = 256,
};

struct events_state {
        struct ctl *ctl;
        bool dropped; /* the daemon sent "overflow": it closes the connection next */
        int rc;       /* an exit status once printing failed */
};

/* HH:MM:SS.mmm in local time; an event without ts gets the time it was read. */
static void
format_ts(double ts, char *buf, size_t len)
{
        struct timespec now;
        struct tm tm;
        time_t secs;
        size_t n;

        if (ts <= 0) {
                clock_gettime(CLOCK_REALTIME, &now);
                ts = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
        }
        secs = (time_t)ts;
        if (localtime_r(&secs, &tm) == NULL) {
                snprintf(buf, len, "-");
                return;
        }
        n = strftime(buf, len, "%H:%M:%S", &tm);
        snprintf(buf + n, len - n, ".%03d", (int)((ts - (double)secs) * 1000) % 1000);
}

/* A JSON scalar (string quoted and escaped) for key=value output. */
static void
print_value(const msgpack_object *o)
{
        json_t *j = ctl_json_from_msgpack(o);
        char *s = j != NULL ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

        fputs(s != NULL ? s : "?", stdout);
        free(s);
        json_decref(j);
}

/* " key=value" for a field, if the event has it and it is not nil. */
static void
print_field(const struct corral_event *ev, const char *key, bool quote)
{
        const msgpack_object *v = corral_event_field(ev, key);

        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return;
        printf("  %s=", key);
        if (!quote && v->type == MSGPACK_OBJECT_STR)
                fwrite(v->via.str.ptr, 1, v->via.str.size, stdout);
        else
                print_value(v);
}

/* Whether a process.state change ends a run: then its exit is worth showing. */
static bool
ends_run(const char *to)
{
        static const char *const states[] = {"exited", "killed", "stopped", "failed", "backoff"};
        size_t i;

        for (i = 0; i < sizeof states / sizeof states[0]; i++) {
                if (strcmp(to, states[i]) == 0)
                        return true;
        }
        return false;
}

static void
print_process(const struct corral_event *ev)
{
        char who[128], buf[32];

        snprintf(who, sizeof who, "%s(%llu)", ev->name != NULL ? ev->name : "?",
                 (unsigned long long)ev->id);
        printf("  %-16s", who);
        if (strcmp(ev->type, "process.state") == 0) {
                printf("  %s -> %s", ev->from, ev->to);
                if (ev->pid > 0)
                        printf("  pid=%ld", (long)ev->pid);
                if (ends_run(ev->to) && (ev->exit_code >= 0 || ev->signal > 0))
                        printf("  exit=%s",
                               ctl_format_exit(ev->exit_code, ev->signal, buf, sizeof buf));
        }
        if (ev->restarts > 0)
                printf("  restarts=%u", ev->restarts);
        print_field(ev, "retry_after", false);
        print_field(ev, "reason", true);
}

/* Any other event: every field but type, ts and those nil, as key=value. */
static void
print_other(const struct corral_event *ev)
{
        const msgpack_object *m = &ev->raw.obj;
        const msgpack_object_kv *kv;
        uint32_t i;

        for (i = 0; m->type == MSGPACK_OBJECT_MAP && i < m->via.map.size; i++) {
                kv = &m->via.map.ptr[i];
                if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type == MSGPACK_OBJECT_NIL ||
                    (kv->key.via.str.size == 4 && memcmp(kv->key.via.str.ptr, "type", 4) == 0) ||
                    (kv->key.via.str.size == 2 && memcmp(kv->key.via.str.ptr, "ts", 2) == 0))
                        continue;
                printf("  %.*s=", (int)kv->key.via.str.size, kv->key.via.str.ptr);
                if (kv->val.type == MSGPACK_OBJECT_STR)
                        fwrite(kv->val.via.str.ptr, 1, kv->val.via.str.size, stdout);
                else
                        print_value(&kv->val);
        }
}

/* TIME  TYPE  NAME(ID)  FROM -> TO  pid=… exit=… */
static void
print_human(const struct corral_event *ev)
{
        char ts[32];

        format_ts(ev->ts, ts, sizeof ts);
        printf("%s  %-19s", ts, ev->type);
        if (strncmp(ev->type, "process.", 8) == 0)
                print_process(ev);
        else if (strncmp(ev->type, "pool.", 5) == 0 && ev->pool != NULL) {
                printf("  %-16s", ev->pool);
                print_field(ev, "size", false);
                print_field(ev, "replicas", false);
                print_field(ev, "closed", false);
        } else
                print_other(ev);
        putchar('\n');
}

static int
events_print(const struct corral_event *ev, void *arg)
{
        struct events_state *st = arg;
        json_t *j;

        if (strcmp(ev->type, "overflow") == 0 && corral_event_field(ev, "limit") != NULL)
                st->dropped = true;
        if (st->ctl->json) {
                if ((j = ctl_json_from_msgpack(&ev->raw.obj)) == NULL) {
                        ctl_warn("cannot convert an event to JSON");
                        st->rc = CTL_EXIT_IO;
                        return 1;
                }
                json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(16));
                putchar('\n');
                json_decref(j);
        } else
                print_human(ev);
        /* A reader of the pipe sees each event as it happens. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                st->rc = CTL_EXIT_IO;
                return 1;
        }
        return 0;
}

static int
events_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"pool", required_argument, NULL, 'p'},
            {"type", required_argument, NULL, OPT_TYPE},
            CTL_COMMON_OPTIONS,
        };
        struct events_state st = {.ctl = ctl, .dropped = false, .rc = CTL_EXIT_OK};
        struct corral_error err;
        const char **pools, **types;
        size_t npools = 0, ntypes = 0;
        int ch, rc;

        pools = calloc((size_t)argc + 1, sizeof *pools);
        types = calloc((size_t)argc + 1, sizeof *types);
        if (pools == NULL || types == NULL) {
                ctl_warn("out of memory");
                rc = CTL_EXIT_IO;
                goto out;
        }
        while ((ch = ctl_getopt(ctl, argc, argv, "p:", opts, false)) != -1) {
                if (ch == 'p')
                        pools[npools++] = optarg;
                else if (ch == OPT_TYPE)
                        types[ntypes++] = optarg;
                else {
                        rc = ctl_option_other(ctl, ch);
                        goto out;
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 0, 0)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                goto out;
        if (corral_events_subscribe(ctl->conn, npools > 0 ? pools : NULL, ntypes > 0 ? types : NULL,
                                    &err) == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        if (corral_events_run(ctl->conn, events_print, &st, &err) == -1) {
                rc = ctl_fail(ctl, &err);
                goto out;
        }
        rc = st.rc;
        if (rc == CTL_EXIT_OK && st.dropped) {
                ctl_warn("the daemon stopped sending events: they were read too slowly");
                rc = CTL_EXIT_IO;
        }
out:
        free(pools);
        free(types);
        return rc;
}

const struct ctl_cmd ctl_cmd_events = {
    .name = "events",
    .run = events_run,
    .usage = "[--pool POOL]... [--type TYPE]... [--json]",
    .summary = "Print events as they happen, one per line",
    .help = "Subscribes to the daemon's events and prints each one as a line, until\n"
            "interrupted or the daemon closes the connection (then the status is 0):\n"
            "\n"
            "  TIME  TYPE  NAME(ID)  FROM -> TO  pid=PID  exit=CODE|SIGNAL  restarts=N\n"
            "\n"
            "TIME is local, to the millisecond; exit= is shown when a run has ended.\n"
            "Types: process.state (a process changed state), process.start_limit (it\n"
            "started too often and now fails), pool.created, pool.scaled, pool.closed,\n"
            "pool.joined, pool.restarted (a rolling restart is done) and pool.deleted\n"
            "(with the pool's size, replicas and closed), queue.full (a put found the\n"
            "queue full) and queue.dead_lettered (a message went past --max-attempts),\n"
            "with the queue's count and bytes (queue events are not filtered by\n"
            "--pool), and overflow: events were read too slowly, and the daemon closes\n"
            "the connection (status 4).\n"
            "\n"
            "With --json, each event is one JSON object a line: {\"type\", \"ts\" (seconds\n"
            "since the epoch), ...} with the daemon's field names, e.g. id, name, pool,\n"
            "from, to, pid, restarts, exit_code, signal, reason.\n",
    .options = "  -p, --pool POOL      only events of POOL (repeatable)\n"
               "      --type TYPE      only events of TYPE (repeatable)\n",
    .example =
        "  corralctl events --pool web\n"
        "  corralctl events --type process.state --json | jq -c 'select(.to == \"failed\")'\n",
};
