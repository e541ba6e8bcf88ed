/*
 * test_durable.c -- integration tests of durable queues: corrald killed
 * with SIGKILL while producers put (fsync batch and always) loses no
 * acknowledged message and duplicates none; acked messages stay acked; a
 * torn or corrupt log tail is cut off with a warning; compaction keeps
 * exactly the live messages; a full disk fails puts with io_error and
 * loses nothing acknowledged.
 *
 * Each case starts its own corrald with --state-dir in its temporary
 * directory; `test_durable CASE` runs one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "q_support.h"

static struct harness *h;
static struct corral *c;
static struct corral_error err;

static void
setup(void)
{
        h = q_daemon(NULL, NULL);
        c = harness_connect(h);
}

static void
teardown(void)
{
        corral_close(c);
        c = NULL;
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

/* Stop (cleanly, or with SIGKILL) and start the daemon again on the same state. */
static void
restart(bool crash)
{
        corral_close(c);
        if (crash)
                q_crash(h);
        else
                harness_stop(h);
        q_relaunch(h);
        c = harness_connect(h);
}

/* Take every ready message (without ack), calling fn for each; returns how many. */
static size_t
drain_each(const char *queue, void (*fn)(const struct q_msg *, size_t, void *), void *arg)
{
        static struct q_msg m; /* large: keep it off the stack */
        size_t n = 0;

        while (q_get_try(c, queue, 0, false, &m, &err) == 0)
                fn(&m, n++, arg);
        T_ASSERTF(strcmp(err.code, "empty") == 0, "draining %s: %s %s", queue, err.code,
                  err.message);
        return n;
}

struct drain_arr {
        struct q_msg *msgs;
        size_t max;
};

static void
drain_store(const struct q_msg *m, size_t i, void *arg)
{
        struct drain_arr *a = arg;

        T_ASSERTF(i < a->max, "the queue holds more than %zu messages", a->max);
        a->msgs[i] = *m;
}

/* Take every ready message (without ack) into msgs[]; returns how many. */
static size_t
drain(const char *queue, struct q_msg *msgs, size_t max)
{
        struct drain_arr a = {msgs, max};

        return drain_each(queue, drain_store, &a);
}

/* ---- a crash while producers put ------------------------------------------ */

#define PRODUCERS 4
#define MAX_SEQ   100000

/* In a forked child: put "pK-SEQ" in order, appending SEQ to ackfile once acknowledged. */
static void __attribute__((noreturn))
producer(const char *sock, const char *queue, int k, const char *ackfile)
{
        struct corral_error perr;
        struct corral *pc;
        char data[64], line[32];
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* No harness calls here: a failure must not run the test's cleanup. */
        pc = corral_connect(sock, &perr);
        fd = open(ackfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (pc == NULL || fd == -1)
                _exit(3);
        corral_set_timeout(pc, 30);
        for (int seq = 0; seq < MAX_SEQ; seq++) {
                msgpack_sbuffer sb;
                msgpack_packer pk;
                size_t len = (size_t)snprintf(data, sizeof data, "p%d-%06d", k, seq);
                int rc;

                msgpack_sbuffer_init(&sb);
                msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                msgpack_pack_map(&pk, 2);
                pk_kv_str(&pk, "queue", queue);
                pk_str(&pk, "data");
                msgpack_pack_bin(&pk, len);
                msgpack_pack_bin_body(&pk, data, len);
                rc = corral_call(pc, "queue.put", sb.data, sb.size, NULL, &perr);
                msgpack_sbuffer_destroy(&sb);
                if (rc != 0)
                        _exit(strcmp(perr.code, "io") == 0 ? 0 : 4);
                len = (size_t)snprintf(line, sizeof line, "%d\n", seq);
                if (write(fd, line, len) != (ssize_t)len)
                        _exit(5);
        }
        _exit(0);
}

/* Lines in a file (acknowledged puts so far). */
static int
count_lines(const char *path)
{
        size_t len;
        char *s = file_read(path, &len);
        int n = 0;

        for (size_t i = 0; s != NULL && i < len; i++)
                n += s[i] == '\n';
        free(s);
        return n;
}

/* The highest sequence number in an ack file (checked to be 0, 1, 2...), or -1. */
static int
last_acked(const char *path)
{
        char *s = file_read(path, NULL), *p, *end;
        int last = -1;

        T_ASSERT(s != NULL);
        for (p = s; *p != '\0'; p = end + 1) {
                long v = strtol(p, &end, 10);

                T_ASSERTF(end != p && *end == '\n', "%s: malformed line", path);
                T_ASSERTF(v == last + 1, "%s: ack %ld after %d", path, v, last);
                last = (int)v;
        }
        free(s);
        return last;
}

/* Per producer: the next sequence number due, and the id of the last message. */
struct order {
        int next[PRODUCERS];
        uint64_t last_id;
};

static void
check_order(const struct q_msg *m, size_t i, void *arg)
{
        struct order *o = arg;
        int k, seq;

        T_ASSERTF(sscanf(m->data, "p%d-%d", &k, &seq) == 2 && k >= 0 && k < PRODUCERS,
                  "unexpected message '%s'", m->data);
        T_ASSERTF(seq == o->next[k], "producer %d: message %d where %d was due (%s)", k, seq,
                  o->next[k], seq < o->next[k] ? "a duplicate" : "one is missing");
        T_ASSERTF(m->id > o->last_id, "message %llu after %llu", (unsigned long long)m->id,
                  (unsigned long long)o->last_id);
        o->next[k]++;
        o->last_id = m->id;
}

static void
crash_while_putting(const char *fsync)
{
        char ackfile[PRODUCERS][600];
        pid_t pids[PRODUCERS];
        int acked[PRODUCERS];
        struct order o;
        double deadline;
        size_t n;
        int total;

        setup();
        q_create(c, "dur", &(struct q_opts){.durable = true, .fsync = fsync});
        for (int k = 0; k < PRODUCERS; k++) {
                snprintf(ackfile[k], sizeof ackfile[k], "%s", harness_path(h, "acks"));
                snprintf(ackfile[k] + strlen(ackfile[k]), sizeof ackfile[k] - strlen(ackfile[k]),
                         ".%d", k);
                fflush(NULL);
                pids[k] = fork();
                T_ASSERT(pids[k] != -1);
                if (pids[k] == 0)
                        producer(h->sock, "dur", k, ackfile[k]);
        }
        /* Let them get well under way, then pull the plug. */
        deadline = now_mono() + 30;
        do {
                usleep(10000);
                total = 0;
                for (int k = 0; k < PRODUCERS; k++)
                        total += count_lines(ackfile[k]);
        } while (total < 400 && now_mono() < deadline);
        T_ASSERTF(total >= 400, "only %d puts acknowledged in 30 s", total);
        q_crash(h);
        for (int k = 0; k < PRODUCERS; k++) {
                int status = 0;

                deadline = now_mono() + Q_WAIT;
                while (waitpid(pids[k], &status, WNOHANG) != pids[k]) {
                        T_ASSERTF(now_mono() < deadline, "producer %d did not stop", k);
                        usleep(10000);
                }
                T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "producer %d ended with status 0x%x", k, status);
                acked[k] = last_acked(ackfile[k]);
        }

        q_relaunch(h);
        corral_close(c);
        c = harness_connect(h);
        /*
         * Each producer waited for each answer: its messages are all there, in
         * order, once each, up to its last acknowledged one; at most the one it
         * was waiting for when the daemon died may follow.
         */
        memset(&o, 0, sizeof o);
        n = drain_each("dur", check_order, &o);
        for (int k = 0; k < PRODUCERS; k++) {
                T_ASSERTF(o.next[k] - 1 >= acked[k], "producer %d: acknowledged up to %d, found %d",
                          k, acked[k], o.next[k] - 1);
                T_ASSERTF(o.next[k] - 1 <= acked[k] + 1,
                          "producer %d: acknowledged up to %d, found up to %d", k, acked[k],
                          o.next[k] - 1);
        }
        printf("%zu messages recovered; acknowledged:", n);
        for (int k = 0; k < PRODUCERS; k++)
                printf(" %d", acked[k] + 1);
        printf("\n");
        /* The drain itself was logged: nothing comes back after another restart. */
        restart(false);
        q_expect_empty(c, "dur");
        teardown();
}

static void
t_crash_batch(void)
{
        crash_while_putting("batch");
}

static void
t_crash_always(void)
{
        crash_while_putting("always");
}

/* ---- acks ------------------------------------------------------------------ */

static void
t_acked_stay_acked(void)
{
        static struct q_msg msgs[32];
        struct q_msg m;
        char data[32];
        size_t n;

        setup();
        q_create(c, "acks", &(struct q_opts){.durable = true, .visibility_timeout = 60});
        for (int i = 0; i < 20; i++) {
                snprintf(data, sizeof data, "m%02d", i);
                q_put(c, "acks", data);
        }
        for (int i = 0; i < 10; i++) {
                q_get(c, "acks", 0, true, &m);
                q_ack(c, "acks", m.id);
        }
        /* Reserved, not acked: it comes back after the restart. */
        q_get(c, "acks", 0, true, &m);
        T_EQ_STR(m.data, "m10");
        T_EQ_INT(q_info(c, "acks", "count"), 10);
        restart(true);
        T_EQ_INT(q_info(c, "acks", "count"), 10);
        n = drain("acks", msgs, 32);
        T_EQ_INT(n, 10);
        for (size_t i = 0; i < n; i++) {
                snprintf(data, sizeof data, "m%02zu", i + 10);
                T_EQ_STR(msgs[i].data, data);
        }
        /* Its delivery was counted: this is its second attempt. */
        T_EQ_INT(msgs[0].attempt, 2);
        T_EQ_INT(msgs[1].attempt, 1);
        teardown();
}

/* A dead-lettered message moves between two durable queues: after a crash it is in one, once. */
static void
t_dead_letter_survives_crash(void)
{
        const struct q_opts work = {
            .durable = true, .visibility_timeout = 60, .max_attempts = 1, .dead_letter = "dlq"};
        static struct q_msg msgs[8];
        struct q_msg m;
        size_t n;

        setup();
        q_create(c, "dlq", &(struct q_opts){.durable = true});
        q_create(c, "work", &work);
        q_put(c, "work", "poison");
        q_put(c, "work", "fine");
        q_get(c, "work", 0, true, &m);
        T_EQ_STR(m.data, "poison");
        q_nack(c, "work", m.id, 0);
        T_EQ_INT(q_info(c, "dlq", "count"), 1);
        restart(true);
        n = drain("dlq", msgs, 8);
        T_EQ_INT(n, 1);
        T_EQ_STR(msgs[0].data, "poison");
        n = drain("work", msgs, 8);
        T_EQ_INT(n, 1);
        T_EQ_STR(msgs[0].data, "fine");
        /* The dead letter configuration came back with the queue. */
        T_EQ_INT(q_info(c, "work", "max_attempts"), 1);
        teardown();
}

/* ---- damaged logs ---------------------------------------------------------- */

/* Put t0..t9, stop cleanly, damage the log's last record with fn, restart. */
static void
damaged_tail(void (*damage)(const char *path, long long size))
{
        static struct q_msg msgs[16];
        char data[32];
        long long size;
        size_t n;

        setup();
        q_create(c, "dmg", &(struct q_opts){.durable = true});
        for (int i = 0; i < 10; i++) {
                snprintf(data, sizeof data, "t%d", i);
                q_put(c, "dmg", data);
        }
        corral_close(c);
        harness_stop(h);
        size = q_file_size(q_log_path(h, "dmg"));
        T_ASSERT(size > 0);
        damage(q_log_path(h, "dmg"), size);
        q_relaunch(h);
        c = harness_connect(h);
        /* Answered once the loop runs, that is after the logs were replayed. */
        T_OK(corral_ping(c, &err), &err);
        T_ASSERTF(q_daemon_log_has(h, "torn or corrupt tail"), "no warning about the damage");
        /* Everything before the damaged record is there. */
        n = drain("dmg", msgs, 16);
        T_EQ_INT(n, 9);
        for (size_t i = 0; i < n; i++) {
                snprintf(data, sizeof data, "t%zu", i);
                T_EQ_STR(msgs[i].data, data);
        }
        /* The log goes on from a clean end. */
        q_put(c, "dmg", "after");
        restart(false);
        n = drain("dmg", msgs, 16);
        T_EQ_INT(n, 1);
        T_EQ_STR(msgs[0].data, "after");
        teardown();
}

static void
truncate_3(const char *path, long long size)
{
        T_ASSERTF(truncate(path, (off_t)(size - 3)) == 0, "truncate %s", path);
}

static void
flip_byte(const char *path, long long size)
{
        unsigned char b;
        int fd = open(path, O_RDWR | O_CLOEXEC);

        T_ASSERT(fd != -1);
        /* The last byte of the last record: the last put's data. */
        T_ASSERT(pread(fd, &b, 1, (off_t)(size - 1)) == 1);
        b ^= 0x5a;
        T_ASSERT(pwrite(fd, &b, 1, (off_t)(size - 1)) == 1);
        close(fd);
}

static void
t_truncated_tail(void)
{
        damaged_tail(truncate_3);
}

static void
t_corrupt_tail(void)
{
        damaged_tail(flip_byte);
}

/* ---- compaction ------------------------------------------------------------- */

#define WINDOW 64

/* Read n responses, in any order (an ack waits for the log, a nack does not); all must succeed. */
static void
expect_ok_any_order(struct raw *r, int n)
{
        msgpack_unpacked u;

        msgpack_unpacked_init(&u);
        for (int i = 0; i < n; i++) {
                raw_response(r, Q_WAIT, &u);
                T_ASSERTF(resp_error(&u.data) == NULL, "request %u failed: %s %s",
                          resp_msgid(&u.data), resp_error_str(&u.data, "code"),
                          resp_error_str(&u.data, "message"));
        }
        msgpack_unpacked_destroy(&u);
}

static void
pk_msg_req(msgpack_packer *pk, void *arg)
{
        const struct q_msg *m = arg;

        msgpack_pack_map(pk, 2);
        pk_kv_str(pk, "queue", "cq");
        pk_kv_uint(pk, "msg_id", m->id);
}

static void
t_compaction(void)
{
        enum { N = 1500, KEEP_EVERY = 30, PAYLOAD = 1024 };
        static struct q_msg msgs[N + 1];
        static char payload[PAYLOAD + 1];
        struct raw *r;
        int64_t before, after;
        size_t n;

        setup();
        q_create(c, "cq", &(struct q_opts){.durable = true, .visibility_timeout = 120});
        r = raw_connect(h->sock);
        /* Puts in windows: the daemon commits what arrives together with one fsync. */
        for (int i = 0; i < N; i += WINDOW) {
                int w = N - i < WINDOW ? N - i : WINDOW;

                for (int j = 0; j < w; j++) {
                        memset(payload, 'a' + (i + j) % 26, PAYLOAD);
                        snprintf(payload, sizeof payload, "%05d", i + j);
                        payload[5] = '-';
                        q_raw_put(r, (uint32_t)(i + j), "cq", payload, -1);
                }
                for (int j = 0; j < w; j++)
                        q_raw_expect(r, (uint32_t)(i + j), NULL, NULL);
        }
        before = q_info(c, "cq", "log_bytes");
        T_ASSERTF(before > N * PAYLOAD, "log_bytes %lld after %d puts of 1 KiB", (long long)before,
                  N);
        T_EQ_INT(q_file_size(q_log_path(h, "cq")), before);
        /* Take them all; ack all but every KEEP_EVERY-th, which stays reserved. */
        for (int i = 0; i < N; i += WINDOW) {
                int w = N - i < WINDOW ? N - i : WINDOW, acks = 0;

                for (int j = 0; j < w; j++)
                        q_raw_get(r, (uint32_t)(i + j), "cq", 0, true);
                for (int j = 0; j < w; j++) {
                        q_raw_expect(r, (uint32_t)(i + j), NULL, &msgs[i + j]);
                        T_EQ_INT(atoi(msgs[i + j].data), i + j);
                }
                for (int j = 0; j < w; j++) {
                        if ((i + j) % KEEP_EVERY != 0) {
                                raw_request(r, (uint32_t)(i + j), "queue.ack", pk_msg_req,
                                            &msgs[i + j]);
                                acks++;
                        }
                }
                expect_ok_any_order(r, acks);
        }
        T_EQ_INT(q_info(c, "cq", "reserved"), N / KEEP_EVERY);
        /* Closing the connection returns its reservations. */
        raw_close(r);
        T_ASSERT(q_wait_info(c, "cq", "ready", N / KEEP_EVERY, Q_WAIT));
        T_EQ_INT(q_info(c, "cq", "count"), N / KEEP_EVERY);
        after = q_info(c, "cq", "log_bytes");
        /* Compaction runs once most of the file is garbage, and keeps only the live half. */
        T_ASSERTF(after < before * 6 / 10, "log_bytes %lld after acking most of %lld bytes",
                  (long long)after, (long long)before);
        T_ASSERTF(q_daemon_log_has(h, "compacted"), "no compaction was logged");
        T_EQ_INT(q_file_size(q_log_path(h, "cq")), after);

        /*
         * After a crash the live messages are all there, intact, in order, and
         * their first delivery was counted (this is their second attempt).
         */
        restart(true);
        n = drain("cq", msgs, N);
        T_EQ_INT(n, N / KEEP_EVERY);
        for (size_t i = 0; i < n; i++) {
                int seq = atoi(msgs[i].data);

                T_EQ_INT(seq, (int)i * KEEP_EVERY);
                T_EQ_INT(msgs[i].len, PAYLOAD);
                T_EQ_INT(msgs[i].attempt, 2);
                for (size_t b = 6; b < PAYLOAD; b++)
                        T_ASSERTF(msgs[i].data[b] == 'a' + seq % 26, "message %d: byte %zu damaged",
                                  seq, b);
        }
        teardown();
}

/*
 * Message ids of a queue are never reused, even when compaction dropped
 * the records of the acked ones with the highest ids.
 */
static void
t_ids_not_reused(void)
{
        enum { N = 1200, PAYLOAD = 1024 };
        static char payload[PAYLOAD + 1];
        struct q_msg m;
        uint64_t keep, id, last = 0;

        setup();
        /* fsync never: this case is about ids, and 1200 fsyncs are slow. */
        q_create(c, "ids", &(struct q_opts){.durable = true, .fsync = "never"});
        /* The one that stays: the highest priority number, so it is taken last. */
        keep = q_put_pri(c, "ids", "keep", 100000);
        memset(payload, 'x', PAYLOAD);
        /* Younger ones first: the highest ids are taken (and compacted away) first. */
        for (int i = 1; i < N; i++)
                last = q_put_pri(c, "ids", payload, N - i);
        for (int i = 1; i < N; i++) {
                q_get(c, "ids", 0, false, &m);
                T_EQ_INT(m.id, last - (uint64_t)(i - 1));
        }
        T_ASSERT(q_wait_info(c, "ids", "count", 1, Q_WAIT));
        T_ASSERTF(q_daemon_log_has(h, "compacted"), "no compaction was logged");
        restart(false);
        T_EQ_INT(q_info(c, "ids", "count"), 1);
        id = q_put(c, "ids", "new");
        T_ASSERTF(id > last,
                  "a new message got id %llu, already used before the restart (ids 1..%llu)",
                  (unsigned long long)id, (unsigned long long)last);
        q_get(c, "ids", 0, false, &m);
        T_EQ_INT(m.id, id);
        q_get(c, "ids", 0, false, &m);
        T_EQ_INT(m.id, keep);
        teardown();
}

/* ---- delays and config across a restart ------------------------------------ */

static void
t_delay_survives_restart(void)
{
        struct q_msg m;

        setup();
        q_create(c, "later", &(struct q_opts){.durable = true, .visibility_timeout = 60});
        q_put(c, "later", "nacked");
        q_get(c, "later", 0, true, &m);
        q_nack(c, "later", m.id, 120);
        q_put_delay(c, "later", "delayed put", 120);
        q_expect_empty(c, "later");
        T_EQ_INT(q_info(c, "later", "delayed"), 2);
        restart(false);
        T_EQ_INT(q_info(c, "later", "count"), 2);
        /* Neither has reached its time: both still wait. */
        q_expect_empty(c, "later");
        T_EQ_INT(q_info(c, "later", "delayed"), 2);
        teardown();
}

static void
t_delete_removes_log(void)
{
        struct qparams p;

        setup();
        q_create(c, "gone", &(struct q_opts){.durable = true});
        q_put(c, "gone", "x");
        T_ASSERT(file_exists(q_log_path(h, "gone")));
        qp_init(&p, 1);
        qp_str(&p, "name", "gone");
        T_OK(q_call(c, "queue.delete", &p, NULL, &err), &err);
        T_ASSERT(!file_exists(q_log_path(h, "gone")));
        restart(false);
        qp_init(&p, 1);
        qp_str(&p, "name", "gone");
        T_ERR(q_call(c, "queue.info", &p, NULL, &err), &err, "not_found");
        teardown();
}

/*
 * fsync batch syncs off the loop while the next batch gathers. A queue
 * deleted, and a daemon stopped, while puts stream in (so that a sync is
 * almost always under way) answer every put: its msg_id while the queue
 * lived, not_found after; the ids answered are all distinct, and the
 * daemon exits cleanly with the last syncs in flight.
 */
#define SYNC_PUTS      3000
#define SYNC_DELETE_ID 99999

static void
pack_name(msgpack_packer *pk, void *name)
{
        msgpack_pack_map(pk, 1);
        pk_str(pk, "name");
        pk_str(pk, name);
}

static void
t_sync_in_flight(void)
{
        struct raw *r;
        msgpack_unpacked m;
        unsigned ok = 0, gone = 0;
        uint64_t last = 0;
        setup();
        q_create(c, "busy", &(struct q_opts){.durable = true, .fsync = "batch"});
        q_create(c, "kept", &(struct q_opts){.durable = true, .fsync = "batch"});
        r = raw_connect(h->sock);
        for (uint32_t i = 1; i <= SYNC_PUTS / 2; i++)
                q_raw_put(r, i, "busy", "payload", -1);
        q_put(c, "kept", "one");
        /*
         * Then, in one write, the delete and more puts: the delete is read
         * with the batch before it still open, and usually one syncing.
         */
        raw_request(r, SYNC_DELETE_ID, "queue.delete", pack_name, "busy");
        for (uint32_t i = SYNC_PUTS / 2 + 1; i <= SYNC_PUTS; i++)
                q_raw_put(r, i, "busy", "payload", -1);
        msgpack_unpacked_init(&m);
        for (uint32_t i = 1; i <= SYNC_PUTS; i++) {
                const char *code;

                raw_response(r, Q_WAIT, &m);
                if (resp_msgid(&m.data) == SYNC_DELETE_ID) { /* between the two halves */
                        T_ASSERT(resp_error(&m.data) == NULL);
                        T_EQ_INT(i, SYNC_PUTS / 2 + 1);
                        raw_response(r, Q_WAIT, &m);
                }
                T_EQ_INT(resp_msgid(&m.data), i);
                code = resp_error_str(&m.data, "code");
                if (*code == '\0') {
                        const msgpack_object *id = obj_get(resp_result(&m.data), "msg_id");

                        T_ASSERT(id != NULL && id->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
                        T_ASSERTF(gone == 0, "put %u answered after an earlier not_found", i);
                        T_ASSERTF(id->via.u64 > last, "msg_id %llu after %llu",
                                  (unsigned long long)id->via.u64, (unsigned long long)last);
                        last = id->via.u64;
                        ok++;
                } else {
                        T_EQ_STR(code, "not_found");
                        gone++;
                }
        }
        msgpack_unpacked_destroy(&m);
        T_EQ_INT(ok, SYNC_PUTS / 2);
        T_EQ_INT(gone, SYNC_PUTS / 2);
        printf("%u puts answered before the delete, %u after\n", ok, gone);
        T_ASSERT(!file_exists(q_log_path(h, "busy")));
        /* Stopped while puts to another durable queue are being synced. */
        for (uint32_t i = 1; i <= SYNC_PUTS; i++)
                q_raw_put(r, SYNC_PUTS + i, "kept", "payload", -1);
        raw_close(r);
        restart(false);
        T_ASSERT(q_info(c, "kept", "count") >= 1); /* "one" was acknowledged */
        teardown();
}

/* ---- a full disk -------------------------------------------------------------- */

static void
fill_until_error(struct corral *fc, const char *queue, uint64_t *ids, char (*datas)[16], size_t *n,
                 size_t max)
{
        static char payload[4000];

        for (;;) {
                uint64_t id;

                T_ASSERTF(*n < max, "%zu puts of 4 KB and the disk is still not full", max);
                snprintf(payload, sizeof payload, "d%05zu", *n);
                memset(payload + 6, 'f', sizeof payload - 6);
                if (q_put_try(fc, queue, payload, sizeof payload, 0, 0, -1, &id, &err) != 0)
                        break;
                ids[*n] = id;
                snprintf(datas[*n], sizeof datas[*n], "d%05zu", *n);
                (*n)++;
        }
        T_ASSERTF(strcmp(err.code, "io_error") == 0, "a put on a full disk failed with %s %s",
                  err.code, err.message);
}

static void
disk_full(const char *mnt, void *arg)
{
        enum { MAX = 200 };
        static uint64_t ids[MAX];
        static char datas[MAX][16];
        char ballast[600];
        static struct q_msg msgs[MAX];
        struct q_msg m;
        size_t n = 0, before, got;
        int fd;

        /* Room to free later. */
        snprintf(ballast, sizeof ballast, "%s/ballast", mnt);
        fd = open(ballast, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        T_ASSERT(fd != -1);
        {
                static char zeros[64 * 1024];

                T_ASSERT(write(fd, zeros, sizeof zeros) == (ssize_t)sizeof zeros);
        }
        close(fd);

        h = q_daemon(mnt, NULL);
        c = harness_connect(h);
        q_create(c, "full", &(struct q_opts){.durable = true, .fsync = "always"});
        fill_until_error(c, "full", ids, datas, &n, MAX);
        T_ASSERT(n > 0);
        before = n;
        printf("%zu puts acknowledged before the disk was full\n", n);
        /* The refused put left nothing behind. */
        T_EQ_INT(q_info(c, "full", "count"), n);

        /* The daemon still serves: ping, an in-memory queue, gets from the full one. */
        T_OK(corral_ping(c, &err), &err);
        q_create(c, "mem", NULL);
        q_put(c, "mem", "still here");
        q_get(c, "mem", 0, false, &m);
        T_EQ_STR(m.data, "still here");
        /* A message as large as the refused one is refused again. */
        {
                static char same[4000];

                memset(same, 'g', sizeof same);
                T_ERR(q_put_try(c, "full", same, sizeof same, 0, 0, -1, NULL, &err), &err,
                      "io_error");
        }
        T_EQ_INT(q_info(c, "full", "count"), n);

        /* Free some space: puts work again. */
        T_ASSERT(unlink(ballast) == 0);
        q_put(c, "full", "after");
        T_EQ_INT(q_info(c, "full", "count"), n + 1);

        /* After a restart every acknowledged message is there, once, in order. */
        restart(false);
        got = drain("full", msgs, MAX);
        T_EQ_INT(got, before + 1);
        for (size_t i = 0; i < before; i++) {
                T_EQ_INT(msgs[i].id, ids[i]);
                T_ASSERTF(strncmp(msgs[i].data, datas[i], 6) == 0, "message %zu is '%.6s'", i,
                          msgs[i].data);
                T_EQ_INT(msgs[i].len, 4000);
        }
        T_EQ_STR(msgs[before].data, "after");
        teardown();
        (void)arg;
}

static void
t_disk_full(void)
{
        /* Mounts need root; q_with_tmpfs prints why it skips otherwise. */
        q_with_tmpfs(256 * 1024, disk_full, NULL);
}

/* One TEST_CASE per line: CMake reads them from here. */
/* clang-format off */
static const struct test_case cases[] = {
    TEST_CASE(crash_batch),
    TEST_CASE(crash_always),
    TEST_CASE(acked_stay_acked),
    TEST_CASE(dead_letter_survives_crash),
    TEST_CASE(truncated_tail),
    TEST_CASE(corrupt_tail),
    TEST_CASE(compaction),
    TEST_CASE(ids_not_reused),
    TEST_CASE(delay_survives_restart),
    TEST_CASE(delete_removes_log),
    TEST_CASE(sync_in_flight),
    TEST_CASE(disk_full),
};
/* clang-format on */

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
