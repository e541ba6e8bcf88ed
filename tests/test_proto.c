/*
 * test_proto.c -- unit tests of proto/: error codes, arena, signal and
 * name rules, the pack helpers, the reader (round trips in every split,
 * truncation, hostile input, limits) and the params decoder (every error
 * path of every field type).
 *
 * No framework: CHECK counts and reports; the exit status says whether
 * everything passed. Messages are built with pk_fmt(), a tiny packer
 * driven by a format string, so each case fits on a line or two.
 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

static int passed, failed;

#define CHECK(cond)     check_at(__LINE__, (cond), #cond)
#define CHECK_STR(a, b) check_str_at(__LINE__, (a), (b))

static bool
check_at(int line, bool ok, const char *what)
{
        if (ok) {
                passed++;
        } else {
                failed++;
                fprintf(stderr, "test_proto.c:%d: FAILED: %s\n", line, what);
        }
        return ok;
}

static bool
check_str_at(int line, const char *a, const char *b)
{
        bool ok = a != NULL && b != NULL && strcmp(a, b) == 0;

        if (ok) {
                passed++;
        } else {
                failed++;
                fprintf(stderr, "test_proto.c:%d: FAILED: \"%s\" != \"%s\"\n", line,
                        a ? a : "(null)", b ? b : "(null)");
        }
        return ok;
}

/* Deterministic xorshift, so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

/* ---- building messages ---- */

struct buf {
        msgpack_sbuffer sb;
        msgpack_packer pk;
};

static void
buf_init(struct buf *b)
{
        msgpack_sbuffer_init(&b->sb);
        msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static void
buf_free(struct buf *b)
{
        msgpack_sbuffer_destroy(&b->sb);
}

static void
buf_raw(struct buf *b, const void *p, size_t n)
{
        msgpack_sbuffer_write(&b->sb, p, n);
}

/* Items at the top level of the container starting after fmt[0]. */
static uint32_t
fmt_count(const char *fmt)
{
        uint32_t n = 0;
        int level = 0;

        for (const char *p = fmt + 1; *p != '\0'; p++) {
                if ((*p == ']' || *p == '}') && level-- == 0)
                        break;
                if (level == 0 && strchr("[{sSBiudftFn", *p) != NULL)
                        n++;
                if (*p == '[' || *p == '{')
                        level++;
        }
        return n;
}

/*
 * Pack values by format: [ ] array, { } map (keys and values alternate),
 * s str (char *), S str (char *, size_t), B bin (void *, size_t), i int64,
 * u uint64, d double, f float, t true, F false, n nil. Other characters
 * (",: ") are ignored. Returns where it stopped.
 */
static const char *
pk_vfmt(msgpack_packer *pk, const char *fmt, va_list *ap)
{
        while (*fmt != '\0') {
                char c = *fmt++;
                const char *s;
                size_t len;

                switch (c) {
                case '[':
                        msgpack_pack_array(pk, fmt_count(fmt - 1));
                        fmt = pk_vfmt(pk, fmt, ap);
                        break;
                case '{':
                        msgpack_pack_map(pk, fmt_count(fmt - 1) / 2);
                        fmt = pk_vfmt(pk, fmt, ap);
                        break;
                case ']':
                case '}':
                        return fmt;
                case 's':
                        proto_pack_str(pk, va_arg(*ap, const char *));
                        break;
                case 'S':
                        s = va_arg(*ap, const char *);
                        len = va_arg(*ap, size_t);
                        proto_pack_strn(pk, s, len);
                        break;
                case 'B':
                        s = va_arg(*ap, const char *);
                        len = va_arg(*ap, size_t);
                        msgpack_pack_bin(pk, len);
                        msgpack_pack_bin_body(pk, s, len);
                        break;
                case 'i':
                        msgpack_pack_int64(pk, va_arg(*ap, int64_t));
                        break;
                case 'u':
                        msgpack_pack_uint64(pk, va_arg(*ap, uint64_t));
                        break;
                case 'd':
                        msgpack_pack_double(pk, va_arg(*ap, double));
                        break;
                case 'f':
                        msgpack_pack_float(pk, (float)va_arg(*ap, double));
                        break;
                case 't':
                        msgpack_pack_true(pk);
                        break;
                case 'F':
                        msgpack_pack_false(pk);
                        break;
                case 'n':
                        msgpack_pack_nil(pk);
                        break;
                }
        }
        return fmt;
}

static void
pk_fmt(struct buf *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        pk_vfmt(&b->pk, fmt, &ap);
        va_end(ap);
}

/* ---- reading ---- */

static struct proto_reader *
reader_small(size_t max_message, unsigned max_depth, size_t max_objects)
{
        struct proto_limits lim = {max_message, max_depth, max_objects};

        return proto_reader_new(&lim);
}

static void
feed(struct proto_reader *rd, const void *p, size_t n)
{
        size_t avail;
        void *dst = proto_reader_space(rd, n, &avail);

        CHECK(dst != NULL && avail >= n);
        memcpy(dst, p, n);
        proto_reader_commit(rd, n);
}

/* Feed all of b to a new reader; the result of one next(). */
static int
read_one(const void *p, size_t n, struct proto_reader *rd, struct proto_msg *msg,
         struct proto_error *err)
{
        feed(rd, p, n);
        return proto_reader_next(rd, msg, err);
}

/*
 * The result of reading b whole with default limits. With out, the
 * message is returned (to clear), but the reader is gone: only its copied
 * fields (type, msgid, method) may be used, not the msgpack views.
 */
static int
read_result(struct buf *b, struct proto_error *err, struct proto_msg *out)
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_msg msg;
        int r = read_one(b->sb.data, b->sb.size, rd, &msg, err);

        if (out != NULL)
                *out = msg;
        else if (r == 1)
                proto_msg_clear(&msg);
        proto_reader_free(rd);
        return r;
}

/* ---- error codes ---- */

static void
test_errors(void)
{
        struct proto_error e;
        struct buf b;
        char longfield[200];

        for (int i = 1; i < PROTO_E__COUNT; i++) {
                const char *n = proto_err_name((enum proto_err)i);

                CHECK(n != NULL && proto_err_from_name(n, strlen(n)) == (enum proto_err)i);
        }
        CHECK(proto_err_name(PROTO_E__COUNT) == NULL);
        CHECK(proto_err_name((enum proto_err) - 1) == NULL);
        CHECK_STR(proto_err_name(PROTO_E_INVALID_PARAMS), "invalid_params");
        CHECK(proto_err_from_name("nope", 4) == PROTO_E__COUNT);
        CHECK(proto_err_from_name("ok", 2) == PROTO_E__COUNT);
        CHECK(proto_err_from_name("timeouts", 7) == PROTO_E_TIMEOUT);

        memset(longfield, 'x', sizeof longfield - 1);
        longfield[sizeof longfield - 1] = '\0';
        proto_error_set(&e, PROTO_E_TIMEOUT, longfield, "%s %s", longfield, longfield);
        CHECK(e.code == PROTO_E_TIMEOUT && strlen(e.field) == PROTO_NAME_MAX);
        CHECK(strlen(e.message) == sizeof e.message - 1);
        proto_error_set(&e, PROTO_E_NOT_FOUND, NULL, "no process %d", 7);
        CHECK_STR(e.field, "");
        CHECK_STR(e.message, "no process 7");

        /* proto_error_decode */
        buf_init(&b);
        pk_fmt(&b, "{s:s, s:s, s:s}", "code", "not_found", "message", "gone", "field", "id");
        {
                msgpack_unpacked u;
                size_t off = 0;

                msgpack_unpacked_init(&u);
                CHECK(msgpack_unpack_next(&u, b.sb.data, b.sb.size, &off) ==
                      MSGPACK_UNPACK_SUCCESS);
                CHECK(proto_error_decode(&u.data, &e) == 0);
                CHECK(e.code == PROTO_E_NOT_FOUND);
                CHECK_STR(e.message, "gone");
                CHECK_STR(e.field, "id");
                msgpack_unpacked_destroy(&u);
        }
        buf_free(&b);

        struct {
                const char *fmt;
                int ret;
                enum proto_err code;
                const char *message;
        } cases[] = {
            {"{s:s,s:s}", 0, PROTO_E_INTERNAL, "m"},     /* unknown code */
            {"{s:s,s:s,s:n}", 0, PROTO_E_TIMEOUT, "m"},  /* field nil */
            {"{s:s,s:s,s:i}", -1, 0, NULL},              /* field int */
            {"{s:i,s:s}", -1, 0, NULL},                  /* code int */
            {"[s,s]", -1, 0, NULL},                      /* not a map */
            {"{s:s,s:u}", -1, 0, NULL},                  /* message an int */
            {"{s:s}", 0, PROTO_E_INTERNAL, "brand_new"}, /* unknown code, no message */
            {"{s:s,s:S}", 0, PROTO_E_TIMEOUT, "cut"},    /* message with NUL */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                msgpack_unpacked u;
                size_t off = 0;

                buf_init(&b);
                if (i == 0)
                        pk_fmt(&b, cases[i].fmt, "code", "brand_new", "message", "m");
                else if (i == 1)
                        pk_fmt(&b, cases[i].fmt, "code", "timeout", "message", "m", "field");
                else if (i == 2)
                        pk_fmt(&b, cases[i].fmt, "code", "timeout", "message", "m", "field",
                               (int64_t)1);
                else if (i == 3)
                        pk_fmt(&b, cases[i].fmt, "code", (int64_t)1, "message", "m");
                else if (i == 4)
                        pk_fmt(&b, cases[i].fmt, "code", "timeout");
                else if (i == 5)
                        pk_fmt(&b, cases[i].fmt, "code", "timeout", "message", (uint64_t)1);
                else if (i == 6)
                        pk_fmt(&b, cases[i].fmt, "code", "brand_new");
                else
                        pk_fmt(&b, cases[i].fmt, "code", "timeout", "message", "cut\0x", (size_t)5);
                msgpack_unpacked_init(&u);
                CHECK(msgpack_unpack_next(&u, b.sb.data, b.sb.size, &off) ==
                      MSGPACK_UNPACK_SUCCESS);
                CHECK(proto_error_decode(&u.data, &e) == cases[i].ret);
                if (cases[i].ret == 0) {
                        CHECK(e.code == cases[i].code);
                        CHECK_STR(e.message, cases[i].message);
                        CHECK_STR(e.field, "");
                }
                msgpack_unpacked_destroy(&u);
                buf_free(&b);
        }
}

/* ---- arena ---- */

static void
test_arena(void)
{
        struct proto_arena *a = proto_arena_new();
        char *big, *s;
        void *prev = NULL;

        CHECK(a != NULL);
        for (int i = 0; i < 2000; i++) {
                size_t n = (size_t)(rng() % 300);
                char *p = proto_arena_alloc(a, n);

                CHECK(p != NULL && ((uintptr_t)p % _Alignof(max_align_t)) == 0);
                CHECK(p != prev);
                memset(p, 0xab, n);
                prev = p;
        }
        big = proto_arena_alloc(a, 20u << 20);
        CHECK(big != NULL);
        memset(big, 1, 20u << 20);
        s = proto_arena_strndup(a, "hello world", 5);
        CHECK_STR(s, "hello");
        s = proto_arena_strndup(a, "hi\0there", 8); /* stops at NUL like strndup */
        CHECK_STR(s, "hi");
        s = proto_arena_strndup(a, "", 0);
        CHECK_STR(s, "");
        CHECK(proto_arena_alloc(a, 0) != NULL);
        CHECK(proto_arena_alloc(a, SIZE_MAX) == NULL);
        CHECK(proto_arena_alloc(a, SIZE_MAX - 8) == NULL);
        proto_arena_free(a);
        proto_arena_free(NULL);

        /* A first allocation that is large, then small ones. */
        a = proto_arena_new();
        CHECK(proto_arena_alloc(a, 100000) != NULL);
        CHECK(proto_arena_alloc(a, 10) != NULL);
        CHECK(proto_arena_alloc(a, 100000) != NULL);
        CHECK(proto_arena_alloc(a, 10) != NULL);
        proto_arena_free(a);
}

/* ---- signals ---- */

static void
test_signals(void)
{
        char buf[32];

        CHECK(proto_signal_from_name("TERM") == SIGTERM);
        CHECK(proto_signal_from_name("SIGTERM") == SIGTERM);
        CHECK(proto_signal_from_name("sigterm") == SIGTERM);
        CHECK(proto_signal_from_name("Term") == SIGTERM);
        CHECK(proto_signal_from_name("15") == 15);
        CHECK(proto_signal_from_name("9") == SIGKILL);
        CHECK(proto_signal_from_name("kill") == SIGKILL);
        CHECK(proto_signal_from_name("SIGUSR1") == SIGUSR1);
        CHECK(proto_signal_from_name("STKFLT") == SIGSTKFLT);
        CHECK(proto_signal_from_name("pwr") == SIGPWR);
        CHECK(proto_signal_from_name("IOT") == SIGABRT);
        CHECK(proto_signal_from_name("RTMIN") == SIGRTMIN);
        CHECK(proto_signal_from_name("SIGRTMIN+3") == SIGRTMIN + 3);
        CHECK(proto_signal_from_name("rtmax-1") == SIGRTMAX - 1);
        CHECK(proto_signal_from_name("RTMAX") == SIGRTMAX);
        CHECK(proto_signal_from_name("RTMIN+0") == SIGRTMIN);
        snprintf(buf, sizeof buf, "RTMIN+%d", SIGRTMAX - SIGRTMIN);
        CHECK(proto_signal_from_name(buf) == SIGRTMAX);
        snprintf(buf, sizeof buf, "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
        CHECK(proto_signal_from_name(buf) == -1);
        snprintf(buf, sizeof buf, "%d", SIGRTMAX);
        CHECK(proto_signal_from_name(buf) == SIGRTMAX);
        snprintf(buf, sizeof buf, "%d", SIGRTMAX + 1);
        CHECK(proto_signal_from_name(buf) == -1);

        const char *bad[] = {
            "",        "0",       "SIG",    "FOO",     "SIGFOO",     "TERMX",
            "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+x", "RTMIN+1000", "1000",
            "-15",     "15x",     " TERM",  "SIG15",   "SIGSIGTERM", "99999999999999999999"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                if (!CHECK(proto_signal_from_name(bad[i]) == -1))
                        fprintf(stderr, "  for \"%s\"\n", bad[i]);
        }
        CHECK(proto_signal_from_name(NULL) == -1);

        CHECK_STR(proto_signal_name(SIGTERM), "TERM");
        CHECK_STR(proto_signal_name(SIGKILL), "KILL");
        CHECK_STR(proto_signal_name(SIGCHLD), "CHLD");
        CHECK_STR(proto_signal_name(SIGIO), "IO");
        CHECK_STR(proto_signal_name(SIGRTMIN), "RTMIN");
        CHECK_STR(proto_signal_name(SIGRTMIN + 3), "RTMIN+3");
        CHECK_STR(proto_signal_name(SIGRTMAX), "RTMAX");
        CHECK_STR(proto_signal_name(SIGRTMAX - 2), "RTMAX-2");
        CHECK(proto_signal_name(0) == NULL);
        CHECK(proto_signal_name(-1) == NULL);
        CHECK(proto_signal_name(SIGRTMAX + 1) == NULL);
        CHECK(proto_signal_name(1000) == NULL);

        /* Every named signal round trips. */
        for (int sig = 1; sig <= SIGRTMAX; sig++) {
                const char *n = proto_signal_name(sig);

                if (n == NULL) {
                        CHECK(sig > SIGSYS && sig < SIGRTMIN); /* glibc's reserved ones */
                        continue;
                }
                CHECK(proto_signal_from_name(n) == sig);
                snprintf(buf, sizeof buf, "sig%s", n);
                CHECK(proto_signal_from_name(buf) == sig);
        }
}

/* ---- names ---- */

static void
test_names(void)
{
        const char *why;
        char max[PROTO_NAME_MAX + 2];

        const char *good[] = {"web", "web.1", "a", "A-b_c@d:e+f", "1a", "0x10", "x-", "_x", "@h"};
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                CHECK(proto_name_valid(good[i], strlen(good[i]), NULL));
        const char *bad[] = {"", "-x", ".x", "123", "0", "a b", "a/b", "é", "a\tb", "a=b"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                why = NULL;
                CHECK(!proto_name_valid(bad[i], strlen(bad[i]), &why) && why != NULL);
        }
        CHECK(!proto_name_valid("a\0b", 3, &why));
        memset(max, 'n', sizeof max);
        CHECK(proto_name_valid(max, PROTO_NAME_MAX, &why));
        CHECK(!proto_name_valid(max, PROTO_NAME_MAX + 1, &why));
        CHECK_STR(why, "is longer than 64 bytes");
        CHECK(!proto_name_valid("42", 2, &why));
        CHECK_STR(why, "may not be all digits");
}

/* ---- reader: round trips ---- */

/* A stream of one request per method, a notification and two responses. */
static void
build_stream(struct buf *b, size_t *count)
{
        struct proto_error e;
        static const char stdin_bytes[] = "in\0put";

        proto_pack_request_head(&b->pk, 1, PROTO_M_DAEMON_HELLO);
        pk_fmt(b, "[]");
        proto_pack_request_head(&b->pk, 2, PROTO_M_DAEMON_PING);
        pk_fmt(b, "[{}]");
        proto_pack_request_head(&b->pk, 3, PROTO_M_PROCESS_SPAWN);
        pk_fmt(b, "[{s:[s,s], s:s, s:s, s:{s:s,s:s}, s:t, s:s, s:B}]", "argv", "sleep", "5", "name",
               "web.1", "pool", "web", "env", "A", "1", "B", "x=y", "env_clear", "cwd", "/tmp",
               "stdin", stdin_bytes, sizeof stdin_bytes - 1);
        proto_pack_request_head(&b->pk, 4, PROTO_M_PROCESS_JOIN);
        pk_fmt(b, "[{s:u, s:d}]", "id", (uint64_t)7, "timeout", 1.5);
        proto_pack_request_head(&b->pk, 5, PROTO_M_PROCESS_TERMINATE);
        pk_fmt(b, "[{s:s, s:s, s:u, s:t}]", "name", "web.1", "signal", "INT", "grace", (uint64_t)3,
               "wait");
        proto_pack_request_head(&b->pk, 6, PROTO_M_PROCESS_SIGNAL);
        pk_fmt(b, "[{s:u, s:u, s:t}]", "id", (uint64_t)1, "signal", (uint64_t)10, "group");
        proto_pack_request_head(&b->pk, 7, PROTO_M_PROCESS_INFO);
        pk_fmt(b, "[{s:s}]", "name", "web.1");
        proto_pack_request_head(&b->pk, UINT32_MAX, PROTO_M_PROCESS_LIST);
        pk_fmt(b, "[{s:s, s:F}]", "pool", "web", "live");
        proto_pack_notification_head(&b->pk, "event.x");
        pk_fmt(b, "[]");
        proto_pack_result_head(&b->pk, 9);
        pk_fmt(b, "{s:u}", "pid", (uint64_t)1234);
        proto_error_set(&e, PROTO_E_NOT_FOUND, "id", "no process %d", 7);
        proto_pack_error_response(&b->pk, true, 10, &e);
        proto_error_set(&e, PROTO_E_INVALID_REQUEST, NULL, "bad");
        proto_pack_error_response(&b->pk, false, 0, &e);
        *count = 12;
}

union params {
        struct proto_p_none none;
        struct proto_p_spawn spawn;
        struct proto_p_join join;
        struct proto_p_terminate terminate;
        struct proto_p_signal signal;
        struct proto_p_info info;
        struct proto_p_list list;
};

/* Check message i of build_stream(). */
static void
check_stream_msg(size_t i, struct proto_msg *msg)
{
        const struct proto_params_spec *spec;
        struct proto_arena *a;
        struct proto_error e;
        union params p;
        static const uint32_t ids[] = {1, 2, 3, 4, 5, 6, 7, UINT32_MAX};

        if (i < 8) {
                CHECK(msg->type == PROTO_REQUEST && msg->has_msgid && msg->msgid == ids[i]);
                spec = proto_params_lookup(msg->method);
                if (!CHECK(spec != NULL))
                        return;
                a = proto_arena_new();
                CHECK(proto_params_decode(spec, msg, &p, a, &e) == 0);
                if (i == 2) {
                        CHECK(p.spawn.argc == 2);
                        CHECK_STR(p.spawn.argv[0], "sleep");
                        CHECK_STR(p.spawn.argv[1], "5");
                        CHECK(p.spawn.argv[2] == NULL);
                        CHECK_STR(p.spawn.name, "web.1");
                        CHECK_STR(p.spawn.pool, "web");
                        CHECK(p.spawn.nenv == 2 && p.spawn.env[2] == NULL);
                        CHECK_STR(p.spawn.env[0], "A=1");
                        CHECK_STR(p.spawn.env[1], "B=x=y");
                        CHECK(p.spawn.env_clear);
                        CHECK_STR(p.spawn.cwd, "/tmp");
                        CHECK(p.spawn.has_stdin && p.spawn.stdin_len == 6);
                        CHECK(memcmp(p.spawn.stdin_data, "in\0put", 6) == 0);
                } else if (i == 3) {
                        CHECK(p.join.t.has_id && p.join.t.id == 7 && p.join.t.name == NULL);
                        CHECK(p.join.has_timeout && p.join.timeout == 1.5);
                } else if (i == 4) {
                        CHECK(!p.terminate.t.has_id);
                        CHECK_STR(p.terminate.t.name, "web.1");
                        CHECK(p.terminate.has_signal && p.terminate.signal == SIGINT);
                        CHECK(p.terminate.has_grace && p.terminate.grace == 3.0);
                        CHECK(p.terminate.wait);
                } else if (i == 5) {
                        CHECK(p.signal.t.id == 1 && p.signal.signal == 10 && p.signal.group);
                } else if (i == 6) {
                        CHECK_STR(p.info.t.name, "web.1");
                } else if (i == 7) {
                        CHECK_STR(p.list.pool, "web");
                        CHECK(!p.list.live);
                }
                proto_arena_free(a);
        } else if (i == 8) {
                CHECK(msg->type == PROTO_NOTIFICATION && !msg->has_msgid);
                CHECK_STR(msg->method, "event.x");
                CHECK(msg->params.type == MSGPACK_OBJECT_ARRAY);
        } else if (i == 9) {
                CHECK(msg->type == PROTO_RESPONSE && msg->msgid == 9);
                CHECK(msg->error.type == MSGPACK_OBJECT_NIL);
                CHECK(msg->result.type == MSGPACK_OBJECT_MAP);
        } else if (i == 10) {
                CHECK(msg->type == PROTO_RESPONSE && msg->msgid == 10);
                CHECK(proto_error_decode(&msg->error, &e) == 0);
                CHECK(e.code == PROTO_E_NOT_FOUND);
                CHECK_STR(e.message, "no process 7");
                CHECK_STR(e.field, "id");
                CHECK(msg->result.type == MSGPACK_OBJECT_NIL);
        } else if (i == 11) {
                /* The daemon's answer to a request whose msgid was unreadable. */
                CHECK(msg->type == PROTO_RESPONSE && !msg->has_msgid);
                CHECK(proto_error_decode(&msg->error, &e) == 0);
                CHECK(e.code == PROTO_E_INVALID_REQUEST);
        }
}

/*
 * Feed the stream in chunks of the sizes chunk() returns, reading every
 * message as soon as it is complete, then a message with a nil msgid in
 * a request, which fails. Returns the messages read.
 */
static size_t
feed_stream(const struct buf *b, size_t (*chunk)(void))
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_msg msg;
        struct proto_error e;
        size_t off = 0, nmsg = 0;
        int r = 0;

        while (off < b->sb.size && r >= 0) {
                size_t n = chunk();

                if (n > b->sb.size - off)
                        n = b->sb.size - off;
                feed(rd, b->sb.data + off, n);
                off += n;
                while ((r = proto_reader_next(rd, &msg, &e)) == 1) {
                        check_stream_msg(nmsg++, &msg);
                        proto_msg_clear(&msg);
                }
        }
        CHECK(r == 0);
        feed(rd, "\x94\x00\xc0\xa1m\x90", 6); /* [0, nil, "m", []] */
        r = proto_reader_next(rd, &msg, &e);
        CHECK(r == -1 && e.code == PROTO_E_INVALID_REQUEST);
        CHECK_STR(e.field, "msgid");
        CHECK(msg.type == PROTO_REQUEST && !msg.has_msgid);
        CHECK(off == b->sb.size && proto_reader_pending(rd) == 0);
        /* The stream cannot be resumed. */
        CHECK(proto_reader_next(rd, &msg, &e) == -1 && e.code == PROTO_E_INVALID_REQUEST);
        proto_reader_free(rd);
        return nmsg;
}

static size_t
chunk_all(void)
{
        return SIZE_MAX;
}

static size_t
chunk_one(void)
{
        return 1;
}

static size_t
chunk_random(void)
{
        return 1 + rng() % 40;
}

static void
test_round_trip(void)
{
        struct buf b;
        size_t count;

        buf_init(&b);
        build_stream(&b, &count);
        CHECK(feed_stream(&b, chunk_all) == count);
        CHECK(feed_stream(&b, chunk_one) == count);
        for (int i = 0; i < 50; i++)
                CHECK(feed_stream(&b, chunk_random) == count);
        buf_free(&b);
}

/* Every proper prefix of every message needs more bytes, never fails. */
static void
test_truncation(void)
{
        struct buf b;
        size_t count;
        struct proto_msg msg;
        struct proto_error e;

        buf_init(&b);
        build_stream(&b, &count);
        for (size_t cut = 0; cut < b.sb.size; cut++) {
                struct proto_reader *rd = proto_reader_new(NULL);
                size_t got = 0;
                int r;

                feed(rd, b.sb.data, cut);
                while ((r = proto_reader_next(rd, &msg, &e)) == 1) {
                        got++;
                        proto_msg_clear(&msg);
                }
                /* A cut anywhere waits for more. */
                if (!CHECK(r == 0 && got < count))
                        fprintf(stderr, "  cut %zu: r=%d after %zu (%s)\n", cut, r, got, e.message);
                proto_reader_free(rd);
        }
        buf_free(&b);
}

/* ---- reader: hostile input and limits ---- */

/* Reading bytes fails with code (and message containing what, if given). */
static void
expect_fail_at(int line, const void *p, size_t n, struct proto_reader *rd, enum proto_err code,
               const char *what)
{
        struct proto_msg msg;
        struct proto_error e;
        int r;

        if (rd == NULL)
                rd = proto_reader_new(NULL);
        r = read_one(p, n, rd, &msg, &e);
        check_at(line, r == -1, "reader returns -1");
        if (r == 1)
                proto_msg_clear(&msg);
        if (r == -1) {
                check_at(line, e.code == code, "error code");
                if (what != NULL && !check_at(line, strstr(e.message, what) != NULL, what))
                        fprintf(stderr, "  message: %s\n", e.message);
        }
        proto_reader_free(rd);
}
#define EXPECT_FAIL(p, n, rd, code, what) expect_fail_at(__LINE__, p, n, rd, code, what)

static void
test_hostile_headers(void)
{
        static const unsigned char arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
        static const unsigned char map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
        static const unsigned char map16[] = {0xde, 0xff, 0xff};
        static const unsigned char str32[] = {0x94, 0x00, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff};
        static const unsigned char bin32[] = {0x94, 0x00, 0x01, 0xc6, 0x7f, 0xff, 0xff, 0xff};
        static const unsigned char ext32[] = {0x94, 0x00, 0x01, 0xc9, 0x7f, 0xff, 0xff, 0xff, 1};
        static const unsigned char c1[] = {0x94, 0x00, 0x01, 0xc1};
        static const unsigned char c1_first[] = {0xc1};
        /* Inside a request: params array16 of 65535 elements but few bytes. */
        static const unsigned char inner[] = {0x94, 0x00, 0x01, 0xa1, 'm', 0xdc, 0xff, 0xff};

        EXPECT_FAIL(arr32, sizeof arr32, NULL, PROTO_E_INVALID_REQUEST, "cannot fit");
        EXPECT_FAIL(map32, sizeof map32, NULL, PROTO_E_INVALID_REQUEST, "cannot fit");
        EXPECT_FAIL(str32, sizeof str32, NULL, PROTO_E_TOO_LARGE, "larger than");
        EXPECT_FAIL(bin32, sizeof bin32, NULL, PROTO_E_TOO_LARGE, "larger than");
        EXPECT_FAIL(ext32, sizeof ext32, NULL, PROTO_E_TOO_LARGE, "larger than");
        EXPECT_FAIL(c1, sizeof c1, NULL, PROTO_E_INVALID_REQUEST, "0xc1");
        EXPECT_FAIL(c1_first, sizeof c1_first, NULL, PROTO_E_INVALID_REQUEST, "0xc1");
        /* Small limits: 65535 elements need at least that many bytes. */
        EXPECT_FAIL(map16, sizeof map16, reader_small(1000, 0, 0), PROTO_E_INVALID_REQUEST,
                    "cannot fit");
        EXPECT_FAIL(inner, sizeof inner, reader_small(1000, 0, 0), PROTO_E_INVALID_REQUEST,
                    "cannot fit");
        /* With default limits 65535 fits in bytes but not in objects? It does: needs more. */
        {
                struct proto_reader *rd = proto_reader_new(NULL);
                struct proto_msg msg;
                struct proto_error e;

                CHECK(read_one(inner, sizeof inner, rd, &msg, &e) == 0);
                proto_reader_free(rd);
        }
        /* 2^20 nils declared: over the object limit before any arrive. */
        {
                static const unsigned char many[] = {0xdd, 0x00, 0x10, 0x00, 0x00};

                EXPECT_FAIL(many, sizeof many, NULL, PROTO_E_TOO_LARGE, "objects");
        }
}

/* [0, 1, "m", [[...[]...]]]: the envelope and d nested arrays, the innermost empty. */
static void
nested_request(struct buf *b, unsigned d)
{
        static const unsigned char head[] = {0x94, 0x00, 0x01, 0xa1, 'm'};

        buf_raw(b, head, sizeof head);
        for (unsigned i = 1; i < d; i++)
                buf_raw(b, "\x91", 1);
        buf_raw(b, "\x90", 1); /* empty containers count as a level too */
}

static void
test_depth(void)
{
        struct buf b;
        struct proto_msg msg;
        struct proto_error e;
        unsigned char *deep;
        const size_t n = 10000;

        /* 32 levels: accepted (and msgpack-c agrees). */
        buf_init(&b);
        nested_request(&b, 31);
        CHECK(read_result(&b, &e, NULL) == 1);
        buf_free(&b);
        /* 33: refused. */
        buf_init(&b);
        nested_request(&b, 32);
        CHECK(read_result(&b, &e, NULL) == -1 && e.code == PROTO_E_INVALID_REQUEST);
        CHECK_STR(e.message, "nesting deeper than 32");
        buf_free(&b);

        /* 10,000 deep, and a smaller configured limit. */
        deep = malloc(n);
        memset(deep, 0x91, n);
        EXPECT_FAIL(deep, n, NULL, PROTO_E_INVALID_REQUEST, "nesting deeper than 32");
        EXPECT_FAIL(deep, n, reader_small(0, 4, 0), PROTO_E_INVALID_REQUEST,
                    "nesting deeper than 4");
        /* A limit above what msgpack-c supports is clamped to 32. */
        EXPECT_FAIL(deep, n, reader_small(0, 1000, 0), PROTO_E_INVALID_REQUEST,
                    "nesting deeper than 32");
        free(deep);

        /* Depth is per message: many shallow siblings are fine. */
        buf_init(&b);
        proto_pack_request_head(&b.pk, 1, "m");
        pk_fmt(&b, "[[[[]],[[]],[[[]]]], [[[[[[]]]]]]]");
        CHECK(read_result(&b, &e, &msg) == 1);
        proto_msg_clear(&msg);
        buf_free(&b);
}

static void
test_envelopes(void)
{
        struct buf b;
        struct proto_msg msg;
        struct proto_error e;
        char longname[PROTO_METHOD_MAX + 2];

#define RAW(s) s, sizeof(s) - 1
        static const struct {
                const char *bytes;
                size_t len;
                const char *field;
                bool has_msgid;
        } bad[] = {
            {RAW("\x05"), "", false},                  /* not an array */
            {RAW("\x80"), "", false},                  /* a map */
            {RAW("\x90"), "", false},                  /* empty */
            {RAW("\x94\x03\x01\xa1m\x90"), "", false}, /* type 3 */
            {RAW("\x94\xff\x01\xa1m\x90"), "", false}, /* type -1 */
            {RAW("\x94\xa1"
                 "0"
                 "\x01\xa1m\x90"),
             "", false},                                    /* type "0" */
            {RAW("\x94\x00\xfb\xa1m\x90"), "msgid", false}, /* msgid -5 */
            {RAW("\x94\x00\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xa1m\x90"), "msgid",
             false}, /* msgid 2^32 */
            {RAW("\x94\x00\xa1"
                 "1"
                 "\xa1m\x90"),
             "msgid", false},                               /* msgid "1" */
            {RAW("\x94\x00\xc0\xa1m\x90"), "msgid", false}, /* request, msgid nil */
            {RAW("\x94\x00\x05\x01\x90"), "method", true},  /* method an int */
            {RAW("\x94\x00\x05\xa1m\x80"), "params", true}, /* params a map */
            {RAW("\x94\x00\x05\xa1m\xc0"), "params", true}, /* params nil */
            {RAW("\x93\x00\x05\xa1m"), "", true},           /* request of 3 */
            {RAW("\x95\x00\x05\xa1m\x90\xc0"), "", true},   /* request of 5 */
            {RAW("\x91\x00"), "msgid", false},              /* request of 1 */
            {RAW("\x94\x02\xa1m\x90\xc0"), "", false},      /* notification of 4 */
            {RAW("\x92\x02\x05"), "", false},               /* notification of 2 */
            {RAW("\x93\x02\x01\x90"), "method", false},     /* notification method */
            {RAW("\x93\x02\xa1m\x80"), "params", false},    /* notification params */
            {RAW("\x93\x01\x05\xa1x"), "", true},           /* response of 3 */
            {RAW("\x94\x01\x05\xa1x\xc0"), "error", true},  /* response error a str */
            {RAW("\x94\x01\xff\xc0\xc0"), "msgid", false},  /* response msgid -1 */
        };
#undef RAW
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct proto_reader *rd = proto_reader_new(NULL);
                int r = read_one(bad[i].bytes, bad[i].len, rd, &msg, &e);

                if (!CHECK(r == -1 && e.code == PROTO_E_INVALID_REQUEST))
                        fprintf(stderr, "  envelope case %zu: r=%d\n", i, r);
                if (r == 1)
                        proto_msg_clear(&msg);
                if (!CHECK_STR(e.field, bad[i].field))
                        fprintf(stderr, "  envelope case %zu\n", i);
                if (!CHECK(msg.has_msgid == bad[i].has_msgid))
                        fprintf(stderr, "  envelope case %zu\n", i);
                if (bad[i].has_msgid)
                        CHECK(msg.msgid == 5);
                proto_reader_free(rd);
        }

        /* A method name that is too long or holds NUL decodes as "". */
        memset(longname, 'm', sizeof longname);
        buf_init(&b);
        pk_fmt(&b, "[u,u,S,[]]", (uint64_t)0, (uint64_t)3, longname, (size_t)PROTO_METHOD_MAX);
        CHECK(read_result(&b, &e, &msg) == 1);
        CHECK(strlen(msg.method) == PROTO_METHOD_MAX);
        proto_msg_clear(&msg);
        buf_free(&b);
        buf_init(&b);
        pk_fmt(&b, "[u,u,S,[]]", (uint64_t)0, (uint64_t)3, longname, (size_t)PROTO_METHOD_MAX + 1);
        CHECK(read_result(&b, &e, &msg) == 1);
        CHECK_STR(msg.method, "");
        CHECK(msg.has_msgid && msg.msgid == 3);
        proto_msg_clear(&msg);
        buf_free(&b);
        buf_init(&b);
        pk_fmt(&b, "[u,u,S,[]]", (uint64_t)0, (uint64_t)3, "daemon.ping\0x", (size_t)13);
        CHECK(read_result(&b, &e, &msg) == 1);
        CHECK_STR(msg.method, "");
        CHECK(proto_params_lookup(msg.method) == NULL);
        proto_msg_clear(&msg);
        buf_free(&b);

        /* A response may have a nil msgid (an answer to an unreadable request). */
        buf_init(&b);
        pk_fmt(&b, "[u,n,n,u]", (uint64_t)1, (uint64_t)5);
        CHECK(read_result(&b, &e, &msg) == 1 && msg.type == PROTO_RESPONSE && !msg.has_msgid);
        proto_msg_clear(&msg);
        buf_free(&b);
        buf_init(&b);
        pk_fmt(&b, "[u,i,n,u]", (uint64_t)1, (int64_t)-1, (uint64_t)5);
        CHECK(read_result(&b, &e, &msg) == -1 && !strcmp(e.field, "msgid"));
        buf_free(&b);

        /* msgid 0 and a msgid packed as a signed int are fine. */
        buf_init(&b);
        pk_fmt(&b, "[u,i,s,[]]", (uint64_t)0, (int64_t)0, "x");
        CHECK(read_result(&b, &e, &msg) == 1 && msg.has_msgid && msg.msgid == 0);
        proto_msg_clear(&msg);
        buf_free(&b);

        /* Clearing a zeroed message is harmless. */
        memset(&msg, 0, sizeof msg);
        proto_msg_clear(&msg);
}

/* A request that is exactly size bytes: a str payload fills the rest. */
static void
sized_request(struct buf *b, size_t size)
{
        static const char pad[300];
        /* fixarray, 0, 1, fixstr "m", fixarray(1), str8 header: 8 bytes */
        size_t body = size - 8;

        pk_fmt(b, "[u,u,s,[S]]", (uint64_t)0, (uint64_t)1, "m", pad, body);
        CHECK(b->sb.size == size);
}

static void
test_limits(void)
{
        struct buf b;
        struct proto_msg msg;
        struct proto_error e;
        struct proto_reader *rd;

        /* Exactly max_message bytes, then one more. */
        buf_init(&b);
        sized_request(&b, 200);
        rd = reader_small(200, 0, 0);
        CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &e) == 1);
        proto_msg_clear(&msg);
        proto_reader_free(rd);
        rd = reader_small(199, 0, 0);
        CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &e) == -1);
        CHECK(e.code == PROTO_E_TOO_LARGE);
        proto_reader_free(rd);
        /* ... also when only the header has arrived. */
        rd = reader_small(199, 0, 0);
        CHECK(read_one(b.sb.data, 8, rd, &msg, &e) == -1 && e.code == PROTO_E_TOO_LARGE);
        proto_reader_free(rd);
        /* ... and byte by byte. */
        rd = reader_small(199, 0, 0);
        {
                int r = 0;

                for (size_t i = 0; i < b.sb.size && r == 0; i++) {
                        feed(rd, b.sb.data + i, 1);
                        r = proto_reader_next(rd, &msg, &e);
                }
                CHECK(r == -1 && e.code == PROTO_E_TOO_LARGE);
        }
        proto_reader_free(rd);
        buf_free(&b);

        /* Object count: [0,1,"m",[n, n, ...]] has 5 + k objects. */
        for (int k = 0; k < 3; k++) {
                buf_init(&b);
                pk_fmt(&b, "[u,u,s,[n,n,n,n,n]]", (uint64_t)0, (uint64_t)1, "m");
                rd = reader_small(0, 0, (size_t)(8 + k));
                if (k < 2) {
                        CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &e) == -1);
                        CHECK(e.code == PROTO_E_TOO_LARGE && strstr(e.message, "objects"));
                } else {
                        CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &e) == 1);
                        proto_msg_clear(&msg);
                }
                proto_reader_free(rd);
                buf_free(&b);
        }
        /* Limits apply per message, not per stream. */
        buf_init(&b);
        for (int i = 0; i < 100; i++)
                pk_fmt(&b, "[u,u,s,[n,n,n,n,n]]", (uint64_t)0, (uint64_t)i, "m");
        rd = reader_small(20, 0, 10);
        feed(rd, b.sb.data, b.sb.size);
        for (int i = 0; i < 100; i++) {
                CHECK(proto_reader_next(rd, &msg, &e) == 1 && msg.msgid == (uint32_t)i);
                proto_msg_clear(&msg);
        }
        CHECK(proto_reader_next(rd, &msg, &e) == 0 && proto_reader_pending(rd) == 0);
        proto_reader_free(rd);
        buf_free(&b);
}

/* A 16 MiB request arriving in small reads is scanned once, not rescanned. */
static void
test_big_message(void)
{
        const size_t size = PROTO_MAX_MESSAGE_DEFAULT - 64;
        struct proto_reader *rd = proto_reader_new(NULL);
        const struct proto_params_spec *spec;
        struct proto_arena *a = proto_arena_new();
        struct proto_p_spawn p;
        struct proto_msg msg;
        struct proto_error e;
        struct buf b;
        char *data = malloc(size);
        size_t off = 0;
        int r = 0;

        for (size_t i = 0; i < size; i++)
                data[i] = (char)i;
        buf_init(&b);
        proto_pack_request_head(&b.pk, 1, PROTO_M_PROCESS_SPAWN);
        pk_fmt(&b, "[{s:B, s:[s]}]", "stdin", data, size, "argv", "cat");
        while (off < b.sb.size && r == 0) {
                size_t n = b.sb.size - off < 1000 ? b.sb.size - off : 1000;

                feed(rd, b.sb.data + off, n);
                off += n;
                r = proto_reader_next(rd, &msg, &e);
        }
        CHECK(r == 1 && off == b.sb.size);
        spec = proto_params_lookup(msg.method);
        CHECK(spec == &proto_spec_process_spawn);
        CHECK(proto_params_decode(spec, &msg, &p, a, &e) == 0);
        CHECK(p.has_stdin && p.stdin_len == size && memcmp(p.stdin_data, data, size) == 0);
        CHECK_STR(p.argv[0], "cat");
        proto_msg_clear(&msg);
        proto_arena_free(a);
        proto_reader_free(rd);
        buf_free(&b);
        free(data);
}

/* Many small objects in small reads: the scan resumes, it does not restart. */
static void
test_many_objects(void)
{
        const uint32_t n = 1000000; /* with the envelope, just under the object limit */
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_msg msg;
        struct proto_error e;
        struct buf b;
        size_t off = 0;
        int r = 0;

        buf_init(&b);
        proto_pack_request_head(&b.pk, 1, "m");
        msgpack_pack_array(&b.pk, n);
        for (uint32_t i = 0; i < n; i++)
                proto_pack_str(&b.pk, "a");
        while (off < b.sb.size && r == 0) {
                size_t len = b.sb.size - off < 100 ? b.sb.size - off : 100;

                feed(rd, b.sb.data + off, len);
                off += len;
                r = proto_reader_next(rd, &msg, &e);
        }
        CHECK(r == 1 && off == b.sb.size && msg.params.via.array.size == n);
        if (r == 1)
                proto_msg_clear(&msg);
        proto_reader_free(rd);
        buf_free(&b);
}

/* The buffer is compacted and reused: pending bytes survive space(). */
static void
test_buffer(void)
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_msg msg;
        struct proto_error e;
        struct buf b;
        size_t avail, half;
        void *p;

        CHECK(proto_reader_pending(rd) == 0);
        p = proto_reader_space(rd, 0, &avail);
        CHECK(p != NULL && avail >= 1);
        p = proto_reader_space(rd, 1u << 20, &avail);
        CHECK(p != NULL && avail >= 1u << 20);

        buf_init(&b);
        for (uint32_t i = 0; i < 20000; i++) {
                proto_pack_request_head(&b.pk, i, PROTO_M_DAEMON_PING);
                pk_fmt(&b, "[]");
        }
        half = b.sb.size / 2 + 3; /* cut inside a message */
        for (int round = 0; round < 5; round++) {
                uint32_t want = 0;

                feed(rd, b.sb.data, half);
                while (proto_reader_next(rd, &msg, &e) == 1) {
                        CHECK(msg.msgid == want++);
                        proto_msg_clear(&msg);
                }
                CHECK(proto_reader_pending(rd) > 0);
                feed(rd, b.sb.data + half, b.sb.size - half);
                while (proto_reader_next(rd, &msg, &e) == 1) {
                        CHECK(msg.msgid == want++);
                        proto_msg_clear(&msg);
                }
                CHECK(want == 20000 && proto_reader_pending(rd) == 0);
                /* Trimmed with nothing buffered, the reader starts over small and whole. */
                proto_reader_trim(rd, 4096);
        }
        /* Not while a message is under way. */
        feed(rd, b.sb.data, half);
        while (proto_reader_next(rd, &msg, &e) == 1)
                proto_msg_clear(&msg);
        proto_reader_trim(rd, 0);
        CHECK(proto_reader_pending(rd) > 0);
        feed(rd, b.sb.data + half, b.sb.size - half);
        {
                uint32_t n = 0;

                while (proto_reader_next(rd, &msg, &e) == 1) {
                        n++;
                        proto_msg_clear(&msg);
                }
                CHECK(n > 0 && proto_reader_pending(rd) == 0);
        }
        buf_free(&b);
        proto_reader_free(rd);
        proto_reader_free(NULL);
}

/* Every MessagePack format, inside params, read whole, byte by byte and cut. */
static void
test_all_formats(void)
{
        static const unsigned char objs[] =
            "\xd0\x80"
            "\xd1\x80\x00"
            "\xd2\x80\x00\x00\x00"
            "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"
            "\xcc\xff"
            "\xcd\xff\xff"
            "\xce\xff\xff\xff\xff"
            "\xcf\xff\xff\xff\xff\xff\xff\xff\xff"
            "\xca\x3f\x80\x00\x00"
            "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"
            "\xd4\x01\xaa"
            "\xd5\x01\xaa\xbb"
            "\xd6\xff\x00\x00\x00\x01"
            "\xd7\x01\x00\x00\x00\x00\x00\x00\x00\x00"
            "\xd8\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
            "\xc7\x03\x05"
            "abc"
            "\xc8\x00\x02\x05"
            "xy"
            "\xc9\x00\x00\x00\x01\x05"
            "z"
            "\xc4\x02"
            "xy"
            "\xc5\x00\x01"
            "z"
            "\xc6\x00\x00\x00\x01"
            "z"
            "\xd9\x01"
            "a"
            "\xda\x00\x01"
            "a"
            "\xdb\x00\x00\x00\x01"
            "a"
            "\xdc\x00\x01\xc0"
            "\xdd\x00\x00\x00\x01\xc0"
            "\xde\x00\x01\xa1k\xc0"
            "\xdf\x00\x00\x00\x01\xa1k\xc0"
            "\xe0\x7f\xc2\xc3\xc0\x80\x90\xa0"
            "\x81\xa1k\x91\x92\xc3\xc2";
        static const msgpack_object_type types[] = {
            MSGPACK_OBJECT_NEGATIVE_INTEGER,
            MSGPACK_OBJECT_NEGATIVE_INTEGER,
            MSGPACK_OBJECT_NEGATIVE_INTEGER,
            MSGPACK_OBJECT_NEGATIVE_INTEGER,
            MSGPACK_OBJECT_POSITIVE_INTEGER,
            MSGPACK_OBJECT_POSITIVE_INTEGER,
            MSGPACK_OBJECT_POSITIVE_INTEGER,
            MSGPACK_OBJECT_POSITIVE_INTEGER,
            MSGPACK_OBJECT_FLOAT32,
            MSGPACK_OBJECT_FLOAT64,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_EXT,
            MSGPACK_OBJECT_BIN,
            MSGPACK_OBJECT_BIN,
            MSGPACK_OBJECT_BIN,
            MSGPACK_OBJECT_STR,
            MSGPACK_OBJECT_STR,
            MSGPACK_OBJECT_STR,
            MSGPACK_OBJECT_ARRAY,
            MSGPACK_OBJECT_ARRAY,
            MSGPACK_OBJECT_MAP,
            MSGPACK_OBJECT_MAP,
            MSGPACK_OBJECT_NEGATIVE_INTEGER,
            MSGPACK_OBJECT_POSITIVE_INTEGER,
            MSGPACK_OBJECT_BOOLEAN,
            MSGPACK_OBJECT_BOOLEAN,
            MSGPACK_OBJECT_NIL,
            MSGPACK_OBJECT_MAP,
            MSGPACK_OBJECT_ARRAY,
            MSGPACK_OBJECT_STR,
            MSGPACK_OBJECT_MAP,
        };
        const uint32_t n = sizeof types / sizeof types[0];
        unsigned char head[] = {0x94, 0x00, 0x01, 0xa1, 'm', 0xdc, 0x00, (unsigned char)n};
        struct proto_msg msg;
        struct proto_error e;
        struct buf b;

        buf_init(&b);
        buf_raw(&b, head, sizeof head);
        buf_raw(&b, objs, sizeof objs - 1);
        for (int mode = 0; mode < 2; mode++) {
                struct proto_reader *rd = proto_reader_new(NULL);
                size_t step = mode == 0 ? b.sb.size : 1;
                int r = 0;

                for (size_t i = 0; i < b.sb.size && r == 0; i += step) {
                        feed(rd, b.sb.data + i, step);
                        r = proto_reader_next(rd, &msg, &e);
                        if (r == 0)
                                CHECK(i + step < b.sb.size);
                }
                if (!CHECK(r == 1))
                        fprintf(stderr, "  %s\n", e.message);
                if (r == 1 && CHECK(msg.params.via.array.size == n)) {
                        for (uint32_t i = 0; i < n; i++) {
                                if (!CHECK(msg.params.via.array.ptr[i].type == types[i]))
                                        fprintf(stderr, "  element %u\n", i);
                        }
                }
                if (r == 1)
                        proto_msg_clear(&msg);
                proto_reader_free(rd);
        }
        for (size_t cut = 0; cut < b.sb.size; cut++) {
                struct proto_reader *rd = proto_reader_new(NULL);

                CHECK(read_one(b.sb.data, cut, rd, &msg, &e) == 0);
                proto_reader_free(rd);
        }
        /* A NULL err is allowed. */
        {
                struct proto_reader *rd = proto_reader_new(NULL);

                feed(rd, b.sb.data, b.sb.size);
                CHECK(proto_reader_next(rd, &msg, NULL) == 1);
                proto_msg_clear(&msg);
                proto_reader_free(rd);
        }
        buf_free(&b);
}

/* Consumed bytes are moved out of the way while a message is half read. */
static void
test_compaction(void)
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_msg msg;
        struct proto_error e;
        struct buf b;
        uint32_t want = 0;
        size_t off = 0;

        buf_init(&b);
        for (uint32_t i = 0; i < 5000; i++) {
                proto_pack_request_head(&b.pk, i, PROTO_M_PROCESS_INFO);
                pk_fmt(&b, "[{s:s}]", "name", i % 2 ? "some-longer-name.1" : "x");
        }
        while (off < b.sb.size) {
                size_t n = 1 + rng() % 700, avail;
                void *dst;

                if (n > b.sb.size - off)
                        n = b.sb.size - off;
                dst = proto_reader_space(rd, 1, &avail); /* take what is offered */
                if (n > avail)
                        n = avail;
                memcpy(dst, b.sb.data + off, n);
                proto_reader_commit(rd, n);
                off += n;
                while (proto_reader_next(rd, &msg, &e) == 1) {
                        CHECK(msg.msgid == want);
                        CHECK(msg.params.via.array.ptr[0].via.map.ptr[0].val.via.str.size ==
                              (want % 2 ? 18u : 1u));
                        want++;
                        proto_msg_clear(&msg);
                }
        }
        CHECK(want == 5000 && proto_reader_pending(rd) == 0);
        proto_reader_free(rd);
        buf_free(&b);
}

/* A container header that itself crosses max_message is too_large. */
static void
test_header_limits(void)
{
        static const unsigned char m[] = {0x94, 0x00, 0x01, 0xa1, 'm', 0xdd, 0, 0, 0, 1, 0xc0};

        /* [nil x4, uint64 cut short]: 13 bytes buffered, over 10 before complete. */
        static const unsigned char cut[] = {0x95, 0xc0, 0xc0, 0xc0, 0xc0, 0xcf, 1,
                                            2,    3,    4,    5,    6,    7};
        size_t avail;
        struct proto_reader *small = reader_small(100, 0, 0);

        EXPECT_FAIL(cut, sizeof cut, reader_small(10, 0, 0), PROTO_E_TOO_LARGE, "larger than 10");
        /* space() always gives what is asked, even past max_message. */
        CHECK(proto_reader_space(small, 70000, &avail) != NULL && avail >= 70000);
        CHECK(proto_reader_space(small, 1, &avail) != NULL && avail >= 70000);
        proto_reader_free(small);
        EXPECT_FAIL(m, sizeof m, reader_small(9, 0, 0), PROTO_E_TOO_LARGE, "larger than 9");
        EXPECT_FAIL(m, sizeof m, reader_small(10, 0, 0), PROTO_E_INVALID_REQUEST, "cannot fit");
        {
                struct proto_reader *rd = reader_small(11, 0, 0);
                struct proto_msg msg;
                struct proto_error e;

                CHECK(read_one(m, sizeof m, rd, &msg, &e) == 1);
                proto_msg_clear(&msg);
                proto_reader_free(rd);
        }
}

/* ---- params ---- */

/*
 * Decode a request for method whose params are packed by fmt.
 * Returns proto_params_decode()'s result; the arena keeps the strings.
 */
static int
decode_vfmt(const char *method, union params *p, struct proto_arena *a, struct proto_error *e,
            const char *fmt, va_list *ap)
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_msg msg;
        struct buf b;
        int r = -2;

        buf_init(&b);
        proto_pack_request_head(&b.pk, 1, method);
        pk_vfmt(&b.pk, fmt, ap);
        if (CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, e) == 1)) {
                r = proto_params_decode(proto_params_lookup(method), &msg, p, a, e);
                proto_msg_clear(&msg);
        }
        proto_reader_free(rd);
        buf_free(&b);
        return r;
}

/* The params decode; p and a (freed by the caller) hold the result. */
static int
decode_ok_at(int line, const char *method, union params *p, struct proto_arena *a, const char *fmt,
             ...)
{
        struct proto_error e;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = decode_vfmt(method, p, a, &e, fmt, &ap);
        va_end(ap);
        if (!check_at(line, r == 0, "params decode"))
                fprintf(stderr, "  %s: %s (field %s)\n", method, e.message, e.field);
        return r;
}
#define DECODE_OK(method, p, a, ...) decode_ok_at(__LINE__, method, p, a, __VA_ARGS__)

/* The params fail with invalid_params naming field, message containing what. */
static void
perr_at(int line, const char *method, const char *field, const char *what, const char *fmt, ...)
{
        struct proto_arena *a = proto_arena_new();
        struct proto_error e;
        union params p;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = decode_vfmt(method, &p, a, &e, fmt, &ap);
        va_end(ap);
        if (!check_at(line, r == -1, "params decode fails")) {
                proto_arena_free(a);
                return;
        }
        check_at(line, e.code == PROTO_E_INVALID_PARAMS, "invalid_params");
        if (!check_at(line, strcmp(e.field, field) == 0, "field"))
                fprintf(stderr, "  field \"%s\", want \"%s\"\n", e.field, field);
        if (!check_at(line, strstr(e.message, what) != NULL, "message"))
                fprintf(stderr, "  message \"%s\", want \"%s\"\n", e.message, what);
        proto_arena_free(a);
}
#define PERR(method, field, what, ...) perr_at(__LINE__, method, field, what, __VA_ARGS__)

static void
test_params_shape(void)
{
        const char *sp = PROTO_M_PROCESS_SPAWN, *ping = PROTO_M_DAEMON_PING;
        struct proto_arena *a = proto_arena_new();
        union params p;

        DECODE_OK(ping, &p, a, "[]");
        DECODE_OK(ping, &p, a, "[{}]");
        PERR(ping, "params", "[] or [map]", "[u]", (uint64_t)1);
        PERR(ping, "params", "[] or [map]", "[{},{}]");
        PERR(ping, "params", "[] or [map]", "[n]");
        PERR(ping, "params", "[] or [map]", "[[]]");
        PERR(ping, "x", "unknown parameter 'x'", "[{s:u}]", "x", (uint64_t)1);
        PERR(ping, "params", "names must be strings", "[{u:u}]", (uint64_t)1, (uint64_t)1);
        PERR(sp, "foo", "unknown parameter 'foo'", "[{s:[s],s:u}]", "argv", "a", "foo",
             (uint64_t)1);
        /* An unknown key is quoted safely: non-printables become '?'. */
        PERR(sp, "a?b", "unknown parameter 'a?b'", "[{S:u}]", "a\nb", (size_t)3, (uint64_t)1);
        PERR(sp, "a?b", "unknown parameter 'a?b'", "[{S:u}]", "a\0b", (size_t)3, (uint64_t)1);
        PERR(sp, "argv", "given twice", "[{s:[s],s:[s]}]", "argv", "a", "argv", "b");
        PERR(sp, "name", "given twice", "[{s:[s],s:n,s:s}]", "argv", "a", "name", "name", "x");
        PERR(sp, "argv", "missing required parameter 'argv'", "[{}]");
        PERR(sp, "argv", "missing required parameter 'argv'", "[]");
        PERR(sp, "argv", "missing required parameter 'argv'", "[{s:n}]", "argv");
        /* nil is "not given" for optional parameters. */
        DECODE_OK(sp, &p, a, "[{s:[s], s:n, s:n, s:n, s:n, s:n, s:n}]", "argv", "a", "name", "pool",
                  "env", "env_clear", "cwd", "stdin");
        CHECK(p.spawn.name == NULL && p.spawn.pool == NULL && p.spawn.env == NULL);
        CHECK(!p.spawn.has_stdin && p.spawn.cwd == NULL && !p.spawn.env_clear);
        proto_arena_free(a);

        CHECK(proto_params_lookup("process.spawn") == &proto_spec_process_spawn);
        CHECK(proto_params_lookup("daemon.hello") == &proto_spec_daemon_hello);
        CHECK(proto_params_lookup("daemon.shutdown") == &proto_spec_daemon_shutdown);
        CHECK(proto_params_lookup("process.join") == &proto_spec_process_join);
        CHECK(proto_params_lookup("process.terminate") == &proto_spec_process_terminate);
        CHECK(proto_params_lookup("process.signal") == &proto_spec_process_signal);
        CHECK(proto_params_lookup("process.info") == &proto_spec_process_info);
        CHECK(proto_params_lookup("process.list") == &proto_spec_process_list);
        CHECK(proto_params_lookup("daemon.ping") == &proto_spec_daemon_ping);
        CHECK(proto_params_lookup("process.spaw") == NULL);
        CHECK(proto_params_lookup("Process.spawn") == NULL);
        CHECK(proto_params_lookup("") == NULL);
        CHECK(proto_params_lookup(NULL) == NULL);
}

static void
test_params_spawn(void)
{
        const char *sp = PROTO_M_PROCESS_SPAWN;
        struct proto_arena *a = proto_arena_new();
        union params p;
        char *big = calloc(1, 200000);
        struct buf argv;
        char name65[66];

        /* argv */
        PERR(sp, "argv", "argv must be an array of strings", "[{s:s}]", "argv", "sleep");
        PERR(sp, "argv", "argv must be an array of strings", "[{s:[s,u]}]", "argv", "a",
             (uint64_t)1);
        PERR(sp, "argv", "1 to 4096 entries", "[{s:[]}]", "argv");
        PERR(sp, "argv", "NUL", "[{s:[S]}]", "argv", "a\0b", (size_t)3);
        memset(big, 'x', 200000 - 1);
        PERR(sp, "argv", "longer than", "[{s:[s]}]", "argv", big);
        DECODE_OK(sp, &p, a, "[{s:[S]}]", "argv", big, (size_t)131072);
        DECODE_OK(sp, &p, a, "[{s:[s]}]", "argv", "");
        CHECK(p.spawn.argc == 1 && p.spawn.argv[0][0] == '\0' && p.spawn.argv[1] == NULL);
        /* 4096 entries pass, 4097 do not: packed by hand. */
        for (uint32_t n = PROTO_ARGV_MAX; n <= PROTO_ARGV_MAX + 1; n++) {
                struct proto_reader *rd = proto_reader_new(NULL);
                struct proto_msg msg;
                struct proto_error e;

                buf_init(&argv);
                proto_pack_request_head(&argv.pk, 1, sp);
                msgpack_pack_array(&argv.pk, 1);
                msgpack_pack_map(&argv.pk, 1);
                proto_pack_str(&argv.pk, "argv");
                msgpack_pack_array(&argv.pk, n);
                for (uint32_t i = 0; i < n; i++)
                        proto_pack_str(&argv.pk, "arg");
                CHECK(read_one(argv.sb.data, argv.sb.size, rd, &msg, &e) == 1);
                if (n == PROTO_ARGV_MAX) {
                        CHECK(proto_params_decode(&proto_spec_process_spawn, &msg, &p, a, &e) == 0);
                        CHECK(p.spawn.argc == n && p.spawn.argv[n] == NULL);
                } else {
                        CHECK(proto_params_decode(&proto_spec_process_spawn, &msg, &p, a, &e) ==
                              -1);
                        CHECK_STR(e.field, "argv");
                }
                proto_msg_clear(&msg);
                proto_reader_free(rd);
                buf_free(&argv);
        }

        /* name and pool */
        memset(name65, 'n', sizeof name65);
        PERR(sp, "name", "name must be a string", "[{s:[s],s:u}]", "argv", "a", "name",
             (uint64_t)1);
        PERR(sp, "name", "name may not start", "[{s:[s],s:s}]", "argv", "a", "name", "-x");
        PERR(sp, "name", "name may not be all digits", "[{s:[s],s:s}]", "argv", "a", "name", "123");
        PERR(sp, "name", "name is empty", "[{s:[s],s:s}]", "argv", "a", "name", "");
        PERR(sp, "name", "longer than 64", "[{s:[s],s:S}]", "argv", "a", "name", name65,
             (size_t)65);
        PERR(sp, "name", "may only contain", "[{s:[s],s:S}]", "argv", "a", "name", "a\0b",
             (size_t)3);
        PERR(sp, "pool", "pool may only contain", "[{s:[s],s:s}]", "argv", "a", "pool", "a b");
        PERR(sp, "pool", "pool must be a string", "[{s:[s],s:[]}]", "argv", "a", "pool");
        DECODE_OK(sp, &p, a, "[{s:[s],s:S}]", "argv", "a", "name", name65, (size_t)64);
        CHECK(strlen(p.spawn.name) == 64);

        /* env */
        PERR(sp, "env", "map of strings to strings", "[{s:[s],s:[]}]", "argv", "a", "env");
        PERR(sp, "env", "map of strings to strings", "[{s:[s],s:{s:u}}]", "argv", "a", "env", "A",
             (uint64_t)1);
        PERR(sp, "env", "map of strings to strings", "[{s:[s],s:{u:s}}]", "argv", "a", "env",
             (uint64_t)1, "x");
        PERR(sp, "env", "non-empty and without '='", "[{s:[s],s:{s:s}}]", "argv", "a", "env", "",
             "x");
        PERR(sp, "env", "non-empty and without '='", "[{s:[s],s:{s:s}}]", "argv", "a", "env", "A=B",
             "x");
        PERR(sp, "env", "NUL", "[{s:[s],s:{s:S}}]", "argv", "a", "env", "A", "x\0y", (size_t)3);
        PERR(sp, "env", "NUL", "[{s:[s],s:{S:s}}]", "argv", "a", "env", "A\0B", (size_t)3, "v");
        PERR(sp, "env", "key 'A' twice", "[{s:[s],s:{s:s,s:s,s:s}}]", "argv", "a", "env", "A", "1",
             "AB", "2", "A", "3");
        DECODE_OK(sp, &p, a, "[{s:[s],s:{s:s,s:s}}]", "argv", "a", "env", "A", "", "AB", "2");
        CHECK(p.spawn.nenv == 2);
        CHECK_STR(p.spawn.env[0], "A=");
        CHECK_STR(p.spawn.env[1], "AB=2");
        CHECK(p.spawn.env[2] == NULL);
        DECODE_OK(sp, &p, a, "[{s:[s],s:{}}]", "argv", "a", "env");
        CHECK(p.spawn.nenv == 0 && p.spawn.env != NULL && p.spawn.env[0] == NULL);
        /* 4097 entries */
        {
                struct proto_reader *rd = proto_reader_new(NULL);
                struct proto_msg msg;
                struct proto_error e;
                char k[16];

                buf_init(&argv);
                proto_pack_request_head(&argv.pk, 1, sp);
                msgpack_pack_array(&argv.pk, 1);
                msgpack_pack_map(&argv.pk, 2);
                pk_fmt(&argv, "s[s]s", "argv", "a", "env");
                msgpack_pack_map(&argv.pk, PROTO_ENV_MAX + 1);
                for (unsigned i = 0; i <= PROTO_ENV_MAX; i++) {
                        snprintf(k, sizeof k, "K%u", i);
                        proto_pack_str(&argv.pk, k);
                        proto_pack_str(&argv.pk, "v");
                }
                CHECK(read_one(argv.sb.data, argv.sb.size, rd, &msg, &e) == 1);
                CHECK(proto_params_decode(&proto_spec_process_spawn, &msg, &p, a, &e) == -1);
                CHECK_STR(e.field, "env");
                CHECK(strstr(e.message, "more than 4096") != NULL);
                proto_msg_clear(&msg);
                proto_reader_free(rd);
                buf_free(&argv);
        }

        /* env_clear, cwd, stdin */
        PERR(sp, "env_clear", "env_clear must be a boolean", "[{s:[s],s:u}]", "argv", "a",
             "env_clear", (uint64_t)1);
        PERR(sp, "cwd", "cwd must be an absolute path", "[{s:[s],s:s}]", "argv", "a", "cwd", "tmp");
        PERR(sp, "cwd", "cwd must be an absolute path", "[{s:[s],s:s}]", "argv", "a", "cwd", "");
        PERR(sp, "cwd", "cwd must be a string", "[{s:[s],s:B}]", "argv", "a", "cwd", "/",
             (size_t)1);
        PERR(sp, "cwd", "NUL", "[{s:[s],s:S}]", "argv", "a", "cwd", "/a\0b", (size_t)4);
        big[0] = '/';
        PERR(sp, "cwd", "longer than", "[{s:[s],s:S}]", "argv", "a", "cwd", big,
             (size_t)PROTO_PATH_MAX);
        DECODE_OK(sp, &p, a, "[{s:[s],s:S}]", "argv", "a", "cwd", big, (size_t)PROTO_PATH_MAX - 1);
        CHECK(strlen(p.spawn.cwd) == PROTO_PATH_MAX - 1);
        PERR(sp, "stdin", "stdin must be binary or a string", "[{s:[s],s:u}]", "argv", "a", "stdin",
             (uint64_t)1);
        DECODE_OK(sp, &p, a, "[{s:[s],s:S}]", "argv", "a", "stdin", "a\0b", (size_t)3);
        CHECK(p.spawn.has_stdin && p.spawn.stdin_len == 3 &&
              memcmp(p.spawn.stdin_data, "a\0b", 3) == 0);
        DECODE_OK(sp, &p, a, "[{s:[s],s:B}]", "argv", "a", "stdin", "", (size_t)0);
        CHECK(p.spawn.has_stdin && p.spawn.stdin_len == 0);
        DECODE_OK(sp, &p, a, "[{s:[s]}]", "argv", "a");
        CHECK(!p.spawn.has_stdin && p.spawn.stdin_data == NULL);

        free(big);
        proto_arena_free(a);
}

static void
test_params_targets(void)
{
        const char *jn = PROTO_M_PROCESS_JOIN, *tm = PROTO_M_PROCESS_TERMINATE;
        const char *sg = PROTO_M_PROCESS_SIGNAL, *in = PROTO_M_PROCESS_INFO;
        struct proto_arena *a = proto_arena_new();
        union params p;
        char buf[32];

        /* Exactly one of id or name, for every method with a target. */
        const char *methods[] = {jn, tm, in};
        for (size_t i = 0; i < 3; i++) {
                PERR(methods[i], "id", "exactly one of id or name", "[]");
                PERR(methods[i], "id", "exactly one of id or name", "[{}]");
                PERR(methods[i], "id", "exactly one of id or name", "[{s:u,s:s}]", "id",
                     (uint64_t)1, "name", "x");
                PERR(methods[i], "id", "exactly one of id or name", "[{s:n,s:n}]", "id", "name");
                PERR(methods[i], "id", "id must be a non-negative integer", "[{s:i}]", "id",
                     (int64_t)-1);
                PERR(methods[i], "id", "id must be a non-negative integer", "[{s:s}]", "id", "1");
                PERR(methods[i], "id", "id must be a non-negative integer", "[{s:d}]", "id", 1.0);
                PERR(methods[i], "name", "name may not be all digits", "[{s:s}]", "name", "7");
        }
        PERR(sg, "id", "exactly one of id or name", "[{s:s}]", "signal", "HUP");
        DECODE_OK(in, &p, a, "[{s:u}]", "id", (uint64_t)UINT64_MAX);
        CHECK(p.info.t.has_id && p.info.t.id == UINT64_MAX && p.info.t.name == NULL);
        DECODE_OK(in, &p, a, "[{s:u}]", "id", (uint64_t)0);
        CHECK(p.info.t.has_id && p.info.t.id == 0);
        DECODE_OK(in, &p, a, "[{s:i}]", "id", (int64_t)5); /* small ints may come signed */
        CHECK(p.info.t.has_id && p.info.t.id == 5);

        /* join timeout */
        DECODE_OK(jn, &p, a, "[{s:s}]", "name", "w");
        CHECK(!p.join.has_timeout && !p.join.t.has_id);
        DECODE_OK(jn, &p, a, "[{s:s,s:u}]", "name", "w", "timeout", (uint64_t)0);
        CHECK(p.join.has_timeout && p.join.timeout == 0);
        DECODE_OK(jn, &p, a, "[{s:s,s:f}]", "name", "w", "timeout", 0.25);
        CHECK(p.join.has_timeout && p.join.timeout == 0.25);
        DECODE_OK(jn, &p, a, "[{s:s,s:d}]", "name", "w", "timeout", -0.0);
        CHECK(p.join.timeout == 0 && !signbit(p.join.timeout));
        DECODE_OK(jn, &p, a, "[{s:s,s:u}]", "name", "w", "timeout", (uint64_t)1000000000);
        PERR(jn, "timeout", "too large", "[{s:s,s:u}]", "name", "w", "timeout",
             (uint64_t)1000000001);
        PERR(jn, "timeout", "too large", "[{s:s,s:d}]", "name", "w", "timeout", INFINITY);
        PERR(jn, "timeout", ">= 0", "[{s:s,s:d}]", "name", "w", "timeout", NAN);
        PERR(jn, "timeout", ">= 0", "[{s:s,s:d}]", "name", "w", "timeout", -1.5);
        PERR(jn, "timeout", ">= 0", "[{s:s,s:i}]", "name", "w", "timeout", (int64_t)-1);
        PERR(jn, "timeout", ">= 0", "[{s:s,s:d}]", "name", "w", "timeout", -INFINITY);
        PERR(jn, "timeout", "timeout must be a number of seconds", "[{s:s,s:s}]", "name", "w",
             "timeout", "5");
        PERR(jn, "timeout", "timeout must be a number of seconds", "[{s:s,s:t}]", "name", "w",
             "timeout");

        /* terminate: defaults filled, has_ flags tell */
        DECODE_OK(tm, &p, a, "[{s:u}]", "id", (uint64_t)3);
        CHECK(!p.terminate.has_signal && p.terminate.signal == SIGTERM);
        CHECK(!p.terminate.has_grace && p.terminate.grace == 10.0);
        CHECK(!p.terminate.wait);
        DECODE_OK(tm, &p, a, "[{s:u,s:s,s:d,s:F}]", "id", (uint64_t)3, "signal", "sigkill", "grace",
                  0.5, "wait");
        CHECK(p.terminate.has_signal && p.terminate.signal == SIGKILL);
        CHECK(p.terminate.has_grace && p.terminate.grace == 0.5 && !p.terminate.wait);
        PERR(tm, "wait", "wait must be a boolean", "[{s:u,s:u}]", "id", (uint64_t)3, "wait",
             (uint64_t)1);
        PERR(tm, "grace", ">= 0", "[{s:u,s:d}]", "id", (uint64_t)3, "grace", -1.0);

        /* signal values */
        PERR(sg, "signal", "missing required parameter 'signal'", "[{s:u}]", "id", (uint64_t)1);
        PERR(sg, "signal", "unknown signal 'FOO'", "[{s:u,s:s}]", "id", (uint64_t)1, "signal",
             "FOO");
        PERR(sg, "signal", "unknown signal 'A?B'", "[{s:u,s:S}]", "id", (uint64_t)1, "signal",
             "A\0B", (size_t)3);
        PERR(sg, "signal", "unknown signal ''", "[{s:u,s:s}]", "id", (uint64_t)1, "signal", "");
        PERR(sg, "signal", "unknown signal 'SIGTERMSIGTERMSIGTERMSIGTERMSIGTERMSIGTERMSIGTER'",
             "[{s:u,s:s}]", "id", (uint64_t)1, "signal",
             "SIGTERMSIGTERMSIGTERMSIGTERMSIGTERMSIGTERMSIGTERMSIGTERM");
        PERR(sg, "signal", "between 1 and", "[{s:u,s:u}]", "id", (uint64_t)1, "signal",
             (uint64_t)0);
        PERR(sg, "signal", "between 1 and", "[{s:u,s:u}]", "id", (uint64_t)1, "signal",
             (uint64_t)SIGRTMAX + 1);
        PERR(sg, "signal", "between 1 and", "[{s:u,s:i}]", "id", (uint64_t)1, "signal",
             (int64_t)-9);
        PERR(sg, "signal", "signal must be a signal name or number", "[{s:u,s:d}]", "id",
             (uint64_t)1, "signal", 9.0);
        PERR(sg, "group", "group must be a boolean", "[{s:u,s:s,s:s}]", "id", (uint64_t)1, "signal",
             "HUP", "group", "yes");
        DECODE_OK(sg, &p, a, "[{s:s,s:s}]", "name", "w", "signal", "rtmin+2");
        CHECK(p.signal.signal == SIGRTMIN + 2 && !p.signal.group);
        snprintf(buf, sizeof buf, "%d", SIGRTMAX);
        DECODE_OK(sg, &p, a, "[{s:s,s:s,s:t}]", "name", "w", "signal", buf, "group");
        CHECK(p.signal.signal == SIGRTMAX && p.signal.group);
        DECODE_OK(sg, &p, a, "[{s:s,s:u}]", "name", "w", "signal", (uint64_t)SIGRTMAX);
        CHECK(p.signal.signal == SIGRTMAX);

        /* list */
        DECODE_OK(PROTO_M_PROCESS_LIST, &p, a, "[]");
        CHECK(p.list.pool == NULL && !p.list.live);
        DECODE_OK(PROTO_M_PROCESS_LIST, &p, a, "[{s:t}]", "live");
        CHECK(p.list.live);
        PERR(PROTO_M_PROCESS_LIST, "pool", "pool must be a string", "[{s:u}]", "pool", (uint64_t)1);
        PERR(PROTO_M_PROCESS_LIST, "live", "live must be a boolean", "[{s:n,s:s}]", "pool", "live",
             "true");
        PERR(PROTO_M_PROCESS_LIST, "id", "unknown parameter 'id'", "[{s:u}]", "id", (uint64_t)1);
        proto_arena_free(a);
}

/* A spec of our own, for the field types and bounds no method uses. */
struct test_params {
        int64_t i;
        uint64_t u;
        const char *s;
        const char **v;
        size_t nv;
        bool has_i;
};

static const struct proto_field test_fields[] = {
    {.name = "i",
     .type = PF_INT,
     .off = offsetof(struct test_params, i),
     .has_off = offsetof(struct test_params, has_i),
     .min = -5,
     .max = 5},
    {.name = "u", .type = PF_UINT, .off = offsetof(struct test_params, u), .min = 2, .max = 9},
    {.name = "s",
     .type = PF_STR,
     .flags = PF_REQUIRED,
     .off = offsetof(struct test_params, s),
     .max_len = 4},
    {.name = "v",
     .type = PF_STRV,
     .off = offsetof(struct test_params, v),
     .count_off = offsetof(struct test_params, nv),
     .max = 2,
     .max_len = 3},
};
static const struct proto_params_spec test_spec = {
    .method = "test.x", .fields = test_fields, .nfields = 4, .size = sizeof(struct test_params)};

/* Decode {fmt} with test_spec: 0, or -1 with the field in err. */
static int
test_decode(struct test_params *out, struct proto_error *e, const char *fmt, ...)
{
        struct proto_reader *rd = proto_reader_new(NULL);
        struct proto_arena *a = proto_arena_new();
        struct proto_msg msg;
        struct buf b;
        va_list ap;
        int r = -2;

        buf_init(&b);
        proto_pack_request_head(&b.pk, 1, "test.x");
        va_start(ap, fmt);
        pk_vfmt(&b.pk, fmt, &ap);
        va_end(ap);
        if (CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, e) == 1)) {
                r = proto_params_decode(&test_spec, &msg, out, a, e);
                if (r == 0 && out->s != NULL)
                        CHECK(strlen(out->s) <= 4);
                proto_msg_clear(&msg);
        }
        proto_arena_free(a); /* out's strings die here: only numbers are checked */
        proto_reader_free(rd);
        buf_free(&b);
        return r;
}

static const struct proto_field bad_fields[] = {
    {.name = "x", .type = (enum proto_ftype)99},
};
static const struct proto_params_spec bad_spec = {
    .method = "test.bad", .fields = bad_fields, .nfields = 1, .size = 8};

static void
test_params_types(void)
{
        struct test_params t;
        struct proto_error e;

        CHECK(test_decode(&t, &e, "[{s:s}]", "s", "abcd") == 0 && !t.has_i);
        CHECK(test_decode(&t, &e, "[{s:s}]", "s", "abcde") == -1 && !strcmp(e.field, "s"));
        CHECK(test_decode(&t, &e, "[{s:s,s:i}]", "s", "", "i", (int64_t)-5) == 0 && t.i == -5);
        CHECK(t.has_i);
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "i", (uint64_t)5) == 0 && t.i == 5);
        CHECK(test_decode(&t, &e, "[{s:s,s:i}]", "s", "", "i", (int64_t)-6) == -1);
        CHECK_STR(e.message, "i is out of range");
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "i", (uint64_t)6) == -1);
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "i", (uint64_t)UINT64_MAX) == -1);
        CHECK_STR(e.message, "i is out of range");
        CHECK(test_decode(&t, &e, "[{s:s,s:d}]", "s", "", "i", 1.0) == -1);
        CHECK_STR(e.message, "i must be an integer");
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "u", (uint64_t)2) == 0 && t.u == 2);
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "u", (uint64_t)9) == 0 && t.u == 9);
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "u", (uint64_t)1) == -1);
        CHECK(test_decode(&t, &e, "[{s:s,s:u}]", "s", "", "u", (uint64_t)10) == -1);
        CHECK_STR(e.field, "u");
        CHECK(test_decode(&t, &e, "[{s:s,s:[s,s]}]", "s", "", "v", "abc", "") == 0 && t.nv == 2);
        CHECK(test_decode(&t, &e, "[{s:s,s:[s,s,s]}]", "s", "", "v", "a", "b", "c") == -1);
        CHECK(strstr(e.message, "1 to 2 entries") != NULL);
        CHECK(test_decode(&t, &e, "[{s:s,s:[s]}]", "s", "", "v", "abcd") == -1);
        CHECK_STR(e.message, "v is longer than 3 bytes");
        CHECK(test_decode(&t, &e, "[{s:S}]", "s", "a\0", (size_t)2) == -1);
        CHECK_STR(e.message, "s contains a NUL byte");
        CHECK(test_decode(&t, &e, "[{s:u}]", "s", (uint64_t)1) == -1);
        CHECK_STR(e.message, "s must be a string");
        CHECK(test_decode(&t, &e, "[{s:i}]", "i", (int64_t)1) == -1);
        CHECK_STR(e.message, "missing required parameter 's'");

        /* A spec with a broken field type is an internal error, not a crash. */
        {
                struct proto_reader *rd = proto_reader_new(NULL);
                struct proto_arena *a = proto_arena_new();
                struct proto_msg msg;
                uint64_t out;
                struct buf b;

                buf_init(&b);
                proto_pack_request_head(&b.pk, 1, "test.bad");
                pk_fmt(&b, "[{s:u}]", "x", (uint64_t)1);
                CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &e) == 1);
                CHECK(proto_params_decode(&bad_spec, &msg, &out, a, &e) == -1);
                CHECK(e.code == PROTO_E_INTERNAL);
                proto_msg_clear(&msg);
                proto_arena_free(a);
                proto_reader_free(rd);
                buf_free(&b);
        }
}

/* The pack helpers produce what a generic decoder expects. */
static void
test_pack(void)
{
        struct buf b;
        msgpack_unpacked u;
        size_t off = 0;
        const msgpack_object_kv *kv;

        buf_init(&b);
        msgpack_pack_map(&b.pk, 8);
        proto_pack_kv_str(&b.pk, "s", "v");
        proto_pack_kv_str(&b.pk, "null", NULL);
        proto_pack_kv_int(&b.pk, "i", -3);
        proto_pack_kv_uint(&b.pk, "u", UINT64_MAX);
        proto_pack_kv_double(&b.pk, "d", 2.5);
        proto_pack_kv_bool(&b.pk, "b", true);
        proto_pack_kv_bool(&b.pk, "f", false);
        proto_pack_kv_nil(&b.pk, "n");
        msgpack_unpacked_init(&u);
        CHECK(msgpack_unpack_next(&u, b.sb.data, b.sb.size, &off) == MSGPACK_UNPACK_SUCCESS);
        CHECK(off == b.sb.size && u.data.type == MSGPACK_OBJECT_MAP);
        kv = u.data.via.map.ptr;
        CHECK(kv[0].key.via.str.size == 1 && kv[0].val.type == MSGPACK_OBJECT_STR);
        CHECK(kv[1].val.type == MSGPACK_OBJECT_NIL);
        CHECK(kv[2].val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER && kv[2].val.via.i64 == -3);
        CHECK(kv[3].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER && kv[3].val.via.u64 == UINT64_MAX);
        CHECK(kv[4].val.type == MSGPACK_OBJECT_FLOAT64 && kv[4].val.via.f64 == 2.5);
        CHECK(kv[5].val.type == MSGPACK_OBJECT_BOOLEAN && kv[5].val.via.boolean);
        CHECK(kv[6].val.type == MSGPACK_OBJECT_BOOLEAN && !kv[6].val.via.boolean);
        CHECK(kv[7].val.type == MSGPACK_OBJECT_NIL);
        msgpack_unpacked_destroy(&u);
        buf_free(&b);

        /* An error response without a field has a 2-entry map. */
        {
                struct proto_reader *rd = proto_reader_new(NULL);
                struct proto_error e, got;
                struct proto_msg msg;

                buf_init(&b);
                proto_error_set(&e, PROTO_E_TIMEOUT, NULL, "late");
                proto_pack_error_response(&b.pk, true, 77, &e);
                CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &got) == 1);
                CHECK(msg.type == PROTO_RESPONSE && msg.msgid == 77);
                CHECK(msg.error.type == MSGPACK_OBJECT_MAP && msg.error.via.map.size == 2);
                CHECK(proto_error_decode(&msg.error, &got) == 0 && got.code == PROTO_E_TIMEOUT);
                CHECK_STR(got.message, "late");
                CHECK_STR(got.field, "");
                proto_msg_clear(&msg);
                proto_reader_free(rd);
                buf_free(&b);
        } /* PROTO_OK is not an error code: it goes out as internal. */
        {
                struct proto_reader *rd = proto_reader_new(NULL);
                struct proto_error e, got;
                struct proto_msg msg;

                buf_init(&b);
                proto_error_set(&e, PROTO_OK, "f", "odd");
                proto_pack_error_response(&b.pk, true, 1, &e);
                CHECK(read_one(b.sb.data, b.sb.size, rd, &msg, &got) == 1);
                CHECK(proto_error_decode(&msg.error, &got) == 0 && got.code == PROTO_E_INTERNAL);
                CHECK_STR(got.field, "f");
                proto_msg_clear(&msg);
                proto_reader_free(rd);
                buf_free(&b);
        }
}

int
main(void)
{
        test_errors();
        test_arena();
        test_signals();
        test_names();
        test_pack();
        test_round_trip();
        test_truncation();
        test_hostile_headers();
        test_depth();
        test_envelopes();
        test_limits();
        test_buffer();
        test_all_formats();
        test_compaction();
        test_header_limits();
        test_big_message();
        test_many_objects();
        test_params_shape();
        test_params_spawn();
        test_params_targets();
        test_params_types();
        printf("%d passed, %d failed\n", passed, failed);
        return failed == 0 ? 0 : 1;
}
