/*
 * test_process.c -- integration tests of supervised processes through
 * libcorral: spawn, join, terminate, signal, names, records, and what a
 * child inherits (descriptors, signals, session, environment, cwd, stdin).
 *
 * Each case starts its own corrald; `test_process CASE` runs one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define JOIN_WAIT 30.0 /* generous: a loaded machine under ASan is slow */

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

static double
wall_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Join that must succeed within JOIN_WAIT. */
static void
join_ok(struct corral_target t, struct corral_process *out)
{
        T_OK(corral_join(c, t, JOIN_WAIT, out, &err), &err);
}

/* Spawn helper MODE ARGS... (NULL-terminated after name). */
static void
spawn_helper(struct corral_process *out, const char *name, const char *const *args)
{
        const char *argv[16];
        size_t n = 0;

        argv[n++] = HELPER_PATH;
        for (size_t i = 0; args[i] != NULL && n < 15; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        spawn_simple(c, argv, name, out);
}

/* Spawn `helper sleep 60 READY` and wait until it runs its own code. */
static void
spawn_sleeper(struct corral_process *out, const char *name, const char *ready)
{
        const char *args[] = {"sleep", "60", ready, NULL};

        spawn_helper(out, name, args);
        T_ASSERTF(wait_file(ready, 20), "helper never became ready (%s)", ready);
}

/* ---- exit codes and signals -------------------------------------------- */

static void
t_spawn_exit_codes(void)
{
        static const char *codes[] = {"0", "3", "255"};
        struct corral_process p, j;

        setup();
        for (size_t i = 0; i < 3; i++) {
                const char *args[] = {"exit", codes[i], NULL};

                spawn_helper(&p, NULL, args);
                join_ok(target_id(p.id), &j);
                T_EQ_INT(j.id, p.id);
                T_EQ_INT(j.pid, p.pid);
                T_EQ_STR(j.state, "exited");
                T_EQ_INT(j.exit_code, atoi(codes[i]));
                T_EQ_INT(j.signal, 0);
                T_ASSERT(!j.core_dumped);
                T_ASSERT(j.ended_at >= j.started_at && j.started_at > 0);
                T_EQ_INT(corral_process_status(&j), atoi(codes[i]));
                /* A later join of an ended process answers at once with the same record. */
                corral_process_clear(&j);
                T_OK(corral_join(c, target_id(p.id), 0, &j, &err), &err);
                T_EQ_STR(j.state, "exited");
                T_EQ_INT(j.exit_code, atoi(codes[i]));
                corral_process_clear(&j);
                corral_process_clear(&p);
        }
        teardown();
}

static void
pk_join_id(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 2);
        pk_kv_uint(pk, "id", *(uint64_t *)arg);
        pk_kv_double(pk, "timeout", JOIN_WAIT);
}

static void
t_signal_deaths(void)
{
        static const struct {
                const char *sig;
                int num;
        } cases[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"USR1", SIGUSR1}};
        struct corral_process p, j;
        msgpack_unpacked m;
        struct raw *r;

        setup();
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        for (size_t i = 0; i < 3; i++) {
                const char *args[] = {"kill-self", cases[i].sig, NULL};

                spawn_helper(&p, NULL, args);
                join_ok(target_id(p.id), &j);
                T_EQ_STR(j.state, "killed");
                T_EQ_INT(j.signal, cases[i].num);
                T_EQ_INT(j.exit_code, -1);
                T_EQ_INT(corral_process_status(&j), 128 + cases[i].num);
                corral_process_clear(&j);

                /* On the wire: the signal's name, exit_code nil. */
                raw_request(r, (uint32_t)i + 1, "process.join", pk_join_id, &p.id);
                raw_response(r, JOIN_WAIT, &m);
                T_EQ_INT(resp_msgid(&m.data), i + 1);
                T_ASSERTF(resp_error(&m.data) == NULL, "join: %s",
                          resp_error_str(&m.data, "message"));
                T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "state")), "killed");
                T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "signal")), cases[i].sig);
                T_ASSERT(obj_is_nil(obj_get(resp_result(&m.data), "exit_code")));
                T_ASSERT(obj_get(resp_result(&m.data), "exit_code") != NULL);
                corral_process_clear(&p);
        }
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

/* ---- join timeouts ----------------------------------------------------- */

static void
t_join_timeout(void)
{
        struct corral_process p, j;
        double t0, dt;

        setup();
        spawn_sleeper(&p, NULL, harness_path(h, "ready"));

        t0 = now_mono();
        T_ERR(corral_join(c, target_id(p.id), 0.3, &j, &err), &err, "timeout");
        dt = now_mono() - t0;
        T_ASSERTF(dt >= 0.25 && dt < 15, "join with timeout 0.3 took %.3f s", dt);

        /* Polling: timeout 0 answers at once. */
        t0 = now_mono();
        T_ERR(corral_join(c, target_id(p.id), 0, &j, &err), &err, "timeout");
        dt = now_mono() - t0;
        T_ASSERTF(dt < 5, "join with timeout 0 took %.3f s", dt);

        /* The process is still running. */
        T_OK(corral_info(c, target_id(p.id), &j, &err), &err);
        T_EQ_STR(j.state, "running");
        T_ASSERT(proc_state(p.pid) != 0 && proc_state(p.pid) != 'Z');
        corral_process_clear(&j);

        /* And the connection still works after a timed-out join. */
        T_OK(corral_ping(c, &err), &err);
        corral_process_clear(&p);
        teardown();
}

/* ---- terminate ---------------------------------------------------------- */

static void
t_terminate_escalates(void)
{
        struct corral_terminate_opts o = {0, 0.3, false};
        const char *args[] = {"ignore-term", "60", NULL, NULL};
        struct corral_process p, t, j;
        double t0, dt;

        setup();
        args[2] = harness_path(h, "ready");
        spawn_helper(&p, "stubborn", args);
        T_ASSERT(wait_file(args[2], 20));

        t0 = now_mono();
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_EQ_STR(t.state, "stopping");
        join_ok(target_id(p.id), &j);
        dt = now_mono() - t0;
        T_EQ_STR(j.state, "stopped");
        T_EQ_INT(j.signal, SIGKILL);
        T_EQ_INT(j.exit_code, -1);
        T_ASSERTF(dt >= 0.25, "KILL came %.3f s after TERM, before the 0.3 s grace", dt);
        T_ASSERT(wait_pid_gone(p.pid, h->pid, 10));
        corral_process_clear(&p);
        corral_process_clear(&t);
        corral_process_clear(&j);
        teardown();
}

static void
t_terminate_wait(void)
{
        struct corral_terminate_opts o = {0, -1, true};
        const char *exit0[] = {"exit", "7", NULL};
        struct corral_process p, t, j;

        setup();
        spawn_sleeper(&p, NULL, harness_path(h, "ready"));
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_EQ_STR(t.state, "stopped");
        T_EQ_INT(t.signal, SIGTERM);
        T_ASSERT(t.ended_at > 0);
        T_ASSERT(wait_pid_gone(p.pid, h->pid, 10));

        /* Terminating an ended process returns its record unchanged. */
        T_OK(corral_terminate(c, target_id(p.id), &o, &j, &err), &err);
        T_EQ_STR(j.state, "stopped");
        T_EQ_INT(j.signal, SIGTERM);
        T_ASSERT(j.ended_at == t.ended_at);
        corral_process_clear(&p);
        corral_process_clear(&t);
        corral_process_clear(&j);

        spawn_helper(&p, NULL, exit0);
        join_ok(target_id(p.id), &j);
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_EQ_STR(t.state, "exited");
        T_EQ_INT(t.exit_code, 7);
        corral_process_clear(&p);
        corral_process_clear(&t);
        corral_process_clear(&j);

        /* A custom stop signal goes to the process. */
        o.signal = SIGINT;
        spawn_sleeper(&p, NULL, harness_path(h, "ready2"));
        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_EQ_STR(t.state, "stopped");
        T_EQ_INT(t.signal, SIGINT);
        corral_process_clear(&p);
        corral_process_clear(&t);
        teardown();
}

/*
 * terminate right after spawn, before the child can have reached exec:
 * the stop signal must not be lost in the window between fork and exec
 * (e.g. caught by a copy of the daemon's own handler).
 */
static void
t_terminate_right_after_spawn(void)
{
        struct corral_terminate_opts o = {0, 5, true};
        const char *argv[] = {HELPER_PATH, "sleep", "60", NULL};
        struct corral_process p, t;

        setup();
        for (int i = 0; i < 10; i++) {
                spawn_simple(c, argv, NULL, &p);
                T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
                T_EQ_STR(t.state, "stopped");
                T_ASSERTF(t.signal == SIGTERM, "round %d: ended by signal %d, not TERM", i,
                          t.signal);
                corral_process_clear(&p);
                corral_process_clear(&t);
        }
        teardown();
}

static pid_t
read_pidfile(const char *path)
{
        char *s;
        long pid;

        T_ASSERTF(wait_file(path, 20), "no pid file %s", path);
        s = file_read(path, NULL);
        T_ASSERT(s != NULL);
        pid = strtol(s, NULL, 10);
        free(s);
        T_ASSERT(pid > 1);
        return (pid_t)pid;
}

static void
grandchild_case(bool ignore_term)
{
        struct corral_terminate_opts o = {0, 30, true};
        const char *args[] = {"grandchild", NULL, "60", ignore_term ? "ignore-term" : NULL, NULL};
        struct corral_process p, t;
        pid_t gpid, pgid;

        setup();
        args[1] = harness_path(h, "grandchild.pid");
        spawn_helper(&p, NULL, args);
        gpid = read_pidfile(args[1]);
        pgid = getpgid(gpid);
        T_ASSERTF(pgid == p.pid, "grandchild's group %ld, expected %ld", (long)pgid, (long)p.pid);

        T_OK(corral_terminate(c, target_id(p.id), &o, &t, &err), &err);
        T_EQ_STR(t.state, "stopped");
        T_EQ_INT(t.signal, SIGTERM);
        /* Well before the 30 s grace: the rest of the group goes when the leader ends. */
        T_ASSERTF(wait_pid_gone(gpid, h->pid, 10),
                  "grandchild %ld still alive (state %c, parent %ld) after terminate", (long)gpid,
                  proc_state(gpid), (long)proc_ppid(gpid));
        T_ASSERT(wait_pid_gone(p.pid, h->pid, 10));
        corral_process_clear(&p);
        corral_process_clear(&t);
        teardown();
}

static void
t_terminate_grandchild(void)
{
        grandchild_case(false);
}

static void
t_terminate_grandchild_ignoring_term(void)
{
        grandchild_case(true);
}

/* ---- reaping ------------------------------------------------------------ */

static bool
no_zombies(void *arg)
{
        return proc_zombie_children(*(pid_t *)arg) == 0;
}

struct fd_arg {
        pid_t pid;
        int max;
};

static bool
fds_at_most(void *arg)
{
        struct fd_arg *a = arg;

        return proc_fd_count(a->pid) <= a->max;
}

static void
t_reap_1000(void)
{
        const char *argv[] = {"/bin/true", NULL};
        struct corral_process p[100], j;
        int baseline = -1;

        setup();
        for (int batch = 0; batch < 10; batch++) {
                for (int i = 0; i < 100; i++)
                        spawn_simple(c, argv, NULL, &p[i]);
                for (int i = 0; i < 100; i++) {
                        join_ok(target_id(p[i].id), &j);
                        T_EQ_STR(j.state, "exited");
                        T_EQ_INT(j.exit_code, 0);
                        corral_process_clear(&j);
                        corral_process_clear(&p[i]);
                }
                if (batch == 0)
                        baseline = proc_fd_count(h->pid);
        }
        T_ASSERTF(wait_until(no_zombies, &h->pid, 5), "%d zombie children of corrald",
                  proc_zombie_children(h->pid));
        /* The daemon keeps no descriptor per ended child. */
        struct fd_arg fa = {h->pid, baseline};
        T_ASSERTF(wait_until(fds_at_most, &fa, 5), "corrald had %d descriptors, then %d", baseline,
                  proc_fd_count(h->pid));
        T_EQ_INT(proc_children(h->pid), 0);
        teardown();
}

/* ---- spawn failures ------------------------------------------------------ */

static size_t
count_processes(void)
{
        struct corral_process *list;
        size_t n;

        T_OK(corral_list(c, NULL, false, &list, &n, &err), &err);
        corral_process_list_free(list, n);
        return n;
}

static void
spawn_fails(const struct corral_spawn_opts *o, const char *code, const char *text)
{
        struct corral_process p;
        size_t before = count_processes();

        memset(&p, 0, sizeof p);
        T_ERR(corral_spawn(c, o, &p, &err), &err, code);
        T_ASSERTF(text == NULL || strstr(err.message, text) != NULL,
                  "spawn of %s: message \"%s\" lacks \"%s\"", o->argv[0], err.message, text);
        T_EQ_INT(count_processes(), before); /* nothing recorded */
}

static void
t_spawn_missing(void)
{
        const char *abs[] = {"/nonexistent/corral-test-binary", NULL};
        const char *rel[] = {"corral-no-such-program", NULL};
        struct corral_spawn_opts o;

        setup();
        memset(&o, 0, sizeof o);
        o.argv = abs;
        spawn_fails(&o, "spawn_failed", "No such file");
        o.argv = rel;
        spawn_fails(&o, "spawn_failed", "No such file");
        T_OK(corral_ping(c, &err), &err);
        teardown();
}

static void
t_spawn_not_executable(void)
{
        const char *argv[] = {NULL, NULL};
        struct corral_spawn_opts o;
        const char *path;
        FILE *f;

        setup();
        path = harness_path(h, "not-executable");
        f = fopen(path, "w");
        T_ASSERT(f != NULL);
        fputs("#!/bin/sh\nexit 0\n", f);
        fclose(f);
        T_ASSERT(chmod(path, 0644) == 0);
        memset(&o, 0, sizeof o);
        argv[0] = path;
        o.argv = argv;
        spawn_fails(&o, "spawn_failed", "Permission denied");
        /* A directory is not executable either. */
        argv[0] = h->dir;
        spawn_fails(&o, "spawn_failed", NULL);
        teardown();
}

static void
t_spawn_bad_cwd(void)
{
        const char *argv[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_spawn_opts o;
        struct corral_process p;
        size_t before;

        setup();
        memset(&o, 0, sizeof o);
        o.argv = argv;
        static const char *bad[] = {"/nonexistent/corral-cwd", "relative/dir", NULL};
        for (size_t i = 0; bad[i] != NULL; i++) {
                o.cwd = bad[i];
                before = count_processes();
                memset(&p, 0, sizeof p);
                T_ASSERTF(corral_spawn(c, &o, &p, &err) != 0, "spawn with cwd %s succeeded",
                          bad[i]);
                T_ASSERTF(strcmp(err.code, "spawn_failed") == 0 ||
                              strcmp(err.code, "invalid_params") == 0,
                          "cwd %s: error %s", bad[i], err.code);
                T_ASSERTF(strcmp(err.field, "cwd") == 0 || strstr(err.message, "cwd") != NULL,
                          "cwd %s: the error does not name cwd: [%s] %s", bad[i], err.field,
                          err.message);
                T_EQ_INT(count_processes(), before);
        }
        /* A relative path is a parameter error. */
        o.cwd = "relative/dir";
        T_ERR(corral_spawn(c, &o, &p, &err), &err, "invalid_params");
        T_EQ_STR(err.field, "cwd");
        teardown();
}

/* ---- what the child inherits -------------------------------------------- */

static char *
helper_report(const char *mode, const struct corral_spawn_opts *base, const char *file)
{
        const char *argv[] = {HELPER_PATH, mode, file, NULL};
        struct corral_spawn_opts o = *base;
        struct corral_process p, j;
        char *s;

        o.argv = argv;
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        join_ok(target_id(p.id), &j);
        T_ASSERTF(strcmp(j.state, "exited") == 0 && j.exit_code == 0, "helper %s: %s %d/%d", mode,
                  j.state, j.exit_code, j.signal);
        s = file_read(file, NULL);
        T_ASSERTF(s != NULL, "helper %s wrote no %s", mode, file);
        corral_process_clear(&p);
        corral_process_clear(&j);
        return s;
}

/*
 * The helper's "fds" report as exactly three targets for 0, 1 and 2;
 * fails the test if the child holds any other descriptor.
 */
static void
parse_fds(const char *report, char target[3][256])
{
        const char *line = report;
        int n = 0;

        while (*line != '\0') {
                const char *nl = strchr(line, '\n');
                int fd = -1, used = 0;

                T_ASSERTF(nl != NULL && sscanf(line, "%d %n", &fd, &used) == 1,
                          "bad fds report:\n%s", report);
                T_ASSERTF(fd == n && n < 3, "the child holds descriptor %d:\n%s", fd, report);
                snprintf(target[n], 256, "%.*s", (int)(nl - line - used), line + used);
                n++;
                line = nl + 1;
        }
        T_ASSERTF(n == 3, "the child has %d descriptors, not 0-2:\n%s", n, report);
}

static void
pk_spawn_fds_null(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 3);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 3);
        pk_str(pk, HELPER_PATH);
        pk_str(pk, "fds");
        pk_str(pk, arg);
        pk_kv_str(pk, "stdout", "null");
        pk_kv_str(pk, "stderr", "null");
}

static void
t_fds_not_leaked(void)
{
        struct corral_spawn_opts o;
        struct corral_process j;
        struct raw *extra[4];
        char t[3][256];
        msgpack_unpacked m;
        uint64_t id;
        char *s;

        setup();
        /* More descriptors in the daemon that a careless spawn would pass on. */
        for (int i = 0; i < 4; i++)
                extra[i] = raw_connect(h->sock);
        T_OK(corral_ping(c, &err), &err);

        /* By default stdin is /dev/null; stdout and stderr are captured (two pipes). */
        memset(&o, 0, sizeof o);
        s = helper_report("fds", &o, harness_path(h, "fds1"));
        parse_fds(s, t);
        T_EQ_STR(t[0], "/dev/null");
        T_ASSERTF(strncmp(t[1], "pipe:", 5) == 0 && strncmp(t[2], "pipe:", 5) == 0 &&
                      strcmp(t[1], t[2]) != 0,
                  "stdout and stderr are not two capture pipes:\n%s", s);
        free(s);

        /* With stdin: 0 is a pipe too, nothing else is added. */
        o.stdin_data = "x";
        o.stdin_len = 1;
        o.has_stdin = true;
        s = helper_report("fds", &o, harness_path(h, "fds2"));
        parse_fds(s, t);
        T_ASSERTF(strncmp(t[0], "pipe:", 5) == 0, "stdin is not a pipe:\n%s", s);
        free(s);

        /* stdout and stderr "null": all three are /dev/null. */
        msgpack_unpacked_init(&m);
        raw_request(extra[0], 1, "process.spawn", pk_spawn_fds_null,
                    (void *)harness_path(h, "fds3"));
        raw_response(extra[0], JOIN_WAIT, &m);
        T_ASSERTF(resp_error(&m.data) == NULL, "spawn with null output: %s %s",
                  resp_error_str(&m.data, "code"), resp_error_str(&m.data, "message"));
        id = (uint64_t)obj_int(obj_get(resp_result(&m.data), "id"));
        msgpack_unpacked_destroy(&m);
        join_ok(target_id(id), &j);
        T_EQ_INT(j.exit_code, 0);
        corral_process_clear(&j);
        s = file_read(harness_path(h, "fds3"), NULL);
        T_ASSERT(s != NULL);
        parse_fds(s, t);
        for (int i = 0; i < 3; i++)
                T_ASSERTF(strcmp(t[i], "/dev/null") == 0, "null output:\n%s", s);
        free(s);

        for (int i = 0; i < 4; i++)
                raw_close(extra[i]);
        teardown();
}

static void
t_child_clean_state(void)
{
        struct corral_spawn_opts o;
        struct corral_process p;
        const char *argv[] = {HELPER_PATH, "pgid", NULL, NULL};
        long pid, pgid, sid;
        char *s;

        h = harness_new();
        h->dirty_signals = true; /* the daemon starts with USR2 blocked, XFSZ ignored */
        harness_launch(h, NULL);
        c = harness_connect(h);
        memset(&o, 0, sizeof o);
        s = helper_report("sigmask", &o, harness_path(h, "sigmask"));
        T_ASSERTF(strstr(s, "SigBlk:\t0000000000000000\n") != NULL, "blocked signals:\n%s", s);
        T_ASSERTF(strstr(s, "SigIgn:\t0000000000000000\n") != NULL, "ignored signals:\n%s", s);
        free(s);

        /* Its own session and process group, led by itself. */
        argv[2] = harness_path(h, "pgid");
        o.argv = argv;
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        T_ASSERT(wait_file(argv[2], 20));
        s = file_read(argv[2], NULL);
        T_ASSERT(s != NULL && sscanf(s, "%ld %ld %ld", &pid, &pgid, &sid) == 3);
        T_EQ_INT(pid, p.pid);
        T_EQ_INT(pgid, p.pid);
        T_EQ_INT(sid, p.pid);
        free(s);
        corral_process_clear(&p);
        teardown();
}

static void
t_env(void)
{
        const char *env[] = {"CORRAL_T_FOO=bar baz", "CORRAL_T_EMPTY=", "CORRAL_TEST_MARK=override",
                             NULL};
        struct corral_spawn_opts o;
        char *s;

        setup();
        memset(&o, 0, sizeof o);
        s = helper_report("env", &o, harness_path(h, "env0"));
        T_ASSERTF(strstr(s, "CORRAL_TEST_MARK=inherited\n") != NULL,
                  "the daemon's environment is not inherited:\n%s", s);
        free(s);

        o.env = env;
        s = helper_report("env", &o, harness_path(h, "env1"));
        T_ASSERTF(strstr(s, "CORRAL_T_FOO=bar baz\n") != NULL, "env:\n%s", s);
        T_ASSERTF(strstr(s, "CORRAL_T_EMPTY=\n") != NULL, "env:\n%s", s);
        T_ASSERTF(strstr(s, "CORRAL_TEST_MARK=override\n") != NULL, "env:\n%s", s);
        T_ASSERTF(strstr(s, "CORRAL_TEST_MARK=inherited") == NULL, "env not replaced:\n%s", s);
        T_ASSERTF(strstr(s, "PATH=") != NULL, "inherited PATH missing:\n%s", s);
        free(s);
        teardown();
}

static void
t_env_clear(void)
{
        const char *env[] = {"A=1", "B=two", NULL};
        struct corral_spawn_opts o;
        char *s;

        setup();
        memset(&o, 0, sizeof o);
        o.env_clear = true;
        s = helper_report("env", &o, harness_path(h, "env-empty"));
        T_ASSERTF(s[0] == '\0', "env_clear without env:\n%s", s);
        free(s);
        o.env = env;
        s = helper_report("env", &o, harness_path(h, "env-ab"));
        T_ASSERTF(strcmp(s, "A=1\nB=two\n") == 0 || strcmp(s, "B=two\nA=1\n") == 0,
                  "env_clear with env:\n%s", s);
        free(s);
        teardown();
}

static void
t_cwd(void)
{
        char sub[PATH_MAX], real[PATH_MAX], want[PATH_MAX + 2];
        struct corral_spawn_opts o;
        char *s;

        setup();
        memset(&o, 0, sizeof o);
        snprintf(sub, sizeof sub, "%s", harness_path(h, "sub dir"));
        T_ASSERT(mkdir(sub, 0755) == 0);
        T_ASSERT(realpath(sub, real) != NULL);
        o.cwd = sub;
        s = helper_report("cwd", &o, harness_path(h, "cwd1"));
        snprintf(want, sizeof want, "%s\n", real);
        T_EQ_STR(s, want);
        free(s);

        /* Without cwd: the daemon's own (the harness starts it in its directory). */
        o.cwd = NULL;
        T_ASSERT(realpath(h->dir, real) != NULL);
        s = helper_report("cwd", &o, harness_path(h, "cwd2"));
        snprintf(want, sizeof want, "%s\n", real);
        T_EQ_STR(s, want);
        free(s);
        teardown();
}

static void
t_stdin(void)
{
        const char *argv[] = {HELPER_PATH, "stdin", NULL, NULL};
        struct corral_spawn_opts o;
        struct corral_process p, j;
        size_t big = 300 * 1024, len;
        char *data, *s;

        setup();
        memset(&o, 0, sizeof o);
        o.argv = argv;

        /* Small, with a NUL byte inside. */
        argv[2] = harness_path(h, "stdin-small");
        o.stdin_data = "hello\0world";
        o.stdin_len = 11;
        o.has_stdin = true;
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        join_ok(target_id(p.id), &j);
        T_EQ_INT(j.exit_code, 0);
        s = file_read(argv[2], &len);
        T_ASSERT(s != NULL && len == 11 && memcmp(s, "hello\0world", 11) == 0);
        free(s);
        corral_process_clear(&p);
        corral_process_clear(&j);

        /* Larger than a pipe's buffer: the daemon must feed it without blocking. */
        data = malloc(big);
        T_ASSERT(data != NULL);
        for (size_t i = 0; i < big; i++)
                data[i] = (char)(i * 7 + i / 251);
        argv[2] = harness_path(h, "stdin-big");
        o.stdin_data = data;
        o.stdin_len = big;
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        T_OK(corral_ping(c, &err), &err); /* the daemon still serves meanwhile */
        join_ok(target_id(p.id), &j);
        T_EQ_INT(j.exit_code, 0);
        s = file_read(argv[2], &len);
        T_ASSERTF(s != NULL && len == big && memcmp(s, data, big) == 0,
                  "stdin: got %zu bytes of %zu", s ? len : 0, big);
        free(s);
        free(data);
        corral_process_clear(&p);
        corral_process_clear(&j);

        /* Empty: stdin is at end of file at once. */
        argv[2] = harness_path(h, "stdin-empty");
        o.stdin_data = "";
        o.stdin_len = 0;
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        join_ok(target_id(p.id), &j);
        T_EQ_INT(j.exit_code, 0);
        s = file_read(argv[2], &len);
        T_ASSERT(s != NULL && len == 0);
        free(s);
        corral_process_clear(&p);
        corral_process_clear(&j);
        teardown();
}

/* ---- names and records --------------------------------------------------- */

static void
t_names(void)
{
        struct corral_terminate_opts o = {0, -1, true};
        const char *argv[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_process p1, p2, p3, j;
        char want[64];

        setup();
        spawn_sleeper(&p1, "web", harness_path(h, "ready1"));
        T_EQ_STR(p1.name, "web");

        /* A live name is taken. */
        struct corral_spawn_opts so;
        memset(&so, 0, sizeof so);
        so.argv = argv;
        so.name = "web";
        T_ERR(corral_spawn(c, &so, &p2, &err), &err, "exists");

        /* Look up by name. */
        T_OK(corral_info(c, target_name("web"), &j, &err), &err);
        T_EQ_INT(j.id, p1.id);
        corral_process_clear(&j);

        /* Once ended, the name can be used again and then means the newest. */
        T_OK(corral_terminate(c, target_name("web"), &o, &j, &err), &err);
        T_EQ_STR(j.state, "stopped");
        corral_process_clear(&j);
        spawn_sleeper(&p2, "web", harness_path(h, "ready2"));
        T_ASSERT(p2.id != p1.id);
        T_OK(corral_info(c, target_name("web"), &j, &err), &err);
        T_EQ_INT(j.id, p2.id);
        T_EQ_STR(j.state, "running");
        corral_process_clear(&j);
        /* The old record is still there by id. */
        T_OK(corral_info(c, target_id(p1.id), &j, &err), &err);
        T_EQ_STR(j.state, "stopped");
        T_EQ_STR(j.name, "web");
        corral_process_clear(&j);

        /* Default name: <basename>.<id>. */
        spawn_simple(c, argv, NULL, &p3);
        snprintf(want, sizeof want, "helper.%llu", (unsigned long long)p3.id);
        T_EQ_STR(p3.name, want);
        T_OK(corral_join(c, target_name(want), JOIN_WAIT, &j, &err), &err);
        T_EQ_INT(j.id, p3.id);
        corral_process_clear(&j);

        /* Not found. */
        T_ERR(corral_info(c, target_name("nosuch"), &j, &err), &err, "not_found");
        T_ERR(corral_info(c, target_id(999999), &j, &err), &err, "not_found");
        T_ERR(corral_join(c, target_name("nosuch"), 1, &j, &err), &err, "not_found");

        /* Invalid names. */
        char long_name[66];
        memset(long_name, 'x', 65);
        long_name[65] = '\0';
        const char *bad[] = {"123", "-x", ".x", "a b", "a/b", "a\xc3\xa9", long_name, NULL};
        for (size_t i = 0; bad[i] != NULL; i++) {
                so.name = bad[i];
                T_ASSERTF(corral_spawn(c, &so, &j, &err) != 0, "name \"%s\" accepted", bad[i]);
                T_ASSERTF(strcmp(err.code, "invalid_params") == 0 && strcmp(err.field, "name") == 0,
                          "name \"%s\": %s [%s] %s", bad[i], err.code, err.field, err.message);
        }
        /* 64 bytes and the whole alphabet are fine. */
        char name64[65];
        memset(name64, 'y', 64);
        memcpy(name64, "aZ09._@:+-", 10);
        name64[64] = '\0';
        so.name = name64;
        T_OK(corral_spawn(c, &so, &j, &err), &err);
        corral_process_clear(&j);

        corral_process_clear(&p1);
        corral_process_clear(&p2);
        corral_process_clear(&p3);
        teardown();
}

static void
t_list_info(void)
{
        const char *sleep_argv[] = {HELPER_PATH, "sleep", "60", NULL};
        const char *exit_argv[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_spawn_opts o;
        struct corral_process a, b, e, j, *list;
        double now = wall_now();
        size_t n;

        setup();
        memset(&o, 0, sizeof o);
        o.argv = sleep_argv;
        o.pool = "p1";
        T_OK(corral_spawn(c, &o, &a, &err), &err);
        o.pool = "p2";
        T_OK(corral_spawn(c, &o, &b, &err), &err);
        o.argv = exit_argv;
        o.pool = NULL;
        T_OK(corral_spawn(c, &o, &e, &err), &err);
        join_ok(target_id(e.id), &j);
        corral_process_clear(&j);

        T_ASSERT(a.id < b.id && b.id < e.id);
        T_EQ_STR(a.pool, "p1");
        T_EQ_STR(e.pool, "default");

        T_OK(corral_info(c, target_id(a.id), &j, &err), &err);
        T_EQ_INT(j.id, a.id);
        T_EQ_INT(j.pid, a.pid);
        T_EQ_STR(j.state, "running");
        T_EQ_STR(j.pool, "p1");
        T_ASSERT(j.argv != NULL);
        for (int i = 0; i < 3; i++)
                T_EQ_STR(j.argv[i], sleep_argv[i]);
        T_ASSERT(j.argv[3] == NULL);
        T_ASSERTF(j.started_at > now - 60 && j.started_at < now + 60, "started_at %f, now %f",
                  j.started_at, now);
        T_ASSERT(j.ended_at == 0);
        T_EQ_INT(j.exit_code, -1);
        T_EQ_INT(j.signal, 0);
        corral_process_clear(&j);

        /* All, ordered by id. */
        T_OK(corral_list(c, NULL, false, &list, &n, &err), &err);
        T_EQ_INT(n, 3);
        T_EQ_INT(list[0].id, a.id);
        T_EQ_INT(list[1].id, b.id);
        T_EQ_INT(list[2].id, e.id);
        T_EQ_STR(list[2].state, "exited");
        corral_process_list_free(list, n);

        /* One pool. */
        T_OK(corral_list(c, "p2", false, &list, &n, &err), &err);
        T_EQ_INT(n, 1);
        T_EQ_INT(list[0].id, b.id);
        corral_process_list_free(list, n);

        /* Live only. */
        T_OK(corral_list(c, NULL, true, &list, &n, &err), &err);
        T_EQ_INT(n, 2);
        T_EQ_INT(list[0].id, a.id);
        T_EQ_INT(list[1].id, b.id);
        corral_process_list_free(list, n);

        /* A pool with nobody. */
        T_OK(corral_list(c, "empty", false, &list, &n, &err), &err);
        T_EQ_INT(n, 0);
        corral_process_list_free(list, n);

        corral_process_clear(&a);
        corral_process_clear(&b);
        corral_process_clear(&e);
        teardown();
}

/* ---- process.signal ------------------------------------------------------ */

static void
t_signal(void)
{
        struct corral_process p, j;

        setup();
        spawn_sleeper(&p, "sig", harness_path(h, "ready"));
        T_OK(corral_signal(c, target_name("sig"), SIGUSR1, false, &err), &err);
        join_ok(target_id(p.id), &j);
        T_EQ_STR(j.state, "killed");
        T_EQ_INT(j.signal, SIGUSR1);
        corral_process_clear(&j);

        /* An ended process cannot be signalled. */
        T_ERR(corral_signal(c, target_id(p.id), SIGUSR1, false, &err), &err, "not_running");
        T_ERR(corral_signal(c, target_name("nosuch"), SIGUSR1, false, &err), &err, "not_found");
        corral_process_clear(&p);
        teardown();
}

static void
t_signal_group(void)
{
        const char *args[] = {"grandchild", NULL, "60", NULL};
        struct corral_process p, j;
        pid_t gpid;

        setup();
        args[1] = harness_path(h, "gc.pid");
        spawn_helper(&p, NULL, args);
        gpid = read_pidfile(args[1]);
        T_OK(corral_signal(c, target_id(p.id), SIGUSR1, true, &err), &err);
        join_ok(target_id(p.id), &j);
        T_EQ_STR(j.state, "killed");
        T_EQ_INT(j.signal, SIGUSR1);
        T_ASSERT(wait_pid_gone(gpid, h->pid, 10));
        corral_process_clear(&j);
        corral_process_clear(&p);
        teardown();
}

/* ---- pinned records: a spawner's join never misses its child's end ------ */

/* corrald --history HISTORY, and [daemon] max_pinned = MAX_PINNED unless it is negative. */
static void
setup_pinning(const char *history, int max_pinned)
{
        const char *args[] = {"--history", history, NULL, NULL, NULL};
        char conf[512];
        FILE *f;

        h = harness_new();
        if (max_pinned >= 0) {
                snprintf(conf, sizeof conf, "%s", harness_path(h, "corrald.conf"));
                f = fopen(conf, "w");
                T_ASSERT(f != NULL);
                fprintf(f, "[daemon]\nmax_pinned = %d\n", max_pinned);
                T_ASSERT(fclose(f) == 0);
                args[2] = "--config";
                args[3] = conf;
        }
        harness_launch(h, args);
        c = harness_connect(h);
}

/* A number of daemon.stats: key, or key.sub. */
static uint64_t
stats_get(const char *key, const char *sub)
{
        struct corral_result res;
        const msgpack_object *v;
        uint64_t n;

        T_OK(corral_call(c, "daemon.stats", NULL, 0, &res, &err), &err);
        v = obj_get(&res.obj, key);
        if (v != NULL && sub != NULL)
                v = obj_get(v, sub);
        T_ASSERTF(v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
                  "daemon.stats has no number %s%s%s", key, sub != NULL ? "." : "",
                  sub != NULL ? sub : "");
        n = v->via.u64;
        corral_result_free(&res);
        return n;
}

struct pin_probe {
        struct corral *conn;
        uint64_t id;
};

/* The record is in a final state, seen through process.info (never a join). */
static bool
record_ended(void *arg)
{
        struct pin_probe *pp = arg;
        struct corral_process r;
        bool ended;

        T_OK(corral_info(pp->conn, target_id(pp->id), &r, &err), &err);
        ended = r.ended_at > 0;
        corral_process_clear(&r);
        return ended;
}

static void
wait_record_ended(struct corral *conn, uint64_t id)
{
        struct pin_probe pp = {conn, id};

        T_ASSERTF(wait_until(record_ended, &pp, JOIN_WAIT), "process %llu did not end",
                  (unsigned long long)id);
}

static bool
record_gone(void *arg)
{
        struct pin_probe *pp = arg;
        struct corral_process r;

        if (corral_info(pp->conn, target_id(pp->id), &r, &err) != 0)
                return strcmp(err.code, "not_found") == 0;
        corral_process_clear(&r);
        return false;
}

static bool
nothing_pinned(void *arg)
{
        return stats_get("pinned", NULL) == 0;
}

/* n processes spawned and joined through conn: n records enter the history. */
static void
churn(struct corral *conn, int n)
{
        const char *argv[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_process p, j;

        for (int i = 0; i < n; i++) {
                spawn_simple(conn, argv, NULL, &p);
                T_OK(corral_join(conn, target_id(p.id), JOIN_WAIT, &j, &err), &err);
                corral_process_clear(&j);
                corral_process_clear(&p);
        }
}

/* Twelve other processes end after it, history 5: its spawner's join still gets exit 7. */
static void
t_pin_join_after_history(void)
{
        const char *args[] = {"exit", "7", NULL};
        struct corral_process p, j;
        struct corral *b;

        setup_pinning("5", -1);
        b = harness_connect(h);
        spawn_helper(&p, NULL, args);
        wait_record_ended(c, p.id);
        T_EQ_INT(stats_get("pinned", NULL), 1);
        T_EQ_INT(stats_get("max_pinned_per_connection", NULL), 1024);
        churn(b, 12);
        T_EQ_INT(stats_get("history", "used"), 5);
        T_EQ_INT(stats_get("history", "limit"), 5);
        /* Another connection's join sees it too, and leaves it pinned. */
        T_OK(corral_join(b, target_id(p.id), 0, &j, &err), &err);
        T_EQ_INT(j.exit_code, 7);
        corral_process_clear(&j);
        T_EQ_INT(stats_get("pinned", NULL), 1);
        /* The spawner's join collects it... */
        join_ok(target_id(p.id), &j);
        T_EQ_STR(j.state, "exited");
        T_EQ_INT(j.exit_code, 7);
        corral_process_clear(&j);
        T_EQ_INT(stats_get("pinned", NULL), 0);
        /* ...and it is ordinary history, the newest: five more endings evict it. */
        churn(b, 4);
        T_OK(corral_info(c, target_id(p.id), &j, &err), &err);
        corral_process_clear(&j);
        churn(b, 1);
        T_ERR(corral_join(c, target_id(p.id), 0, &j, &err), &err, "not_found");
        corral_process_clear(&p);
        corral_close(b);
        teardown();
}

/* The spawner closes: its pins become ordinary history, evicted oldest first. */
static void
t_pin_released_on_close(void)
{
        const char *argv[] = {HELPER_PATH, "exit", "7", NULL};
        struct corral_process p, j;
        struct corral *a;

        setup_pinning("5", -1);
        a = harness_connect(h);
        spawn_simple(a, argv, NULL, &p);
        wait_record_ended(a, p.id);
        churn(c, 6);
        T_OK(corral_info(c, target_id(p.id), &j, &err), &err);
        T_EQ_INT(j.exit_code, 7);
        corral_process_clear(&j);
        corral_close(a);
        T_ASSERTF(wait_until(nothing_pinned, NULL, JOIN_WAIT),
                  "still pinned after its spawner left");
        churn(c, 4);
        T_OK(corral_info(c, target_id(p.id), &j, &err), &err);
        corral_process_clear(&j);
        churn(c, 1);
        T_ERR(corral_join(c, target_id(p.id), 0, &j, &err), &err, "not_found");
        corral_process_clear(&p);
        teardown();
}

/* max_pinned = 2: a third record that ends releases the oldest pin (history 0: evicted). */
static void
t_pin_bound(void)
{
        struct corral_process p[3], j;
        char code[3][4];

        setup_pinning("0", 2);
        T_EQ_INT(stats_get("max_pinned_per_connection", NULL), 2);
        for (int i = 0; i < 3; i++) {
                const char *args[] = {"exit", code[i], NULL};

                snprintf(code[i], sizeof code[i], "%d", i + 1);
                spawn_helper(&p[i], NULL, args);
                wait_record_ended(c, p[i].id);
                T_EQ_INT(stats_get("pinned", NULL), i < 2 ? i + 1 : 2);
        }
        T_ERR(corral_join(c, target_id(p[0].id), 0, &j, &err), &err, "not_found");
        for (int i = 1; i < 3; i++) {
                join_ok(target_id(p[i].id), &j);
                T_EQ_INT(j.exit_code, i + 1);
                corral_process_clear(&j);
        }
        T_EQ_INT(stats_get("pinned", NULL), 0);
        T_EQ_INT(stats_get("history", "used"), 0);
        for (int i = 0; i < 3; i++)
                corral_process_clear(&p[i]);
        teardown();
}

/* max_pinned = 0 turns pinning off: with history 0 the record goes as it ends. */
static void
t_pin_disabled(void)
{
        const char *args[] = {"exit", "7", NULL};
        struct corral_process p, j;
        struct pin_probe pp;

        setup_pinning("0", 0);
        spawn_helper(&p, NULL, args);
        pp.conn = c;
        pp.id = p.id;
        T_ASSERTF(wait_until(record_gone, &pp, JOIN_WAIT), "the record was kept");
        T_ERR(corral_join(c, target_id(p.id), 0, &j, &err), &err, "not_found");
        T_EQ_INT(stats_get("pinned", NULL), 0);
        corral_process_clear(&p);
        teardown();
}

/* Started again by another client, deleted pool: still the spawner's, pinned when it ends. */
static void
t_pin_restart_pool_delete(void)
{
        const char *argv[] = {HELPER_PATH, "exit", "7", NULL};
        struct corral_spawn_opts o;
        struct corral_process p, j;
        struct corral *b;

        setup_pinning("3", -1);
        b = harness_connect(h);
        memset(&o, 0, sizeof o);
        o.argv = argv;
        o.pool = "pinpool";
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        wait_record_ended(c, p.id);
        T_EQ_INT(stats_get("pinned", NULL), 1);
        T_OK(corral_start(b, target_id(p.id), false, &j, &err), &err);
        corral_process_clear(&j);
        wait_record_ended(c, p.id);
        T_EQ_INT(stats_get("pinned", NULL), 1);
        T_OK(corral_pool_delete(b, "pinpool", &err), &err);
        churn(b, 5);
        join_ok(target_id(p.id), &j);
        T_EQ_INT(j.exit_code, 7);
        T_EQ_INT(j.restarts, 1);
        T_EQ_STR(j.pool, "pinpool");
        corral_process_clear(&j);
        T_EQ_INT(stats_get("pinned", NULL), 0);
        corral_process_clear(&p);
        corral_close(b);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(spawn_exit_codes),
    TEST_CASE(signal_deaths),
    TEST_CASE(join_timeout),
    TEST_CASE(terminate_escalates),
    TEST_CASE(terminate_wait),
    TEST_CASE(terminate_right_after_spawn),
    TEST_CASE(terminate_grandchild),
    TEST_CASE(terminate_grandchild_ignoring_term),
    TEST_CASE(reap_1000),
    TEST_CASE(spawn_missing),
    TEST_CASE(spawn_not_executable),
    TEST_CASE(spawn_bad_cwd),
    TEST_CASE(fds_not_leaked),
    TEST_CASE(child_clean_state),
    TEST_CASE(env),
    TEST_CASE(env_clear),
    TEST_CASE(cwd),
    TEST_CASE(stdin),
    TEST_CASE(names),
    TEST_CASE(list_info),
    TEST_CASE(signal),
    TEST_CASE(signal_group),
    TEST_CASE(pin_join_after_history),
    TEST_CASE(pin_released_on_close),
    TEST_CASE(pin_bound),
    TEST_CASE(pin_disabled),
    TEST_CASE(pin_restart_pool_delete),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
