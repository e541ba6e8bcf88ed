/*
 * fuzz_params.c -- libFuzzer target for the params decoder alone.
 *
 * Input: byte 0 picks the method by name; the rest is the params value, wrapped
 * as [0, 1, method, <rest>] and read whole. Messages the envelope check
 * refuses are skipped: what matters is proto_params_decode() and its
 * outputs, which are checked for consistency.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Methods by name, looked up at run time so that the list may name methods
 * not (yet) in the table; the order is the corpus format (make_corpus.py):
 * append only.
 */
static const char *const methods[] = {
    "daemon.hello",      "daemon.ping",    "daemon.shutdown", "process.spawn",  "process.join",
    "process.terminate", "process.signal", "process.info",    "process.list",   "process.start",
    "process.restart",   "pool.create",    "pool.info",       "pool.list",      "pool.scale",
    "pool.restart",      "pool.close",     "pool.join",       "pool.terminate", "pool.delete",
    "events.subscribe",
};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* A target decoded: exactly one of id or name. */
static void
check_target(const struct proto_target *t)
{
        if (t->has_id == (t->name != NULL))
                abort();
        if (t->name != NULL && !proto_name_valid(t->name, strlen(t->name), NULL))
                abort();
}

static void
check_seconds(double d)
{
        if (!isfinite(d) || d < 0 || d > 1e9)
                abort();
}

/* What a successful decode promises. */
static void
check_output(const struct proto_params_spec *spec, const void *out)
{
        if (spec == &proto_spec_process_spawn) {
                const struct proto_p_spawn *p = out;

                if (p->argc < 1 || p->argc > PROTO_ARGV_MAX || p->argv[p->argc] != NULL)
                        abort();
                for (size_t i = 0; i < p->nenv; i++) {
                        if (p->env[i][0] == '=' || strchr(p->env[i], '=') == NULL)
                                abort();
                }
                if (p->cwd != NULL && p->cwd[0] != '/')
                        abort();
                if (p->has_stdin != (p->stdin_data != NULL))
                        abort();
        } else if (spec == &proto_spec_process_join) {
                const struct proto_p_join *p = out;

                check_target(&p->t);
                if (p->has_timeout)
                        check_seconds(p->timeout);
        } else if (spec == &proto_spec_process_terminate) {
                const struct proto_p_terminate *p = out;

                check_target(&p->t);
                check_seconds(p->grace);
                if (p->signal < 1 || p->signal > SIGRTMAX)
                        abort();
        } else if (spec == &proto_spec_process_signal) {
                const struct proto_p_signal *p = out;

                check_target(&p->t);
                if (p->signal < 1 || p->signal > SIGRTMAX)
                        abort();
        } else if (spec == &proto_spec_process_info) {
                check_target(&((const struct proto_p_info *)out)->t);
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct proto_params_spec *spec;
        struct proto_reader *rd;
        struct proto_arena *a;
        struct proto_msg msg;
        struct proto_error err;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        void *p;
        size_t avail;
        void *dst;

        if (size < 1)
                return 0;
        if ((spec = proto_params_lookup(methods[data[0] % NMETHODS])) == NULL)
                return 0;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        proto_pack_request_head(&pk, 1, spec->method);
        msgpack_sbuffer_write(&sb, (const char *)data + 1, size - 1);

        rd = proto_reader_new(NULL);
        a = proto_arena_new();
        /* Exactly spec->size bytes, so ASan catches a write past the struct. */
        if ((p = malloc(spec->size)) == NULL)
                abort();
        if (rd == NULL || a == NULL || (dst = proto_reader_space(rd, sb.size, &avail)) == NULL)
                abort();
        memcpy(dst, sb.data, sb.size);
        proto_reader_commit(rd, sb.size);
        if (proto_reader_next(rd, &msg, &err) == 1) {
                if (proto_params_decode(spec, &msg, p, a, &err) == 0)
                        check_output(spec, p);
                else if (err.code != PROTO_E_INVALID_PARAMS)
                        abort();
                proto_msg_clear(&msg);
        }
        free(p);
        proto_arena_free(a);
        proto_reader_free(rd);
        msgpack_sbuffer_destroy(&sb);
        return 0;
}
