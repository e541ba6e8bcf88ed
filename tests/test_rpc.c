/*
 * test_rpc.c -- integration tests of the wire: hello and ping, errors,
 * malformed input, limits, out-of-order responses, many waiting joins,
 * and clients that go away while a request waits.
 *
 * Most cases talk raw MessagePack-RPC (harness raw_*) so that they test
 * the daemon, not libcorral. Each case starts its own corrald.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define WAIT 30.0

static struct harness *h;
static struct corral *c;
static struct corral_error err;

static void
setup(void)
{
        h = harness_start(NULL);
        c = harness_connect(h);
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

/* Spawn `helper sleep 60 READY` and wait until it is running its own code. */
static void
spawn_sleeper(struct corral_process *p, const char *ready)
{
        const char *argv[] = {HELPER_PATH, "sleep", "60", ready, NULL};

        spawn_simple(c, argv, NULL, p);
        T_ASSERT(wait_file(ready, 20));
}

/* Send raw bytes as one request and return the single response. */
static void
expect_error(struct raw *r, msgpack_unpacked *m, const char *code, const char *field)
{
        raw_response(r, WAIT, m);
        T_ASSERTF(resp_error(&m->data) != NULL, "expected error %s, got success", code);
        T_EQ_STR(resp_error_str(&m->data, "code"), code);
        T_ASSERTF(strlen(resp_error_str(&m->data, "message")) > 0, "error %s without message",
                  code);
        T_ASSERT(obj_is_nil(resp_result(&m->data)));
        if (field != NULL)
                T_EQ_STR(resp_error_str(&m->data, "field"), field);
}

static void
ping_ok(struct raw *r, uint32_t msgid)
{
        msgpack_unpacked m;

        msgpack_unpacked_init(&m);
        raw_request(r, msgid, "daemon.ping", NULL, NULL);
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), msgid);
        T_ASSERT(resp_error(&m.data) == NULL);
        msgpack_unpacked_destroy(&m);
}

/* ---- hello and ping ----------------------------------------------------- */

static void
t_hello(void)
{
        static const char *methods[] = {"daemon.hello",   "daemon.ping",  "daemon.shutdown",
                                        "process.spawn",  "process.join", "process.terminate",
                                        "process.signal", "process.info", "process.list"};
        struct corral_hello hello;
        const msgpack_object *res, *ms;
        msgpack_unpacked m;
        struct raw *r;

        setup();
        T_OK(corral_hello(c, &hello, &err), &err);
        T_EQ_INT(hello.protocol, 1);
        T_ASSERT(hello.version[0] != '\0');
        T_EQ_INT(hello.pid, h->pid);
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
                bool found = false;

                for (char **p = hello.methods; p != NULL && *p != NULL; p++)
                        found = found || strcmp(*p, methods[i]) == 0;
                T_ASSERTF(found, "hello does not list %s", methods[i]);
        }
        corral_hello_clear(&hello);

        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        raw_request(r, 4000000000u, "daemon.hello", NULL, NULL);
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 4000000000u);
        T_ASSERT(resp_error(&m.data) == NULL);
        res = resp_result(&m.data);
        T_EQ_INT(obj_int(obj_get(res, "protocol")), 1);
        T_EQ_INT(obj_int(obj_get(res, "pid")), h->pid);
        T_ASSERT(obj_str(obj_get(res, "version")) != NULL);
        ms = obj_get(res, "methods");
        T_ASSERT(ms != NULL && ms->type == MSGPACK_OBJECT_ARRAY && ms->via.array.size >= 9);
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

static void
t_ping(void)
{
        msgpack_unpacked m;
        struct raw *r;

        setup();
        T_OK(corral_ping(c, &err), &err);
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        raw_request(r, 0, "daemon.ping", NULL, NULL);
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 0);
        T_ASSERT(resp_error(&m.data) == NULL);
        T_ASSERTF(resp_result(&m.data)->type == MSGPACK_OBJECT_MAP &&
                      resp_result(&m.data)->via.map.size == 0,
                  "ping's result is not {}");
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

/* ---- errors --------------------------------------------------------------- */

static void
t_unknown_method(void)
{
        static const char *names[] = {"no.such", "daemon.Ping", "daemon.ping ", "", "process"};
        msgpack_unpacked m;
        struct raw *r;

        setup();
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        for (uint32_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                raw_request(r, i + 10, names[i], NULL, NULL);
                expect_error(r, &m, "unknown_method", NULL);
                T_EQ_INT(resp_msgid(&m.data), i + 10);
        }
        /* The connection stays usable. */
        ping_ok(r, 99);
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

struct bad_params {
        const char *method;
        void (*fn)(msgpack_packer *, void *);
        const char *field; /* NULL: any */
};

static void
p_spawn_noargv(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_kv_str(pk, "name", "x");
}

static void
p_spawn_emptyargv(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 0);
}

static void
p_spawn_intargv(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        msgpack_pack_int(pk, 1);
}

static void
p_spawn_argv_nul(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        msgpack_pack_str(pk, 3);
        msgpack_pack_str_body(pk, "a\0b", 3);
}

static void
p_spawn_unknown(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        pk_str(pk, "/bin/true");
        pk_kv_str(pk, "bogus", "1");
}

static void
p_spawn_badenv(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        pk_str(pk, "/bin/true");
        pk_str(pk, "env");
        msgpack_pack_array(pk, 1);
        pk_str(pk, "A=1");
}

static void
p_spawn_badname(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        pk_str(pk, "/bin/true");
        pk_kv_str(pk, "name", "");
}

static void
p_join_both(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_kv_uint(pk, "id", 1);
        pk_kv_str(pk, "name", "x");
}

static void
p_join_neither(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_kv_double(pk, "timeout", 1);
}

static void
p_join_negtimeout(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_kv_uint(pk, "id", 1);
        pk_kv_double(pk, "timeout", -1);
}

static void
p_join_strid(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_kv_str(pk, "id", "1");
}

static void
p_terminate_badgrace(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_kv_uint(pk, "id", 1);
        pk_kv_str(pk, "grace", "soon");
}

static void
p_signal_badsig(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 2);
        pk_kv_uint(pk, "id", 1);
        pk_kv_str(pk, "signal", "NOPE");
}

static void
p_signal_nosig(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_kv_uint(pk, "id", 1);
}

static void
p_ping_extra(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_kv_uint(pk, "x", 1);
}

static void
p_list_badlive(msgpack_packer *pk, void *a)
{
        msgpack_pack_map(pk, 1);
        pk_kv_str(pk, "live", "yes");
}

static void
t_invalid_params(void)
{
        static const struct bad_params cases[] = {
            {"process.spawn", p_spawn_noargv, "argv"},
            {"process.spawn", p_spawn_emptyargv, "argv"},
            {"process.spawn", p_spawn_intargv, "argv"},
            {"process.spawn", p_spawn_argv_nul, "argv"},
            {"process.spawn", p_spawn_unknown, "bogus"},
            {"process.spawn", p_spawn_badenv, "env"},
            {"process.spawn", p_spawn_badname, "name"},
            {"process.join", p_join_both, NULL},
            {"process.join", p_join_neither, NULL},
            {"process.join", p_join_negtimeout, "timeout"},
            {"process.join", p_join_strid, "id"},
            {"process.terminate", p_terminate_badgrace, "grace"},
            {"process.signal", p_signal_badsig, "signal"},
            {"process.signal", p_signal_nosig, "signal"},
            {"daemon.ping", p_ping_extra, "x"},
            {"process.list", p_list_badlive, "live"},
        };
        msgpack_unpacked m;
        struct raw *r;

        setup();
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        for (uint32_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                raw_request(r, i + 1, cases[i].method, cases[i].fn, NULL);
                raw_response(r, WAIT, &m);
                T_EQ_INT(resp_msgid(&m.data), i + 1);
                T_ASSERTF(resp_error(&m.data) != NULL, "case %u (%s): no error", i,
                          cases[i].method);
                T_ASSERTF(strcmp(resp_error_str(&m.data, "code"), "invalid_params") == 0,
                          "case %u (%s): %s, expected invalid_params", i, cases[i].method,
                          resp_error_str(&m.data, "code"));
                if (cases[i].field != NULL)
                        T_ASSERTF(strcmp(resp_error_str(&m.data, "field"), cases[i].field) == 0,
                                  "case %u (%s): field \"%s\", expected \"%s\" (%s)", i,
                                  cases[i].method, resp_error_str(&m.data, "field"), cases[i].field,
                                  resp_error_str(&m.data, "message"));
                T_ASSERT(strlen(resp_error_str(&m.data, "message")) > 0);
        }
        /* Nothing was spawned, and the connection still works. */
        ping_ok(r, 500);
        struct corral_process *list;
        size_t n;
        T_OK(corral_list(c, NULL, false, &list, &n, &err), &err);
        T_EQ_INT(n, 0);
        corral_process_list_free(list, n);
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

/* ---- malformed input ---------------------------------------------------- */

/* A byte string literal and its length (it may hold NUL bytes). */
#define B(s) s, sizeof(s) - 1

struct bad_input {
        const char *what;
        const char *bytes;
        size_t len;
        int msgid; /* expected msgid in the error, -1: nil, -2: either */
};

static void
t_bad_input(void)
{
        /* clang-format off */
        static const struct bad_input cases[] = {
            {"never-used byte 0xc1", B("\xc1"), -1},
            {"an integer", B("\x05"), -1},
            {"a map", B("\x81\xa1" "a\x01"), -1},
            {"a string", B("\xa3" "abc"), -1},
            {"array of 3", B("\x93\x00\x01\xab" "daemon.ping"), -2},
            {"array of 5", B("\x95\x00\x02\xab" "daemon.ping\x90\x90"), -2},
            {"type code 5", B("\x94\x05\x03\xab" "daemon.ping\x90"), -2},
            {"response from a client", B("\x94\x01\x04\xc0\xc0"), -2},
            {"negative msgid", B("\x94\x00\xff\xab" "daemon.ping\x90"), -1},
            {"string msgid", B("\x94\x00\xa1" "7\xab" "daemon.ping\x90"), -1},
            {"msgid over 32 bits",
             B("\x94\x00\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xab" "daemon.ping\x90"), -1},
            {"integer method", B("\x94\x00\x07\x2a\x90"), 7},
            {"map params", B("\x94\x00\x08\xab" "daemon.ping\x80"), 8},
            {"nil params", B("\x94\x00\x09\xab" "daemon.ping\xc0"), 9},
        };
        /* clang-format on */
        struct raw *keep, *r;
        msgpack_unpacked m;

        setup();
        keep = raw_connect(h->sock); /* an innocent bystander */
        msgpack_unpacked_init(&m);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                r = raw_connect(h->sock);
                T_ASSERT(raw_send(r, cases[i].bytes, cases[i].len));
                raw_response(r, WAIT, &m);
                T_ASSERTF(resp_error(&m.data) != NULL, "%s: no error", cases[i].what);
                T_ASSERTF(strcmp(resp_error_str(&m.data, "code"), "invalid_request") == 0,
                          "%s: %s, expected invalid_request", cases[i].what,
                          resp_error_str(&m.data, "code"));
                if (cases[i].msgid == -1)
                        T_ASSERTF(resp_msgid_nil(&m.data), "%s: msgid not nil", cases[i].what);
                else if (cases[i].msgid >= 0)
                        T_ASSERTF(!resp_msgid_nil(&m.data) &&
                                      resp_msgid(&m.data) == (uint32_t)cases[i].msgid,
                                  "%s: msgid not %d", cases[i].what, cases[i].msgid);
                T_ASSERTF(raw_wait_closed(r, WAIT), "%s: the connection was not closed",
                          cases[i].what);
                raw_close(r);
                ping_ok(keep, (uint32_t)i);
        }

        /* Requests before the garbage on the same connection are answered first. */
        r = raw_connect(h->sock);
        raw_request(r, 1, "daemon.ping", NULL, NULL);
        T_ASSERT(raw_send(r, B("\xc1")));
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 1);
        T_ASSERT(resp_error(&m.data) == NULL);
        expect_error(r, &m, "invalid_request", NULL);
        T_ASSERT(raw_wait_closed(r, WAIT));
        raw_close(r);

        /* A half message followed by a hang-up is no problem either. */
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, B("\x94\x00\x01\xab"
                               "daemon")));
        raw_close(r);

        ping_ok(keep, 1000);
        T_OK(corral_ping(c, &err), &err);
        msgpack_unpacked_destroy(&m);
        raw_close(keep);
        teardown();
}

/* ---- limits ---------------------------------------------------------------- */

static void
t_limits(void)
{
        struct raw *keep, *r;
        msgpack_unpacked m;
        char buf[256];
        size_t n;

        setup();
        keep = raw_connect(h->sock);
        msgpack_unpacked_init(&m);

        /* A message over 16 MiB: too_large, then closed. */
        {
                size_t big = 17u * 1024 * 1024;
                char *p = calloc(1, big + 64);

                T_ASSERT(p != NULL);
                memcpy(p,
                       "\x94\x00\x01\xab"
                       "daemon.ping\x91\x81\xa1x\xdb",
                       20);
                p[20] = (char)((big >> 24) & 0xff);
                p[21] = (char)((big >> 16) & 0xff);
                p[22] = (char)((big >> 8) & 0xff);
                p[23] = (char)(big & 0xff);
                memset(p + 24, 'a', big);
                r = raw_connect(h->sock);
                raw_send(r, p, big + 24); /* may stop early: the daemon hangs up */
                free(p);
                expect_error(r, &m, "too_large", NULL);
                T_ASSERT(raw_wait_closed(r, WAIT));
                raw_close(r);
                ping_ok(keep, 1);
        }

        /* A container count larger than the bytes that could follow. */
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, B("\x94\x00\x02\xab"
                               "daemon.ping\xdd\xff\xff\xff\xff")));
        raw_response(r, WAIT, &m);
        T_ASSERTF(strcmp(resp_error_str(&m.data, "code"), "invalid_request") == 0 ||
                      strcmp(resp_error_str(&m.data, "code"), "too_large") == 0,
                  "huge array count: %s", resp_error_str(&m.data, "code"));
        T_ASSERT(raw_wait_closed(r, WAIT));
        raw_close(r);
        ping_ok(keep, 2);

        /* The same in a map header. */
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, B("\x94\x00\x03\xab"
                               "daemon.ping\x91\xdf\x7f\xff\xff\xff")));
        raw_response(r, WAIT, &m);
        T_ASSERTF(strcmp(resp_error_str(&m.data, "code"), "invalid_request") == 0 ||
                      strcmp(resp_error_str(&m.data, "code"), "too_large") == 0,
                  "huge map count: %s", resp_error_str(&m.data, "code"));
        T_ASSERT(raw_wait_closed(r, WAIT));
        raw_close(r);
        ping_ok(keep, 3);

        /* Nesting deeper than 32. */
        n = 0;
        memcpy(buf,
               "\x94\x00\x04\xab"
               "daemon.ping",
               15);
        n = 15;
        for (int i = 0; i < 40; i++)
                buf[n++] = '\x91';
        buf[n++] = '\x01';
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, buf, n));
        expect_error(r, &m, "invalid_request", NULL);
        T_ASSERT(raw_wait_closed(r, WAIT));
        raw_close(r);
        ping_ok(keep, 4);

        /* Nesting within the limit is not an envelope problem. */
        n = 15;
        buf[n++] = '\x91';
        buf[n++] = '\x81';
        buf[n++] = '\xa1';
        buf[n++] = 'x';
        for (int i = 0; i < 20; i++)
                buf[n++] = '\x91';
        buf[n++] = '\x01';
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, buf, n));
        expect_error(r, &m, "invalid_params", NULL);
        ping_ok(r, 5);
        raw_close(r);

        msgpack_unpacked_destroy(&m);
        raw_close(keep);
        teardown();
}

/* ---- ordering and waiting ------------------------------------------------ */

static void
pk_join_forever(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 1);
        pk_kv_uint(pk, "id", *(uint64_t *)arg);
}

static void
t_out_of_order(void)
{
        struct corral_terminate_opts o = {0, -1, false};
        struct corral_process p, t;
        msgpack_unpacked m;
        struct raw *r;

        setup();
        spawn_sleeper(&p, harness_path(h, "ready"));
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        raw_request(r, 1, "process.join", pk_join_forever, &p.id);
        raw_request(r, 2, "daemon.ping", NULL, NULL);
        raw_request(r, 3, "process.info", pk_target_id, &p.id);
        raw_response(r, WAIT, &m);
        T_ASSERTF(resp_msgid(&m.data) == 2, "first response is %u, expected the ping's (2)",
                  resp_msgid(&m.data));
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 3);
        T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "state")), "running");

        /* Nothing else arrives while the process runs. */
        T_EQ_INT(raw_next(r, 0.2, &m), -1);

        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 1);
        T_ASSERT(resp_error(&m.data) == NULL);
        T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "state")), "stopped");
        T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "signal")), "TERM");
        T_EQ_INT(obj_int(obj_get(resp_result(&m.data), "id")), p.id);

        corral_process_clear(&p);
        corral_process_clear(&t);
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

static void
t_pipelined(void)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacked m;
        static bool seen[300];
        struct raw *r;

        setup();
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        for (uint32_t i = 0; i < 300; i++) {
                msgpack_pack_array(&pk, 4);
                msgpack_pack_uint8(&pk, 0);
                msgpack_pack_uint32(&pk, i);
                pk_str(&pk, i % 3 == 0 ? "daemon.hello" : "daemon.ping");
                msgpack_pack_array(&pk, 0);
        }
        /* A notification in the middle is read and ignored. */
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint8(&pk, 2);
        pk_str(&pk, "daemon.shutdown");
        msgpack_pack_array(&pk, 0);
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, sb.data, sb.size));
        msgpack_sbuffer_destroy(&sb);
        msgpack_unpacked_init(&m);
        for (int i = 0; i < 300; i++) {
                uint32_t id;

                raw_response(r, WAIT, &m);
                id = resp_msgid(&m.data);
                T_ASSERT(id < 300 && !seen[id]);
                T_ASSERT(resp_error(&m.data) == NULL);
                seen[id] = true;
        }
        ping_ok(r, 1000);
        T_OK(corral_ping(c, &err), &err); /* the notification did not shut it down */
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

#define NJOIN 50

static void
t_concurrent_joins(void)
{
        struct corral_terminate_opts o = {0, -1, true};
        struct corral_process p, t;
        struct raw *r[NJOIN];
        msgpack_unpacked m;
        double ended = 0;

        setup();
        spawn_sleeper(&p, harness_path(h, "ready"));
        msgpack_unpacked_init(&m);
        for (int i = 0; i < NJOIN; i++) {
                r[i] = raw_connect(h->sock);
                raw_request(r[i], 1, "process.join", pk_join_forever, &p.id);
                raw_request(r[i], 2, "daemon.ping", NULL, NULL);
        }
        /* Every ping is answered while the joins wait. */
        for (int i = 0; i < NJOIN; i++) {
                raw_response(r[i], WAIT, &m);
                T_EQ_INT(resp_msgid(&m.data), 2);
        }
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        for (int i = 0; i < NJOIN; i++) {
                const msgpack_object *res, *e;

                raw_response(r[i], WAIT, &m);
                T_EQ_INT(resp_msgid(&m.data), 1);
                T_ASSERT(resp_error(&m.data) == NULL);
                res = resp_result(&m.data);
                T_EQ_INT(obj_int(obj_get(res, "id")), p.id);
                T_EQ_INT(obj_int(obj_get(res, "pid")), p.pid);
                T_EQ_STR(obj_str(obj_get(res, "state")), "stopped");
                T_EQ_STR(obj_str(obj_get(res, "signal")), "TERM");
                e = obj_get(res, "ended_at");
                T_ASSERT(e != NULL && e->type == MSGPACK_OBJECT_FLOAT64);
                if (i == 0)
                        ended = e->via.f64;
                T_ASSERT(e->via.f64 == ended);
                T_ASSERT(e->via.f64 == t.ended_at);
                raw_close(r[i]);
        }
        corral_process_clear(&p);
        corral_process_clear(&t);
        msgpack_unpacked_destroy(&m);
        teardown();
}

static bool
fds_at_most(void *arg)
{
        int *max = arg;

        return proc_fd_count(h->pid) <= *max;
}

static void
t_disconnect_during_join(void)
{
        struct corral_terminate_opts o = {0, -1, true};
        struct corral_process p, t, j;
        msgpack_unpacked m;
        int baseline;
        struct raw *r;

        setup();
        spawn_sleeper(&p, harness_path(h, "ready"));
        baseline = proc_fd_count(h->pid);
        T_ASSERT(baseline > 0);
        msgpack_unpacked_init(&m);
        for (int i = 0; i < 20; i++) {
                r = raw_connect(h->sock);
                raw_request(r, 1, "process.join", pk_join_forever, &p.id);
                raw_request(r, 2, "process.join", pk_join_forever, &p.id);
                ping_ok(r, 3); /* the joins are parked */
                raw_close(r);  /* and their client goes away */
                T_OK(corral_ping(c, &err), &err);
        }
        /* The daemon closed every one of those connections. */
        T_ASSERTF(wait_until(fds_at_most, &baseline, 10), "corrald has %d descriptors, had %d",
                  proc_fd_count(h->pid), baseline);
        /* The process is unaffected; a later join works. */
        T_OK(corral_info(c, target_id(p.id), &j, &err), &err);
        T_EQ_STR(j.state, "running");
        corral_process_clear(&j);
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_OK(corral_join(c, target_id(p.id), WAIT, &j, &err), &err);
        T_EQ_STR(j.state, "stopped");
        corral_process_clear(&j);
        corral_process_clear(&t);
        corral_process_clear(&p);
        msgpack_unpacked_destroy(&m);
        teardown();
}

static void
pk_terminate_wait(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 4);
        pk_kv_uint(pk, "id", *(uint64_t *)arg);
        pk_kv_str(pk, "signal", "USR2");
        pk_kv_double(pk, "grace", 30);
        pk_kv_bool(pk, "wait", true);
}

/* terminate --wait whose client leaves: the process still ends, the daemon carries on. */
static void
t_disconnect_during_terminate(void)
{
        const char *args[] = {HELPER_PATH, "ignore-term", "60", NULL, NULL};
        struct corral_terminate_opts o = {SIGKILL, -1, true};
        struct corral_process p, t;
        struct raw *r;

        setup();
        args[3] = harness_path(h, "ready");
        spawn_simple(c, args, NULL, &p);
        T_ASSERT(wait_file(args[3], 20));
        r = raw_connect(h->sock);
        /* USR2 kills the helper at once; the response may or may not be sent yet. */
        raw_request(r, 1, "process.terminate", pk_terminate_wait, &p.id);
        raw_close(r);
        T_OK(corral_join(c, target_id(p.id), WAIT, &t, &err), &err);
        T_EQ_STR(t.state, "stopped");
        T_EQ_INT(t.signal, SIGUSR2);
        corral_process_clear(&t);
        T_OK(corral_ping(c, &err), &err);

        /* Now one that really waits: SIGTERM is ignored, the client leaves, KILL ends it. */
        corral_process_clear(&p);
        args[3] = harness_path(h, "ready2");
        spawn_simple(c, args, NULL, &p);
        T_ASSERT(wait_file(args[3], 20));
        r = raw_connect(h->sock);
        {
                msgpack_unpacked m;

                msgpack_unpacked_init(&m);
                raw_request(r, 1, "process.terminate", pk_target_id, &p.id); /* TERM, grace 10 */
                raw_response(r, WAIT, &m);
                T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "state")), "stopping");
                msgpack_unpacked_destroy(&m);
        }
        raw_close(r);
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_EQ_STR(t.state, "stopped");
        T_EQ_INT(t.signal, SIGKILL);
        corral_process_clear(&t);
        corral_process_clear(&p);
        teardown();
}

/* More than 1,024 waiting requests on one connection: limit_reached for the extra one. */
static void
t_inflight_limit(void)
{
        struct corral_terminate_opts o = {0, -1, true};
        struct corral_process p, t;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacked m;
        static bool seen[1025];
        struct raw *r;

        setup();
        spawn_sleeper(&p, harness_path(h, "ready"));
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        for (uint32_t i = 0; i < 1024; i++) {
                msgpack_pack_array(&pk, 4);
                msgpack_pack_uint8(&pk, 0);
                msgpack_pack_uint32(&pk, i);
                pk_str(&pk, "process.join");
                msgpack_pack_array(&pk, 1);
                pk_join_forever(&pk, &p.id);
        }
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, sb.data, sb.size));
        msgpack_sbuffer_destroy(&sb);
        msgpack_unpacked_init(&m);
        ping_ok(r, 5000); /* all 1,024 are parked */
        raw_request(r, 5001, "process.join", pk_join_forever, &p.id);
        expect_error(r, &m, "limit_reached", NULL);
        T_EQ_INT(resp_msgid(&m.data), 5001);
        ping_ok(r, 5002); /* and the connection still serves */

        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        for (int i = 0; i < 1024; i++) {
                uint32_t id;

                raw_response(r, WAIT, &m);
                id = resp_msgid(&m.data);
                T_ASSERT(id < 1024 && !seen[id]);
                seen[id] = true;
                T_ASSERT(resp_error(&m.data) == NULL);
        }
        corral_process_clear(&p);
        corral_process_clear(&t);
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(hello),
    TEST_CASE(ping),
    TEST_CASE(unknown_method),
    TEST_CASE(invalid_params),
    TEST_CASE(bad_input),
    TEST_CASE(limits),
    TEST_CASE(out_of_order),
    TEST_CASE(pipelined),
    TEST_CASE(concurrent_joins),
    TEST_CASE(disconnect_during_join),
    TEST_CASE(disconnect_during_terminate),
    TEST_CASE(inflight_limit),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
