/*
 * out_support.c -- output calls over corral_call, followers over a raw
 * connection, sequence-line checks and /proc probes. See out_support.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "out_support.h"

/* ---- spawning ------------------------------------------------------------ */

static unsigned
strv_count(const char *const *v)
{
        unsigned n = 0;

        while (v != NULL && v[n] != NULL)
                n++;
        return n;
}

int
o_spawn_try(struct corral *c, const struct o_spawn *o, const char *const *script, uint64_t *id,
            pid_t *pid, struct corral_error *err)
{
        static const struct o_spawn none;
        struct corral_result res;
        struct qparams p;
        unsigned n = 1, nargs = strv_count(script), nenv;

        if (o == NULL)
                o = &none;
        nenv = strv_count(o->env);
        n += (o->name != NULL) + (o->pool != NULL) + (o->out != NULL) + (o->err != NULL) +
             (o->log_buffer != 0) + (o->log_max_bytes != 0) + o->has_log_backups + o->has_stdin +
             (o->stdin_queue != NULL) + (nenv > 0);
        qp_init(&p, n);
        qp_key(&p, "argv");
        msgpack_pack_array(&p.pk, 1 + nargs);
        pk_str(&p.pk, OUT_CHILD_PATH);
        for (unsigned i = 0; i < nargs; i++)
                pk_str(&p.pk, script[i]);
        if (o->name != NULL)
                qp_str(&p, "name", o->name);
        if (o->pool != NULL)
                qp_str(&p, "pool", o->pool);
        if (o->out != NULL)
                qp_str(&p, "stdout", o->out);
        if (o->err != NULL)
                qp_str(&p, "stderr", o->err);
        if (o->log_buffer != 0)
                qp_uint(&p, "log_buffer", o->log_buffer);
        if (o->log_max_bytes != 0)
                qp_uint(&p, "log_max_bytes", o->log_max_bytes);
        if (o->has_log_backups)
                qp_uint(&p, "log_backups", o->log_backups);
        if (o->has_stdin)
                qp_bin(&p, "stdin", o->stdin_data, o->stdin_len);
        if (o->stdin_queue != NULL)
                qp_str(&p, "stdin_queue", o->stdin_queue);
        if (nenv > 0) {
                qp_key(&p, "env");
                msgpack_pack_map(&p.pk, nenv);
                for (unsigned i = 0; i < nenv; i++) {
                        const char *eq = strchr(o->env[i], '=');

                        T_ASSERTF(eq != NULL, "env entry without '=': %s", o->env[i]);
                        msgpack_pack_str(&p.pk, (size_t)(eq - o->env[i]));
                        msgpack_pack_str_body(&p.pk, o->env[i], (size_t)(eq - o->env[i]));
                        pk_str(&p.pk, eq + 1);
                }
        }
        if (q_call(c, "process.spawn", &p, &res, err) != 0)
                return -1;
        if (id != NULL)
                *id = (uint64_t)obj_int(obj_get(&res.obj, "id"));
        if (pid != NULL)
                *pid = (pid_t)obj_int(obj_get(&res.obj, "pid"));
        corral_result_free(&res);
        return 0;
}

uint64_t
o_spawn_at(const char *file, int line, struct corral *c, const struct o_spawn *o,
           const char *const *script, pid_t *pid)
{
        struct corral_error err;
        uint64_t id = 0;

        if (o_spawn_try(c, o, script, &id, pid, &err) != 0)
                t_fail(file, line, "process.spawn %s: %s [%s] %s",
                       o != NULL && o->name != NULL ? o->name : "", err.code, err.field,
                       err.message);
        return id;
}

void
o_call_at(const char *file, int line, struct corral *c, const char *method, struct qparams *p,
          struct corral_result *res)
{
        struct corral_error err;

        if (q_call(c, method, p, res, &err) != 0)
                t_fail(file, line, "%s: %s [%s] %s", method, err.code, err.field, err.message);
}

/* ---- lines --------------------------------------------------------------- */

static void
copy_str(char *dst, size_t cap, const msgpack_object *o)
{
        size_t n = 0;

        if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
                n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
                memcpy(dst, o->via.str.ptr, n);
        }
        dst[n] = '\0';
}

bool
o_line_decode(const msgpack_object *m, struct o_line *l)
{
        const msgpack_object *id = obj_get(m, "id"), *st = obj_get(m, "stream"),
                             *ts = obj_get(m, "ts"), *data = obj_get(m, "data");
        const char *s;

        memset(l, 0, sizeof *l);
        if (id == NULL || id->type != MSGPACK_OBJECT_POSITIVE_INTEGER || ts == NULL ||
            (ts->type != MSGPACK_OBJECT_FLOAT64 && ts->type != MSGPACK_OBJECT_FLOAT32) ||
            data == NULL || (data->type != MSGPACK_OBJECT_BIN && data->type != MSGPACK_OBJECT_STR))
                return false;
        s = obj_str(st);
        if (s == NULL)
                return false;
        if (strcmp(s, "stdout") == 0)
                l->stream = O_STDOUT;
        else if (strcmp(s, "stderr") == 0)
                l->stream = O_STDERR;
        else
                return false;
        l->id = id->via.u64;
        l->ts = ts->via.f64;
        copy_str(l->name, sizeof l->name, obj_get(m, "name"));
        copy_str(l->pool, sizeof l->pool, obj_get(m, "pool"));
        /* bin and str share the layout of their size and pointer */
        l->data = data->via.bin.ptr;
        l->len = data->via.bin.size;
        return l->name[0] != '\0';
}

bool
o_line_is(const struct o_line *l, const char *text)
{
        size_t n = strlen(text);

        return l->len == n && memcmp(l->data, text, n) == 0;
}

struct o_logs_req
o_req_id(uint64_t id)
{
        struct o_logs_req r;

        memset(&r, 0, sizeof r);
        r.id = id;
        r.tail = -1;
        return r;
}

void
o_pack_logs_req(msgpack_packer *pk, const struct o_logs_req *r)
{
        unsigned n = (r->id != 0) + (r->name != NULL) + (r->pool != NULL) + (r->stream != NULL) +
                     (r->tail >= 0) + r->follow;

        msgpack_pack_map(pk, n);
        if (r->id != 0)
                pk_kv_uint(pk, "id", r->id);
        if (r->name != NULL)
                pk_kv_str(pk, "name", r->name);
        if (r->pool != NULL)
                pk_kv_str(pk, "pool", r->pool);
        if (r->stream != NULL)
                pk_kv_str(pk, "stream", r->stream);
        if (r->tail >= 0)
                pk_kv_uint(pk, "tail", (uint64_t)r->tail);
        if (r->follow)
                pk_kv_bool(pk, "follow", true);
}

void
o_logs_decode(const msgpack_object *o, struct o_logs *out)
{
        const msgpack_object *lines = obj_get(o, "lines"), *lost = obj_get(o, "lost"),
                             *tr = obj_get(o, "truncated"), *en = obj_get(o, "ended");

        T_ASSERTF(lines != NULL && lines->type == MSGPACK_OBJECT_ARRAY,
                  "process.logs: no lines array in the answer");
        T_ASSERTF(tr != NULL && tr->type == MSGPACK_OBJECT_BOOLEAN && en != NULL &&
                      en->type == MSGPACK_OBJECT_BOOLEAN,
                  "process.logs: truncated/ended missing or not bool");
        out->lost = (uint64_t)obj_int(lost);
        out->truncated = tr->via.boolean;
        out->ended = en->via.boolean;
        out->n = lines->via.array.size;
        out->lines = calloc(out->n + 1, sizeof *out->lines);
        T_ASSERT(out->lines != NULL);
        for (size_t i = 0; i < out->n; i++)
                T_ASSERTF(o_line_decode(&lines->via.array.ptr[i], &out->lines[i]),
                          "process.logs: line %zu is malformed", i);
}

int
o_logs_try(struct corral *c, const struct o_logs_req *r, struct o_logs *out,
           struct corral_error *err)
{
        struct qparams p;

        memset(out, 0, sizeof *out);
        qp_init(&p, 0);
        /* qp_init packed an empty map header: start over with the request's own. */
        msgpack_sbuffer_clear(&p.sb);
        o_pack_logs_req(&p.pk, r);
        if (q_call(c, "process.logs", &p, &out->res, err) != 0)
                return -1;
        o_logs_decode(&out->res.obj, out);
        return 0;
}

void
o_logs_at(const char *file, int line, struct corral *c, const struct o_logs_req *r,
          struct o_logs *out)
{
        struct corral_error err;

        if (o_logs_try(c, r, out, &err) != 0)
                t_fail(file, line, "process.logs: %s [%s] %s", err.code, err.field, err.message);
}

void
o_logs_free(struct o_logs *l)
{
        corral_result_free(&l->res);
        free(l->lines);
        memset(l, 0, sizeof *l);
}

bool
o_wait_lines(struct corral *c, const struct o_logs_req *r, size_t n, double timeout)
{
        double deadline = now_mono() + timeout;
        struct o_logs l;

        for (int ms = 1;; ms = ms < 32 ? ms * 2 : ms) {
                size_t have;

                o_logs(c, r, &l);
                have = l.n;
                o_logs_free(&l);
                if (have >= n)
                        return true;
                if (now_mono() > deadline)
                        return false;
                usleep((useconds_t)ms * 1000);
        }
}

/* ---- join with output ------------------------------------------------------ */

void
o_joined_decode(const msgpack_object *o, struct o_joined *j)
{
        const msgpack_object *out = obj_get(o, "output"), *ec = obj_get(o, "exit_code");
        const char *st = obj_str(obj_get(o, "state"));

        snprintf(j->state, sizeof j->state, "%s", st != NULL ? st : "");
        j->exit_code = obj_is_nil(ec) ? -1 : obj_int(ec);
        j->has_output = out != NULL;
        if (out == NULL)
                return;
        const msgpack_object *so = obj_get(out, "stdout"), *se = obj_get(out, "stderr");

        T_ASSERTF(so != NULL && se != NULL &&
                      (so->type == MSGPACK_OBJECT_BIN || so->type == MSGPACK_OBJECT_STR) &&
                      (se->type == MSGPACK_OBJECT_BIN || se->type == MSGPACK_OBJECT_STR),
                  "join output: stdout/stderr missing or not bin");
        j->out = so->via.bin.ptr;
        j->out_len = so->via.bin.size;
        j->err = se->via.bin.ptr;
        j->err_len = se->via.bin.size;
        j->lost = (uint64_t)obj_int(obj_get(out, "lost"));
}

void
o_join_at(const char *file, int line, struct corral *c, uint64_t id, bool output,
          struct o_joined *j)
{
        struct corral_error err;
        struct qparams p;

        memset(j, 0, sizeof *j);
        qp_init(&p, 3);
        qp_uint(&p, "id", id);
        qp_bool(&p, "output", output);
        qp_double(&p, "timeout", O_WAIT);
        if (q_call(c, "process.join", &p, &j->res, &err) != 0)
                t_fail(file, line, "process.join %llu: %s [%s] %s", (unsigned long long)id,
                       err.code, err.field, err.message);
        o_joined_decode(&j->res.obj, j);
}

void
o_joined_free(struct o_joined *j)
{
        corral_result_free(&j->res);
        memset(j, 0, sizeof *j);
}

/* ---- followers ------------------------------------------------------------ */

static void
pk_logs_req(msgpack_packer *pk, void *arg)
{
        o_pack_logs_req(pk, arg);
}

void
o_follow_start(struct raw *r, const struct o_logs_req *req, msgpack_unpacked *hold,
               struct o_logs *initial)
{
        static uint32_t msgid = 7000;
        uint32_t mine = msgid++;

        memset(initial, 0, sizeof *initial);
        raw_request(r, mine, "process.logs", pk_logs_req, (void *)req);
        raw_response(r, O_WAIT, hold);
        T_EQ_INT(resp_msgid(&hold->data), mine);
        T_ASSERTF(resp_error(&hold->data) == NULL, "process.logs follow: %s [%s] %s",
                  resp_error_str(&hold->data, "code"), resp_error_str(&hold->data, "field"),
                  resp_error_str(&hold->data, "message"));
        o_logs_decode(resp_result(&hold->data), initial);
}

int
o_follow_next(struct raw *r, double timeout, msgpack_unpacked *u, struct o_line *l, struct o_end *e)
{
        const msgpack_object *o, *params, *m;
        const char *method;
        int rc = raw_next(r, timeout, u);

        if (rc != 1)
                return rc;
        o = &u->data;
        T_ASSERTF(o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 3 &&
                      o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                      o->via.array.ptr[0].via.u64 == 2,
                  "follower: expected a notification [2, method, params]");
        method = obj_str(&o->via.array.ptr[1]);
        params = &o->via.array.ptr[2];
        T_ASSERTF(method != NULL && params->type == MSGPACK_OBJECT_ARRAY &&
                      params->via.array.size == 1,
                  "follower: malformed notification");
        m = &params->via.array.ptr[0];
        if (strcmp(method, "log") == 0) {
                T_ASSERTF(o_line_decode(m, l), "follower: malformed log notification");
                return 1;
        }
        T_ASSERTF(strcmp(method, "log.end") == 0, "follower: unexpected notification %s", method);
        memset(e, 0, sizeof *e);
        e->id = (uint64_t)obj_int(obj_get(m, "id"));
        copy_str(e->name, sizeof e->name, obj_get(m, "name"));
        copy_str(e->state, sizeof e->state, obj_get(m, "state"));
        e->exit_code = obj_is_nil(obj_get(m, "exit_code")) ? -1 : obj_int(obj_get(m, "exit_code"));
        return 2;
}

/* ---- sequence lines --------------------------------------------------------- */

bool
o_seq_check(const char *data, size_t len, uint32_t *seq, const char **why)
{
        char head[32];
        unsigned long s, l;
        char fill;

        /* "S%010u L%05u " is 19 bytes. */
        if (len < 20) {
                *why = "shorter than its header";
                return false;
        }
        memcpy(head, data, 19);
        head[19] = '\0';
        if (head[0] != 'S' || head[11] != ' ' || head[12] != 'L' || head[18] != ' ' ||
            sscanf(head, "S%10lu L%5lu ", &s, &l) != 2) {
                *why = "malformed header";
                return false;
        }
        if (l != len) {
                *why = "length differs from the one it announces (cut or merged)";
                return false;
        }
        fill = (char)('a' + (int)(s % 26));
        for (size_t i = 19; i < len; i++) {
                if (data[i] != fill) {
                        *why = "corrupted filler";
                        return false;
                }
        }
        *seq = (uint32_t)s;
        return true;
}

/* ---- the daemon and its children -------------------------------------------- */

long
o_rss_kb(pid_t pid)
{
        char path[64], line[256];
        long kb = -1;
        FILE *f;

        snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
        f = fopen(path, "re");
        if (f == NULL)
                return -1;
        while (fgets(line, sizeof line, f) != NULL) {
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        }
        fclose(f);
        return kb;
}

bool
o_in_write(pid_t pid, int fd)
{
        char path[64], buf[256];
        long nr;
        unsigned long arg;
        ssize_t n;
        int f;

        snprintf(path, sizeof path, "/proc/%ld/syscall", (long)pid);
        f = open(path, O_RDONLY | O_CLOEXEC);
        if (f == -1)
                return false;
        n = read(f, buf, sizeof buf - 1);
        close(f);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        /* "NR arg1 ..." while blocked in a system call; "running" or "-1 ..." otherwise. */
        if (sscanf(buf, "%ld 0x%lx", &nr, &arg) != 2)
                return false;
        return nr == SYS_write && arg == (unsigned long)fd && proc_state(pid) == 'S';
}

bool
o_wait_size(const char *path, long long size, double timeout)
{
        double deadline = now_mono() + timeout;

        for (int ms = 1;; ms = ms < 32 ? ms * 2 : ms) {
                if (q_file_size(path) == size)
                        return true;
                if (now_mono() > deadline)
                        return false;
                usleep((useconds_t)ms * 1000);
        }
}

char *
o_read_file_at(const char *file, int line, const char *path, size_t *len)
{
        char *d = file_read(path, len);

        if (d == NULL)
                t_fail(file, line, "cannot read %s: %s", path, strerror(errno));
        return d;
}

size_t
o_count_lines(const char *data, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                n += data[i] == '\n';
        return n;
}
