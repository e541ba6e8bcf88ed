/*
 * scenario-queue.c -- 6. queue throughput: 100-byte messages put by
 * producers and taken by consumers through one corrald queue, measured as
 * messages per second from the first put to the last get.
 *
 * Shapes: one producer and one consumer (1+1), then four of each (4+4);
 * one request at a time per connection, then 64 in flight (pipelined).
 * Queues in memory, then durable with fsync batch (group commit), always
 * and never (written before the answer, never synced: the guarantee of
 * beanstalkd's binlog, which syncs every 50 ms behind the answers). One
 * figure does put + get {ack} + queue.ack, the like-for-like of
 * beanstalkd's put / reserve / delete. A fresh queue of the same name
 * is created for every figure and deleted after it, so the requests are
 * byte for byte those the reference answers.
 *
 * Reference: the raw server answering the same queue.put and queue.get
 * bytes with corrald's own answers, at once (no queue behind it): the
 * floor of moving these messages through a Unix socket with this client.
 * Peers: redis (LPUSH / BRPOP) and beanstalkd (put / reserve / delete, in
 * memory and with its binlog), with the same shapes (peer-redis.c,
 * peer-beanstalkd.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define Q_NAME "benchq"

enum {
        F_MEM_1_UNPIP,
        F_MEM_1_PIPE,
        F_MEM_4_UNPIP,
        F_MEM_4_PIPE,
        F_ACK_1_PIPE,
        F_BATCH_1_PIPE,
        F_BATCH_4_UNPIP,
        F_ALWAYS_1_PIPE,
        F_NEVER_1_PIPE,
        F_NEVER_4_UNPIP,
        F_BATCH_VS_MEM,
        F_COUNT
};

static const struct figure_def q_figures[F_COUNT] = {
    [F_MEM_1_UNPIP] = {"mem_1_unpip", "in memory, 1+1, one at a time (N_1)", "msg/s", true,
                       TARGET_NONE, 0, NULL},
    [F_MEM_1_PIPE] = {"mem_1_pipe", "in memory, 1+1, 64 in flight (N)", "msg/s", true, TARGET_NONE,
                      0, NULL},
    [F_MEM_4_UNPIP] = {"mem_4_unpip", "in memory, 4+4, one at a time (N_1)", "msg/s", true,
                       TARGET_NONE, 0, NULL},
    [F_MEM_4_PIPE] = {"mem_4_pipe", "in memory, 4+4, 64 in flight (N)", "msg/s", true, TARGET_NONE,
                      0, NULL},
    [F_ACK_1_PIPE] = {"ack_1_pipe", "in memory, put + get{ack} + ack, 1+1, 64 in flight (N_slow)",
                      "msg/s", true, TARGET_NONE, 0, NULL},
    [F_BATCH_1_PIPE] = {"batch_1_pipe", "durable, fsync batch, 1+1, 64 in flight (N_slow)", "msg/s",
                        true, TARGET_NONE, 0, NULL},
    [F_BATCH_4_UNPIP] = {"batch_4_unpip", "durable, fsync batch, 4+4, one at a time (N_1)", "msg/s",
                         true, TARGET_NONE, 0, NULL},
    [F_ALWAYS_1_PIPE] = {"always_1_pipe", "durable, fsync always, 1+1, 64 in flight (N_always)",
                         "msg/s", true, TARGET_NONE, 0, NULL},
    [F_NEVER_1_PIPE] = {"never_1_pipe", "durable, fsync never, 1+1, 64 in flight (N_slow)", "msg/s",
                        true, TARGET_NONE, 0, NULL},
    [F_NEVER_4_UNPIP] = {"never_4_unpip", "durable, fsync never, 4+4, one at a time (N_1)", "msg/s",
                         true, TARGET_NONE, 0, NULL},
    [F_BATCH_VS_MEM] = {"batch_vs_mem", "durable batch / in memory (1+1, 64 in flight)", "×", true,
                        TARGET_ABS_MIN, 0.5, "≥ 0.5 (within 2×)"},
};

struct q_state {
        struct queue_sizes qs;
        struct raw_server raw;
};

void
queue_sizes(const struct bench *b, struct queue_sizes *qs)
{
        qs->pipelined = bench_size(b, 1000000, 50000);
        qs->unpipelined = bench_size(b, 20000, 5000);
        qs->slow = bench_size(b, 100000, 20000);
        qs->always = bench_size(b, 5000, 500);
}

struct q_create_args {
        bool durable;
        const char *fsync;
};

static void
q_params_create(msgpack_packer *pk, const void *arg)
{
        const struct q_create_args *a = arg;

        msgpack_pack_map(pk, a->durable ? 3 : 1);
        proto_pack_kv_str(pk, "name", Q_NAME);
        if (a->durable) {
                proto_pack_kv_bool(pk, "durable", true);
                proto_pack_kv_str(pk, "fsync", a->fsync);
        }
}

static void
q_params_name(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 1);
        proto_pack_kv_str(pk, "name", Q_NAME);
}

/* One figure through corrald: a fresh queue, the load, the queue deleted. */
static int
q_corral(struct bench *b, const char *fsync, unsigned clients, unsigned window, uint64_t n,
         bool ack, double *rate, char **cause)
{
        struct q_create_args ca = {fsync != NULL, fsync};
        struct qload_spec sp = {.proto = QLOAD_MSGPACK,
                                .path = b->sock,
                                .queue = Q_NAME,
                                .producers = clients,
                                .consumers = clients,
                                .window = window,
                                .n = n,
                                .msg_size = QUEUE_MSG_SIZE,
                                .ack = ack};
        struct proto_msg msg;
        int rc;

        if (rpc_call(b->conn, PROTO_M_QUEUE_CREATE, q_params_create, &ca, &msg, cause) != 0)
                return -1;
        proto_msg_clear(&msg);
        rc = qload_run(&sp, rate, cause);
        if (rpc_call(b->conn, PROTO_M_QUEUE_DELETE, q_params_name, NULL, &msg,
                     rc == 0 ? cause : NULL) == 0)
                proto_msg_clear(&msg);
        else
                rc = -1;
        return rc;
}

static int
q_raw(struct q_state *st, unsigned clients, unsigned window, uint64_t n, double *rate, char **cause)
{
        struct qload_spec sp = {.proto = QLOAD_MSGPACK,
                                .path = st->raw.sock,
                                .queue = Q_NAME,
                                .producers = clients,
                                .consumers = clients,
                                .window = window,
                                .n = n,
                                .msg_size = QUEUE_MSG_SIZE};

        return qload_run(&sp, rate, cause);
}

/* corrald's answers to one put and one get, replayed by the reference server. */
static int
q_start_reference(struct bench *b, struct q_state *st, char **cause)
{
        struct raw_kind kinds[2];
        struct q_create_args ca = {false, NULL};
        struct proto_msg msg;
        void *put, *get, *put_resp = NULL, *get_resp = NULL;
        size_t put_len, get_len, put_resp_len = 0, get_resp_len = 0;
        int rc = -1;

        put = qload_put_template(Q_NAME, QUEUE_MSG_SIZE, &put_len);
        get = qload_get_template(Q_NAME, false, &get_len);
        if (rpc_call(b->conn, PROTO_M_QUEUE_CREATE, q_params_create, &ca, &msg, cause) != 0)
                goto out;
        proto_msg_clear(&msg);
        rpc_queue_bytes(b->conn, put, put_len);
        if (rpc_wait(b->conn, &msg, 10, cause) != 0 || rpc_check(&msg, "queue.put", cause) != 0)
                goto out;
        put_resp = rpc_repack(&msg, &put_resp_len);
        proto_msg_clear(&msg);
        rpc_queue_bytes(b->conn, get, get_len);
        if (rpc_wait(b->conn, &msg, 10, cause) != 0 || rpc_check(&msg, "queue.get", cause) != 0)
                goto out;
        get_resp = rpc_repack(&msg, &get_resp_len);
        proto_msg_clear(&msg);
        if (rpc_call(b->conn, PROTO_M_QUEUE_DELETE, q_params_name, NULL, &msg, cause) != 0)
                goto out;
        proto_msg_clear(&msg);
        kinds[0] = (struct raw_kind){put, put_len, put_resp, put_resp_len};
        kinds[1] = (struct raw_kind){get, get_len, get_resp, get_resp_len};
        rc = raw_server_start_kinds(b, &st->raw, kinds, 2, cause);
out:
        free(put);
        free(get);
        free(put_resp);
        free(get_resp);
        return rc;
}

static int
q_setup(struct bench *b, void **statep, char **cause)
{
        struct q_state *st = xcalloc(1, sizeof *st);
        double rate;

        *statep = st;
        queue_sizes(b, &st->qs);
        bench_note("queue: messages of %d bytes; N = %llu (pipelined, in memory), N_1 = %llu "
                   "(one request at a time), N_slow = %llu (pipelined: durable, ack, and "
                   "beanstalkd's), N_always = %llu (fsync always); \"4+4\" is 4 producer and 4 "
                   "consumer connections",
                   QUEUE_MSG_SIZE, (unsigned long long)st->qs.pipelined,
                   (unsigned long long)st->qs.unpipelined, (unsigned long long)st->qs.slow,
                   (unsigned long long)st->qs.always);
        if (q_start_reference(b, st, cause) != 0)
                return -1;
        /* Warm up both: the daemon's allocations, the page cache of the log directory. */
        if (q_corral(b, NULL, 1, QUEUE_WINDOW, st->qs.pipelined / 20, false, &rate, cause) != 0 ||
            q_corral(b, "batch", 1, QUEUE_WINDOW, st->qs.slow / 20, false, &rate, cause) != 0 ||
            q_raw(st, 1, QUEUE_WINDOW, st->qs.pipelined / 20, &rate, cause) != 0)
                return -1;
        return 0;
}

static int
q_run(struct bench *b, void *state, double *out, char **cause)
{
        struct q_state *st = state;
        const struct queue_sizes *qs = &st->qs;

        if (q_corral(b, NULL, 1, 1, qs->unpipelined, false, &out[F_MEM_1_UNPIP], cause) != 0 ||
            q_corral(b, NULL, 1, QUEUE_WINDOW, qs->pipelined, false, &out[F_MEM_1_PIPE], cause) !=
                0 ||
            q_corral(b, NULL, QUEUE_CLIENTS, 1, qs->unpipelined, false, &out[F_MEM_4_UNPIP],
                     cause) != 0 ||
            q_corral(b, NULL, QUEUE_CLIENTS, QUEUE_WINDOW, qs->pipelined, false, &out[F_MEM_4_PIPE],
                     cause) != 0 ||
            q_corral(b, NULL, 1, QUEUE_WINDOW, qs->slow, true, &out[F_ACK_1_PIPE], cause) != 0 ||
            q_corral(b, "batch", 1, QUEUE_WINDOW, qs->slow, false, &out[F_BATCH_1_PIPE], cause) !=
                0 ||
            q_corral(b, "batch", QUEUE_CLIENTS, 1, qs->unpipelined, false, &out[F_BATCH_4_UNPIP],
                     cause) != 0 ||
            q_corral(b, "always", 1, QUEUE_WINDOW, qs->always, false, &out[F_ALWAYS_1_PIPE],
                     cause) != 0 ||
            q_corral(b, "never", 1, QUEUE_WINDOW, qs->slow, false, &out[F_NEVER_1_PIPE], cause) !=
                0 ||
            q_corral(b, "never", QUEUE_CLIENTS, 1, qs->unpipelined, false, &out[F_NEVER_4_UNPIP],
                     cause) != 0)
                return -1;
        /* Rates are steady from a few thousand messages on: N_slow compares with N. */
        out[F_BATCH_VS_MEM] = out[F_BATCH_1_PIPE] / out[F_MEM_1_PIPE];
        return 0;
}

static int
q_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct q_state *st = state;
        const struct queue_sizes *qs = &st->qs;

        if (q_raw(st, 1, 1, qs->unpipelined, &out[F_MEM_1_UNPIP], cause) != 0 ||
            q_raw(st, 1, QUEUE_WINDOW, qs->pipelined, &out[F_MEM_1_PIPE], cause) != 0 ||
            q_raw(st, QUEUE_CLIENTS, 1, qs->unpipelined, &out[F_MEM_4_UNPIP], cause) != 0 ||
            q_raw(st, QUEUE_CLIENTS, QUEUE_WINDOW, qs->pipelined, &out[F_MEM_4_PIPE], cause) != 0)
                return -1;
        /* The durable figures move the same bytes in the same shapes: the same floor. */
        out[F_BATCH_1_PIPE] = out[F_MEM_1_PIPE];
        out[F_ALWAYS_1_PIPE] = out[F_MEM_1_PIPE];
        out[F_BATCH_4_UNPIP] = out[F_MEM_4_UNPIP];
        out[F_NEVER_1_PIPE] = out[F_MEM_1_PIPE];
        out[F_NEVER_4_UNPIP] = out[F_MEM_4_UNPIP];
        return 0;
}

static void
q_teardown(struct bench *b, void *state)
{
        struct q_state *st = state;

        if (st == NULL)
                return;
        raw_server_stop(&st->raw);
        free(st);
}

static const struct peer_def *const q_peers[] = {&peer_redis_queue, &peer_beanstalkd_queue};

const struct scenario scenario_queue = {
    .name = "queue",
    .title = "6. Queue throughput",
    .reference = "the raw server answering the same queue.put and queue.get bytes at once with "
                 "corrald's own answers, same client, same connections and windows (no queue "
                 "behind it; the durable figures are compared with the same floor)",
    .figures = q_figures,
    .nfigures = F_COUNT,
    .max_reps = 3,
    .fresh_daemon = true,
    .setup = q_setup,
    .run = q_run,
    .reference_run = q_reference,
    .teardown = q_teardown,
    .peers = q_peers,
    .npeers = sizeof q_peers / sizeof q_peers[0],
};
