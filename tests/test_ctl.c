/*
 * test_ctl.c -- integration tests of corralctl against a real corrald:
 * every command, its --json output (parsed with jansson), the documented
 * exit statuses (join's shell-like status, 1 daemon error, 2 usage,
 * 3 cannot connect, 124 join timeout) and --help.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

static struct harness *h;
static struct run_result rr;

static void
setup(void)
{
        h = harness_start(NULL);
}

static void
teardown(void)
{
        run_result_clear(&rr);
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

/* Require an exit status; show what corralctl said if it differs. */
#define CTL_EXPECT(want, ...)                                                                      \
        do {                                                                                       \
                run_result_clear(&rr);                                                             \
                run_ctl(h, &rr, __VA_ARGS__, NULL);                                                \
                T_ASSERTF(rr.status == (want),                                                     \
                          "corralctl %s: status %d, expected %d\nstdout: %s\nstderr: %s",          \
                          #__VA_ARGS__, rr.status, (want), rr.out, rr.err);                        \
        } while (0)

/* Parse rr.out as one JSON value; the caller json_decref()s it. */
static json_t *
json_out(void)
{
        json_error_t jerr;
        json_t *j;

        j = json_loads(rr.out, JSON_DECODE_ANY, &jerr);
        T_ASSERTF(j != NULL, "corralctl printed invalid JSON (%s at %d): %s", jerr.text, jerr.line,
                  rr.out);
        return j;
}

static const char *
jstr(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t
jint(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        T_ASSERTF(json_is_integer(v), "JSON key %s is not an integer", key);
        return json_integer_value(v);
}

static void
t_ping_hello(void)
{
        json_t *j;

        setup();
        CTL_EXPECT(0, "ping");
        CTL_EXPECT(0, "hello");
        T_ASSERTF(strlen(rr.out) > 0, "hello printed nothing");
        CTL_EXPECT(0, "--json", "hello");
        j = json_out();
        T_EQ_INT(jint(j, "protocol"), 1);
        T_EQ_INT(jint(j, "pid"), h->pid);
        T_ASSERT(json_is_array(json_object_get(j, "methods")));
        json_decref(j);
        /* --json is also accepted after the command. */
        CTL_EXPECT(0, "hello", "--json");
        j = json_out();
        T_EQ_INT(jint(j, "protocol"), 1);
        json_decref(j);
        teardown();
}

static void
t_spawn_join(void)
{
        setup();
        CTL_EXPECT(0, "spawn", "--name", "three", "--", HELPER_PATH, "exit", "3");
        T_ASSERTF(strlen(rr.out) > 0, "spawn printed nothing");
        CTL_EXPECT(3, "join", "three");
        CTL_EXPECT(0, "spawn", "--name", "zero", "--", HELPER_PATH, "exit", "0");
        CTL_EXPECT(0, "join", "zero");
        CTL_EXPECT(0, "spawn", "--name", "big", "--", HELPER_PATH, "exit", "255");
        CTL_EXPECT(255, "join", "big");
        CTL_EXPECT(0, "spawn", "--name", "killed", "--", HELPER_PATH, "kill-self", "KILL");
        CTL_EXPECT(128 + SIGKILL, "join", "killed");
        CTL_EXPECT(0, "spawn", "--name", "usr1", "--", HELPER_PATH, "kill-self", "USR1");
        CTL_EXPECT(128 + SIGUSR1, "join", "usr1");

        /* A join that times out: 124, and the process keeps running. */
        CTL_EXPECT(0, "spawn", "--name", "sleeper", "--", HELPER_PATH, "sleep", "60");
        CTL_EXPECT(124, "join", "sleeper", "--timeout", "0.2");
        CTL_EXPECT(124, "join", "--timeout", "0", "sleeper");
        CTL_EXPECT(0, "--json", "info", "sleeper");
        json_t *j = json_out();
        T_EQ_STR(jstr(j, "state"), "running");
        json_decref(j);
        teardown();
}

static void
t_json(void)
{
        json_t *j, *procs;
        json_int_t id;
        bool found = false;

        setup();
        CTL_EXPECT(0, "--json", "spawn", "--name", "js", "--pool", "jp", "--", HELPER_PATH, "exit",
                   "5");
        j = json_out();
        T_ASSERT(json_is_object(j));
        id = jint(j, "id");
        T_EQ_STR(jstr(j, "name"), "js");
        T_EQ_STR(jstr(j, "pool"), "jp");
        T_ASSERT(jint(j, "pid") > 0);
        T_ASSERT(json_is_array(json_object_get(j, "argv")));
        T_EQ_STR(json_string_value(json_array_get(json_object_get(j, "argv"), 0)), HELPER_PATH);
        json_decref(j);

        /* join --json: the record, and still the child's status. */
        CTL_EXPECT(5, "--json", "join", "js");
        j = json_out();
        T_EQ_INT(jint(j, "id"), id);
        T_EQ_STR(jstr(j, "state"), "exited");
        T_EQ_INT(jint(j, "exit_code"), 5);
        T_ASSERT(json_is_null(json_object_get(j, "signal")));
        T_ASSERT(json_is_number(json_object_get(j, "ended_at")));
        json_decref(j);

        /* join by id. */
        char ids[32];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        CTL_EXPECT(5, "join", ids);

        CTL_EXPECT(0, "--json", "info", ids);
        j = json_out();
        T_EQ_STR(jstr(j, "name"), "js");
        json_decref(j);

        /* ps --json: the records, as an array or as {processes: [...]}. */
        CTL_EXPECT(0, "--json", "ps");
        j = json_out();
        procs = json_is_array(j) ? j : json_object_get(j, "processes");
        T_ASSERTF(json_is_array(procs), "ps --json: no list of processes: %s", rr.out);
        for (size_t i = 0; i < json_array_size(procs); i++)
                found = found || (jstr(json_array_get(procs, i), "name") != NULL &&
                                  strcmp(jstr(json_array_get(procs, i), "name"), "js") == 0);
        T_ASSERTF(found, "ps --json does not list js: %s", rr.out);
        json_decref(j);

        CTL_EXPECT(0, "--json", "ping");
        if (strlen(rr.out) > 0) {
                j = json_out();
                json_decref(j);
        }
        teardown();
}

static void
t_ps_info(void)
{
        setup();
        CTL_EXPECT(0, "spawn", "--name", "alpha", "--", HELPER_PATH, "sleep", "60");
        CTL_EXPECT(0, "spawn", "--name", "beta", "--pool", "other", "--", HELPER_PATH, "exit", "0");
        CTL_EXPECT(0, "join", "beta");
        CTL_EXPECT(0, "ps");
        T_ASSERTF(strstr(rr.out, "alpha") != NULL && strstr(rr.out, "beta") != NULL,
                  "ps output lacks the processes:\n%s", rr.out);
        CTL_EXPECT(0, "status");
        T_ASSERTF(strstr(rr.out, "alpha") != NULL, "status output lacks alpha:\n%s", rr.out);
        CTL_EXPECT(0, "info", "alpha");
        T_ASSERTF(strstr(rr.out, "alpha") != NULL && strstr(rr.out, "running") != NULL,
                  "info output:\n%s", rr.out);
        CTL_EXPECT(0, "info", "beta");
        T_ASSERTF(strstr(rr.out, "exited") != NULL, "info output:\n%s", rr.out);
        CTL_EXPECT(1, "info", "gamma");
        T_ASSERTF(strstr(rr.err, "not_found") != NULL, "info of nothing: %s", rr.err);
        teardown();
}

static void
t_terminate_signal(void)
{
        const char *ready;
        json_t *j;

        setup();
        ready = harness_path(h, "ready-t");
        CTL_EXPECT(0, "spawn", "--name", "t", "--", HELPER_PATH, "sleep", "60", ready);
        T_ASSERT(wait_file(ready, 20));
        CTL_EXPECT(0, "terminate", "t", "--signal", "INT", "--grace", "5", "--wait");
        CTL_EXPECT(0, "--json", "info", "t");
        j = json_out();
        T_EQ_STR(jstr(j, "state"), "stopped");
        T_EQ_STR(jstr(j, "signal"), "INT");
        json_decref(j);
        CTL_EXPECT(128 + SIGINT, "join", "t");

        /* Without --wait: answers "stopping" or at once a final state. */
        ready = harness_path(h, "ready-t2");
        CTL_EXPECT(0, "spawn", "--name", "t2", "--", HELPER_PATH, "ignore-term", "60", ready);
        T_ASSERT(wait_file(ready, 20));
        CTL_EXPECT(0, "--json", "terminate", "t2", "--grace", "0.2");
        j = json_out();
        T_EQ_STR(jstr(j, "state"), "stopping");
        json_decref(j);
        CTL_EXPECT(128 + SIGKILL, "join", "t2");

        /* signal */
        ready = harness_path(h, "ready-u");
        CTL_EXPECT(0, "spawn", "--name", "u", "--", HELPER_PATH, "sleep", "60", ready);
        T_ASSERT(wait_file(ready, 20));
        CTL_EXPECT(0, "signal", "u", "USR1");
        CTL_EXPECT(128 + SIGUSR1, "join", "u");
        CTL_EXPECT(1, "signal", "u", "USR1");
        T_ASSERTF(strstr(rr.err, "not_running") != NULL, "signal of an ended process: %s", rr.err);
        CTL_EXPECT(1, "terminate", "nosuch");
        teardown();
}

static void
t_env_cwd(void)
{
        const char *out;
        char *s;

        setup();
        out = harness_path(h, "env.txt");
        CTL_EXPECT(0, "spawn", "--name", "e", "--env", "CT_A=1", "--env", "CT_B=x=y", "--",
                   HELPER_PATH, "env", out);
        CTL_EXPECT(0, "join", "e");
        s = file_read(out, NULL);
        T_ASSERT(s != NULL);
        T_ASSERTF(strstr(s, "CT_A=1\n") != NULL && strstr(s, "CT_B=x=y\n") != NULL, "env:\n%s", s);
        free(s);

        out = harness_path(h, "cwd.txt");
        CTL_EXPECT(0, "spawn", "--cwd", "/", "--", HELPER_PATH, "cwd", out);
        CTL_EXPECT(0, "--json", "ps");
        T_ASSERT(wait_file(out, 20));
        s = file_read(out, NULL);
        T_EQ_STR(s, "/\n");
        free(s);
        teardown();
}

static void
t_errors(void)
{
        setup();
        CTL_EXPECT(1, "join", "nosuch");
        T_ASSERTF(strstr(rr.err, "not_found") != NULL, "join nosuch: %s", rr.err);
        CTL_EXPECT(1, "spawn", "--", "/nonexistent/corral-binary");
        T_ASSERTF(strstr(rr.err, "No such file") != NULL, "spawn of a missing binary: %s", rr.err);
        CTL_EXPECT(0, "spawn", "--name", "dup", "--", HELPER_PATH, "sleep", "60");
        CTL_EXPECT(1, "spawn", "--name", "dup", "--", HELPER_PATH, "sleep", "60");
        T_ASSERTF(strstr(rr.err, "exists") != NULL, "duplicate name: %s", rr.err);
        teardown();
}

static void
t_usage(void)
{
        setup();
        CTL_EXPECT(2, "frobnicate");
        CTL_EXPECT(2, "join");
        CTL_EXPECT(2, "spawn");
        CTL_EXPECT(2, "spawn", "--name", "x");
        CTL_EXPECT(2, "signal", "x");
        CTL_EXPECT(2, "ping", "--bogus-option");
        CTL_EXPECT(2, "join", "x", "--timeout", "soon");
        CTL_EXPECT(2, "join", "x", "y");
        /* No command at all. */
        {
                const char *argv[] = {CORRALCTL_PATH, NULL};

                run_result_clear(&rr);
                run_cmd(&rr, 30, argv, NULL);
                T_EQ_INT(rr.status, 2);
                T_ASSERT(strlen(rr.err) > 0);
        }
        teardown();
}

/* stats: the daemon's usage against its limits, as text and as JSON. */
static void
t_stats(void)
{
        json_t *j, *procs;

        setup();
        CTL_EXPECT(0, "spawn", "--name", "st1", "--", HELPER_PATH, "sleep", "60");
        CTL_EXPECT(0, "spawn", "--name", "st2", "--", HELPER_PATH, "exit", "0");
        CTL_EXPECT(0, "join", "st2");
        CTL_EXPECT(0, "queue", "create", "stq");
        CTL_EXPECT(0, "put", "stq", "hello");
        CTL_EXPECT(0, "stats");
        T_ASSERTF(strstr(rr.out, "processes    1 running") != NULL &&
                      strstr(rr.out, "1 queues, 1 messages, 5 bytes") != NULL,
                  "stats output:\n%s", rr.out);
        CTL_EXPECT(0, "--json", "stats");
        j = json_out();
        T_EQ_INT(jint(j, "pid"), h->pid);
        T_EQ_STR(jstr(j, "socket"), h->sock);
        procs = json_object_get(j, "processes");
        T_EQ_INT(jint(procs, "used"), 1);
        T_ASSERT(jint(procs, "limit") > 0);
        T_EQ_INT(jint(json_object_get(j, "history"), "used"), 1);
        T_EQ_INT(jint(json_object_get(j, "queues"), "messages"), 1);
        T_ASSERT(jint(j, "rss") > 0);
        T_ASSERT(json_is_number(json_object_get(j, "uptime")) &&
                 json_number_value(json_object_get(j, "uptime")) >= 0);
        json_decref(j);
        CTL_EXPECT(2, "stats", "extra");
        teardown();
}

static void
t_cannot_connect(void)
{
        const char *argv[] = {CORRALCTL_PATH, "--socket", NULL, "ping", NULL};

        h = harness_new();
        argv[2] = harness_path(h, "nobody.sock");
        run_cmd(&rr, 30, argv, NULL);
        T_EQ_INT(rr.status, 3);
        T_ASSERT(strlen(rr.err) > 0);
        run_result_clear(&rr);
        harness_free(h);
}

static void
t_help(void)
{
        static const char *cmds[] = {"spawn", "join",   "terminate", "signal", "info",
                                     "ps",    "status", "ping",      "hello",  "shutdown",
                                     "call",  "help",   "stats"};
        const char *argv[] = {CORRALCTL_PATH, NULL, NULL, NULL};

        /* No daemon needed. */
        argv[1] = "--help";
        run_cmd(&rr, 30, argv, NULL);
        T_EQ_INT(rr.status, 0);
        T_ASSERTF(strstr(rr.out, "Usage") != NULL || strstr(rr.out, "usage") != NULL, "--help:\n%s",
                  rr.out);
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
                T_ASSERTF(strstr(rr.out, cmds[i]) != NULL, "--help does not mention %s", cmds[i]);
        }
        run_result_clear(&rr);
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
                argv[1] = cmds[i];
                argv[2] = "--help";
                run_cmd(&rr, 30, argv, NULL);
                T_ASSERTF(rr.status == 0 && strlen(rr.out) > 0,
                          "corralctl %s --help: status %d\n%s%s", cmds[i], rr.status, rr.out,
                          rr.err);
                run_result_clear(&rr);
        }
}

static void
t_call(void)
{
        json_t *j;

        setup();
        CTL_EXPECT(0, "call", "daemon.ping", "{}");
        CTL_EXPECT(0, "spawn", "--name", "c1", "--", HELPER_PATH, "exit", "0");
        CTL_EXPECT(0, "--json", "call", "process.join", "{\"name\": \"c1\", \"timeout\": 30}");
        j = json_out();
        T_EQ_STR(jstr(j, "state"), "exited");
        T_EQ_INT(jint(j, "exit_code"), 0);
        json_decref(j);
        CTL_EXPECT(1, "call", "no.such.method", "{}");
        T_ASSERTF(strstr(rr.err, "unknown_method") != NULL, "call of an unknown method: %s",
                  rr.err);
        CTL_EXPECT(1, "call", "process.info", "{\"id\": \"seven\"}");
        T_ASSERTF(strstr(rr.err, "invalid_params") != NULL, "call with a bad id: %s", rr.err);
        CTL_EXPECT(2, "call", "daemon.ping", "{not json");
        teardown();
}

static void
t_shutdown(void)
{
        setup();
        CTL_EXPECT(0, "spawn", "--name", "s", "--", HELPER_PATH, "sleep", "60");
        CTL_EXPECT(0, "shutdown");
        T_ASSERTF(harness_wait_exit(h, 20), "corrald did not exit after corralctl shutdown");
        T_ASSERTF(WIFEXITED(h->status) && WEXITSTATUS(h->status) == 0,
                  "corrald ended with status 0x%x", h->status);
        T_EQ_INT(proc_children(getpid()), 0);
        run_result_clear(&rr);
        harness_free(h);
}

static void
t_env_socket(void)
{
        const char *argv[] = {CORRALCTL_PATH, "ping", NULL};
        char env[400];
        const char *envv[] = {env, NULL};

        setup();
        snprintf(env, sizeof env, "CORRAL_SOCKET=%s", h->sock);
        run_cmd(&rr, 30, argv, envv);
        T_ASSERTF(rr.status == 0, "ping via $CORRAL_SOCKET: %d %s", rr.status, rr.err);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(ping_hello),       TEST_CASE(spawn_join), TEST_CASE(json),   TEST_CASE(ps_info),
    TEST_CASE(terminate_signal), TEST_CASE(env_cwd),    TEST_CASE(errors), TEST_CASE(usage),
    TEST_CASE(cannot_connect),   TEST_CASE(help),       TEST_CASE(call),   TEST_CASE(shutdown),
    TEST_CASE(env_socket),       TEST_CASE(stats),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
