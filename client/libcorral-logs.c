/*
 * libcorral-logs.c -- captured output: process.logs (the buffered lines of
 * a process or a pool), following it (the "log" and "log.end"
 * notifications that libcorral.c queues apart from events), and
 * daemon.reopen_logs.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "libcorral-private.h"

static const char *const stream_names[] = {"both", "stdout", "stderr"};

const char *
corral_stream_name(enum corral_stream s)
{
        return (unsigned)s < sizeof stream_names / sizeof stream_names[0] ? stream_names[s] : NULL;
}

static void
line_init(struct corral_log_line *l)
{
        memset(l, 0, sizeof *l);
        l->exit_code = -1;
}

void
corral_log_line_clear(struct corral_log_line *l)
{
        if (l == NULL)
                return;
        free(l->name);
        free(l->pool);
        free(l->data);
        line_init(l);
}

void
corral_logs_clear(struct corral_logs *logs)
{
        size_t i;

        if (logs == NULL)
                return;
        for (i = 0; i < logs->nlines; i++)
                corral_log_line_clear(&logs->lines[i]);
        free(logs->lines);
        memset(logs, 0, sizeof *logs);
}

/* The id and name every line and end marker has. */
static int
decode_who(const msgpack_object *m, struct corral_log_line *out)
{
        if (corral_obj_u64(corral_map_get(m, "id"), &out->id) == -1 || out->id == 0 ||
            (out->name = corral_strdup_obj(corral_map_get(m, "name"))) == NULL)
                return -1;
        return 0;
}

/* {id, name, pool?, stream, ts, data} into *out (a LINE). */
static int
line_decode(const msgpack_object *m, struct corral_log_line *out)
{
        char stream[16];

        line_init(out);
        if (m == NULL || m->type != MSGPACK_OBJECT_MAP || decode_who(m, out) == -1 ||
            corral_obj_optstr(corral_map_get(m, "pool"), &out->pool) == -1 ||
            corral_obj_strcut(corral_map_get(m, "stream"), stream, sizeof stream) == -1 ||
            corral_obj_seconds(corral_map_get(m, "ts"), &out->ts) == -1 ||
            corral_obj_bytes(corral_map_get(m, "data"), &out->data, &out->len) == -1)
                goto fail;
        if (strcmp(stream, "stdout") == 0)
                out->stream = CORRAL_STREAM_STDOUT;
        else if (strcmp(stream, "stderr") == 0)
                out->stream = CORRAL_STREAM_STDERR;
        else
                goto fail;
        return 0;
fail:
        corral_log_line_clear(out);
        return -1;
}

/* {id, name, state, exit_code, signal} into *out (an END). */
static int
end_decode(const msgpack_object *m, struct corral_log_line *out)
{
        const msgpack_object *v;

        line_init(out);
        out->kind = CORRAL_LOG_END;
        if (m == NULL || m->type != MSGPACK_OBJECT_MAP || decode_who(m, out) == -1 ||
            corral_obj_strcut(corral_map_get(m, "state"), out->state, sizeof out->state) == -1)
                goto fail;
        if ((v = corral_map_get(m, "exit_code")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (!corral_obj_is_int(v) || corral_obj_int(v) < 0 || corral_obj_int(v) > 255)
                        goto fail;
                out->exit_code = (int)corral_obj_int(v);
        }
        if ((v = corral_map_get(m, "signal")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
            (out->signal = corral_obj_signal(v)) == -1)
                goto fail;
        return 0;
fail:
        corral_log_line_clear(out);
        return -1;
}

/* {lines, lost, truncated, ended} into *out. */
static int
logs_decode(const msgpack_object *o, struct corral_logs *out)
{
        const msgpack_object *a;
        uint32_t i;

        memset(out, 0, sizeof *out);
        if (o == NULL || o->type != MSGPACK_OBJECT_MAP ||
            (a = corral_map_get(o, "lines")) == NULL || a->type != MSGPACK_OBJECT_ARRAY ||
            corral_obj_u64(corral_map_get(o, "lost"), &out->lost) == -1 ||
            corral_obj_bool(corral_map_get(o, "truncated"), &out->truncated) == -1 ||
            corral_obj_bool(corral_map_get(o, "ended"), &out->ended) == -1)
                return -1;
        if ((out->lines = calloc((size_t)a->via.array.size + 1, sizeof *out->lines)) == NULL)
                return -1;
        for (i = 0; i < a->via.array.size; i++) {
                if (line_decode(&a->via.array.ptr[i], &out->lines[i]) == -1) {
                        corral_logs_clear(out);
                        return -1;
                }
                out->nlines++;
        }
        return 0;
}

static int
logs_call(struct corral *c, const struct corral_logs_opts *o, bool follow, struct corral_logs *out,
          struct corral_error *err)
{
        struct corral_result res;
        struct corral_params p;
        struct corral_logs tmp;
        int rc = 0;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (o == NULL || (o->pool == NULL && o->target.name == NULL && o->target.id == 0))
                return corral_bad_param(err, "id", "give a process or a pool");
        if (corral_stream_name(o->stream) == NULL)
                return corral_bad_param(err, "stream", "unknown stream %d", (int)o->stream);
        corral_params_init(&p, 1 + (o->stream != CORRAL_STREAM_BOTH) + o->has_tail + follow);
        if (o->pool != NULL)
                proto_pack_kv_str(&p.pk, "pool", o->pool);
        else
                corral_pack_target(&p.pk, o->target);
        if (o->stream != CORRAL_STREAM_BOTH)
                proto_pack_kv_str(&p.pk, "stream", corral_stream_name(o->stream));
        if (o->has_tail)
                proto_pack_kv_uint(&p.pk, "tail", o->tail);
        if (follow)
                proto_pack_kv_bool(&p.pk, "follow", true);
        if (corral_call_params(c, PROTO_M_PROCESS_LOGS, &p, 0, &res, err) == -1)
                return -1;
        if (logs_decode(&res.obj, &tmp) == -1)
                rc = corral_bad_result(err, PROTO_M_PROCESS_LOGS);
        else if (out != NULL)
                *out = tmp;
        else
                corral_logs_clear(&tmp);
        corral_result_free(&res);
        return rc;
}

int
corral_logs(struct corral *c, const struct corral_logs_opts *o, struct corral_logs *out,
            struct corral_error *err)
{
        return logs_call(c, o, false, out, err);
}

int
corral_logs_follow(struct corral *c, const struct corral_logs_opts *o, struct corral_logs *out,
                   struct corral_error *err)
{
        return logs_call(c, o, true, out, err);
}

int
corral_logs_next(struct corral *c, struct corral_log_line *line, double timeout,
                 struct corral_error *err)
{
        struct corral_error local;
        struct corral_note note;
        int r;

        if (err == NULL)
                err = &local;
        memset(err, 0, sizeof *err);
        if (c == NULL || line == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "no connection or line");
                return -1;
        }
        line_init(line);
        if ((r = corral_note_wait(c, timeout, &note, err)) != 1)
                return r;
        switch (note.kind) {
        case CORRAL_NOTE_DROPPED:
                line->kind = CORRAL_LOG_DROPPED;
                line->dropped = note.dropped;
                line->len = (size_t)note.dropped_bytes;
                line->ts = note.ts;
                return 1;
        case CORRAL_NOTE_LOG_END:
                r = end_decode(&note.obj.obj, line);
                break;
        default:
                r = line_decode(&note.obj.obj, line);
                break;
        }
        corral_result_free(&note.obj);
        if (r == -1) {
                corral_error_set(err, CORRAL_E_PROTOCOL, NULL,
                                 "malformed log notification from the daemon");
                return -1;
        }
        return 1;
}

int
corral_logs_run(struct corral *c, corral_log_fn fn, void *userdata, struct corral_error *err)
{
        struct corral_error local;
        struct corral_log_line line;
        bool end;
        int rc;

        if (err == NULL)
                err = &local;
        if (fn == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "no callback");
                return -1;
        }
        for (;;) {
                if (corral_logs_next(c, &line, -1, err) == -1) {
                        /* A malformed line is skipped; the stream goes on. */
                        if (strcmp(err->code, CORRAL_E_PROTOCOL) == 0 && c != NULL &&
                            !corral_at_eof(c))
                                continue;
                        if (c != NULL && corral_at_eof(c)) {
                                memset(err, 0, sizeof *err);
                                return 0;
                        }
                        return -1;
                }
                end = line.kind == CORRAL_LOG_END;
                rc = fn(&line, userdata);
                corral_log_line_clear(&line);
                if (rc != 0 || end) {
                        memset(err, 0, sizeof *err);
                        return rc;
                }
        }
}

int
corral_reopen_logs(struct corral *c, struct corral_error *err)
{
        return corral_call_empty(c, PROTO_M_DAEMON_REOPEN_LOGS, NULL, 0, err);
}
