/*
 * test_fault.c -- durable queues under faults: corrald killed with
 * SIGKILL at random moments while producers put (fsync batch and
 * always), a consumer acks and logs are compacted, twenty times on one
 * state directory; and a state directory that turns read-only, under the
 * running daemon or before it starts.
 *
 * What must hold (PROTOCOL.md, "Durability"; SECURITY.md): an
 * acknowledged put survives, once; an acknowledged ack never comes back;
 * one producer's messages come in order; a torn tail is cut off and the
 * daemon starts; a write error fails the put or ack with io_error, the
 * daemon keeps serving, and nothing acknowledged before is lost.
 *
 * `test_fault CASE` runs one case.
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

#include "fault_support.h"

static struct harness *h;
static struct corral *c;
static struct corral_error err;

/* ---- kill -9 rounds ---------------------------------------------------------- */

#define CR_ROUNDS    20
#define CR_NPROD     5    /* producers 0..2 put into "qb" (fsync batch), 3..4 into "qa" (always) */
#define CR_MAX_SEQ   8192 /* puts per producer per round, at most */
#define CR_PAYLOAD   1536
#define CR_FILL      24   /* acked fillers per queue per round: the logs keep being compacted */
#define CR_FILL_SIZE 6000 /* (a q_msg holds up to 8 KiB) */
#define CR_KEEP      5    /* the verifier leaves every CR_KEEP-th message of a round in place */

static const char *const cr_queues[] = {"qb", "qa"};

static const char *
cr_queue(int k)
{
        return k < 3 ? "qb" : "qa";
}

/* What the test knows of each message (round, producer, seq). */
enum cr_state {
        CR_NONE, /* never acknowledged, never seen */
        CR_MAY,  /* its put or its ack was in flight at a crash: there or not */
        CR_MUST, /* acknowledged, not acked: must be there */
        CR_GONE, /* its ack was answered (or a crash settled it as lost): must never come back */
};
static unsigned char cr_model[CR_ROUNDS][CR_NPROD][CR_MAX_SEQ + 1];

static const char *
cr_state_name(int s)
{
        static const char *const names[] = {"never put", "in flight", "acknowledged", "acked"};

        return names[s];
}

/*
 * In a forked child: connect, say so on the ready pipe, then put
 * "rRR pK sSSSSS ..." in order, recording each acknowledged seq.
 */
static void __attribute__((noreturn))
cr_producer(const char *sock, int ready, int round, int k, const char *file)
{
        static char data[CR_PAYLOAD];
        struct corral_error perr;
        struct corral *pc;
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pc = fault_connect(sock, 30);
        fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (pc == NULL || fd == -1 || write(ready, "p", 1) != 1)
                _exit(3);
        close(ready);
        memset(data, 'a' + k, sizeof data);
        for (int seq = 0; seq < CR_MAX_SEQ; seq++) {
                int n = snprintf(data, sizeof data, "r%02d p%d s%05d ", round, k, seq);

                data[n] = '=';
                if (fault_put(pc, cr_queue(k), data, sizeof data, &perr) != 0) {
                        /* The daemon died under us: that is the point. */
                        if (strcmp(perr.code, "io") == 0)
                                _exit(0);
                        dprintf(2, "producer %d: put %d: %s %s\n", k, seq, perr.code, perr.message);
                        _exit(4);
                }
                if (!fault_record(fd, "%d\n", seq))
                        _exit(5);
        }
        _exit(0);
}

/*
 * In a forked child: connect, say so, then get with ack from both queues
 * and ack, recording each ack before it is sent and once it is answered.
 */
static void __attribute__((noreturn)) cr_consumer(const char *sock, int ready, const char *file)
{
        static char data[CR_FILL_SIZE + 64];
        struct corral_error cerr;
        struct corral *cc;
        int fd, empty = 0, r, k, s;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        cc = fault_connect(sock, 30);
        fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (cc == NULL || fd == -1 || write(ready, "c", 1) != 1)
                _exit(3);
        close(ready);
        for (unsigned i = 0;; i++) {
                const char *q = cr_queues[i % 2];
                uint64_t id;

                if (fault_get(cc, q, 0, true, &id, data, sizeof data, &cerr) != 0) {
                        if (strcmp(cerr.code, "io") == 0)
                                _exit(0);
                        if (strcmp(cerr.code, "empty") != 0) {
                                dprintf(2, "consumer: get %s: %s %s\n", q, cerr.code, cerr.message);
                                _exit(4);
                        }
                        if (++empty >= 2) {
                                usleep(2000);
                                empty = 0;
                        }
                        continue;
                }
                empty = 0;
                if (sscanf(data, "r%d p%d s%d ", &r, &k, &s) != 3) {
                        dprintf(2, "consumer: unexpected message in %s: %.40s\n", q, data);
                        _exit(6);
                }
                /* Before the ack is sent: a crash may leave it in flight. */
                if (!fault_record(fd, "a %d %d %d\n", r, k, s))
                        _exit(5);
                if (fault_ack(cc, q, id, &cerr) != 0) {
                        if (strcmp(cerr.code, "io") == 0)
                                _exit(0);
                        dprintf(2, "consumer: ack %s %llu: %s %s\n", q, (unsigned long long)id,
                                cerr.code, cerr.message);
                        _exit(4);
                }
                if (!fault_record(fd, "A %d %d %d\n", r, k, s))
                        _exit(5);
        }
}

/* Fold a producer's record into the model: 0..last acknowledged, last+1 maybe. */
static int
cr_apply_producer(int round, int k, const char *file)
{
        char *s = file_read(file, NULL), *p, *end;
        int last = -1;

        T_ASSERTF(s != NULL, "no record %s", file);
        for (p = s; *p != '\0'; p = end + 1) {
                long v = strtol(p, &end, 10);

                T_ASSERTF(end != p && *end == '\n', "%s: malformed line", file);
                T_ASSERTF(v == last + 1, "%s: seq %ld acknowledged after %d", file, v, last);
                last = (int)v;
                cr_model[round][k][v] = CR_MUST;
        }
        free(s);
        if (last + 1 < CR_MAX_SEQ)
                cr_model[round][k][last + 1] = CR_MAY;
        return last + 1;
}

/* Fold the consumer's record in: an answered ack is final, one in flight is a maybe. */
static int
cr_apply_consumer(const char *file)
{
        char *s = file_read(file, NULL), *p, *nl;
        int acked = 0;

        T_ASSERTF(s != NULL, "no record %s", file);
        for (p = s; *p != '\0'; p = nl + 1) {
                char what;
                int r, k, q;

                nl = strchr(p, '\n');
                T_ASSERTF(nl != NULL && sscanf(p, "%c %d %d %d", &what, &r, &k, &q) == 4 &&
                              r >= 0 && r < CR_ROUNDS && k >= 0 && k < CR_NPROD && q >= 0 &&
                              q < CR_MAX_SEQ,
                          "%s: malformed line", file);
                T_ASSERTF(cr_model[r][k][q] != CR_NONE && cr_model[r][k][q] != CR_GONE,
                          "the consumer got r%02d p%d s%05d, which was %s", r, k, q,
                          cr_state_name(cr_model[r][k][q]));
                if (what == 'a')
                        cr_model[r][k][q] = CR_MAY;
                else {
                        cr_model[r][k][q] = CR_GONE;
                        acked++;
                }
        }
        free(s);
        return acked;
}

/* Wait for a forked child; it must exit 0. */
static void
cr_wait_child(pid_t pid, const char *what)
{
        double deadline = now_mono() + Q_WAIT;
        int status = 0;

        while (waitpid(pid, &status, WNOHANG) != pid) {
                T_ASSERTF(now_mono() < deadline, "%s did not stop after the crash", what);
                usleep(5000);
        }
        T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s ended with status 0x%x", what,
                  status);
}

struct cr_found {
        const char *queue;
        uint64_t id;
        int r, k, s;
};

/*
 * After a restart: take every message of both queues with ack and check it
 * against the model; then settle the model, ack most of what was found,
 * and put and ack fillers (so the logs keep growing and being compacted)
 * while the rest is still reserved. Returns how many messages stay.
 */
static int
cr_verify(int round, uint64_t *rng)
{
        static unsigned char found[CR_ROUNDS][CR_NPROD][CR_MAX_SEQ + 1];
        static struct q_msg m;
        struct cr_found *list = NULL;
        size_t n = 0, cap = 0;
        struct corral *vc = harness_connect(h);
        struct raw *r;
        int kept[2] = {0, 0};

        memset(found, 0, sizeof found);
        for (int qi = 0; qi < 2; qi++) {
                const char *q = cr_queues[qi];
                int last[CR_ROUNDS][CR_NPROD];
                uint64_t last_id = 0;

                memset(last, 0xff, sizeof last);
                /* The queue came back: its log was readable (a torn tail cut off is fine). */
                (void)q_info(vc, q, "count");
                while (q_get_try(vc, q, 0, true, &m, &err) == 0) {
                        int rr, k, s;

                        T_ASSERTF(strncmp(m.data, "fill", 4) != 0,
                                  "round %d, %s: filler '%.16s' came back: it was acked", round, q,
                                  m.data);
                        T_ASSERTF(sscanf(m.data, "r%d p%d s%d ", &rr, &k, &s) == 3 && rr >= 0 &&
                                      rr <= round && k >= 0 && k < CR_NPROD && s >= 0 &&
                                      s < CR_MAX_SEQ,
                                  "round %d, %s: unexpected message '%.40s'", round, q, m.data);
                        T_ASSERTF(strcmp(cr_queue(k), q) == 0, "round %d: %.15s found in %s", round,
                                  m.data, q);
                        T_ASSERTF(m.len == CR_PAYLOAD && m.data[CR_PAYLOAD - 1] == 'a' + k,
                                  "round %d: %.15s damaged (%zu bytes)", round, m.data, m.len);
                        T_ASSERTF(!found[rr][k][s], "round %d: r%02d p%d s%05d delivered twice",
                                  round, rr, k, s);
                        T_ASSERTF(cr_model[rr][k][s] == CR_MUST || cr_model[rr][k][s] == CR_MAY,
                                  "round %d: r%02d p%d s%05d came back, but it was %s", round, rr,
                                  k, s, cr_state_name(cr_model[rr][k][s]));
                        T_ASSERTF(s > last[rr][k],
                                  "round %d: producer r%02d p%d: s%05d delivered after s%05d",
                                  round, rr, k, s, last[rr][k]);
                        T_ASSERTF(m.id > last_id, "round %d, %s: message %llu after %llu", round, q,
                                  (unsigned long long)m.id, (unsigned long long)last_id);
                        last[rr][k] = s;
                        last_id = m.id;
                        found[rr][k][s] = 1;
                        if (n == cap) {
                                cap = cap ? cap * 2 : 256;
                                list = realloc(list, cap * sizeof *list);
                                T_ASSERT(list != NULL);
                        }
                        list[n++] = (struct cr_found){q, m.id, rr, k, s};
                }
                T_ASSERTF(strcmp(err.code, "empty") == 0, "draining %s: %s %s", q, err.code,
                          err.message);
        }
        /* Every acknowledged put that was not acked is there; what was in flight is settled. */
        for (int rr = 0; rr <= round; rr++) {
                for (int k = 0; k < CR_NPROD; k++) {
                        for (int s = 0; s <= CR_MAX_SEQ; s++) {
                                unsigned char *st = &cr_model[rr][k][s];

                                T_ASSERTF(*st != CR_MUST || found[rr][k][s],
                                          "round %d: r%02d p%d s%05d was acknowledged and is lost",
                                          round, rr, k, s);
                                if (found[rr][k][s])
                                        *st = CR_MUST;
                                else if (*st == CR_MAY)
                                        *st = CR_GONE;
                        }
                }
        }
        /* Ack most of it; a few stay (reserved until vc closes) for the next rounds. */
        for (size_t i = 0; i < n; i++) {
                struct cr_found *f = &list[i];

                if (f->r == round && f->s % CR_KEEP == 0) {
                        kept[strcmp(f->queue, "qb") == 0 ? 0 : 1]++;
                        continue;
                }
                q_ack(vc, f->queue, f->id);
                cr_model[f->r][f->k][f->s] = CR_GONE;
        }
        /* Fillers: put, get and ack, all answered, while the kept ones are reserved. */
        r = raw_connect(h->sock);
        for (int qi = 0; qi < 2; qi++) {
                static char fill[CR_FILL_SIZE];
                static struct q_msg fm[CR_FILL];
                msgpack_unpacked u;

                memset(fill, 'f', sizeof fill - 1);
                for (int i = 0; i < CR_FILL; i++) {
                        int len = snprintf(fill, sizeof fill, "fill r%02d %03d %llu", round, i,
                                           (unsigned long long)fault_rand(rng));

                        fill[len] = '.';
                        q_raw_put(r, (uint32_t)i, cr_queues[qi], fill, -1);
                }
                for (int i = 0; i < CR_FILL; i++)
                        q_raw_expect(r, (uint32_t)i, NULL, NULL);
                for (int i = 0; i < CR_FILL; i++)
                        q_raw_get(r, (uint32_t)i, cr_queues[qi], 0, true);
                for (int i = 0; i < CR_FILL; i++) {
                        q_raw_expect(r, (uint32_t)i, NULL, &fm[i]);
                        T_ASSERTF(strncmp(fm[i].data, "fill", 4) == 0,
                                  "a filler get returned '%.20s'", fm[i].data);
                }
                for (int i = 0; i < CR_FILL; i++) {
                        msgpack_sbuffer sb;
                        msgpack_packer pk;

                        msgpack_sbuffer_init(&sb);
                        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                        msgpack_pack_array(&pk, 4);
                        msgpack_pack_uint8(&pk, 0);
                        msgpack_pack_uint32(&pk, (uint32_t)i);
                        pk_str(&pk, "queue.ack");
                        msgpack_pack_array(&pk, 1);
                        msgpack_pack_map(&pk, 2);
                        pk_kv_str(&pk, "queue", cr_queues[qi]);
                        pk_kv_uint(&pk, "msg_id", fm[i].id);
                        T_ASSERT(raw_send(r, sb.data, sb.size));
                        msgpack_sbuffer_destroy(&sb);
                }
                /* Acks are answered once on disk: in any order. */
                msgpack_unpacked_init(&u);
                for (int i = 0; i < CR_FILL; i++) {
                        raw_response(r, Q_WAIT, &u);
                        T_ASSERTF(resp_error(&u.data) == NULL, "filler ack %u failed: %s %s",
                                  resp_msgid(&u.data), resp_error_str(&u.data, "code"),
                                  resp_error_str(&u.data, "message"));
                }
                msgpack_unpacked_destroy(&u);
        }
        raw_close(r);
        /* Closing the verifier's connection returns the kept ones. */
        corral_close(vc);
        for (int qi = 0; qi < 2; qi++)
                T_ASSERTF(q_wait_info(c, cr_queues[qi], "ready", kept[qi], Q_WAIT),
                          "round %d: %s has %lld ready, expected the %d kept", round, cr_queues[qi],
                          (long long)q_info(c, cr_queues[qi], "ready"), kept[qi]);
        free(list);
        return kept[0] + kept[1];
}

static void
t_crash_rounds(void)
{
        uint64_t rng = fault_seed();
        long long puts = 0, acks = 0;
        double t0 = now_mono();
        int torn, compacted[2];

        h = q_daemon(NULL, NULL);
        c = harness_connect(h);
        q_create(c, "qb",
                 &(struct q_opts){.durable = true, .fsync = "batch", .visibility_timeout = 300});
        q_create(c, "qa",
                 &(struct q_opts){.durable = true, .fsync = "always", .visibility_timeout = 300});
        for (int round = 0; round < CR_ROUNDS; round++) {
                char files[CR_NPROD + 1][600];
                pid_t pids[CR_NPROD + 1];
                unsigned delay = fault_rand_range(&rng, 20, 200);
                int got = 0, acked, kept, ready[2];
                char byte;

                T_ASSERT(pipe2(ready, O_CLOEXEC) == 0);
                for (int i = 0; i <= CR_NPROD; i++) {
                        snprintf(files[i], sizeof files[i], "%s",
                                 harness_path(h, i < CR_NPROD ? "rec.p" : "rec.c"));
                        snprintf(files[i] + strlen(files[i]), sizeof files[i] - strlen(files[i]),
                                 "%d.%02d", i, round);
                        fflush(NULL);
                        pids[i] = fork();
                        T_ASSERT(pids[i] != -1);
                        if (pids[i] == 0) {
                                close(ready[0]);
                                if (i < CR_NPROD)
                                        cr_producer(h->sock, ready[1], round, i, files[i]);
                                cr_consumer(h->sock, ready[1], files[i]);
                        }
                }
                /* The load starts once every client is connected; the crash comes later. */
                close(ready[1]);
                for (int i = 0; i <= CR_NPROD; i++)
                        T_ASSERTF(read(ready[0], &byte, 1) == 1,
                                  "round %d: a client could not connect", round);
                close(ready[0]);
                usleep(delay * 1000);
                corral_close(c);
                q_crash(h);
                for (int i = 0; i <= CR_NPROD; i++)
                        cr_wait_child(pids[i], i < CR_NPROD ? "a producer" : "the consumer");
                for (int k = 0; k < CR_NPROD; k++)
                        got += cr_apply_producer(round, k, files[k]);
                acked = cr_apply_consumer(files[CR_NPROD]);
                puts += got;
                acks += acked;

                q_relaunch(h);
                c = harness_connect(h);
                kept = cr_verify(round, &rng);
                printf("round %2d: killed after %3u ms: %4d puts and %4d acks answered; %d kept\n",
                       round, delay, got, acked, kept);
        }
        T_ASSERTF(puts > 0 && acks > 0, "no load reached the daemon (%lld puts, %lld acks)", puts,
                  acks);
        /* One clean restart at the end: the same holds. */
        corral_close(c);
        harness_stop(h);
        q_relaunch(h);
        c = harness_connect(h);
        cr_verify(CR_ROUNDS - 1, &rng);
        torn = fault_log_count(h, "torn or corrupt tail");
        compacted[0] = fault_log_count(h, "queue qb: compacted");
        compacted[1] = fault_log_count(h, "queue qa: compacted");
        printf("%d rounds in %.1f s; %d torn tails cut; compactions: qb %d, qa %d\n", CR_ROUNDS,
               now_mono() - t0, torn, compacted[0], compacted[1]);
        T_ASSERTF(fault_log_count(h, "not restored") == 0, "a queue log was not restored");
        T_ASSERTF(compacted[0] > 0 && compacted[1] > 0, "the logs were never compacted");
        corral_close(c);
        harness_stop(h);
        harness_free(h);
}

/* ---- a state directory that turns read-only ------------------------------------ */

/* Take every ready message (no ack): they must be want[] (NULL-terminated), in order. */
static void
expect_contents(const char *queue, const char *const *want)
{
        static struct q_msg m;
        char got[1024] = "", exp[1024] = "";
        size_t i;

        while (q_get_try(c, queue, 0, false, &m, &err) == 0)
                snprintf(got + strlen(got), sizeof got - strlen(got), " %.32s", m.data);
        FAULT_CHECK(strcmp(err.code, "empty") == 0, "draining %s: %s %s", queue, err.code,
                    err.message);
        for (i = 0; want[i] != NULL; i++)
                snprintf(exp + strlen(exp), sizeof exp - strlen(exp), " %.32s", want[i]);
        FAULT_CHECK(strcmp(got, exp) == 0,
                    "%s holds [%s ] after the restart; the acknowledged puts were [%s ]", queue,
                    got, exp);
}

/* A durable put must fail with io_error (what a read-only state directory gives). */
static void
expect_put_io_error(const char *queue, const char *data)
{
        int rc = q_put_try(c, queue, data, strlen(data), 0, 0, -1, NULL, &err);

        FAULT_CHECK(rc != 0 && strcmp(err.code, "io_error") == 0,
                    "put '%s' into %s on a read-only state directory: %s %s, expected io_error",
                    data, queue, rc == 0 ? "accepted" : err.code, rc == 0 ? "" : err.message);
}

/* The daemon serves what does not need the disk: ping, a memory queue, a process. */
static void
expect_still_serving(void)
{
        const char *const argv[] = {"/bin/true", NULL};
        struct corral_process p, j;
        struct q_msg m;

        T_OK(corral_ping(c, &err), &err);
        if (q_create_try(c, "mem", NULL, &err) != 0)
                T_EQ_STR(err.code, "exists");
        q_put(c, "mem", "in memory");
        q_get(c, "mem", 0, false, &m);
        T_EQ_STR(m.data, "in memory");
        memset(&p, 0, sizeof p);
        memset(&j, 0, sizeof j);
        spawn_simple(c, argv, NULL, &p);
        T_OK(corral_join(c, target_id(p.id), 20, &j, &err), &err);
        T_EQ_INT(j.exit_code, 0);
        corral_process_clear(&p);
        corral_process_clear(&j);
}

static void
restart_clean(void)
{
        corral_close(c);
        harness_stop(h);
        q_relaunch(h);
        c = harness_connect(h);
}

/*
 * ext4 on a loop device, errors=remount-ro: an error turns it read-only
 * under the running daemon's open logs (a plain remount is refused while
 * a file is open for writing). Writable again means unmounted, checked and
 * mounted again, so the daemon is restarted on the repaired directory.
 */
static void
read_only_running(const char *mnt, void *arg)
{
        static const char *const want_ra[] = {"ra2", "ra3", "ra4", "ra5", "ra6",
                                              "ra7", "ra8", "ra9", NULL};
        static const char *const want_rb[] = {"rb0", "rb1", "rb2", "rb3", "rb4", "rb5",
                                              "rb6", "rb7", "rb8", "rb9", NULL};
        static const char *const want_after[] = {"ra2", "ra3", "ra4", "ra5",   "ra6",
                                                 "ra7", "ra8", "ra9", "after", NULL};
        struct fault_ext4 fs;
        char state[600], data[16];
        struct q_msg m, held;
        int rc;

        (void)arg;
        if (!fault_ext4_make(&fs, mnt, 32 << 20))
                return;
        snprintf(state, sizeof state, "%s/state", mnt);
        h = q_daemon(state, NULL);
        c = harness_connect(h);
        q_create(c, "ra",
                 &(struct q_opts){.durable = true, .fsync = "always", .visibility_timeout = 300});
        q_create(c, "rb", &(struct q_opts){.durable = true, .visibility_timeout = 300});
        for (int i = 0; i < 10; i++) {
                snprintf(data, sizeof data, "ra%d", i);
                q_put(c, "ra", data);
                snprintf(data, sizeof data, "rb%d", i);
                q_put(c, "rb", data);
        }
        /* Two acked for good; one reserved when the disk goes. */
        for (int i = 0; i < 2; i++) {
                q_get(c, "ra", 0, true, &m);
                q_ack(c, "ra", m.id);
        }
        q_get(c, "ra", 0, true, &held);
        T_EQ_STR(held.data, "ra2");

        fault_ext4_break(&fs);
        printf("the state directory's file system is read-only now\n");
        expect_put_io_error("ra", "lost-a");
        expect_put_io_error("rb", "lost-b");
        rc = q_msg_call(c, "queue.ack", "ra", held.id, 0, &err);
        FAULT_CHECK(rc != 0 && strcmp(err.code, "io_error") == 0,
                    "ack on a read-only state directory: %s %s, expected io_error",
                    rc == 0 ? "accepted" : err.code, rc == 0 ? "" : err.message);
        /* A failed ack leaves the message reserved; a refused put left nothing. */
        FAULT_CHECK(q_info(c, "ra", "reserved") == 1, "ra: %lld reserved after the failed ack",
                    (long long)q_info(c, "ra", "reserved"));
        FAULT_CHECK(q_info(c, "ra", "count") == 8, "ra: count %lld, expected 8",
                    (long long)q_info(c, "ra", "count"));
        FAULT_CHECK(q_info(c, "rb", "count") == 10, "rb: count %lld, expected 10",
                    (long long)q_info(c, "rb", "count"));
        rc = q_create_try(c, "fresh", &(struct q_opts){.durable = true}, &err);
        FAULT_CHECK(rc != 0 && strcmp(err.code, "io_error") == 0,
                    "durable queue.create on a read-only state directory: %s, expected io_error",
                    rc == 0 ? "accepted" : err.code);
        expect_still_serving();
        /* Still read-only: still refused, and still serving. */
        expect_put_io_error("rb", "lost-c");
        T_OK(corral_ping(c, &err), &err);

        /* Writable again: everything acknowledged is there, once, in order. */
        corral_close(c);
        harness_stop(h);
        fault_ext4_repair(&fs);
        q_relaunch(h);
        c = harness_connect(h);
        printf("repaired and restarted\n");
        /* The ack that failed did not happen: its message is back (ra2). */
        expect_contents("ra", want_ra + 0);
        expect_contents("rb", want_rb);
        /* Drained above: put them back to see the log goes on from a clean end. */
        for (int i = 2; i < 10; i++) {
                snprintf(data, sizeof data, "ra%d", i);
                q_put(c, "ra", data);
        }
        q_put(c, "ra", "after");
        restart_clean();
        expect_contents("ra", want_after);
        fault_verdict(); /* with the daemon's log, if anything failed */
        corral_close(c);
        harness_stop(h);
        harness_free(h);
        fault_ext4_free(&fs);
}

static void
t_read_only_running(void)
{
        fault_in_mount_ns(read_only_running, NULL);
}

/*
 * A tmpfs remounted read-only while the daemon is stopped, then writable
 * again while it runs: the queue whose log it could not open for writing
 * must not lose its acknowledged messages.
 */
static void
read_only_at_start(const char *mnt, void *arg)
{
        static const char *const want[] = {"k1", "k2", "k3", "k4", "after", NULL};
        char state[600], data[16];
        struct q_msg m;
        int rc;

        (void)arg;
        if (!fault_tmpfs(mnt, 8 << 20))
                return;
        snprintf(state, sizeof state, "%s/state", mnt);
        h = q_daemon(state, NULL);
        c = harness_connect(h);
        q_create(c, "keep", &(struct q_opts){.durable = true});
        for (int i = 0; i < 5; i++) {
                snprintf(data, sizeof data, "k%d", i);
                q_put(c, "keep", data);
        }
        q_get(c, "keep", 0, true, &m);
        q_ack(c, "keep", m.id);
        corral_close(c);
        harness_stop(h);

        fault_remount(mnt, true);
        q_relaunch(h);
        c = harness_connect(h);
        printf("started on a read-only state directory\n");
        T_OK(corral_ping(c, &err), &err);
        /* PROTOCOL.md: at start-up every durable queue is recreated from its log. */
        rc = q_create_try(c, "keep", &(struct q_opts){.durable = true}, &err);
        FAULT_CHECK(rc != 0 && strcmp(err.code, "exists") == 0,
                    "queue keep was not restored from its readable log (queue.create: %s)",
                    rc == 0 ? "created it" : err.code);
        expect_put_io_error("keep", "lost");
        rc = q_create_try(c, "fresh", &(struct q_opts){.durable = true}, &err);
        FAULT_CHECK(rc != 0 && strcmp(err.code, "io_error") == 0,
                    "durable queue.create on a read-only state directory: %s, expected io_error",
                    rc == 0 ? "accepted" : err.code);
        expect_still_serving();

        /* Writable again: a client that finds its queue missing creates it again. */
        fault_remount(mnt, false);
        rc = q_create_try(c, "keep", &(struct q_opts){.durable = true}, &err);
        FAULT_CHECK(rc == 0 || strcmp(err.code, "exists") == 0, "queue.create keep: %s %s",
                    err.code, err.message);
        rc = q_put_try(c, "keep", "after", 5, 0, 0, -1, NULL, &err);
        FAULT_CHECK(rc == 0, "put once writable again: %s %s", err.code, err.message);
        restart_clean();
        expect_contents("keep", want);
        fault_verdict(); /* with the daemon's log, if anything failed */
        corral_close(c);
        harness_stop(h);
        harness_free(h);
}

static void
t_read_only_at_start(void)
{
        fault_in_mount_ns(read_only_at_start, NULL);
}

/* One TEST_CASE per line: CMake reads them from here. */
/* clang-format off */
static const struct test_case cases[] = {
    TEST_CASE(crash_rounds),
    TEST_CASE(read_only_running),
    TEST_CASE(read_only_at_start),
};
/* clang-format on */

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
