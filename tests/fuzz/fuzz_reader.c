/*
 * fuzz_reader.c -- libFuzzer target for proto_reader and the params decoder.
 *
 * Input: byte 0 holds flags (bit 0: small limits, so limit paths are
 * reachable with small inputs), byte 1 seeds the sizes of the chunks in
 * which the rest is fed, as a connection's reads would deliver it. Every
 * request is decoded with its method's spec; every response's error map
 * goes through proto_error_decode().
 *
 * Invariant checked: whatever the scanner accepts, msgpack-c decodes (the
 * scanner must never pass something msgpack-c rejects or would need more
 * bytes for).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode a request's params with the spec of its method, if any. */
static void
decode_params(const struct proto_msg *msg)
{
        const struct proto_params_spec *spec = proto_params_lookup(msg->method);
        struct proto_arena *a;
        struct proto_error err;
        union {
                struct proto_p_spawn spawn;
                struct proto_p_join join;
                struct proto_p_terminate terminate;
                struct proto_p_signal signal;
                struct proto_p_info info;
                struct proto_p_list list;
                struct proto_p_none none;
        } p;

        if (spec == NULL)
                return;
        if ((a = proto_arena_new()) == NULL)
                abort();
        if (proto_params_decode(spec, msg, &p, a, &err) == 0 && spec == &proto_spec_process_spawn) {
                /* Touch everything, so ASan checks the vectors. */
                for (size_t i = 0; i < p.spawn.argc; i++)
                        (void)strlen(p.spawn.argv[i]);
                if (p.spawn.argv[p.spawn.argc] != NULL)
                        abort();
                for (size_t i = 0; i < p.spawn.nenv; i++) {
                        if (strchr(p.spawn.env[i], '=') == NULL)
                                abort();
                }
        }
        proto_arena_free(a);
}

/* Read every message available; returns -1 once the stream failed. */
static int
drain(struct proto_reader *rd)
{
        struct proto_msg msg;
        struct proto_error err;
        int r;

        while ((r = proto_reader_next(rd, &msg, &err)) == 1) {
                if (msg.type == PROTO_REQUEST)
                        decode_params(&msg);
                else if (msg.type == PROTO_RESPONSE && msg.error.type == MSGPACK_OBJECT_MAP)
                        (void)proto_error_decode(&msg.error, &err);
                proto_msg_clear(&msg);
        }
        if (r < 0 && strcmp(err.message, "malformed MessagePack") == 0)
                abort(); /* the scanner and msgpack-c disagree */
        return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct proto_limits small = {4096, 8, 256};
        struct proto_reader *rd;
        uint32_t seed;
        size_t off = 2;

        if (size < 2)
                return 0;
        rd = proto_reader_new((data[0] & 1) ? &small : NULL);
        if (rd == NULL)
                abort();
        seed = data[1] | 1u;
        while (off < size) {
                size_t n, avail;
                void *dst;

                seed = seed * 1103515245u + 12345u;
                n = 1 + (seed >> 16) % (seed & 0x100 ? 4096 : 16);
                if (n > size - off)
                        n = size - off;
                if ((dst = proto_reader_space(rd, n, &avail)) == NULL || avail < n)
                        abort();
                memcpy(dst, data + off, n);
                proto_reader_commit(rd, n);
                off += n;
                if (drain(rd) < 0)
                        break;
        }
        proto_reader_free(rd);
        return 0;
}
