/*
 * bench.h -- corral-bench: measures corrald against references and peers.
 *
 * Each scenario measures a few figures (a latency, a rate, a size) in
 * repetitions; each repetition runs corrald's measurement and the
 * reference's back to back, in alternating order, so that the noise of a
 * shared machine hits both. The reference is the same work done without
 * corrald (a raw socket server, a posix_spawn loop) so that a ratio
 * corral/reference says what the daemon costs. Peers (supervisord,
 * task-spooler) are measured in the same run when installed.
 *
 * Everything the bench starts (corrald, reference servers, peers, their
 * children) is registered by PID and stopped with bounded waits, on
 * success, on failure and on SIGINT/SIGTERM. The bench is a child
 * subreaper, so orphans of those processes come back to it and are killed.
 */
#ifndef CORRAL_BENCH_H
#define CORRAL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "proto.h"

/* ---- the run ----------------------------------------------------------- */

struct bench {
        const char *corrald_path;
        const char *corralctl_path; /* the client the command scenario runs */
        const char *self_path;      /* this program, re-executed as the raw reference server */
        const char *child_path;     /* corral-bench-child: the restart scenario's program */
        char dir[128];              /* private temporary directory */
        unsigned reps;              /* repetitions of each figure */
        bool quick;                 /* smaller sizes for a smoke run */
        bool verbose;
        pid_t corrald;       /* the running daemon, 0 if none */
        char sock[192];      /* its socket */
        unsigned daemon_seq; /* numbers log files of successive daemons */
        struct rpc *conn;    /* a connection to it, opened by bench_daemon_start */
};

/* Pick a size: the full one, or the quick one under --quick. */
static inline uint64_t
bench_size(const struct bench *b, uint64_t full, uint64_t quick)
{
        return b->quick ? quick : full;
}

/* dir/name in one of a few rotating static buffers. */
const char *bench_path(const struct bench *, const char *name);

/* Start a fresh corrald on a new socket in the bench's directory and connect. */
int bench_daemon_start(struct bench *, char **cause);
/* Stop it: daemon.shutdown's effect via SIGTERM, bounded wait, then SIGKILL. */
void bench_daemon_stop(struct bench *);
/* A second corrald beside the main one (its own socket, log and state). */
struct bench_daemon {
        pid_t pid;
        char sock[192];
        struct rpc *conn;
};
int bench_daemon_start_extra(struct bench *, struct bench_daemon *, char **cause);
void bench_daemon_stop_extra(struct bench_daemon *);
/* Print the tail of the current daemon's log to stderr (after a failure). */
void bench_daemon_log_tail(const struct bench *);

/* ---- figures and scenarios -------------------------------------------- */

enum target_kind {
        TARGET_NONE,
        TARGET_RATIO_MAX, /* corral/reference <= target */
        TARGET_RATIO_MIN, /* corral/reference >= target */
        TARGET_ABS_MAX,   /* corral's value <= target */
        TARGET_ABS_MIN,   /* corral's value >= target */
};

struct figure_def {
        const char *key;   /* stable identifier in the JSON: "p50" */
        const char *label; /* for the table: "round trip p50" */
        const char *unit;  /* "µs", "req/s", "KiB", "B" */
        bool higher_is_better;
        enum target_kind target_kind;
        double target;
        const char *target_text; /* "≤ 1.3× raw", "< 4 MiB" */
};

/* The most figures a scenario (or a peer) has. */
#define BENCH_MAX_FIGURES 16

/* Measurements of one repetition write one value per figure; NAN = none. */
typedef int (*scenario_fn)(struct bench *, void *state, double *out, char **cause);

struct peer_def {
        const char *name; /* "supervisord" */
        const char *what; /* what is measured, for the notes */
        const struct figure_def *figures;
        size_t nfigures;
        const char *const *compare; /* per figure: the corral figure key it is compared with */
        /* Installed and usable? Otherwise *why says why it is skipped. */
        bool (*available)(struct bench *, char **why);
        /* Optional: once per scenario, around the repetitions. */
        int (*setup)(struct bench *, void **state, char **cause);
        scenario_fn run;
        void (*teardown)(struct bench *, void *state);
};

struct scenario {
        const char *name;      /* for --only */
        const char *title;     /* for the table */
        const char *reference; /* what the reference is */
        const struct figure_def *figures;
        size_t nfigures;
        unsigned max_reps; /* 0: --reps; else at most this many (slow scenarios) */
        bool fresh_daemon; /* start a daemon before setup (most scenarios) */
        int (*setup)(struct bench *, void **state, char **cause);
        scenario_fn run;
        scenario_fn reference_run; /* NULL if the figures have no measured reference */
        void (*teardown)(struct bench *, void *state);
        const struct peer_def *const *peers;
        size_t npeers;
};

extern const struct scenario scenario_roundtrip;
extern const struct scenario scenario_command;
extern const struct scenario scenario_pipeline;
extern const struct scenario scenario_spawn;
extern const struct scenario scenario_join;
extern const struct scenario scenario_footprint;
extern const struct scenario scenario_scale;

extern const struct scenario scenario_restart;
extern const struct scenario scenario_queue;
extern const struct scenario scenario_spawn_rss;
extern const struct scenario scenario_replicas;
extern const struct scenario scenario_queue_footprint;
extern const struct scenario scenario_events;

extern const struct peer_def peer_supervisord_roundtrip;
extern const struct peer_def peer_supervisord_footprint;
extern const struct peer_def peer_supervisord_restart;
extern const struct peer_def peer_tsp;
extern const struct peer_def peer_redis_queue;
extern const struct peer_def peer_beanstalkd_queue;
extern const struct peer_def peer_redis_footprint;
extern const struct peer_def peer_beanstalkd_footprint;

/* ---- results ----------------------------------------------------------- */

struct series {
        double *v; /* one value per repetition, NAN when missing */
        size_t n;
};

struct summary {
        double median, min, max;
        size_t n; /* values that were not NAN */
};

struct figure_result {
        const struct scenario *scenario;
        const struct figure_def *def;
        struct series corral, reference;
};

struct peer_result {
        const struct scenario *scenario;
        const struct peer_def *peer;
        const struct figure_def *def;
        const char *compare; /* corral figure key */
        struct series values;
        char *skipped; /* why it was not measured, or NULL (owned) */
};

/* What the run was measured on, read at run time. */
struct machine {
        char cpu[128];
        long ncpu;
        long mem_mib;
        char kernel[256];
        char os[128];
        char compiler[64];
        char build[32];   /* CMake build type of the bench (and corrald with it) */
        char version[32]; /* corral's */
        char date[32];    /* UTC */
        char supervisord[32];
        char tsp[32];
        char redis[48];
        char beanstalkd[32];
};
void machine_read(struct machine *);

struct results {
        struct machine machine;
        struct figure_result *figs;
        size_t nfigs;
        struct peer_result *peers;
        size_t npeers;
        char **notes; /* free-text notes gathered during the run */
        size_t nnotes;
        char **errors; /* "scenario: why" for scenarios that failed */
        size_t nerrors;
        double seconds; /* the whole run */
        unsigned reps;
        bool quick;
};

/* Record a note for the report (printf-style). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The results that bench_note() appends to (set by main). */
void bench_set_results(struct results *);

/* ---- statistics (stats.c) ----------------------------------------------- */

int stats_cmp_double(const void *, const void *);
/* Median, min, max of the non-NAN values. n == 0 if none. */
struct summary stats_summary(const struct series *);
/* The p-quantile (0..1, nearest rank) of n sorted values. */
double stats_quantile_sorted(const double *sorted, size_t n, double p);
/* Sort v in place and return its p-quantile. */
double stats_quantile(double *v, size_t n, double p);
/* Ratio of medians, NAN when either is missing. */
double stats_ratio(const struct summary *a, const struct summary *b);

/* ---- output (report.c) ------------------------------------------------ */

int report_markdown(const struct results *, const char *path);
int report_json(const struct results *, const char *path);
/* The table to stdout while running. */
void report_console(const struct results *);

/* ---- processes (proc.c) ------------------------------------------------ */

/* Become a subreaper and install the cleanup handlers (which name workdir). */
void proc_init(const char *workdir);
/* Remember a process the bench started, to stop it whatever happens. */
void proc_register(pid_t, const char *what);
void proc_forget(pid_t);
/*
 * fork + exec argv with stdin /dev/null, stdout/stderr to log (or
 * /dev/null if NULL), extra "K=V" env entries (may be NULL), and a
 * parent-death signal. Registers the child. -1 with cause on failure.
 */
pid_t proc_start(const char *const *argv, const char *const *env, const char *log, int deathsig,
                 char **cause);
/* Wait up to timeout s for pid to exit; true if it did (*status set if non-NULL). */
bool proc_wait(pid_t, double timeout, int *status);
/* Signal, wait up to timeout s, then SIGKILL and wait; unregisters. */
void proc_stop(pid_t, int sig, double timeout);
/* Run argv to completion (stdout/stderr /dev/null), bounded; exit status or -1. */
int proc_run(const char *const *argv, const char *const *env, double timeout);
/* Reap exited children that nobody waits for (orphans handed to us). */
void proc_reap_orphans(void);
/* SIGKILL and reap every descendant still alive (bounded). */
void proc_kill_all(void);
/* Children of ours whose command name is comm ("tsp"). Fills pids, returns count. */
size_t proc_children_named(const char *comm, pid_t *pids, size_t max);
/* Resident set size of pid in KiB (VmRSS), or -1. */
long proc_rss_kib(pid_t);
/* CPU time pid has used, in ns, or -1. */
long long proc_cpu_ns(pid_t);
/* Processes that may still be created: min(pid_max, RLIMIT_NPROC) minus those alive. */
long proc_headroom(void);

double now_mono(void);

/* ---- raw MessagePack-RPC client (rpc.c) ------------------------------ */

/* Every msgid is >= RPC_ID_BASE, so that it always packs in 5 bytes (0xce + 4). */
#define RPC_ID_BASE   0x10000u
#define RPC_ID_OFFSET 3 /* where the msgid's 4 bytes sit in [0|1, msgid, ...] */

typedef void (*rpc_params_fn)(msgpack_packer *, const void *arg);

struct rpc {
        int fd;
        struct proto_reader *rd;
        msgpack_sbuffer out; /* queued bytes; out_off of them already sent */
        size_t out_off;
        msgpack_packer pk;
        uint32_t next_id;
};

struct rpc *rpc_connect(const char *path, char **cause);
/* A client over an already connected stream socket (a socketpair); takes fd. */
struct rpc *rpc_from_fd(int fd);
void rpc_free(struct rpc *);
/* Queue a request; params packs the single map of params (NULL: []). Returns the msgid. */
uint32_t rpc_queue(struct rpc *, const char *method, rpc_params_fn params, const void *arg);
/* Queue prepacked bytes (a template whose msgid the caller patched). */
void rpc_queue_bytes(struct rpc *, const void *, size_t);
size_t rpc_out_pending(const struct rpc *);
/* Send what the socket takes now. 0, or -1 with cause. */
int rpc_write_some(struct rpc *, char **cause);
/* Read what is there now: 1 got bytes, 0 nothing yet, -1 closed or error (cause). */
int rpc_read_some(struct rpc *, char **cause);
/* The next buffered message: 1, 0 if incomplete, -1 on a malformed stream. */
int rpc_next(struct rpc *, struct proto_msg *, char **cause);
/* The same, for a connection that also receives notifications (events). */
int rpc_next_any(struct rpc *, struct proto_msg *, char **cause);
/* Flush, then block (bounded by timeout s) until a message arrives. 0 or -1. */
int rpc_wait(struct rpc *, struct proto_msg *, double timeout, char **cause);
/* A request and its answer (which must be the next message); server errors are -1. */
int rpc_call(struct rpc *, const char *method, rpc_params_fn, const void *arg, struct proto_msg *,
             char **cause);
/* 0 if msg is a success response, else -1 with cause naming what. */
int rpc_check(const struct proto_msg *, const char *what, char **cause);
/* map[key] or NULL. */
const msgpack_object *rpc_get(const msgpack_object *map, const char *key);
uint64_t rpc_get_uint(const msgpack_object *map, const char *key);
/* o is the string s. */
bool rpc_str_is(const msgpack_object *o, const char *s);
/* The map of a process.state event notification, or NULL if msg is not one. */
const msgpack_object *rpc_state_event(const struct proto_msg *msg);
/* events.subscribe params: process.state events, of pool only if not NULL. */
void rpc_params_subscribe(msgpack_packer *, const void *pool);
/* Patch the msgid of a packed request or response in place. */
void rpc_patch_id(void *msg, uint32_t id);
/* Pack [0, RPC_ID_BASE, method, params] into a malloc'd buffer. */
void *rpc_template(const char *method, rpc_params_fn, const void *arg, size_t *len);
/* Re-pack a received message (e.g. to replay a real answer from the reference server). */
void *rpc_repack(const struct proto_msg *, size_t *len);

/*
 * Pipelined load: total requests spread over nconn connections, each
 * with at most window in flight. req is a packed template whose msgid is
 * patched per request. Every answer must be a success. Sets *seconds.
 */
int rpc_pipeline(struct rpc **conns, size_t nconn, const void *req, size_t req_len, uint64_t total,
                 unsigned window, double *seconds, char **cause);
/*
 * One request at a time: n round trips of the template, each timed into
 * samples[i] (µs). 0 or -1.
 */
int rpc_pingpong(struct rpc *, const void *req, size_t req_len, size_t n, double *samples,
                 char **cause);

/* Common params. */
void rpc_params_target_id(msgpack_packer *, const void *arg); /* {"id": *(uint64_t *)} */
struct spawn_args {
        const char *const *argv;
        const char *name; /* may be NULL */
        const char *pool; /* may be NULL */
};
void rpc_params_spawn(msgpack_packer *, const void *arg);

/* ---- the reference server (raw-server.c) ---------------------------- */

/*
 * A minimal single-threaded epoll server: every req_len bytes received
 * are one request, answered by the response template with the request's
 * msgid copied in. It runs as this program re-executed with
 * --raw-server, so that it is a separate small process as corrald is.
 */
int raw_server_main(int argc, char **argv);

#define RAW_KINDS_MAX 4
#define RAW_REQ_MAX   4096

struct raw_server {
        pid_t pid;
        char sock[192];
};
/* Start one answering req_len-byte requests with resp. 0 or -1. */
int raw_server_start(struct bench *, struct raw_server *, size_t req_len, const void *resp,
                     size_t resp_len, char **cause);
/* A kind of request the server answers: a packed request template and its answer. */
struct raw_kind {
        const void *req; /* NULL (one kind only): any req_len bytes */
        size_t req_len;
        const void *resp;
        size_t resp_len;
};
/* Start one answering several kinds, told apart by the bytes after the msgid. */
int raw_server_start_kinds(struct bench *, struct raw_server *, const struct raw_kind *,
                           size_t nkinds, char **cause);
void raw_server_stop(struct raw_server *);

/* ---- restarts (scenario-restart.c) ------------------------------------ */

/*
 * A FIFO that corral-bench-child writes its pid into once it runs: made
 * at dir/name and opened for reading (and writing, so that it never
 * reports end of file). The fd, or -1.
 */
int restart_fifo_open(struct bench *, const char *name, char *path, size_t len, char **cause);
/* Wait up to timeout s for a pid other than old on the FIFO; 0 with *pid, or -1. */
int restart_fifo_wait(int fd, pid_t old, double timeout, pid_t *pid, char **cause);

/* ---- spawning through corrald (scenario-spawn.c) ---------------------- */

/*
 * n jobs of /bin/true through corrald, at most window at a time: each a
 * process.spawn (into pool, NULL: the default pool), then a process.join
 * on its id; *rate = jobs per second.
 */
int spawn_jobs(struct rpc *, uint64_t n, unsigned window, const char *pool, double *rate,
               char **cause);

/* ---- children like corrald's (refspawn.c) ------------------------------ */

/* posix_spawn argv with corrald's child setup (new session, /dev/null stdio, clean signals). */
pid_t refspawn(const char *const *argv);

/* ---- many idle children (sleepers.c) ---------------------------------- */

/* How many more processes this machine allows, at most want (with a note if fewer). */
size_t sleepers_fit(size_t want);
/*
 * Spawn up to n `sleep 3600` through corrald, pipelined; their pids into
 * pids[], how many into *spawned (fewer, with a note, if corrald ran out
 * of descriptors or processes).
 */
int sleepers_spawn(struct rpc *, size_t n, pid_t *pids, size_t *spawned, char **cause);
/* SIGKILL them and wait (bounded) until corrald lists no live process. */
int sleepers_kill(struct rpc *, const pid_t *pids, size_t n, char **cause);
/* process.list params {"live": true}. */
void sleepers_params_live(msgpack_packer *, const void *arg);

/* ---- queue load (qload.c) --------------------------------------------- */

enum qload_proto {
        QLOAD_MSGPACK,   /* corrald, or the raw reference server */
        QLOAD_REDIS,     /* LPUSH / BRPOP */
        QLOAD_BEANSTALK, /* put / reserve / delete */
};

struct qload_spec {
        enum qload_proto proto;
        const char *path; /* a Unix socket, or NULL: TCP to 127.0.0.1:port */
        int port;
        const char *queue; /* corrald queue, redis key (beanstalkd: the default tube) */
        unsigned producers, consumers;
        unsigned window; /* messages in flight per connection; 1 = one request at a time */
        uint64_t n;      /* messages, spread over the producers and over the consumers */
        size_t msg_size;
        bool ack; /* corrald: get {ack: true}, then queue.ack */
};

/* Put n messages through the queue; *rate = messages per second (first put to last get). */
int qload_run(const struct qload_spec *, double *rate, char **cause);
/* Only put n messages (one producer, window in flight); *seconds it took. */
int qload_fill(const struct qload_spec *, double *seconds, char **cause);
/* A connected socket for spec (Unix or loopback TCP), or -1. */
int qload_connect(const struct qload_spec *, char **cause);
/* Packed queue.put / queue.get requests (msgid RPC_ID_BASE), malloc'd. */
void *qload_put_template(const char *queue, size_t msg_size, size_t *len);
void *qload_get_template(const char *queue, bool ack, size_t *len);

/* The sizes every queue figure uses, corrald and peers alike. */
#define QUEUE_MSG_SIZE 100
#define QUEUE_WINDOW   64 /* in flight per connection when pipelined */
#define QUEUE_CLIENTS  4  /* producers, and consumers, in the "several" figures */
struct queue_sizes {
        uint64_t pipelined;   /* N: messages per pipelined in-memory figure */
        uint64_t unpipelined; /* N_1: per figure with one request at a time */
        uint64_t slow;        /* N_slow: pipelined, durable or beanstalkd (slower: fewer) */
        uint64_t always;      /* N_always: with fsync always */
};
void queue_sizes(const struct bench *, struct queue_sizes *);

/* ---- peer servers (peer-redis.c, peer-beanstalkd.c) ------------------- */

struct peer_server {
        pid_t pid;
        char sock[192];
        char dir[224]; /* its data directory (beanstalkd's binlog) */
};
/* redis-server on a Unix socket in the bench's directory, no persistence. */
bool redis_available(char **why);
int redis_start(struct bench *, struct peer_server *, char **cause);
/* beanstalkd on a Unix socket; binlog: with -b DIR (its default fsync every 50 ms). */
bool beanstalkd_available(char **why);
int beanstalkd_start(struct bench *, struct peer_server *, bool binlog, char **cause);
void peer_server_stop(struct peer_server *);

/* ---- small helpers (util.c) ------------------------------------------- */

char *xstrdup(const char *);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));
/* *cause = formatted message; returns -1 (for `return fail(cause, ...)`). */
int fail(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* *cause = "prefix: " + *cause; returns -1. */
int fail_prefix(char **cause, const char *prefix);
/* Connect a Unix stream socket, retrying until timeout s while it is not there yet. */
int unix_connect_retry(const char *path, double timeout, char **cause);
/* Whole file as a malloc'd NUL-terminated string, or NULL. */
char *file_read(const char *path, size_t *len);
int file_write(const char *path, const void *, size_t);

#endif
