/*
 * test_consume.c -- integration tests of pools that consume a queue: the
 * pool runs its command once per message (data on stdin, $CORRAL_MSG_ID
 * and $CORRAL_ATTEMPT in the environment), acks it when the command
 * succeeds and returns it when it fails, up to the queue's max_attempts,
 * then to the dead letter queue. Nothing may be lost or done twice.
 *
 * The handler is `q_job handle` (see q_job.c): it records each success in
 * out/ok.ID and each failure in out/fail.ID with O_APPEND writes.
 * `test_consume CASE` runs one case.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "q_support.h"

static struct harness *h;
static struct corral *c;
static struct corral_error err;
static char outdir[512];

static void
setup(void)
{
        h = q_daemon(NULL, NULL);
        c = harness_connect(h);
        snprintf(outdir, sizeof outdir, "%s", harness_path(h, "out"));
        T_ASSERTF(mkdir(outdir, 0755) == 0, "mkdir %s: %s", outdir, strerror(errno));
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

/*
 * A pool of size slots consuming queue with `q_job handle outdir
 * fail_every always_every`; failed jobs come back after 0.02 s (doubling
 * up to 0.1 s).
 */
static void
create_pool(const char *name, unsigned size, const char *queue, const char *fail_every,
            const char *always_every)
{
        const char *argv[] = {Q_JOB_PATH, "handle", outdir, fail_every, always_every, NULL};
        struct qparams p;

        qp_init(&p, 5);
        qp_str(&p, "name", name);
        qp_uint(&p, "size", size);
        qp_double(&p, "restart_delay", 0.02);
        qp_double(&p, "restart_delay_max", 0.1);
        qp_key(&p, "consume");
        msgpack_pack_map(&p.pk, 2);
        pk_kv_str(&p.pk, "queue", queue);
        pk_str(&p.pk, "argv");
        qp_strv(&p, argv);
        T_OK(q_call(c, "pool.create", &p, NULL, &err), &err);
}

/* out/KIND.ID as a string (malloc'd), or NULL if there is no such file. */
static char *
record(const char *kind, uint64_t id)
{
        char path[700];

        snprintf(path, sizeof path, "%s/%s.%llu", outdir, kind, (unsigned long long)id);
        return file_read(path, NULL);
}

/* Wait until queue is empty, dead holds ndead messages and the pool is idle. */
static void
wait_done(const char *queue, const char *dead, int64_t ndead, const char *pool, unsigned size,
          double timeout)
{
        double t0 = now_mono(), deadline = t0 + timeout;
        struct corral_pool info;

        for (;;) {
                bool idle;

                memset(&info, 0, sizeof info);
                T_OK(corral_pool_info(c, pool, &info, &err), &err);
                /* Never more jobs at once than the pool has slots. */
                T_ASSERTF(info.active <= size, "pool %s has %u active members (size %u)", pool,
                          info.active, size);
                idle = info.live == 0;
                corral_pool_clear(&info);
                if (idle && q_info(c, queue, "count") == 0 &&
                    (dead == NULL || q_info(c, dead, "count") == ndead))
                        break;
                T_ASSERTF(now_mono() < deadline,
                          "not done after %.0f s: %lld messages left in %s, %lld dead", timeout,
                          (long long)q_info(c, queue, "count"), queue,
                          dead != NULL ? (long long)q_info(c, dead, "count") : 0LL);
                usleep(20000);
        }
        printf("all messages settled in %.2f s\n", now_mono() - t0);
}

static void
t_small_pool(void)
{
        uint64_t ids[10];
        char data[32], want[40];

        setup();
        q_create(c, "in", NULL);
        /* Messages that wait for the pool, and messages that come after it. */
        for (int i = 0; i < 5; i++) {
                snprintf(data, sizeof data, "early-%d", i);
                ids[i] = q_put(c, "in", data);
        }
        create_pool("eaters", 2, "in", "0", "0");
        for (int i = 5; i < 10; i++) {
                snprintf(data, sizeof data, "late-%d", i);
                ids[i] = q_put(c, "in", data);
        }
        wait_done("in", NULL, 0, "eaters", 2, 60);
        for (int i = 0; i < 10; i++) {
                char *ok = record("ok", ids[i]);

                snprintf(want, sizeof want, "%s-%d\n", i < 5 ? "early" : "late", i);
                T_ASSERTF(ok != NULL, "message %llu was never handled", (unsigned long long)ids[i]);
                T_EQ_STR(ok, want);
                free(ok);
        }
        T_EQ_INT(q_info(c, "in", "total_acked"), 10);
        teardown();
}

static void
t_pool_1000(void)
{
        enum { N = 1000, FAIL_EVERY = 3, ALWAYS_EVERY = 50, MAX_ATTEMPTS = 3 };
        static uint64_t ids[N];
        static bool dead_seen[N];
        char data[32], want[40];
        struct q_msg m;
        int ndead = 0, nretried = 0;

        setup();
        q_create(c, "dead", NULL);
        q_create(c, "work", &(struct q_opts){.max_attempts = MAX_ATTEMPTS, .dead_letter = "dead"});
        create_pool("workers", 4, "work", "3", "50");
        for (int i = 0; i < N; i++) {
                snprintf(data, sizeof data, "job-%04d", i);
                ids[i] = q_put(c, "work", data);
                ndead += ids[i] % ALWAYS_EVERY == 0;
        }
        T_ASSERT(ndead > 0);
        wait_done("work", "dead", ndead, "workers", 4, 80);

        for (int i = 0; i < N; i++) {
                uint64_t id = ids[i];
                char *ok = record("ok", id), *fail = record("fail", id);

                snprintf(want, sizeof want, "job-%04d\n", i);
                if (id % ALWAYS_EVERY == 0) {
                        /* Failed on every attempt, and tried exactly max_attempts times. */
                        T_ASSERTF(ok == NULL, "message %llu succeeded: '%s'",
                                  (unsigned long long)id, ok);
                        T_ASSERTF(fail != NULL, "message %llu was never tried",
                                  (unsigned long long)id);
                        T_EQ_STR(fail, "attempt 1\nattempt 2\nattempt 3\n");
                } else {
                        /* Handled successfully exactly once, with its own data. */
                        T_ASSERTF(ok != NULL, "message %llu (%s) was lost", (unsigned long long)id,
                                  want);
                        T_EQ_STR(ok, want);
                        /* The handler fails when (id + attempt) % 3 == 0: at most once. */
                        if ((id + 1) % FAIL_EVERY == 0) {
                                T_ASSERTF(fail != NULL, "message %llu never failed its attempt 1",
                                          (unsigned long long)id);
                                T_EQ_STR(fail, "attempt 1\n");
                                nretried++;
                        } else
                                T_ASSERTF(fail == NULL, "message %llu failed: %s",
                                          (unsigned long long)id, fail);
                }
                free(ok);
                free(fail);
        }
        /* The dead letter queue holds exactly the messages that always failed. */
        for (int n = 0; n < ndead; n++) {
                int i;

                q_get(c, "dead", 0, false, &m);
                T_ASSERTF(sscanf(m.data, "job-%d", &i) == 1 && i >= 0 && i < N,
                          "unexpected dead letter '%s'", m.data);
                T_ASSERTF(ids[i] % ALWAYS_EVERY == 0, "message %llu (%s) was dead-lettered",
                          (unsigned long long)ids[i], m.data);
                T_ASSERTF(!dead_seen[i], "%s dead-lettered twice", m.data);
                dead_seen[i] = true;
        }
        q_expect_empty(c, "dead");
        T_EQ_INT(q_info(c, "work", "total_dead_lettered"), ndead);
        T_EQ_INT(q_info(c, "work", "total_acked"), N - ndead);
        printf("%d messages, %d retried once, %d dead-lettered\n", N, nretried, ndead);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(small_pool),
    TEST_CASE(pool_1000),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
