/*
 * test_limits.c -- integration tests of corrald's limits under hostile or
 * careless clients: connections, half messages, clients that never read,
 * requests waiting, processes (in all and per uid), connection churn,
 * garbage input, descriptor exhaustion and fork failure. Every limit
 * must answer with a clear error, never stop the daemon or cost it
 * unbounded memory, descriptors or CPU, and daemon.stats reports usage
 * against each.
 *
 * Cases marked "NOTE FOR THE LEAD" expose a daemon bug: they state the
 * behaviour SECURITY.md promises and fail until the daemon keeps it.
 *
 * Each case starts its own corrald; `test_limits CASE` runs one.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sec_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define SEC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEC_ASAN 1
#endif
#endif
#ifndef SEC_ASAN
#define SEC_ASAN 0
#endif

static struct harness *h;
static struct raw *root;
static msgpack_unpacked m;

static void
setup(const char *conf)
{
        h = sec_start(conf, NULL);
        root = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
}

static void
teardown(void)
{
        msgpack_unpacked_destroy(&m);
        raw_close(root);
        root = NULL;
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

static void
sleep_s(double s)
{
        usleep((useconds_t)(s * 1e6));
}

static uint64_t
spawn_sleeper(struct raw *r)
{
        return sec_spawn(r, NULL, "/bin/sleep", "60");
}

/*
 * The daemon's descriptors once only root's connection is left and the
 * count holds still (a connection is counted out before its descriptor
 * is closed, from the next turn of the loop).
 */
static int
settled_fds_with(int64_t conns)
{
        int n = -1;

        T_ASSERT(sec_wait_connections(root, conns));
        for (int i = 0; i < 100; i++) {
                int again;

                sleep_s(0.05);
                again = proc_fd_count(h->pid);
                if (again == n)
                        return n;
                n = again;
        }
        t_fail(__FILE__, __LINE__, "the daemon's descriptor count does not settle");
}

static int
settled_fds(void)
{
        return settled_fds_with(1);
}

/* The daemon's descriptors come back to n within SEC_WAIT. */
static bool
fds_back_to(int n)
{
        double deadline = now_mono() + SEC_WAIT;

        while (proc_fd_count(h->pid) != n && now_mono() < deadline)
                sleep_s(0.02);
        return proc_fd_count(h->pid) == n;
}

/* ---- connections ----------------------------------------------------------- */

/* Beyond max_connections: one limit_reached answer and closed; the others go on. */
static void
t_max_connections(void)
{
        struct raw *r[3], *extra;
        int fd0;

        setup("max_connections = 4\n");
        T_ASSERT(sec_wait_connections(root, 1)); /* the harness's probe has gone */
        for (int i = 0; i < 3; i++) {
                r[i] = raw_connect(h->sock);
                SEC_OK(r[i], &m, "daemon.ping", NULL);
        }
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int2(&m, "connections", "used"), 4);
        T_EQ_INT(sec_result_int2(&m, "connections", "limit"), 4);
        fd0 = proc_fd_count(h->pid); /* no connection is on its way out here */
        for (int i = 0; i < 20; i++) {
                extra = raw_connect(h->sock);
                T_ASSERTF(raw_next(extra, SEC_WAIT, &m) == 1, "no answer to connection %d", 5 + i);
                T_ASSERT(m.data.type == MSGPACK_OBJECT_ARRAY && m.data.via.array.size == 4);
                T_EQ_STR(resp_error_str(&m.data, "code"), "limit_reached");
                T_ASSERT(resp_msgid_nil(&m.data));
                T_ASSERTF(raw_wait_closed(extra, SEC_WAIT), "a refused connection stayed open");
                raw_close(extra);
        }
        /* The refusals cost nothing that stays. */
        T_ASSERT(fds_back_to(fd0));
        for (int i = 0; i < 3; i++)
                SEC_OK(r[i], &m, "daemon.hello", NULL);
        SEC_OK(root, &m, "daemon.ping", NULL);
        /* One leaves: room for one more. */
        raw_close(r[2]);
        T_ASSERT(sec_wait_connections(root, 3));
        r[2] = raw_connect(h->sock);
        SEC_OK(r[2], &m, "daemon.ping", NULL);
        for (int i = 0; i < 3; i++)
                raw_close(r[i]);
        teardown();
}

/*
 * A message must arrive whole within idle_timeout of its first byte: half
 * a message then silence is dropped, and so is one trickled a byte at a
 * time (slowloris). Silence between messages is fine, and so are
 * pipelined messages that keep completing, however long the stream.
 */
static void
t_idle_timeout(void)
{
        static const char ping[] = "\x94\x00\x07\xab"
                                   "daemon.ping\x90";
        const size_t len = sizeof ping - 1, cut = 6;
        struct raw *quiet, *silent, *half, *trickle, *stream;
        char buf[2 * sizeof ping];
        bool closed = false;
        double t0, took;
        size_t sent;

        setup("idle_timeout = 1\n");
        quiet = raw_connect(h->sock);
        SEC_OK(quiet, &m, "daemon.ping", NULL); /* a whole message, then nothing */
        silent = raw_connect(h->sock);          /* nothing at all */
        half = raw_connect(h->sock);
        t0 = now_mono();
        T_ASSERT(raw_send(half, ping, cut));
        T_ASSERTF(raw_wait_closed(half, 10), "a half message was kept past idle_timeout");
        took = now_mono() - t0;
        T_ASSERTF(took >= 0.9 && took < 10, "dropped after %.2f s, idle_timeout is 1", took);
        T_ASSERT(sec_log_has(h, "unfinished"));
        /* Bytes that keep coming slowly do not keep a message alive: 8 s for 16 bytes. */
        trickle = raw_connect(h->sock);
        t0 = now_mono();
        for (sent = 0; sent < len && !closed; sent++) {
                T_ASSERT(raw_send(trickle, ping + sent, 1));
                closed = raw_wait_closed(trickle, 0.5);
        }
        took = now_mono() - t0;
        T_ASSERTF(closed, "a message trickled over %.1f s was kept (idle_timeout is 1)", took);
        T_ASSERTF(took >= 0.9, "trickle dropped after %.2f s, idle_timeout is 1", took);
        /* Pipelined messages, each cut across two writes, over longer than the deadline. */
        stream = raw_connect(h->sock);
        T_ASSERT(raw_send(stream, ping, cut));
        for (int k = 0; k < 15; k++) {
                sleep_s(0.1);
                memcpy(buf, ping + cut, len - cut);
                memcpy(buf + len - cut, ping, k < 14 ? cut : 0);
                T_ASSERT(raw_send(stream, buf, len - cut + (k < 14 ? cut : 0)));
        }
        for (int k = 0; k < 15; k++) {
                raw_response(stream, SEC_WAIT, &m);
                T_EQ_INT(resp_msgid(&m.data), 7);
                T_ASSERT(resp_error(&m.data) == NULL);
        }
        sleep_s(1.5);
        SEC_OK(quiet, &m, "daemon.ping", NULL);
        SEC_OK(silent, &m, "daemon.ping", NULL);
        SEC_OK(stream, &m, "daemon.ping", NULL);
        SEC_OK(root, &m, "daemon.stats", NULL);
        {
                const msgpack_object *v = obj_get(resp_result(&m.data), "idle_timeout");

                T_ASSERT(v != NULL &&
                         (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32));
                T_ASSERT(v->via.f64 == 1.0);
        }
        raw_close(quiet);
        raw_close(silent);
        raw_close(half);
        raw_close(trickle);
        raw_close(stream);
        teardown();
}

/* n daemon.hello requests in one buffer. */
static void
pack_hellos(msgpack_sbuffer *sb, uint32_t first, uint32_t n)
{
        msgpack_packer pk;

        msgpack_sbuffer_init(sb);
        msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
        for (uint32_t i = 0; i < n; i++) {
                msgpack_pack_array(&pk, 4);
                msgpack_pack_uint8(&pk, 0);
                msgpack_pack_uint32(&pk, first + i);
                pk_str(&pk, "daemon.hello");
                msgpack_pack_array(&pk, 0);
        }
}

/* A client that pipelines and never reads is dropped past max_output; the others go on. */
static void
t_slow_reader_dropped(void)
{
        struct raw *slow, *other;
        msgpack_sbuffer sb;
        long rss0, rss1;

        setup("max_output = 262144\n");
        other = raw_connect(h->sock);
        SEC_OK(other, &m, "daemon.ping", NULL);
        T_ASSERT(sec_wait_connections(root, 2));
        rss0 = sec_rss_kib(h->pid);
        slow = raw_connect(h->sock);
        pack_hellos(&sb, 1, 4000);        /* some 2 MiB of answers */
        raw_send(slow, sb.data, sb.size); /* may stop early: the daemon hangs up */
        msgpack_sbuffer_destroy(&sb);
        {
                double deadline = now_mono() + SEC_WAIT;

                while (!sec_log_has(h, "is not reading") && now_mono() < deadline)
                        sleep_s(0.02);
        }
        T_ASSERTF(sec_log_has(h, "is not reading"),
                  "the client that does not read was not dropped");
        T_ASSERT(sec_wait_connections(root, 2));
        SEC_OK(other, &m, "daemon.hello", NULL);
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int(&m, "max_output_per_connection"), 262144);
        rss1 = sec_rss_kib(h->pid);
        T_ASSERTF(rss1 - rss0 < 32 * 1024, "RSS grew from %ld to %ld KiB", rss0, rss1);
        /* It gets what the socket held, then the end. */
        T_ASSERT(raw_wait_closed(slow, SEC_WAIT));
        raw_close(slow);
        raw_close(other);
        teardown();
}

/*
 * Under max_output, a client that stops reading only pauses: the daemon
 * stops reading it (its memory stays bounded), serves the others, and
 * once the client reads again every request is answered.
 */
static void
t_slow_reader_paused(void)
{
        const uint32_t total = 20000;
        struct raw *slow;
        msgpack_sbuffer sb;
        size_t off = 0;
        uint32_t answered = 0;
        double idle_since = now_mono();
        long rss0, rss1;

        setup(NULL);
        T_ASSERT(sec_wait_connections(root, 1));
        rss0 = sec_rss_kib(h->pid);
        slow = raw_connect(h->sock);
        pack_hellos(&sb, 1, total);
        /* Send until the daemon stops taking bytes for a second. */
        while (off < sb.size && now_mono() - idle_since < 1.0) {
                ssize_t n = send(slow->fd, sb.data + off, sb.size - off, MSG_NOSIGNAL);

                if (n > 0) {
                        off += (size_t)n;
                        idle_since = now_mono();
                } else {
                        T_ASSERTF(n == -1 && (errno == EAGAIN || errno == EINTR), "send: %s",
                                  strerror(errno));
                        sleep_s(0.01);
                }
        }
        T_ASSERTF(off < sb.size, "the daemon read %zu bytes from a client that never reads", off);
        SEC_OK(root, &m, "daemon.hello", NULL);
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int2(&m, "connections", "used"), 2);
        rss1 = sec_rss_kib(h->pid);
        T_ASSERTF(rss1 - rss0 < 24 * 1024, "RSS grew from %ld to %ld KiB", rss0, rss1);
        /* Now read everything: the rest is sent as room appears, and all is answered. */
        while (answered < total) {
                struct pollfd pfd = {slow->fd, POLLOUT, 0};
                int rc;

                if (off < sb.size && poll(&pfd, 1, 0) == 1) {
                        ssize_t n = send(slow->fd, sb.data + off, sb.size - off, MSG_NOSIGNAL);

                        if (n > 0)
                                off += (size_t)n;
                }
                rc = raw_next(slow, off < sb.size ? 0.01 : SEC_WAIT, &m);
                if (rc == -1 && off < sb.size)
                        continue;
                T_ASSERTF(rc == 1, "answer %u of %u did not come", answered + 1, total);
                T_EQ_INT(resp_msgid(&m.data), answered + 1);
                T_ASSERT(resp_error(&m.data) == NULL);
                answered++;
        }
        msgpack_sbuffer_destroy(&sb);
        raw_close(slow);
        teardown();
}

/* A connection with max_waiting parked requests gets limit_reached for the next. */
static void
t_max_waiting(void)
{
        struct raw *r;
        uint64_t id;

        setup("max_waiting = 4\n");
        id = spawn_sleeper(root);
        r = raw_connect(h->sock);
        for (uint32_t i = 0; i < 4; i++)
                raw_request(r, 1000 + i, "process.join", pk_target_id, &id);
        SEC_ERR(r, &m, "limit_reached", "process.join", "{s:I}", "id", (json_int_t)id);
        SEC_OK(r, &m, "daemon.ping", NULL);
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int(&m, "max_waiting_per_connection"), 4);
        sec_terminate(root, id);
        for (int i = 0; i < 4; i++) {
                raw_response(r, SEC_WAIT, &m);
                T_ASSERT(resp_msgid(&m.data) >= 1000 && resp_msgid(&m.data) < 1004);
                T_ASSERT(resp_error(&m.data) == NULL);
        }
        raw_close(r);
        teardown();
}

/* ---- processes --------------------------------------------------------------- */

/* max_processes live processes, then limit_reached; room again when one ends. */
static void
t_max_processes(void)
{
        uint64_t ids[3];

        setup("max_processes = 3\n");
        for (int i = 0; i < 3; i++)
                ids[i] = spawn_sleeper(root);
        SEC_ERR(root, &m, "limit_reached", "process.spawn", "{s:[s,s]}", "argv", "/bin/sleep",
                "60");
        SEC_ERR(root, &m, "limit_reached", "process.spawn", "{s:[s], s:s}", "argv", "/bin/true",
                "pool", "other");
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int2(&m, "processes", "used"), 3);
        T_EQ_INT(sec_result_int2(&m, "processes", "limit"), 3);
        sec_terminate(root, ids[0]);
        ids[0] = spawn_sleeper(root);
        for (int i = 0; i < 3; i++)
                sec_terminate(root, ids[i]);
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int2(&m, "processes", "used"), 0);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug. process.start (and pool members'
 * restarts) bring an ended record back to life without the max_processes
 * check: method-process-start.c start_run() -> process_restart() never
 * looks at config.max_processes (only process_new() does). Expected:
 * limit_reached when the daemon already supervises max_processes live
 * processes.
 */
static void
t_max_processes_start(void)
{
        uint64_t ended, a, b;
        const char *code;
        int64_t used;

        setup("max_processes = 2\n");
        ended = spawn_sleeper(root);
        sec_terminate(root, ended);
        a = spawn_sleeper(root);
        b = spawn_sleeper(root);
        SEC_ERR(root, &m, "limit_reached", "process.spawn", "{s:[s,s]}", "argv", "/bin/sleep",
                "60");
        code = sec_call(root, &m, "process.start", "{s:I}", "id", (json_int_t)ended);
        SEC_OK(root, &m, "daemon.stats", NULL);
        used = sec_result_int2(&m, "processes", "used");
        T_ASSERTF(strcmp(code, "limit_reached") == 0 && used <= 2,
                  "process.start at the limit answered %s; %lld live processes, limit 2",
                  code[0] ? code : "success", (long long)used);
        sec_terminate(root, a);
        sec_terminate(root, b);
        teardown();
}

/* A non-root client owns at most max_processes_per_uid live processes; root is not counted. */
static void
t_max_processes_per_uid(void)
{
        struct sec_peer *p;
        struct sec_id id;
        uint64_t mine[2], roots[3];

        setup("max_processes_per_uid = 2\n[access]\nuser.nobody = control\n");
        sec_id(&id, "nobody", NULL, NULL);
        p = sec_peer_new(h, &id);
        mine[0] = spawn_sleeper(p->raw);
        mine[1] = spawn_sleeper(p->raw);
        SEC_ERR(p->raw, &m, "limit_reached", "process.spawn", "{s:[s,s]}", "argv", "/bin/sleep",
                "60");
        T_ASSERT(strstr(sec_error_message(&m), "65534") != NULL);
        for (int i = 0; i < 3; i++)
                roots[i] = spawn_sleeper(root);
        SEC_OK(p->raw, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int(&m, "max_processes_per_uid"), 2);
        T_EQ_INT(sec_result_int2(&m, "processes", "used"), 5);
        sec_terminate(p->raw, mine[0]);
        mine[0] = spawn_sleeper(p->raw);
        for (int i = 0; i < 2; i++)
                sec_terminate(p->raw, mine[i]);
        for (int i = 0; i < 3; i++)
                sec_terminate(root, roots[i]);
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug. The per-uid limit is checked in
 * method-process-spawn.c spawn_run() only: process.start of the client's
 * own ended process (method-process-start.c) runs it again past the
 * limit. Expected: limit_reached.
 */
static void
t_max_processes_per_uid_start(void)
{
        struct sec_peer *p;
        struct sec_id id;
        uint64_t ended, a, b;
        const char *code;

        setup("max_processes_per_uid = 2\n[access]\nuser.nobody = control\n");
        sec_id(&id, "nobody", NULL, NULL);
        p = sec_peer_new(h, &id);
        ended = spawn_sleeper(p->raw);
        sec_terminate(p->raw, ended);
        a = spawn_sleeper(p->raw);
        b = spawn_sleeper(p->raw);
        SEC_ERR(p->raw, &m, "limit_reached", "process.spawn", "{s:[s,s]}", "argv", "/bin/sleep",
                "60");
        code = sec_call(p->raw, &m, "process.start", "{s:I}", "id", (json_int_t)ended);
        if (code[0] == '\0')
                sec_terminate(root, ended);
        T_ASSERTF(strcmp(code, "limit_reached") == 0,
                  "process.start of a third process by a uid at its limit of 2: %s",
                  code[0] ? code : "success (3 live)");
        sec_terminate(root, a);
        sec_terminate(root, b);
        sec_peer_free(p);
        teardown();
}

/* Usage against every limit, as configured. */
static void
t_stats(void)
{
        struct raw *r1, *r2;
        const msgpack_object *v;
        uint64_t a, b;
        long rss;
        int fds;

        setup("max_connections = 50\nmax_processes = 7\nmax_processes_per_uid = 3\n"
              "max_waiting = 9\nmax_output = 131072\nidle_timeout = 2.5\nmax_message = 65536\n"
              "queue_max_message = 1000\n");
        a = spawn_sleeper(root);
        b = spawn_sleeper(root);
        r1 = raw_connect(h->sock);
        r2 = raw_connect(h->sock);
        SEC_OK(r1, &m, "queue.create", "{s:s}", "name", "q");
        SEC_OK(r1, &m, "queue.put", "{s:s, s:s}", "queue", "q", "data", "abc");
        SEC_OK(r2, &m, "queue.put", "{s:s, s:s}", "queue", "q", "data", "defg");
        T_ASSERT(sec_wait_connections(root, 3));
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int2(&m, "connections", "used"), 3);
        T_EQ_INT(sec_result_int2(&m, "connections", "limit"), 50);
        T_EQ_INT(sec_result_int2(&m, "processes", "used"), 2);
        T_EQ_INT(sec_result_int2(&m, "processes", "limit"), 7);
        fds = proc_fd_count(h->pid);
        T_ASSERTF(llabs(sec_result_int2(&m, "descriptors", "used") - fds) <= 2,
                  "descriptors.used %lld, /proc says %d",
                  (long long)sec_result_int2(&m, "descriptors", "used"), fds);
        {
                struct rlimit rl;

                T_ASSERT(prlimit(h->pid, RLIMIT_NOFILE, NULL, &rl) == 0);
                /* Under valgrind, the limit it leaves corrald (it keeps a few for itself). */
                if (harness_valgrind())
                        rl.rlim_cur -= HARNESS_VALGRIND_FDS;
                T_EQ_INT(sec_result_int2(&m, "descriptors", "limit"), rl.rlim_cur);
        }
        T_EQ_INT(sec_result_int(&m, "max_processes_per_uid"), 3);
        T_EQ_INT(sec_result_int(&m, "max_waiting_per_connection"), 9);
        T_EQ_INT(sec_result_int(&m, "max_output_per_connection"), 131072);
        T_EQ_INT(sec_result_int(&m, "max_message"), 65536);
        T_EQ_INT(sec_result_int(&m, "queue_max_message"), 1000);
        v = obj_get(resp_result(&m.data), "idle_timeout");
        T_ASSERT(v != NULL && v->type == MSGPACK_OBJECT_FLOAT64 && v->via.f64 == 2.5);
        T_EQ_INT(sec_result_int2(&m, "queues", "count"), 1);
        T_EQ_INT(sec_result_int2(&m, "queues", "messages"), 2);
        T_EQ_INT(sec_result_int2(&m, "queues", "bytes"), 7);
        rss = sec_rss_kib(h->pid);
        T_ASSERTF(llabs(sec_result_int(&m, "rss") / 1024 - rss) < rss / 5 + 1024,
                  "rss %lld bytes, /proc says %ld KiB", (long long)sec_result_int(&m, "rss"), rss);
        sec_terminate(root, a);
        sec_terminate(root, b);
        raw_close(r1);
        raw_close(r2);
        teardown();
}

/* ---- churn and garbage ------------------------------------------------------- */

/* 2,000 clients come and go, politely or not: descriptors and memory come back. */
static void
t_connect_churn(void)
{
        static const char half[] = "\x94\x00\x01\xab"
                                   "daemon";
        /* Under valgrind its 4 MB queue of freed blocks comes on top. */
        long rss0, rss1, slack = SEC_ASAN ? 24 * 1024 : harness_valgrind() ? 8 * 1024 : 4 * 1024;
        int fd0;

        harness_small_quarantine();
        setup(NULL);
        /* Warm up the allocator, then take the baseline. */
        for (int i = 0; i < 200; i++) {
                struct raw *r = raw_connect(h->sock);

                SEC_OK(r, &m, "daemon.hello", NULL);
                raw_close(r);
        }
        fd0 = settled_fds();
        rss0 = sec_rss_kib(h->pid);
        for (int i = 0; i < 2000; i++) {
                struct raw *r = raw_connect(h->sock);

                switch (i % 4) {
                case 0: /* connect and go */
                        break;
                case 1:
                        SEC_OK(r, &m, "daemon.ping", NULL);
                        break;
                case 2: /* half a message, then gone */
                        raw_send(r, half, sizeof half - 1);
                        break;
                case 3: /* ask, and leave without the answer */
                        raw_request(r, 1, "daemon.hello", NULL, NULL);
                        break;
                }
                raw_close(r);
        }
        T_ASSERT(sec_wait_connections(root, 1));
        T_ASSERTF(fds_back_to(fd0), "descriptors: %d before, %d after", fd0, proc_fd_count(h->pid));
        rss1 = sec_rss_kib(h->pid);
        T_ASSERTF(rss1 - rss0 < slack, "RSS grew from %ld to %ld KiB over 2,000 connections", rss0,
                  rss1);
        teardown();
}

static uint32_t
xorshift(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* A request that may be answered: an error, never a success; true once closed. */
static bool
only_errors_then_closed(struct raw *r, int *invalid)
{
        double deadline = now_mono() + SEC_WAIT;

        for (;;) {
                double left = deadline - now_mono();
                int rc = raw_next(r, left > 0 ? left : 0, &m);

                if (rc == 0)
                        return true;
                if (rc == -1)
                        return false;
                T_ASSERTF(m.data.type == MSGPACK_OBJECT_ARRAY && m.data.via.array.size == 4,
                          "garbage was answered with something that is not a response");
                T_ASSERTF(resp_error(&m.data) != NULL, "garbage was answered with a success");
                if (strcmp(resp_error_str(&m.data, "code"), "invalid_request") == 0)
                        (*invalid)++;
        }
}

/* Random bytes and well-formed MessagePack of the wrong shape: invalid_request, closed. */
static void
t_garbage_input(void)
{
        /* clang-format off */
        static const struct {
                const char *what;
                const char *bytes;
                size_t len;
        } shapes[] = {
#define B(s) s, sizeof s - 1
            {"nil", B("\xc0")},
            {"true", B("\xc3")},
            {"a float", B("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00")},
            {"bin", B("\xc4\x03" "abc")},
            {"an empty array", B("\x90")},
            {"an array of arrays", B("\x91\x91\x90")},
            {"a map request", B("\x84\xa4type\x00\xa5msgid\x01\xa6method\xa9" "daemon.hi\xa6params\x90")},
            {"array of 3", B("\x93\x00\x01\xab" "daemon.ping")},
            {"string type", B("\x94\xa1" "0\x01\xab" "daemon.ping\x90")},
            {"array msgid", B("\x94\x00\x90\xab" "daemon.ping\x90")},
            {"method nil", B("\x94\x00\x02\xc0\x90")},
            {"method bin", B("\x94\x00\x03\xc4\x0b" "daemon.ping\x90")},
            {"params a string", B("\x94\x00\x04\xab" "daemon.ping\xa1x")},
            {"params an int", B("\x94\x00\x05\xab" "daemon.ping\x07")},
            {"response", B("\x94\x01\x06\xc0\x80")},
            {"type 9", B("\x94\x09\x07\xab" "daemon.ping\x90")},
#undef B
        };
        /* clang-format on */
        struct raw *waiter, *r;
        uint32_t seed = 0x5eed1234;
        int invalid = 0, fd0;
        uint64_t id;

        setup(NULL);
        id = spawn_sleeper(root);
        /* An innocent bystander with a request waiting. */
        waiter = raw_connect(h->sock);
        raw_request(waiter, 77, "process.join", pk_target_id, &id);
        SEC_OK(waiter, &m, "daemon.ping", NULL);
        fd0 = settled_fds_with(2);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
                r = raw_connect(h->sock);
                T_ASSERT(raw_send(r, shapes[i].bytes, shapes[i].len));
                raw_response(r, SEC_WAIT, &m);
                T_ASSERTF(strcmp(resp_error_str(&m.data, "code"), "invalid_request") == 0,
                          "%s: %s, expected invalid_request", shapes[i].what,
                          resp_error(&m.data) ? resp_error_str(&m.data, "code") : "success");
                T_ASSERTF(raw_wait_closed(r, SEC_WAIT), "%s: the connection stayed open",
                          shapes[i].what);
                raw_close(r);
        }
        /* A notification from a client is ignored, not fatal. */
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r,
                          "\x93\x02\xab"
                          "daemon.ping\x90",
                          15));
        SEC_OK(r, &m, "daemon.ping", NULL);
        raw_close(r);
        for (int i = 0; i < 300; i++) {
                char buf[512];
                size_t len = 1 + xorshift(&seed) % sizeof buf;

                for (size_t j = 0; j < len; j++)
                        buf[j] = (char)xorshift(&seed);
                r = raw_connect(h->sock);
                raw_send(r, buf, len); /* the daemon may hang up first */
                shutdown(r->fd, SHUT_WR);
                T_ASSERTF(only_errors_then_closed(r, &invalid),
                          "random input %d (%zu bytes, seed state %u): the connection stayed open",
                          i, len, seed);
                raw_close(r);
        }
        T_ASSERTF(invalid > 100, "only %d of 300 random inputs got invalid_request", invalid);
        T_ASSERT(sec_wait_connections(root, 2));
        T_ASSERT(fds_back_to(fd0));
        /* The bystander's request still waits, and is answered when its time comes. */
        T_EQ_INT(raw_next(waiter, 0.2, &m), -1);
        sec_terminate(root, id);
        raw_response(waiter, SEC_WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 77);
        T_ASSERT(resp_error(&m.data) == NULL);
        raw_close(waiter);
        teardown();
}

/* ---- exhaustion ----------------------------------------------------------------- */

#define NPROC_USER "lp" /* a user nothing else runs processes as */
/*
 * corrald holds ~25 descriptors of its own (listener, signalfd, epoll,
 * its spawn slots...): with 80, about 55 clients get in and, when they
 * leave, make room for the 35 others.
 */
#define FD_LIMIT   80
#define FD_CLIENTS 90

/*
 * corrald with RLIMIT_NOFILE FD_LIMIT, soft and hard. It raises its soft
 * limit to the hard one at start, so the limit cannot simply be inherited
 * from us without lowering our own hard limit for good (CI may lack
 * CAP_SYS_RESOURCE to raise it again): prlimit() sets it on the running
 * daemon, before any client connects.
 */
static void
setup_low_nofile(void)
{
        struct rlimit low = {FD_LIMIT, FD_LIMIT};

        h = sec_start(NULL, NULL);
        T_ASSERTF(prlimit(h->pid, RLIMIT_NOFILE, &low, NULL) == 0, "prlimit: %s", strerror(errno));
        root = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
}

/* Open FD_CLIENTS clients, each sending a ping: how many are served (the first ones). */
static int
fill_descriptors(struct raw **c)
{
        int served = FD_CLIENTS;

        for (int i = 0; i < FD_CLIENTS; i++) {
                c[i] = raw_connect(h->sock); /* the kernel's backlog takes it */
                raw_request(c[i], (uint32_t)i, "daemon.ping", NULL, NULL);
        }
        for (int i = 0; i < FD_CLIENTS; i++) {
                int rc = raw_next(c[i], served == FD_CLIENTS ? 1.5 : 0.0, &m);

                if (rc == 1 && served == FD_CLIENTS) {
                        T_EQ_INT(resp_msgid(&m.data), i);
                        continue;
                }
                T_ASSERTF(rc == -1, "client %d: %s", i, rc == 0 ? "closed" : "answered late");
                if (served == FD_CLIENTS)
                        served = i;
        }
        return served;
}

/*
 * Out of descriptors: new clients wait in the backlog, the daemon does
 * not spin, the clients it has keep working, and once some leave it
 * accepts the waiting ones.
 */
static void
t_fd_exhaustion(void)
{
        struct raw *c[FD_CLIENTS];
        double cpu0, cpu1;
        int served;

        setup_low_nofile();
        served = fill_descriptors(c);
        T_ASSERTF(served > 20 && served < FD_CLIENTS, "%d of %d clients served with %d descriptors",
                  served, FD_CLIENTS, FD_LIMIT);
        /* No busy loop while the backlog waits. */
        cpu0 = sec_cpu_seconds(h->pid);
        sleep_s(1.5);
        cpu1 = sec_cpu_seconds(h->pid);
        T_ASSERTF(cpu1 - cpu0 < 0.25, "corrald used %.2f s of CPU in 1.5 s out of descriptors",
                  cpu1 - cpu0);
        printf("%d of %d clients served with %d descriptors; %.2f s of CPU in 1.5 s\n", served,
               FD_CLIENTS, FD_LIMIT, cpu1 - cpu0);
        T_ASSERT(sec_log_has(h, "accept: "));
        /* The clients it has are served. */
        SEC_OK(root, &m, "daemon.hello", NULL);
        for (int i = 0; i < served; i += 7)
                SEC_OK(c[i], &m, "daemon.ping", NULL);
        /* Some leave: the waiting ones are accepted and answered. */
        for (int i = 0; i < served; i++) {
                if (i >= FD_CLIENTS - served + 5)
                        break;
                raw_close(c[i]);
                c[i] = NULL;
        }
        for (int i = served; i < FD_CLIENTS; i++) {
                raw_response(c[i], SEC_WAIT, &m);
                T_EQ_INT(resp_msgid(&m.data), i);
                SEC_OK(c[i], &m, "daemon.ping", NULL);
        }
        for (int i = 0; i < FD_CLIENTS; i++)
                raw_close(c[i]);
        T_ASSERT(sec_wait_connections(root, 1));
        SEC_OK(root, &m, "daemon.ping", NULL);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug. daemon.stats counts descriptors by
 * opening /proc/self/fd (method-daemon-stats.c, stats_fds()), which needs
 * a descriptor: out of them, it reports descriptors.used = 0 -- just when
 * the number matters. Expected: the real count (e.g. keep a descriptor
 * for it, or count with getdents on a directory opened at start-up).
 */
static void
t_stats_descriptors_exhausted(void)
{
        struct raw *c[FD_CLIENTS];
        int64_t used;
        int served;

        setup_low_nofile();
        served = fill_descriptors(c);
        T_ASSERT(served > 20 && served < FD_CLIENTS);
        SEC_OK(root, &m, "daemon.stats", NULL);
        used = sec_result_int2(&m, "descriptors", "used");
        /*
         * Valgrind answers corrald's getrlimit from the copy it made at
         * start, blind to our prlimit: there the limit cannot be checked
         * (the count, which matters here, still is).
         */
        if (!harness_valgrind())
                T_EQ_INT(sec_result_int2(&m, "descriptors", "limit"), FD_LIMIT);
        else
                printf("valgrind: descriptors.limit %lld not checked (valgrind's own copy)\n",
                       (long long)sec_result_int2(&m, "descriptors", "limit"));
        for (int i = 0; i < FD_CLIENTS; i++)
                raw_close(c[i]);
        T_ASSERTF(used >= FD_LIMIT - 4, "out of descriptors, daemon.stats says %lld of %d used",
                  (long long)used, FD_LIMIT);
        T_ASSERT(sec_wait_connections(root, 1));
        teardown();
}

/*
 * Fork failure: a pool whose user is at its RLIMIT_NPROC. corrald is root
 * (exempt), so the kernel refuses the child's exec after its setuid
 * (EAGAIN, once the user has more than nproc other processes): a clear
 * spawn_failed, nothing left behind (no zombie, no descriptor), and spawns
 * work again once the user has fewer processes. The pool's user is lp, not
 * nobody: other suites run processes as nobody at the same time (ctest
 * -j), and the count must be this case's alone.
 */
static void
t_nproc_spawn_failed(void)
{
        uint64_t ids[8];
        int nok = 0, fd0;
        bool failed = false;

        /* Valgrind's execve ends the child (status 101) when the kernel refuses the exec. */
        if (harness_valgrind()) {
                printf("SKIP: under valgrind, an exec refused for RLIMIT_NPROC is no failure\n");
                exit(0);
        }
        setup("[pool:lim]\nuser = " NPROC_USER "\nnproc = 1\n");
        fd0 = settled_fds();
        while (nok < 8) {
                const char *code = sec_call(root, &m, "process.spawn", "{s:[s,s], s:s}", "argv",
                                            "/bin/sleep", "60", "pool", "lim");

                if (code[0] == '\0') {
                        ids[nok++] = (uint64_t)sec_result_int(&m, "id");
                        continue;
                }
                T_EQ_STR(code, "spawn_failed");
                T_ASSERTF(strstr(sec_error_message(&m), "Resource temporarily unavailable") != NULL,
                          "spawn_failed without the reason: %s", sec_error_message(&m));
                printf("spawn %d of the pool: spawn_failed: %s\n", nok + 1, sec_error_message(&m));
                failed = true;
                break;
        }
        T_ASSERTF(failed, "%d processes of user " NPROC_USER " with nproc = 1, and no failure",
                  nok);
        T_ASSERTF(nok >= 1, "the first process of the pool failed already");
        SEC_OK(root, &m, "daemon.stats", NULL);
        T_EQ_INT(sec_result_int2(&m, "processes", "used"), nok);
        T_EQ_INT(proc_zombie_children(h->pid), 0);
        SEC_OK(root, &m, "daemon.ping", NULL);
        for (int i = 0; i < nok; i++)
                sec_terminate(root, ids[i]);
        T_ASSERTF(fds_back_to(fd0), "descriptors: %d before, %d after", fd0, proc_fd_count(h->pid));
        T_EQ_INT(proc_zombie_children(h->pid), 0);
        /* The user has room again. */
        ids[0] = sec_spawn(root, "lim", "/bin/true");
        SEC_OK(root, &m, "process.join", "{s:I, s:f}", "id", (json_int_t)ids[0], "timeout",
               SEC_WAIT);
        T_EQ_INT(sec_result_int(&m, "exit_code"), 0);
        teardown();
}

/*
 * Answers over 1 MiB pause reading until they drain. When one write drains
 * them at once (the client reads as fast as corrald writes), reading must
 * resume: the next request is answered, every time.
 */
static void
t_large_answers_resume(void)
{
        size_t len = 2u << 20;
        char *big = malloc(len + 1);

        T_ASSERT(big != NULL);
        memset(big, 'x', len);
        big[len] = '\0';
        setup("");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "big");
        SEC_OK(root, &m, "queue.put", "{s:s, s:s}", "queue", "big", "data", big);
        for (int i = 0; i < 200; i++) {
                SEC_OK(root, &m, "queue.peek", "{s:s}", "queue", "big");
                SEC_OK(root, &m, "daemon.ping", NULL);
        }
        free(big);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(max_connections),
    TEST_CASE(idle_timeout),
    TEST_CASE(slow_reader_dropped),
    TEST_CASE(slow_reader_paused),
    TEST_CASE(max_waiting),
    TEST_CASE(max_processes),
    TEST_CASE(max_processes_start),
    TEST_CASE(max_processes_per_uid),
    TEST_CASE(max_processes_per_uid_start),
    TEST_CASE(stats),
    TEST_CASE(connect_churn),
    TEST_CASE(garbage_input),
    TEST_CASE(fd_exhaustion),
    TEST_CASE(stats_descriptors_exhausted),
    TEST_CASE(nproc_spawn_failed),
    TEST_CASE(large_answers_resume),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
