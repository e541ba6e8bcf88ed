/*
 * test_daemon.c -- integration tests of the daemon's life: graceful
 * shutdown (daemon.shutdown, SIGTERM, SIGINT) with children running and
 * requests waiting, a second daemon on a busy socket, a stale socket
 * file, the history limit and bad command lines.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define WAIT 30.0

static struct harness *h;
static struct corral *c;
static struct corral_error err;

static void
spawn_sleeper(struct corral_process *p, const char *mode, const char *ready)
{
        const char *argv[] = {HELPER_PATH, mode, "60", ready, NULL};

        spawn_simple(c, argv, NULL, p);
        T_ASSERTF(wait_file(ready, 20), "helper %s never became ready", mode);
}

static void
pk_join(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 1);
        pk_kv_uint(pk, "id", *(uint64_t *)arg);
}

/* After the daemon has been told to stop: it exits 0 and leaves nothing behind. */
static void
check_shut_down(const pid_t *pids, int n)
{
        int left;

        T_ASSERTF(harness_wait_exit(h, 20), "corrald did not exit within 20 s");
        T_ASSERTF(WIFEXITED(h->status) && WEXITSTATUS(h->status) == 0,
                  "corrald ended with status 0x%x, expected exit 0", h->status);
        /* We are the subreaper: whatever the daemon left behind is now ours. */
        left = proc_children(getpid());
        T_ASSERTF(left == 0, "corrald left %d processes behind", left);
        for (int i = 0; i < n; i++)
                T_ASSERTF(kill(pids[i], 0) == -1 && errno == ESRCH, "child %ld still exists",
                          (long)pids[i]);
        T_ASSERTF(!file_exists(h->sock), "corrald left its socket file behind");
}

/*
 * Three children (two that stop on TERM, one that ignores it) and two
 * joins waiting on a raw connection; stop the daemon with how(); every
 * join gets its final record, and nothing is left.
 */
static void
shutdown_case(void (*how)(void))
{
        const char *args[] = {"--grace", "0.5", NULL};
        struct corral_process a, b, s;
        msgpack_unpacked m;
        bool got[3] = {false};
        struct raw *r;
        pid_t pids[3];

        h = harness_start(args);
        c = harness_connect(h);
        spawn_sleeper(&a, "sleep", harness_path(h, "ready-a"));
        spawn_sleeper(&b, "sleep", harness_path(h, "ready-b"));
        spawn_sleeper(&s, "ignore-term", harness_path(h, "ready-s"));
        pids[0] = a.pid;
        pids[1] = b.pid;
        pids[2] = s.pid;

        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        raw_request(r, 1, "process.join", pk_join, &a.id);
        raw_request(r, 2, "process.join", pk_join, &s.id);
        raw_request(r, 3, "daemon.ping", NULL, NULL);
        raw_response(r, WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 3); /* the joins are parked */

        how();

        for (int i = 0; i < 2; i++) {
                const msgpack_object *res;
                uint32_t id;

                raw_response(r, WAIT, &m);
                id = resp_msgid(&m.data);
                T_ASSERTF(resp_error(&m.data) == NULL, "join %u: error %s %s", id,
                          resp_error_str(&m.data, "code"), resp_error_str(&m.data, "message"));
                T_ASSERT((id == 1 || id == 2) && !got[id]);
                got[id] = true;
                res = resp_result(&m.data);
                T_EQ_STR(obj_str(obj_get(res, "state")), "stopped");
                T_ASSERT(!obj_is_nil(obj_get(res, "ended_at")));
                T_EQ_STR(obj_str(obj_get(res, "signal")), id == 1 ? "TERM" : "KILL");
        }
        T_ASSERTF(raw_wait_closed(r, WAIT), "the connection stayed open after shutdown");
        check_shut_down(pids, 3);

        msgpack_unpacked_destroy(&m);
        raw_close(r);
        corral_close(c);
        corral_process_clear(&a);
        corral_process_clear(&b);
        corral_process_clear(&s);
        harness_free(h);
}

static void
by_rpc(void)
{
        T_OK(corral_shutdown(c, &err), &err);
}

static void
by_sigterm(void)
{
        T_ASSERT(kill(h->pid, SIGTERM) == 0);
}

static void
by_sigint(void)
{
        T_ASSERT(kill(h->pid, SIGINT) == 0);
}

static void
t_shutdown_rpc(void)
{
        shutdown_case(by_rpc);
}

static void
t_shutdown_sigterm(void)
{
        shutdown_case(by_sigterm);
}

static void
t_shutdown_sigint(void)
{
        shutdown_case(by_sigint);
}

static bool
cannot_connect(void *arg)
{
        return !harness_can_connect(arg);
}

/* While it stops, the daemon takes no new work and no new connections. */
static void
t_shutdown_refuses_work(void)
{
        const char *args[] = {"--grace", "4", NULL};
        const char *argv[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_spawn_opts o;
        struct corral_process s, p;
        pid_t pid;

        h = harness_start(args);
        c = harness_connect(h);
        spawn_sleeper(&s, "ignore-term", harness_path(h, "ready"));
        pid = s.pid;
        T_OK(corral_shutdown(c, &err), &err);

        memset(&o, 0, sizeof o);
        o.argv = argv;
        T_ASSERTF(corral_spawn(c, &o, &p, &err) != 0, "spawn accepted during shutdown");
        T_ASSERTF(strcmp(err.code, "shutting_down") == 0 || strcmp(err.code, "io") == 0,
                  "spawn during shutdown: %s %s, expected shutting_down", err.code, err.message);
        /* Well within the 4 s grace the stubborn child gets. */
        T_ASSERTF(wait_until(cannot_connect, h->sock, 2.5),
                  "corrald still accepts connections while shutting down");
        check_shut_down(&pid, 1);
        corral_close(c);
        corral_process_clear(&s);
        harness_free(h);
}

static void
t_second_daemon(void)
{
        const char *argv[] = {CORRALD_PATH, "--socket", NULL, NULL};
        struct corral_hello hello;
        struct run_result rr;
        struct corral *c2;

        h = harness_start(NULL);
        c = harness_connect(h);
        argv[2] = h->sock;
        run_cmd(&rr, 15, argv, NULL);
        T_ASSERTF(rr.status != -1, "a second corrald on a busy socket kept running");
        T_ASSERTF(rr.status != 0, "a second corrald on a busy socket exited 0");
        T_ASSERTF(strlen(rr.err) > 0, "a second corrald failed without a message");
        T_ASSERTF(strstr(rr.err, h->sock) != NULL || strstr(rr.err, "in use") != NULL ||
                      strstr(rr.err, "already") != NULL || strstr(rr.err, "running") != NULL,
                  "unclear message from a second corrald: %s", rr.err);
        fprintf(stderr, "second corrald said: %s", rr.err);
        run_result_clear(&rr);

        /* The first keeps serving, old and new connections alike. */
        T_ASSERT(file_exists(h->sock));
        T_OK(corral_ping(c, &err), &err);
        c2 = harness_connect(h);
        T_OK(corral_hello(c2, &hello, &err), &err);
        T_EQ_INT(hello.pid, h->pid);
        corral_hello_clear(&hello);
        corral_close(c2);
        corral_close(c);
        harness_stop(h);
        harness_free(h);
}

static void
t_stale_socket(void)
{
        struct corral_hello hello;
        struct sockaddr_un sun;
        int fd;

        h = harness_new();
        /* A socket file nobody listens on, as a crashed daemon leaves it. */
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        T_ASSERT(fd != -1);
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        T_ASSERT(strlen(h->sock) < sizeof sun.sun_path);
        memcpy(sun.sun_path, h->sock, strlen(h->sock) + 1);
        T_ASSERT(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
        T_ASSERT(listen(fd, 1) == 0);
        close(fd);
        T_ASSERT(file_exists(h->sock));
        T_ASSERT(!harness_can_connect(h->sock));

        harness_launch(h, NULL);
        c = harness_connect(h);
        T_OK(corral_hello(c, &hello, &err), &err);
        T_EQ_INT(hello.pid, h->pid);
        corral_hello_clear(&hello);
        corral_close(c);
        harness_stop(h);
        harness_free(h);
}

static void
t_history_limit(void)
{
        const char *args[] = {"--history", "3", NULL};
        const char *argv[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_process live, p[5], j, *list;
        size_t n;

        h = harness_start(args);
        c = harness_connect(h);
        spawn_sleeper(&live, "sleep", harness_path(h, "ready"));
        for (int i = 0; i < 5; i++) {
                spawn_simple(c, argv, NULL, &p[i]);
                T_OK(corral_join(c, target_id(p[i].id), WAIT, &j, &err), &err);
                corral_process_clear(&j);
        }
        /* The newest three ended records, and every live one. */
        for (int i = 0; i < 2; i++)
                T_ERR(corral_info(c, target_id(p[i].id), &j, &err), &err, "not_found");
        for (int i = 2; i < 5; i++) {
                T_OK(corral_info(c, target_id(p[i].id), &j, &err), &err);
                T_EQ_STR(j.state, "exited");
                corral_process_clear(&j);
        }
        T_OK(corral_info(c, target_id(live.id), &j, &err), &err);
        T_EQ_STR(j.state, "running");
        corral_process_clear(&j);
        T_OK(corral_list(c, NULL, false, &list, &n, &err), &err);
        T_EQ_INT(n, 4);
        corral_process_list_free(list, n);
        for (int i = 0; i < 5; i++)
                corral_process_clear(&p[i]);
        corral_process_clear(&live);
        corral_close(c);
        harness_stop(h);
        harness_free(h);
}

static void
t_bad_args(void)
{
        static const char *bad[][3] = {
            {"--bogus", NULL, NULL},        {"--history", "lots", NULL},
            {"--grace", "-1", NULL},        {"--log-level", "chatty", NULL},
            {"extra-argument", NULL, NULL},
        };
        struct run_result rr;

        h = harness_new();
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                const char *argv[8] = {CORRALD_PATH, "--socket", h->sock};
                size_t n = 3;

                for (int k = 0; k < 3 && bad[i][k] != NULL; k++)
                        argv[n++] = bad[i][k];
                argv[n] = NULL;
                run_cmd(&rr, 10, argv, NULL);
                T_ASSERTF(rr.status != -1 && rr.status != 0,
                          "corrald %s %s: status %d, expected a usage error", bad[i][0],
                          bad[i][1] ? bad[i][1] : "", rr.status);
                T_ASSERTF(strlen(rr.err) > 0, "corrald %s: no message", bad[i][0]);
                run_result_clear(&rr);
        }
        harness_free(h);
}

static const struct test_case cases[] = {
    TEST_CASE(shutdown_rpc),          TEST_CASE(shutdown_sigterm), TEST_CASE(shutdown_sigint),
    TEST_CASE(shutdown_refuses_work), TEST_CASE(second_daemon),    TEST_CASE(stale_socket),
    TEST_CASE(history_limit),         TEST_CASE(bad_args),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
