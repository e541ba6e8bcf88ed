/*
 * sv_support.c -- calls with json_pack()-built parameters, decoding of
 * records, pool records and events, and event streams for the
 * supervision tests. Every wait is bounded; any malformed answer fails
 * the test where it was read.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sv_support.h"

/* ---- daemon and calls --------------------------------------------------- */

void
sv_start(struct harness **h, struct corral **c, const char *const *extra)
{
        *h = harness_start(extra);
        *c = harness_connect(*h);
}

static bool
no_leftovers(void *arg)
{
        char list[512];

        return harness_leftovers(list, sizeof list) == 0;
}

void
sv_stop(struct harness *h, struct corral *c)
{
        corral_close(c);
        /*
         * A task of the daemon's that is still exiting when the daemon
         * does (seen under ASan) reaches us, the subreaper, for a moment:
         * give it a little while. A real leftover outlives this and fails
         * harness_stop() below.
         */
        kill(h->pid, SIGTERM);
        if (harness_wait_exit(h, 15))
                wait_until(no_leftovers, NULL, 5);
        harness_stop(h);
        harness_free(h);
}

json_t *
sv_argv(const char *mode, ...)
{
        json_t *a = json_array();
        const char *s;
        va_list ap;

        T_ASSERT(a != NULL);
        json_array_append_new(a, json_string(SVC_HELPER_PATH));
        json_array_append_new(a, json_string(mode));
        va_start(ap, mode);
        while ((s = va_arg(ap, const char *)) != NULL)
                json_array_append_new(a, json_string(s));
        va_end(ap);
        return a;
}

void
sv_pack_json(msgpack_packer *pk, const json_t *j)
{
        const char *key;
        json_t *v;
        size_t i;

        switch (json_typeof(j)) {
        case JSON_OBJECT:
                msgpack_pack_map(pk, json_object_size(j));
                json_object_foreach((json_t *)j, key, v)
                {
                        pk_str(pk, key);
                        sv_pack_json(pk, v);
                }
                break;
        case JSON_ARRAY:
                msgpack_pack_array(pk, json_array_size(j));
                json_array_foreach(j, i, v) sv_pack_json(pk, v);
                break;
        case JSON_STRING:
                msgpack_pack_str(pk, json_string_length(j));
                msgpack_pack_str_body(pk, json_string_value(j), json_string_length(j));
                break;
        case JSON_INTEGER:
                msgpack_pack_int64(pk, json_integer_value(j));
                break;
        case JSON_REAL:
                msgpack_pack_double(pk, json_real_value(j));
                break;
        case JSON_TRUE:
                msgpack_pack_true(pk);
                break;
        case JSON_FALSE:
                msgpack_pack_false(pk);
                break;
        case JSON_NULL:
                msgpack_pack_nil(pk);
                break;
        }
}

/* json_pack(fmt, ap) that must succeed (a format error is a bug in the test). */
static json_t *
sv_build(const char *fmt, va_list ap)
{
        json_error_t jerr;
        json_t *j = json_vpack_ex(&jerr, 0, fmt, ap);

        T_ASSERTF(j != NULL, "json_pack(\"%s\"): %s", fmt, jerr.text);
        return j;
}

int
sv_callv(struct corral *c, const char *method, struct corral_result *res, struct corral_error *err,
         const char *fmt, va_list ap)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        int rc;

        msgpack_sbuffer_init(&sb);
        if (fmt != NULL) {
                json_t *j = sv_build(fmt, ap);

                msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                sv_pack_json(&pk, j);
                json_decref(j);
        }
        rc = corral_call(c, method, fmt != NULL ? sb.data : NULL, sb.size, res, err);
        msgpack_sbuffer_destroy(&sb);
        return rc;
}

int
sv_callf(struct corral *c, const char *method, struct corral_result *res, struct corral_error *err,
         const char *fmt, ...)
{
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = sv_callv(c, method, res, err, fmt, ap);
        va_end(ap);
        return rc;
}

/* ---- decoding ------------------------------------------------------------ */

static const msgpack_object *
need(const msgpack_object *map, const char *key, const char *what)
{
        const msgpack_object *v = obj_get(map, key);

        T_ASSERTF(v != NULL, "%s lacks \"%s\"", what, key);
        return v;
}

static bool
is_int(const msgpack_object *o)
{
        return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
               o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

static uint64_t
get_uint(const msgpack_object *map, const char *key, const char *what)
{
        const msgpack_object *v = need(map, key, what);

        T_ASSERTF(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "%s: \"%s\" is not a uint", what,
                  key);
        return v->via.u64;
}

static bool
get_bool(const msgpack_object *map, const char *key, const char *what)
{
        const msgpack_object *v = need(map, key, what);

        T_ASSERTF(v->type == MSGPACK_OBJECT_BOOLEAN, "%s: \"%s\" is not a bool", what, key);
        return v->via.boolean;
}

/* A float, or 0 for nil when nil_ok. */
static double
get_double(const msgpack_object *map, const char *key, bool nil_ok, const char *what)
{
        const msgpack_object *v = need(map, key, what);

        if (nil_ok && v->type == MSGPACK_OBJECT_NIL)
                return 0;
        T_ASSERTF(v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32,
                  "%s: \"%s\" is not a float", what, key);
        return v->via.f64;
}

/* A str copied into buf; "" for nil when nil_ok. Returns whether it was a str. */
static bool
get_str(const msgpack_object *map, const char *key, char *buf, size_t len, bool nil_ok,
        const char *what)
{
        const msgpack_object *v = need(map, key, what);
        size_t n;

        buf[0] = '\0';
        if (nil_ok && v->type == MSGPACK_OBJECT_NIL)
                return false;
        T_ASSERTF(v->type == MSGPACK_OBJECT_STR, "%s: \"%s\" is not a str", what, key);
        n = v->via.str.size < len - 1 ? v->via.str.size : len - 1;
        memcpy(buf, v->via.str.ptr, n);
        buf[n] = '\0';
        return true;
}

/* An int or nil: whether it was an int, the value in *out. */
static bool
get_opt_int(const msgpack_object *map, const char *key, int *out, const char *what)
{
        const msgpack_object *v = need(map, key, what);

        *out = -1;
        if (v->type == MSGPACK_OBJECT_NIL)
                return false;
        T_ASSERTF(is_int(v), "%s: \"%s\" is neither an int nor nil", what, key);
        *out = (int)obj_int(v);
        return true;
}

void
sv_proc_decode(const msgpack_object *o, struct sv_proc *p)
{
        const char *w = "process record";
        const msgpack_object *le;

        memset(p, 0, sizeof *p);
        T_ASSERTF(o->type == MSGPACK_OBJECT_MAP, "a process record is not a map");
        p->id = get_uint(o, "id", w);
        get_str(o, "name", p->name, sizeof p->name, false, w);
        get_str(o, "pool", p->pool, sizeof p->pool, false, w);
        T_ASSERTF(need(o, "argv", w)->type == MSGPACK_OBJECT_ARRAY, "argv is not an array");
        p->pid = (pid_t)get_uint(o, "pid", w);
        get_str(o, "state", p->state, sizeof p->state, false, w);
        p->ready = get_bool(o, "ready", w);
        p->created_at = get_double(o, "created_at", false, w);
        p->started_at = get_double(o, "started_at", true, w);
        p->ended_at = get_double(o, "ended_at", true, w);
        p->has_exit_code = get_opt_int(o, "exit_code", &p->exit_code, w);
        get_str(o, "signal", p->signal, sizeof p->signal, true, w);
        (void)get_bool(o, "core_dumped", w);
        le = need(o, "last_exit", w);
        p->last_exit_code = -1;
        if (le->type != MSGPACK_OBJECT_NIL) {
                T_ASSERTF(le->type == MSGPACK_OBJECT_MAP, "last_exit is neither a map nor nil");
                p->has_last_exit = true;
                get_opt_int(le, "exit_code", &p->last_exit_code, "last_exit");
                get_str(le, "signal", p->last_signal, sizeof p->last_signal, true, "last_exit");
        }
        p->restarts = (unsigned)get_uint(o, "restarts", w);
        get_str(o, "restart", p->restart, sizeof p->restart, false, w);
        get_str(o, "status", p->status, sizeof p->status, true, w);
        p->has_reason = get_str(o, "reason", p->reason, sizeof p->reason, true, w);
        get_opt_int(o, "worker_index", &p->worker_index, w);
}

/* ---- processes ------------------------------------------------------------ */

static int
sv_spawn_v(struct corral *c, struct sv_proc *out, struct corral_error *err, const char *fmt,
           va_list ap)
{
        struct corral_result res;

        if (sv_callv(c, "process.spawn", &res, err, fmt, ap) != 0)
                return -1;
        sv_proc_decode(&res.obj, out);
        corral_result_free(&res);
        return 0;
}

void
sv_spawn(struct corral *c, struct sv_proc *out, const char *fmt, ...)
{
        struct corral_error err;
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = sv_spawn_v(c, out, &err, fmt, ap);
        va_end(ap);
        T_ASSERTF(rc == 0, "spawn (%s): %s [%s] %s", fmt, err.code, err.field, err.message);
}

int
sv_spawn_try(struct corral *c, struct sv_proc *out, struct corral_error *err, const char *fmt, ...)
{
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = sv_spawn_v(c, out, err, fmt, ap);
        va_end(ap);
        return rc;
}

int
sv_proc_call(struct corral *c, const char *method, uint64_t id, struct sv_proc *out,
             struct corral_error *err, const char *extra_key, const char *extra_val)
{
        struct corral_result res;
        int rc;

        if (extra_key != NULL)
                rc = sv_callf(c, method, &res, err, "{s:I, s:s}", "id", (json_int_t)id, extra_key,
                              extra_val);
        else
                rc = sv_callf(c, method, &res, err, "{s:I}", "id", (json_int_t)id);
        if (rc != 0)
                return -1;
        sv_proc_decode(&res.obj, out);
        corral_result_free(&res);
        return 0;
}

void
sv_info(struct corral *c, uint64_t id, struct sv_proc *out)
{
        struct corral_error err;

        T_ASSERTF(sv_proc_call(c, "process.info", id, out, &err, NULL, NULL) == 0,
                  "process.info %llu: %s %s", (unsigned long long)id, err.code, err.message);
}

void
sv_join(struct corral *c, uint64_t id, struct sv_proc *out)
{
        struct corral_result res;
        struct corral_error err;

        T_ASSERTF(sv_callf(c, "process.join", &res, &err, "{s:I, s:f}", "id", (json_int_t)id,
                           "timeout", SV_WAIT) == 0,
                  "process.join %llu: %s %s", (unsigned long long)id, err.code, err.message);
        sv_proc_decode(&res.obj, out);
        corral_result_free(&res);
}

void
sv_terminate_wait(struct corral *c, uint64_t id, struct sv_proc *out)
{
        struct corral_result res;
        struct corral_error err;

        T_ASSERTF(sv_callf(c, "process.terminate", &res, &err, "{s:I, s:b, s:f}", "id",
                           (json_int_t)id, "wait", 1, "grace", 5.0) == 0,
                  "process.terminate %llu: %s %s", (unsigned long long)id, err.code, err.message);
        sv_proc_decode(&res.obj, out);
        corral_result_free(&res);
}

bool
sv_wait_proc(struct corral *c, uint64_t id, const char *state, unsigned min_restarts,
             double timeout, struct sv_proc *out)
{
        double deadline = now_mono() + timeout;
        struct timespec ts = {0, 10 * 1000 * 1000};

        for (;;) {
                sv_info(c, id, out);
                if ((state == NULL || strcmp(out->state, state) == 0) &&
                    out->restarts >= min_restarts)
                        return true;
                if (now_mono() > deadline)
                        return false;
                nanosleep(&ts, NULL);
        }
}

/* ---- pools --------------------------------------------------------------- */

void
sv_pool_decode(const msgpack_object *o, struct sv_pool *p)
{
        const char *w = "pool record";
        const msgpack_object *r, *st, *m;
        static const struct {
                const char *name;
                size_t off;
        } states[] = {
            {"running", offsetof(struct sv_pool, running)},
            {"pending", offsetof(struct sv_pool, pending)},
            {"starting", offsetof(struct sv_pool, starting)},
            {"stopping", offsetof(struct sv_pool, stopping)},
            {"backoff", offsetof(struct sv_pool, backoff)},
            {"exited", offsetof(struct sv_pool, exited)},
            {"killed", offsetof(struct sv_pool, killed)},
            {"stopped", offsetof(struct sv_pool, stopped)},
            {"failed", offsetof(struct sv_pool, failed)},
            {"cancelled", offsetof(struct sv_pool, cancelled)},
        };

        memset(p, 0, sizeof *p);
        T_ASSERTF(o->type == MSGPACK_OBJECT_MAP, "a pool record is not a map");
        get_str(o, "name", p->name, sizeof p->name, false, w);
        p->size = (unsigned)get_uint(o, "size", w);
        p->active = (unsigned)get_uint(o, "active", w);
        p->live = (unsigned)get_uint(o, "live", w);
        p->closed = get_bool(o, "closed", w);
        p->rolling = get_bool(o, "rolling", w);
        get_str(o, "restart", p->restart, sizeof p->restart, false, w);
        r = need(o, "replicas", w);
        if (r->type != MSGPACK_OBJECT_NIL) {
                T_ASSERTF(r->type == MSGPACK_OBJECT_MAP, "replicas is neither a map nor nil");
                p->has_replicas = true;
                p->replicas_count = (unsigned)get_uint(r, "count", "replicas");
        }
        st = need(o, "states", w);
        T_ASSERTF(st->type == MSGPACK_OBJECT_MAP, "states is not a map");
        for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
                *(unsigned *)((char *)p + states[i].off) =
                    (unsigned)get_uint(st, states[i].name, "states");
        m = need(o, "members", w);
        T_ASSERTF(m->type == MSGPACK_OBJECT_ARRAY, "members is not an array");
        T_ASSERTF(m->via.array.size <= SV_POOL_MEMBERS, "too many members for the test");
        for (uint32_t i = 0; i < m->via.array.size; i++) {
                T_ASSERT(m->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER);
                p->members[p->nmembers++] = m->via.array.ptr[i].via.u64;
        }
}

int
sv_pool_call(struct corral *c, const char *method, struct sv_pool *out, struct corral_error *err,
             const char *fmt, ...)
{
        struct corral_result res;
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = sv_callv(c, method, &res, err, fmt, ap);
        va_end(ap);
        if (rc != 0)
                return -1;
        if (out != NULL)
                sv_pool_decode(&res.obj, out);
        corral_result_free(&res);
        return 0;
}

void
sv_pool_info(struct corral *c, const char *name, struct sv_pool *out)
{
        struct corral_error err;

        T_ASSERTF(sv_pool_call(c, "pool.info", out, &err, "{s:s}", "name", name) == 0,
                  "pool.info %s: %s %s", name, err.code, err.message);
}

/* ---- events --------------------------------------------------------------- */

static void
sv_event_decode(const msgpack_object *o, struct sv_event *e)
{
        const char *w = "event";

        memset(e, 0, sizeof *e);
        e->exit_code = -1;
        T_ASSERTF(o->type == MSGPACK_OBJECT_MAP, "an event is not a map");
        get_str(o, "type", e->type, sizeof e->type, false, w);
        if (strcmp(e->type, "overflow") == 0) {
                e->queued = get_uint(o, "queued", w);
                e->limit = get_uint(o, "limit", w);
                return;
        }
        e->ts = get_double(o, "ts", false, w);
        if (strcmp(e->type, "process.state") == 0) {
                e->id = get_uint(o, "id", w);
                get_str(o, "name", e->name, sizeof e->name, false, w);
                get_str(o, "pool", e->pool, sizeof e->pool, false, w);
                get_str(o, "from", e->from, sizeof e->from, false, w);
                get_str(o, "to", e->to, sizeof e->to, false, w);
                e->pid = (pid_t)get_uint(o, "pid", w);
                e->restarts = (unsigned)get_uint(o, "restarts", w);
                e->has_exit_code = get_opt_int(o, "exit_code", &e->exit_code, w);
                get_str(o, "signal", e->signal, sizeof e->signal, true, w);
                e->has_reason = get_str(o, "reason", e->reason, sizeof e->reason, true, w);
        } else if (strcmp(e->type, "process.start_limit") == 0) {
                e->id = get_uint(o, "id", w);
                get_str(o, "name", e->name, sizeof e->name, false, w);
                get_str(o, "pool", e->pool, sizeof e->pool, false, w);
                e->restarts = (unsigned)get_uint(o, "restarts", w);
                e->retry_after = get_double(o, "retry_after", false, w);
        } else {
                T_ASSERTF(strncmp(e->type, "pool.", 5) == 0, "unknown event type %s", e->type);
                get_str(o, "pool", e->pool, sizeof e->pool, false, w);
                e->size = (unsigned)get_uint(o, "size", w);
                e->replicas = (unsigned)get_uint(o, "replicas", w);
                e->closed = get_bool(o, "closed", w);
        }
}

struct sv_params {
        json_t *j;
};

static void
sv_pk_params(msgpack_packer *pk, void *arg)
{
        sv_pack_json(pk, ((struct sv_params *)arg)->j);
}

struct sv_sub *
sv_subscribe(const struct harness *h, const char *fmt, ...)
{
        struct sv_sub *s = calloc(1, sizeof *s);
        struct sv_params sp = {NULL};
        msgpack_unpacked m;
        va_list ap;

        T_ASSERT(s != NULL);
        s->raw = raw_connect(h->sock);
        if (fmt != NULL) {
                va_start(ap, fmt);
                sp.j = sv_build(fmt, ap);
                va_end(ap);
        }
        raw_request(s->raw, 1, "events.subscribe", sp.j != NULL ? sv_pk_params : NULL, &sp);
        json_decref(sp.j);
        msgpack_unpacked_init(&m);
        /* The answer comes before the first event. */
        raw_response(s->raw, SV_WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 1);
        T_ASSERTF(resp_error(&m.data) == NULL, "events.subscribe: %s [%s] %s",
                  resp_error_str(&m.data, "code"), resp_error_str(&m.data, "field"),
                  resp_error_str(&m.data, "message"));
        msgpack_unpacked_destroy(&m);
        return s;
}

void
sv_sub_free(struct sv_sub *s)
{
        if (s == NULL)
                return;
        raw_close(s->raw);
        free(s->ev);
        free(s);
}

/* Keep a message of the stream if it is an event (1); 0 for a response. */
static int
sv_sub_keep(struct sv_sub *s, const msgpack_object *o)
{
        const msgpack_object *params;

        T_ASSERTF(o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size >= 1 &&
                      o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER,
                  "a message from the daemon is not an array");
        if (o->via.array.ptr[0].via.u64 != 2)
                return 0; /* a response to a request made on this connection */
        T_ASSERTF(o->via.array.size == 3, "a notification is not [2, method, params]");
        T_EQ_STR(obj_str(&o->via.array.ptr[1]), "event");
        params = &o->via.array.ptr[2];
        T_ASSERTF(params->type == MSGPACK_OBJECT_ARRAY && params->via.array.size == 1,
                  "event params are not an array of one map");
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 64;
                s->ev = realloc(s->ev, s->cap * sizeof *s->ev);
                T_ASSERT(s->ev != NULL);
        }
        sv_event_decode(&params->via.array.ptr[0], &s->ev[s->n++]);
        return 1;
}

/* Take one message within timeout: 1 if it was an event, 0 otherwise, -1 timeout/EOF. */
static int
sv_sub_take(struct sv_sub *s, double timeout)
{
        msgpack_unpacked m;
        int rc;

        msgpack_unpacked_init(&m);
        rc = raw_next(s->raw, timeout, &m);
        if (rc == 1)
                rc = sv_sub_keep(s, &m.data);
        else
                rc = -1;
        msgpack_unpacked_destroy(&m);
        return rc;
}

bool
sv_sub_request(struct sv_sub *s, uint32_t msgid, const char *method, char *code, const char *fmt,
               ...)
{
        struct sv_params sp = {NULL};
        double deadline = now_mono() + SV_WAIT;
        msgpack_unpacked m;
        bool ok;
        va_list ap;

        if (fmt != NULL) {
                va_start(ap, fmt);
                sp.j = sv_build(fmt, ap);
                va_end(ap);
        }
        raw_request(s->raw, msgid, method, sp.j != NULL ? sv_pk_params : NULL, &sp);
        json_decref(sp.j);
        msgpack_unpacked_init(&m);
        for (;;) {
                double left = deadline - now_mono();
                int rc;

                T_ASSERTF(left > 0, "no answer to %s within %.0f s", method, SV_WAIT);
                /* Events first: each is kept; the response ends the loop. */
                rc = raw_next(s->raw, left, &m);
                T_ASSERTF(rc == 1, "%s: the connection %s", method,
                          rc == 0 ? "was closed" : "timed out");
                if (sv_sub_keep(s, &m.data) == 0)
                        break;
        }
        T_ASSERTF(m.data.via.array.size == 4, "not a response [1, msgid, error, result]");
        T_EQ_INT(resp_msgid(&m.data), msgid);
        ok = resp_error(&m.data) == NULL;
        if (code != NULL)
                snprintf(code, 32, "%s", ok ? "" : resp_error_str(&m.data, "code"));
        msgpack_unpacked_destroy(&m);
        return ok;
}

size_t
sv_sub_poll(struct sv_sub *s, double timeout)
{
        double deadline = now_mono() + timeout;
        size_t before = s->n;

        for (;;) {
                double left = deadline - now_mono();

                if (sv_sub_take(s, left > 0 ? left : 0) == -1)
                        break;
        }
        return s->n - before;
}

bool
sv_sub_wait(struct sv_sub *s, bool (*pred)(struct sv_sub *, void *), void *arg, double timeout)
{
        double deadline = now_mono() + timeout;

        for (;;) {
                double left;

                if (pred(s, arg))
                        return true;
                left = deadline - now_mono();
                if (left <= 0 || s->raw->closed)
                        return pred(s, arg);
                sv_sub_take(s, left);
        }
}

size_t
sv_sub_count(const struct sv_sub *s, uint64_t id, const char *to)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++) {
                const struct sv_event *e = &s->ev[i];

                if (strcmp(e->type, "process.state") == 0 && (id == 0 || e->id == id) &&
                    (to == NULL || strcmp(e->to, to) == 0))
                        n++;
        }
        return n;
}

struct count_arg {
        uint64_t id;
        const char *to;
        size_t n;
};

static bool
count_pred(struct sv_sub *s, void *arg)
{
        struct count_arg *a = arg;

        return sv_sub_count(s, a->id, a->to) >= a->n;
}

bool
sv_sub_wait_count(struct sv_sub *s, uint64_t id, const char *to, size_t n, double timeout)
{
        struct count_arg a = {id, to, n};

        return sv_sub_wait(s, count_pred, &a, timeout);
}

long
sv_sub_find(const struct sv_sub *s, size_t start, const char *type, uint64_t id, const char *to)
{
        for (size_t i = start; i < s->n; i++) {
                const struct sv_event *e = &s->ev[i];

                if ((type == NULL || strcmp(e->type, type) == 0) && (id == 0 || e->id == id) &&
                    (to == NULL || strcmp(e->to, to) == 0))
                        return (long)i;
        }
        return -1;
}

static bool
type_pred(struct sv_sub *s, void *arg)
{
        return sv_sub_find(s, 0, arg, 0, NULL) >= 0;
}

bool
sv_sub_wait_type(struct sv_sub *s, const char *type, double timeout)
{
        return sv_sub_wait(s, type_pred, (void *)type, timeout);
}

const char *
sv_sub_trace(const struct sv_sub *s, uint64_t id)
{
        static char buf[4096];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < s->n && len < sizeof buf - 64; i++) {
                const struct sv_event *e = &s->ev[i];

                if (strcmp(e->type, "process.state") == 0 && (id == 0 || e->id == id))
                        len += (size_t)snprintf(buf + len, sizeof buf - len, " %s:%s>%s", e->name,
                                                e->from, e->to);
                else if (strcmp(e->type, "process.state") != 0 && (id == 0 || e->id == id))
                        len += (size_t)snprintf(buf + len, sizeof buf - len, " [%s %s]", e->type,
                                                e->pool);
        }
        return buf;
}

/* ---- miscellany ------------------------------------------------------------ */

pid_t
sv_read_pid(const char *path, double timeout)
{
        char *s;
        long pid;

        T_ASSERTF(wait_file(path, timeout), "no pid file %s", path);
        s = file_read(path, NULL);
        T_ASSERT(s != NULL);
        pid = strtol(s, NULL, 10);
        free(s);
        T_ASSERTF(pid > 1, "bad pid in %s", path);
        return (pid_t)pid;
}

size_t
sv_count_lines(const char *path)
{
        char *s = file_read(path, NULL);
        size_t n = 0;

        if (s == NULL)
                return 0;
        for (char *p = s; *p != '\0'; p++)
                n += *p == '\n';
        free(s);
        return n;
}

struct lines_arg {
        const char *path;
        size_t n;
};

static bool
lines_pred(void *arg)
{
        struct lines_arg *a = arg;

        return sv_count_lines(a->path) >= a->n;
}

bool
sv_wait_lines(const char *path, size_t n, double timeout)
{
        struct lines_arg a = {path, n};

        return wait_until(lines_pred, &a, timeout);
}

long
sv_rss_kb(pid_t pid)
{
        char path[64], line[256];
        long kb = -1;
        FILE *f;

        snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
        if ((f = fopen(path, "re")) == NULL)
                return -1;
        while (fgets(line, sizeof line, f) != NULL) {
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        }
        fclose(f);
        return kb;
}

void
sv_touch(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        T_ASSERTF(fd != -1, "create %s: %s", path, strerror(errno));
        close(fd);
}

bool
sv_log_has(const struct harness *h, size_t *off, const char *needle)
{
        size_t nlen = strlen(needle), start = *off > nlen ? *off - nlen : 0;
        char buf[65536 + 1];
        bool found = false;
        ssize_t n;
        int fd;

        if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) == -1)
                return false;
        /* Re-read a needle's length before the offset: a match may straddle reads. */
        while ((n = pread(fd, buf, sizeof buf - 1, (off_t)start)) > 0) {
                buf[n] = '\0';
                if (memmem(buf, (size_t)n, needle, nlen) != NULL)
                        found = true;
                *off = start + (size_t)n;
                if (found || (size_t)n < sizeof buf - 1)
                        break; /* found, or at the end of what is written so far */
                start = *off - nlen;
        }
        close(fd);
        return found;
}
