/*
 * q_support.c -- queue calls over libcorral's corral_call, raw waiting
 * requests, the daemon with a private state directory, and a tmpfs for
 * the disk-full case. See q_support.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "q_support.h"

/* ---- the daemon --------------------------------------------------------- */

#define Q_MAX_ARGS 16

/* What q_relaunch() needs, per daemon (a test runs at most a few). */
struct q_daemon_args {
        const struct harness *h;
        char state[512];
        char *argv[Q_MAX_ARGS + 3];
};
static struct q_daemon_args q_daemons[4];

static struct q_daemon_args *
q_args_of(const struct harness *h)
{
        for (size_t i = 0; i < sizeof q_daemons / sizeof q_daemons[0]; i++) {
                if (q_daemons[i].h == h)
                        return &q_daemons[i];
        }
        t_fail(__FILE__, __LINE__, "not a daemon started by q_daemon()");
}

struct harness *
q_daemon(const char *state_dir, const char *const *extra)
{
        struct harness *h = harness_new();
        struct q_daemon_args *a = NULL;
        size_t n = 0;

        /* A freed harness's slot may name the same address as h: take that one first. */
        for (size_t i = 0; i < sizeof q_daemons / sizeof q_daemons[0] && a == NULL; i++) {
                if (q_daemons[i].h == h)
                        a = &q_daemons[i];
        }
        for (size_t i = 0; i < sizeof q_daemons / sizeof q_daemons[0] && a == NULL; i++) {
                if (q_daemons[i].h == NULL)
                        a = &q_daemons[i];
        }
        T_ASSERTF(a != NULL, "too many daemons");
        for (size_t i = 0; a->argv[i] != NULL; i++)
                free(a->argv[i]);
        a->h = h;
        snprintf(a->state, sizeof a->state, "%s",
                 state_dir != NULL ? state_dir : harness_path(h, "state"));
        a->argv[n++] = strdup("--state-dir");
        a->argv[n++] = strdup(a->state);
        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
                T_ASSERT(n < Q_MAX_ARGS);
                a->argv[n++] = strdup(extra[i]);
        }
        a->argv[n] = NULL;
        harness_launch(h, (const char *const *)a->argv);
        return h;
}

void
q_relaunch(struct harness *h)
{
        harness_launch(h, (const char *const *)q_args_of(h)->argv);
}

const char *
q_state_dir(const struct harness *h)
{
        return q_args_of(h)->state;
}

const char *
q_log_path(const struct harness *h, const char *queue)
{
        static char buf[1024];

        snprintf(buf, sizeof buf, "%s/queues/%s.log", q_state_dir(h), queue);
        return buf;
}

void
q_crash(struct harness *h)
{
        T_ASSERT(h->pid > 0 && !h->exited);
        kill(h->pid, SIGKILL);
        T_ASSERTF(harness_wait_exit(h, 10), "corrald did not die of SIGKILL within 10 s");
        T_ASSERTF(WIFSIGNALED(h->status) && WTERMSIG(h->status) == SIGKILL,
                  "corrald ended with status 0x%x, not by SIGKILL", h->status);
}

bool
q_daemon_log_has(const struct harness *h, const char *text)
{
        char *log = file_read(h->log, NULL);
        bool found = log != NULL && strstr(log, text) != NULL;

        free(log);
        return found;
}

/* ---- parameters --------------------------------------------------------- */

void
qp_init(struct qparams *p, unsigned nkeys)
{
        msgpack_sbuffer_init(&p->sb);
        msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
        msgpack_pack_map(&p->pk, nkeys);
        p->want = nkeys;
        p->have = 0;
}

void
qp_key(struct qparams *p, const char *key)
{
        T_ASSERTF(p->have < p->want, "qparams: more than %u keys (at %s)", p->want, key);
        p->have++;
        pk_str(&p->pk, key);
}

void
qp_str(struct qparams *p, const char *key, const char *val)
{
        qp_key(p, key);
        pk_str(&p->pk, val);
}

void
qp_uint(struct qparams *p, const char *key, uint64_t val)
{
        qp_key(p, key);
        msgpack_pack_uint64(&p->pk, val);
}

void
qp_int(struct qparams *p, const char *key, int64_t val)
{
        qp_key(p, key);
        msgpack_pack_int64(&p->pk, val);
}

void
qp_double(struct qparams *p, const char *key, double val)
{
        qp_key(p, key);
        msgpack_pack_double(&p->pk, val);
}

void
qp_bool(struct qparams *p, const char *key, bool val)
{
        qp_key(p, key);
        if (val)
                msgpack_pack_true(&p->pk);
        else
                msgpack_pack_false(&p->pk);
}

void
qp_bin(struct qparams *p, const char *key, const void *data, size_t len)
{
        qp_key(p, key);
        msgpack_pack_bin(&p->pk, len);
        msgpack_pack_bin_body(&p->pk, data, len);
}

void
qp_strv(struct qparams *p, const char *const *v)
{
        size_t n = 0;

        while (v[n] != NULL)
                n++;
        msgpack_pack_array(&p->pk, n);
        for (size_t i = 0; i < n; i++)
                pk_str(&p->pk, v[i]);
}

int
q_call(struct corral *c, const char *method, struct qparams *p, struct corral_result *res,
       struct corral_error *err)
{
        int rc;

        memset(err, 0, sizeof *err);
        if (p == NULL)
                return corral_call(c, method, NULL, 0, res, err);
        T_ASSERTF(p->have == p->want, "qparams for %s: %u keys packed, %u announced", method,
                  p->have, p->want);
        rc = corral_call(c, method, p->sb.data, p->sb.size, res, err);
        msgpack_sbuffer_destroy(&p->sb);
        return rc;
}

/* ---- queues ------------------------------------------------------------- */

int
q_create_try(struct corral *c, const char *name, const struct q_opts *o, struct corral_error *err)
{
        static const struct q_opts none;
        struct qparams p;
        unsigned n = 1;

        if (o == NULL)
                o = &none;
        n += (o->maxsize != 0) + (o->max_bytes != 0) + o->durable + (o->fsync != NULL) +
             (o->visibility_timeout > 0) + (o->max_attempts != 0) + (o->dead_letter != NULL);
        qp_init(&p, n);
        qp_str(&p, "name", name);
        if (o->maxsize != 0)
                qp_uint(&p, "maxsize", o->maxsize);
        if (o->max_bytes != 0)
                qp_uint(&p, "max_bytes", o->max_bytes);
        if (o->durable)
                qp_bool(&p, "durable", true);
        if (o->fsync != NULL)
                qp_str(&p, "fsync", o->fsync);
        if (o->visibility_timeout > 0)
                qp_double(&p, "visibility_timeout", o->visibility_timeout);
        if (o->max_attempts != 0)
                qp_uint(&p, "max_attempts", o->max_attempts);
        if (o->dead_letter != NULL)
                qp_str(&p, "dead_letter", o->dead_letter);
        return q_call(c, "queue.create", &p, NULL, err);
}

void
q_create_at(const char *file, int line, struct corral *c, const char *name, const struct q_opts *o)
{
        struct corral_error err;

        if (q_create_try(c, name, o, &err) != 0)
                t_fail(file, line, "queue.create %s: %s [%s] %s", name, err.code, err.field,
                       err.message);
}

bool
q_msg_decode(const msgpack_object *o, struct q_msg *m)
{
        const msgpack_object *id = obj_get(o, "msg_id"), *data = obj_get(o, "data"),
                             *att = obj_get(o, "attempt"), *pri = obj_get(o, "priority");

        memset(m, 0, sizeof *m);
        if (id == NULL || id->type != MSGPACK_OBJECT_POSITIVE_INTEGER || data == NULL ||
            (data->type != MSGPACK_OBJECT_BIN && data->type != MSGPACK_OBJECT_STR) || att == NULL ||
            att->type != MSGPACK_OBJECT_POSITIVE_INTEGER || pri == NULL ||
            (pri->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
             pri->type != MSGPACK_OBJECT_NEGATIVE_INTEGER))
                return false;
        m->id = id->via.u64;
        m->attempt = (unsigned)att->via.u64;
        m->priority = (int)obj_int(pri);
        /* bin and str share the layout of their size and pointer */
        m->len = data->via.bin.size;
        if (m->len >= sizeof m->data)
                return false;
        memcpy(m->data, data->via.bin.ptr, m->len);
        m->data[m->len] = '\0';
        return true;
}

int
q_put_try(struct corral *c, const char *queue, const void *data, size_t len, int priority,
          double delay, double timeout, uint64_t *id, struct corral_error *err)
{
        struct corral_result res;
        struct qparams p;
        const msgpack_object *v;

        qp_init(&p, 2 + (priority != 0) + (delay > 0) + (timeout >= 0));
        qp_str(&p, "queue", queue);
        qp_bin(&p, "data", data, len);
        if (priority != 0)
                qp_int(&p, "priority", priority);
        if (delay > 0)
                qp_double(&p, "delay", delay);
        if (timeout >= 0)
                qp_double(&p, "timeout", timeout);
        if (q_call(c, "queue.put", &p, &res, err) != 0)
                return -1;
        v = obj_get(&res.obj, "msg_id");
        T_ASSERTF(v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
                  "queue.put result has no msg_id");
        if (id != NULL)
                *id = v->via.u64;
        corral_result_free(&res);
        return 0;
}

uint64_t
q_put_at(const char *file, int line, struct corral *c, const char *queue, const char *data,
         int priority, double delay)
{
        struct corral_error err;
        uint64_t id = 0;

        if (q_put_try(c, queue, data, strlen(data), priority, delay, -1, &id, &err) != 0)
                t_fail(file, line, "queue.put %s '%s': %s [%s] %s", queue, data, err.code,
                       err.field, err.message);
        return id;
}

int
q_get_try(struct corral *c, const char *queue, double timeout, bool ack, struct q_msg *m,
          struct corral_error *err)
{
        struct corral_result res;
        struct qparams p;
        bool ok;

        qp_init(&p, 1 + (timeout >= 0) + ack);
        qp_str(&p, "queue", queue);
        if (timeout >= 0)
                qp_double(&p, "timeout", timeout);
        if (ack)
                qp_bool(&p, "ack", true);
        if (q_call(c, "queue.get", &p, &res, err) != 0)
                return -1;
        ok = q_msg_decode(&res.obj, m);
        corral_result_free(&res);
        T_ASSERTF(ok, "queue.get %s: malformed result", queue);
        return 0;
}

void
q_get_at(const char *file, int line, struct corral *c, const char *queue, double timeout, bool ack,
         struct q_msg *m)
{
        struct corral_error err;

        if (q_get_try(c, queue, timeout, ack, m, &err) != 0)
                t_fail(file, line, "queue.get %s: %s [%s] %s", queue, err.code, err.field,
                       err.message);
}

void
q_expect_empty_at(const char *file, int line, struct corral *c, const char *queue)
{
        struct corral_error err;
        struct q_msg m;

        if (q_get_try(c, queue, 0, false, &m, &err) == 0)
                t_fail(file, line, "queue %s: got message %llu '%s', expected it empty", queue,
                       (unsigned long long)m.id, m.data);
        if (strcmp(err.code, "empty") != 0)
                t_fail(file, line, "queue.get %s: %s [%s] %s, expected empty", queue, err.code,
                       err.field, err.message);
}

int
q_msg_call(struct corral *c, const char *method, const char *queue, uint64_t id, double delay,
           struct corral_error *err)
{
        struct qparams p;

        qp_init(&p, 2 + (delay > 0));
        qp_str(&p, "queue", queue);
        qp_uint(&p, "msg_id", id);
        if (delay > 0)
                qp_double(&p, "delay", delay);
        return q_call(c, method, &p, NULL, err);
}

void
q_msg_call_at(const char *file, int line, struct corral *c, const char *method, const char *queue,
              uint64_t id, double delay)
{
        struct corral_error err;

        if (q_msg_call(c, method, queue, id, delay, &err) != 0)
                t_fail(file, line, "%s %s %llu: %s [%s] %s", method, queue, (unsigned long long)id,
                       err.code, err.field, err.message);
}

/* queue.info's field, or false with *err. */
static bool
q_info_try(struct corral *c, const char *queue, const char *field, int64_t *out,
           struct corral_error *err)
{
        struct corral_result res;
        struct qparams p;
        const msgpack_object *v;

        qp_init(&p, 1);
        qp_str(&p, "name", queue);
        if (q_call(c, "queue.info", &p, &res, err) != 0)
                return false;
        v = obj_get(&res.obj, field);
        T_ASSERTF(v != NULL, "queue.info %s has no field %s", queue, field);
        *out = obj_int(v);
        corral_result_free(&res);
        return true;
}

int64_t
q_info_at(const char *file, int line, struct corral *c, const char *queue, const char *field)
{
        struct corral_error err;
        int64_t v = 0;

        if (!q_info_try(c, queue, field, &v, &err))
                t_fail(file, line, "queue.info %s: %s [%s] %s", queue, err.code, err.field,
                       err.message);
        return v;
}

bool
q_wait_info(struct corral *c, const char *queue, const char *field, int64_t want, double timeout)
{
        double deadline = now_mono() + timeout;
        struct corral_error err;
        int64_t v = 0;

        for (int ms = 2;; ms = ms < 50 ? ms * 2 : ms) {
                T_ASSERTF(q_info_try(c, queue, field, &v, &err), "queue.info %s: %s %s", queue,
                          err.code, err.message);
                if (v == want)
                        return true;
                if (now_mono() > deadline)
                        return false;
                usleep((useconds_t)ms * 1000);
        }
}

/* ---- requests that wait, over a raw connection --------------------------- */

struct q_raw_args {
        const char *queue;
        const char *data;
        double timeout;
        bool ack;
};

static void
pk_raw_get(msgpack_packer *pk, void *arg)
{
        const struct q_raw_args *a = arg;

        msgpack_pack_map(pk, 1 + (a->timeout >= 0) + a->ack);
        pk_kv_str(pk, "queue", a->queue);
        if (a->timeout >= 0)
                pk_kv_double(pk, "timeout", a->timeout);
        if (a->ack)
                pk_kv_bool(pk, "ack", true);
}

static void
pk_raw_put(msgpack_packer *pk, void *arg)
{
        const struct q_raw_args *a = arg;
        size_t n = strlen(a->data);

        msgpack_pack_map(pk, 2 + (a->timeout >= 0));
        pk_kv_str(pk, "queue", a->queue);
        pk_str(pk, "data");
        msgpack_pack_bin(pk, n);
        msgpack_pack_bin_body(pk, a->data, n);
        if (a->timeout >= 0)
                pk_kv_double(pk, "timeout", a->timeout);
}

void
q_raw_get(struct raw *r, uint32_t msgid, const char *queue, double timeout, bool ack)
{
        struct q_raw_args a = {queue, NULL, timeout, ack};

        raw_request(r, msgid, "queue.get", pk_raw_get, &a);
}

void
q_raw_put(struct raw *r, uint32_t msgid, const char *queue, const char *data, double timeout)
{
        struct q_raw_args a = {queue, data, timeout, false};

        raw_request(r, msgid, "queue.put", pk_raw_put, &a);
}

bool
q_raw_quiet(struct raw *r, double timeout)
{
        msgpack_unpacked m;
        int rc;

        msgpack_unpacked_init(&m);
        rc = raw_next(r, timeout, &m);
        msgpack_unpacked_destroy(&m);
        return rc == -1;
}

void
q_raw_expect_at(const char *file, int line, struct raw *r, uint32_t msgid, const char *want_err,
                struct q_msg *m)
{
        msgpack_unpacked u;
        const char *code;
        int rc;

        msgpack_unpacked_init(&u);
        rc = raw_next(r, Q_WAIT, &u);
        if (rc != 1)
                t_fail(file, line, "request %u: %s", msgid,
                       rc == 0 ? "the daemon closed the connection" : "no response in time");
        if (u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 4 ||
            u.data.via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            u.data.via.array.ptr[0].via.u64 != 1)
                t_fail(file, line, "request %u: not a response", msgid);
        if (resp_msgid(&u.data) != msgid)
                t_fail(file, line, "response to request %u arrived, expected %u first",
                       resp_msgid(&u.data), msgid);
        code = resp_error_str(&u.data, "code");
        if (want_err != NULL) {
                if (strcmp(code, want_err) != 0)
                        t_fail(file, line, "request %u: error '%s', expected %s", msgid, code,
                               want_err);
        } else {
                if (resp_error(&u.data) != NULL)
                        t_fail(file, line, "request %u failed: %s %s", msgid, code,
                               resp_error_str(&u.data, "message"));
                if (m != NULL) {
                        const msgpack_object *res = resp_result(&u.data);

                        /* A put answers {msg_id}; a get the whole message. */
                        if (obj_get(res, "data") == NULL) {
                                memset(m, 0, sizeof *m);
                                m->id = (uint64_t)obj_int(obj_get(res, "msg_id"));
                        } else if (!q_msg_decode(res, m))
                                t_fail(file, line, "request %u: malformed message", msgid);
                }
        }
        msgpack_unpacked_destroy(&u);
}

/* ---- files --------------------------------------------------------------- */

long long
q_file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- a small file system for the state directory ------------------------ */

bool
q_with_tmpfs(size_t size, void (*fn)(const char *, void *), void *arg)
{
        const char *tmp = getenv("TMPDIR");
        char mnt[256], opts[64];
        int status = 0;
        pid_t pid;
        double deadline;

        if (geteuid() != 0) {
                printf("SKIP: not root, cannot mount a small tmpfs for the disk-full case\n");
                return false;
        }
        if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60)
                tmp = "/tmp";
        snprintf(mnt, sizeof mnt, "%s/corral-qfull.XXXXXX", tmp);
        T_ASSERTF(mkdtemp(mnt) != NULL, "mkdtemp %s: %s", mnt, strerror(errno));
        /*
         * A private mount namespace: the tmpfs is invisible to others and goes
         * away with this process even if nothing unmounts it.
         */
        if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
                printf("note: no private mount namespace (%s); mounting in the current one\n",
                       strerror(errno));
        snprintf(opts, sizeof opts, "size=%zu,mode=0700", size);
        if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) == -1) {
                printf("SKIP: cannot mount a tmpfs at %s: %s\n", mnt, strerror(errno));
                rmdir(mnt);
                return false;
        }
        fflush(NULL);
        pid = fork();
        if (pid == -1) {
                umount2(mnt, MNT_DETACH);
                rmdir(mnt);
                t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                /* The test proper; its harness cleans up after itself (atexit). */
                prctl(PR_SET_CHILD_SUBREAPER, 1);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                alarm(90);
                fn(mnt, arg);
                exit(0);
        }
        deadline = now_mono() + 95;
        while (waitpid(pid, &status, WNOHANG) != pid) {
                if (now_mono() > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        break;
                }
                usleep(20000);
        }
        /* Unmount whatever happened; MNT_DETACH even if something still holds it. */
        if (umount2(mnt, 0) == -1 && umount2(mnt, MNT_DETACH) == -1)
                fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
        if (rmdir(mnt) == -1)
                fprintf(stderr, "rmdir %s: %s\n", mnt, strerror(errno));
        T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the disk-full test process failed (status 0x%x)", status);
        return true;
}
