/*
 * test_systemd.c -- corrald under systemd, without systemd: the sd_notify
 * protocol through a datagram socket the test binds ($NOTIFY_SOCKET), the
 * watchdog, what children inherit, socket activation (by
 * systemd-socket-activate and by LISTEN_FDS set by hand) and journald's
 * priority prefixes.
 *
 * Timing checks use only bounds that a slow machine cannot break: a timer
 * can be late, never early, so counts have upper bounds from elapsed time
 * and generous lower bounds.
 *
 * Each case starts its own corrald; `test_systemd CASE` runs one.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_support.h"

#define SOCKET_ACTIVATE "/usr/bin/systemd-socket-activate"

static struct corral_error err;

static void
stop_and_free(struct harness *h, struct corral *c)
{
        corral_close(c);
        harness_stop(h);
        harness_free(h);
}

/* Spawn `helper MODE FILE` and wait for FILE; returns its contents (malloc'd). */
static char *
helper_report(struct corral *c, const char *mode, const char *file)
{
        const char *argv[] = {HELPER_PATH, mode, file, NULL};
        struct corral_process p;
        char *text;

        spawn_simple(c, argv, NULL, &p);
        corral_process_clear(&p);
        T_ASSERTF(wait_file(file, CFG_WAIT), "helper %s never wrote %s", mode, file);
        text = file_read(file, NULL);
        T_ASSERT(text != NULL);
        return text;
}

/* Whether an env dump (one K=V per line) has a line starting with prefix. */
static bool
env_has(const char *env, const char *prefix)
{
        size_t len = strlen(prefix);

        for (const char *p = env; *p != '\0';) {
                if (strncmp(p, prefix, len) == 0)
                        return true;
                p = strchr(p, '\n');
                if (p == NULL)
                        break;
                p++;
        }
        return false;
}

/* ---- the notify protocol ------------------------------------------------- */

/*
 * READY=1 comes with a STATUS= in one datagram, once, and only once the
 * socket accepts connections. No WATCHDOG=1 without WATCHDOG_USEC.
 */
static void
t_notify_ready(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *argv[] = {CORRALD_PATH,
                              "--socket",
                              h->sock,
                              "--config",
                              "/dev/null",
                              "--state-dir",
                              harness_path(h, "state"),
                              "--log-level",
                              "debug",
                              NULL};
        const char *env[] = {ns->env, NULL};
        struct corral *c;
        int ready;

        cfg_exec_daemon(h, argv, env, -1, false);
        ready = cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT);
        T_ASSERTF(ready >= 0, "no READY=1 within %.0f s:%s", CFG_WAIT, cfg_notify_dump(ns));
        /* READY means listening: a connection must succeed now, without waiting. */
        T_ASSERTF(harness_can_connect(h->sock), "READY=1 was sent before %s accepted connections",
                  h->sock);
        T_ASSERTF(cfg_msg_has(ns->msgs[ready].text, "STATUS="),
                  "READY=1 came without STATUS=: \"%s\"", ns->msgs[ready].text);
        T_ASSERTF(strlen(cfg_msg_value(ns->msgs[ready].text, "STATUS")) > 0, "empty STATUS=");
        c = harness_connect(h);
        T_OK(corral_ping(c, &err), &err);
        /* Nothing else is due: no second READY, no watchdog. */
        cfg_notify_read(ns, 0.5);
        T_EQ_INT(cfg_notify_count(ns, 0, "READY=1"), 1);
        T_ASSERTF(cfg_notify_count(ns, 0, "WATCHDOG=1") == 0, "WATCHDOG=1 without WATCHDOG_USEC:%s",
                  cfg_notify_dump(ns));
        stop_and_free(h, c);
        cfg_notify_free(ns);
}

/*
 * STATUS= follows the counts: a spawn changes it within a few seconds;
 * updates come at most once per second however busy the daemon is.
 */
static void
t_notify_status(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *env[] = {ns->env, NULL};
        const char *sleeper[] = {HELPER_PATH, "sleep", "60", NULL};
        const char *quick[] = {HELPER_PATH, "exit", "0", NULL};
        char first[1024];
        struct corral_process p, j;
        struct corral *c;
        double t_ready, t_end;
        size_t updates = 0;
        int ready, idx;

        cfg_launch(h, NULL, NULL, env);
        ready = cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT);
        T_ASSERTF(ready >= 0, "no READY=1:%s", cfg_notify_dump(ns));
        t_ready = ns->msgs[ready].t;
        snprintf(first, sizeof first, "%s", cfg_msg_value(ns->msgs[ready].text, "STATUS"));
        c = harness_connect(h);

        spawn_simple(c, sleeper, "sleeper", &p);
        corral_process_clear(&p);
        idx = cfg_notify_wait(ns, (size_t)ready + 1, "STATUS=", CFG_WAIT);
        T_ASSERTF(idx >= 0, "no STATUS= update within %.0f s of a spawn:%s", CFG_WAIT,
                  cfg_notify_dump(ns));
        T_ASSERTF(strcmp(cfg_msg_value(ns->msgs[idx].text, "STATUS"), first) != 0,
                  "the STATUS= after a spawn is unchanged: \"%s\"", first);
        T_ASSERTF(!cfg_msg_has(ns->msgs[idx].text, "READY=1"), "a spawn sent READY=1 again");

        /* Many changes in ~2 s: the updates are rate-limited. */
        for (int i = 0; i < 20; i++) {
                spawn_simple(c, quick, NULL, &p);
                T_OK(corral_join(c, target_id(p.id), CFG_WAIT, &j, &err), &err);
                corral_process_clear(&j);
                corral_process_clear(&p);
                cfg_notify_read(ns, 0.1);
        }
        cfg_notify_read(ns, 1.5);
        t_end = now_mono();
        for (size_t i = (size_t)ready + 1; i < ns->n; i++) {
                if (cfg_msg_has(ns->msgs[i].text, "STATUS=") &&
                    !cfg_msg_has(ns->msgs[i].text, "READY=1"))
                        updates++;
        }
        /* A one-second timer fires at most (elapsed + 1) times; one more for slack. */
        T_ASSERTF((double)updates <= (t_end - t_ready) + 2,
                  "%zu STATUS= updates in %.1f s: more than one a second:%s", updates,
                  t_end - t_ready, cfg_notify_dump(ns));
        stop_and_free(h, c);
        cfg_notify_free(ns);
}

/* RELOADING=1, then READY=1, around daemon.reload and around SIGHUP. */
static void
t_notify_reload(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *env[] = {ns->env, NULL};
        const char *conf = harness_path(h, "corrald.conf");
        char confbuf[512];
        struct corral *c;
        int ready, reloading, again;

        snprintf(confbuf, sizeof confbuf, "%s", conf);
        cfg_write(confbuf, "[queue:q1]\nmaxsize = 10\n");
        cfg_launch(h, confbuf, NULL, env);
        ready = cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT);
        T_ASSERTF(ready >= 0, "no READY=1:%s", cfg_notify_dump(ns));
        c = harness_connect(h);

        cfg_write(confbuf, "[queue:q1]\nmaxsize = 10\n[queue:q2]\n");
        T_OK(cfg_reload(c, &err), &err);
        T_ASSERT(cfg_queue_exists(c, "q2"));
        reloading = cfg_notify_wait(ns, (size_t)ready + 1, "RELOADING=1", CFG_WAIT);
        T_ASSERTF(reloading >= 0, "no RELOADING=1 for daemon.reload:%s", cfg_notify_dump(ns));
        again = cfg_notify_wait(ns, (size_t)reloading + 1, "READY=1", CFG_WAIT);
        T_ASSERTF(again >= 0, "no READY=1 after RELOADING=1:%s", cfg_notify_dump(ns));
        T_ASSERTF(cfg_notify_count(ns, (size_t)ready + 1, "READY=1") >= 1 &&
                      cfg_notify_wait(ns, (size_t)ready + 1, "READY=1", 0) > reloading,
                  "READY=1 came before RELOADING=1:%s", cfg_notify_dump(ns));

        /* The same for SIGHUP. */
        cfg_write(confbuf, "[queue:q1]\nmaxsize = 10\n[queue:q2]\n[queue:q3]\n");
        T_ASSERT(kill(h->pid, SIGHUP) == 0);
        reloading = cfg_notify_wait(ns, (size_t)again + 1, "RELOADING=1", CFG_WAIT);
        T_ASSERTF(reloading >= 0, "no RELOADING=1 for SIGHUP:%s", cfg_notify_dump(ns));
        T_ASSERTF(cfg_notify_wait(ns, (size_t)reloading + 1, "READY=1", CFG_WAIT) >= 0,
                  "no READY=1 after SIGHUP's RELOADING=1:%s", cfg_notify_dump(ns));
        T_ASSERT(cfg_queue_exists(c, "q3"));
        stop_and_free(h, c);
        cfg_notify_free(ns);
}

/* STOPPING=1 with STATUS=stopping when SIGTERM stops the daemon. */
static void
t_notify_stopping(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *env[] = {ns->env, NULL};
        const char *sleeper[] = {HELPER_PATH, "sleep", "60", NULL};
        struct corral_process p;
        struct corral *c;
        int ready, stopping;

        cfg_launch(h, NULL, NULL, env);
        ready = cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT);
        T_ASSERTF(ready >= 0, "no READY=1:%s", cfg_notify_dump(ns));
        c = harness_connect(h);
        spawn_simple(c, sleeper, "sleeper", &p);
        corral_process_clear(&p);
        T_ASSERTF(cfg_notify_count(ns, 0, "STOPPING=1") == 0, "STOPPING=1 before stopping:%s",
                  cfg_notify_dump(ns));
        stop_and_free(h, c);
        /* The datagrams wait in our socket after the daemon has gone. */
        stopping = cfg_notify_wait(ns, (size_t)ready + 1, "STOPPING=1", 5);
        T_ASSERTF(stopping >= 0, "no STOPPING=1:%s", cfg_notify_dump(ns));
        T_ASSERTF(cfg_msg_has(ns->msgs[stopping].text, "STATUS=stopping"),
                  "STOPPING=1 without STATUS=stopping: \"%s\"", ns->msgs[stopping].text);
        T_EQ_INT(cfg_notify_count(ns, 0, "STOPPING=1"), 1);
        cfg_notify_free(ns);
}

/*
 * WATCHDOG_USEC=200000: WATCHDOG=1 every 100 ms. The timer starts in the
 * daemon, so no ping can come sooner than 100 ms after the fork, and at
 * most one per 100 ms of elapsed time (plus slack) can come at all; a
 * loaded machine may delay pings, so the lower bound is a tenth of the
 * expected count.
 */
static void
t_watchdog(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *env[] = {ns->env, "WATCHDOG_USEC=200000", NULL};
        struct corral *c;
        double t_fork, t_end, first = -1;
        size_t pings = 0;
        int ready;

        t_fork = now_mono();
        cfg_launch(h, NULL, NULL, env);
        ready = cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT);
        T_ASSERTF(ready >= 0, "no READY=1:%s", cfg_notify_dump(ns));
        c = harness_connect(h);
        /* Collect for 3 s. */
        for (double until = now_mono() + 3; now_mono() < until;)
                cfg_notify_read(ns, until - now_mono());
        t_end = now_mono();
        for (size_t i = 0; i < ns->n; i++) {
                if (!cfg_msg_has(ns->msgs[i].text, "WATCHDOG=1"))
                        continue;
                T_ASSERTF(strcmp(ns->msgs[i].text, "WATCHDOG=1") == 0 ||
                              strcmp(ns->msgs[i].text, "WATCHDOG=1\n") == 0,
                          "a watchdog ping with more in it: \"%s\"", ns->msgs[i].text);
                if (first < 0)
                        first = ns->msgs[i].t;
                pings++;
        }
        T_ASSERTF(pings >= 3, "only %zu WATCHDOG=1 in %.1f s (expected ~%.0f)", pings,
                  t_end - t_fork, (t_end - t_fork) / 0.1);
        T_ASSERTF(first - t_fork >= 0.09,
                  "the first WATCHDOG=1 came %.3f s after the start, "
                  "sooner than half of WATCHDOG_USEC",
                  first - t_fork);
        T_ASSERTF((double)pings <= (t_end - t_fork) / 0.1 + 2,
                  "%zu WATCHDOG=1 in %.2f s: more often than every 100 ms", pings, t_end - t_fork);
        stop_and_free(h, c);
        cfg_notify_free(ns);
}

/* WATCHDOG_PID names another process: the watchdog is not ours, no pings. */
static void
t_watchdog_other_pid(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *env[] = {ns->env, "WATCHDOG_USEC=200000", "WATCHDOG_PID=1", NULL};
        struct corral *c;
        int ready;

        cfg_launch(h, NULL, NULL, env);
        ready = cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT);
        T_ASSERTF(ready >= 0, "no READY=1:%s", cfg_notify_dump(ns));
        c = harness_connect(h);
        for (double until = now_mono() + 1.5; now_mono() < until;)
                cfg_notify_read(ns, until - now_mono());
        T_ASSERTF(cfg_notify_count(ns, 0, "WATCHDOG=1") == 0,
                  "WATCHDOG=1 sent although WATCHDOG_PID is another process's:%s",
                  cfg_notify_dump(ns));
        stop_and_free(h, c);
        cfg_notify_free(ns);
}

/* Children inherit neither NOTIFY_SOCKET nor WATCHDOG_*; the rest of the environment they do. */
static void
t_child_env(void)
{
        struct harness *h = harness_new();
        struct cfg_notify *ns = cfg_notify_new(h);
        const char *env[] = {ns->env, "WATCHDOG_USEC=30000000", "CFG_KEEP=yes", NULL};
        struct corral *c;
        char *text;

        cfg_launch(h, NULL, NULL, env);
        T_ASSERTF(cfg_notify_wait(ns, 0, "READY=1", CFG_WAIT) >= 0, "no READY=1:%s",
                  cfg_notify_dump(ns));
        c = harness_connect(h);
        text = helper_report(c, "env", harness_path(h, "env.txt"));
        T_ASSERTF(env_has(text, "CFG_KEEP=yes"), "the daemon's environment is not inherited:\n%s",
                  text);
        T_ASSERTF(!env_has(text, ns->env), "a child inherited %s", ns->env);
        T_ASSERTF(!env_has(text, "WATCHDOG_USEC="), "a child inherited WATCHDOG_USEC:\n%s", text);
        T_ASSERTF(!env_has(text, "WATCHDOG_PID="), "a child inherited WATCHDOG_PID:\n%s", text);
        free(text);
        /* A child that is to notify gets corrald's own socket, never systemd's. */
        {
                const char *file = harness_path(h, "env-notify.txt");
                const char *argv[] = {HELPER_PATH, "env", file, NULL};
                struct corral_spawn_opts o;
                struct corral_process p;

                memset(&o, 0, sizeof o);
                o.argv = argv;
                o.policy.ready = CORRAL_READY_NOTIFY;
                T_OK(corral_spawn(c, &o, &p, &err), &err);
                corral_process_clear(&p);
                T_ASSERTF(wait_file(file, CFG_WAIT), "helper env never wrote %s", file);
                text = file_read(file, NULL);
                T_ASSERT(text != NULL);
                T_ASSERTF(!env_has(text, ns->env), "a ready=notify child got systemd's %s",
                          ns->env);
                free(text);
        }
        /* And the daemon still talks to systemd after the spawn (its copy is kept). */
        T_OK(corral_shutdown(c, &err), &err);
        T_ASSERTF(cfg_notify_wait(ns, 0, "STOPPING=1", CFG_WAIT) >= 0,
                  "no STOPPING=1 after daemon.shutdown:%s", cfg_notify_dump(ns));
        T_ASSERT(harness_wait_exit(h, CFG_WAIT));
        stop_and_free(h, c);
        cfg_notify_free(ns);
}

/* ---- socket activation ----------------------------------------------------- */

/* What a socket-activated daemon's children must not see: the socket or LISTEN_*. */
static void
check_child_clean(struct harness *h, struct corral *c)
{
        char *text;

        text = helper_report(c, "env", harness_path(h, "env.txt"));
        T_ASSERTF(!env_has(text, "LISTEN_FDS=") && !env_has(text, "LISTEN_PID=") &&
                      !env_has(text, "LISTEN_FDNAMES="),
                  "a child inherited LISTEN_*:\n%s", text);
        free(text);
        text = helper_report(c, "fds", harness_path(h, "fds.txt"));
        T_ASSERTF(strstr(text, "socket:") == NULL, "a child inherited a socket:\n%s", text);
        free(text);
}

/* systemd-socket-activate -l PATH corrald: the daemon takes the socket it is given. */
static void
t_activate_tool(void)
{
        struct harness *h;
        struct corral_hello hello;
        struct corral *c;
        char lock[512], unused[512];
        struct stat st;

        if (access(SOCKET_ACTIVATE, X_OK) != 0) {
                printf("SKIP: %s is not installed (Debian's systemd package)\n", SOCKET_ACTIVATE);
                exit(77);
        }
        h = harness_new();
        snprintf(lock, sizeof lock, "%s.lock", h->sock);
        snprintf(unused, sizeof unused, "%s", harness_path(h, "unused.sock"));
        {
                const char *argv[] = {SOCKET_ACTIVATE,
                                      "-l",
                                      h->sock,
                                      CORRALD_PATH,
                                      "--socket",
                                      unused,
                                      "--config",
                                      "/dev/null",
                                      "--state-dir",
                                      harness_path(h, "state"),
                                      "--log-level",
                                      "debug",
                                      NULL};

                cfg_exec_daemon(h, argv, NULL, -1, false);
        }
        T_ASSERTF(wait_file(h->sock, CFG_WAIT), "systemd-socket-activate made no %s", h->sock);
        /* The first connection makes systemd-socket-activate exec corrald (same pid). */
        cfg_wait_serving(h, h->sock, CFG_WAIT);
        c = harness_connect(h);
        memset(&hello, 0, sizeof hello);
        T_OK(corral_hello(c, &hello, &err), &err);
        T_EQ_INT(hello.pid, h->pid);
        corral_hello_clear(&hello);
        T_ASSERTF(!file_exists(unused), "corrald bound --socket %s besides the passed socket",
                  unused);
        T_ASSERTF(!file_exists(lock), "corrald took the lock %s for a passed socket", lock);
        {
                char ul[600];

                snprintf(ul, sizeof ul, "%s.lock", unused);
                T_ASSERTF(!file_exists(ul), "corrald took the lock %s for a passed socket", ul);
        }
        check_child_clean(h, c);
        corral_close(c);
        harness_stop(h);
        T_ASSERTF(lstat(h->sock, &st) == 0 && S_ISSOCK(st.st_mode),
                  "the passed socket %s was removed at exit", h->sock);
        harness_free(h);
}

/* LISTEN_FDS=1 and LISTEN_PID set by the test in the child, before exec. */
static void
t_activate_env(void)
{
        struct harness *h = harness_new();
        char unused[512], lock[600];
        struct corral_hello hello;
        struct corral *c;
        struct stat st;
        int fd;

        snprintf(unused, sizeof unused, "%s", harness_path(h, "unused.sock"));
        snprintf(lock, sizeof lock, "%s.lock", unused);
        fd = cfg_listen_socket(h->sock);
        {
                const char *argv[] = {CORRALD_PATH,
                                      "--socket",
                                      unused,
                                      "--config",
                                      "/dev/null",
                                      "--state-dir",
                                      harness_path(h, "state"),
                                      "--log-level",
                                      "debug",
                                      NULL};

                cfg_exec_daemon(h, argv, NULL, fd, true);
        }
        close(fd); /* the daemon's copy is the only one now */
        cfg_wait_serving(h, h->sock, CFG_WAIT);
        c = harness_connect(h);
        memset(&hello, 0, sizeof hello);
        T_OK(corral_hello(c, &hello, &err), &err);
        T_EQ_INT(hello.pid, h->pid);
        corral_hello_clear(&hello);
        T_ASSERTF(!file_exists(unused), "corrald bound --socket %s besides the passed socket",
                  unused);
        T_ASSERTF(!file_exists(lock), "corrald took the lock %s for a passed socket", lock);
        check_child_clean(h, c);
        /* Many connections at once work on the passed socket too. */
        {
                struct corral *more[8];

                for (int i = 0; i < 8; i++) {
                        more[i] = harness_connect(h);
                        T_OK(corral_ping(more[i], &err), &err);
                }
                for (int i = 0; i < 8; i++)
                        corral_close(more[i]);
        }
        corral_close(c);
        harness_stop(h);
        T_ASSERTF(lstat(h->sock, &st) == 0 && S_ISSOCK(st.st_mode),
                  "the passed socket %s was removed at exit", h->sock);
        harness_free(h);
}

/* LISTEN_PID names another process: fd 3 is not for us; corrald binds its own socket. */
static void
t_activate_other_pid(void)
{
        struct harness *h = harness_new();
        char passed[512];
        struct corral *c;
        int fd;

        snprintf(passed, sizeof passed, "%s", harness_path(h, "passed.sock"));
        fd = cfg_listen_socket(passed);
        {
                const char *argv[] = {CORRALD_PATH,
                                      "--socket",
                                      h->sock,
                                      "--config",
                                      "/dev/null",
                                      "--state-dir",
                                      harness_path(h, "state"),
                                      "--log-level",
                                      "debug",
                                      NULL};

                cfg_exec_daemon(h, argv, NULL, fd, false);
        }
        close(fd);
        cfg_wait_serving(h, h->sock, CFG_WAIT);
        c = harness_connect(h);
        /* Its children get neither LISTEN_* nor the stray descriptor. */
        check_child_clean(h, c);
        corral_close(c);
        harness_stop(h);
        T_ASSERTF(!file_exists(h->sock), "corrald's own socket %s stayed after exit", h->sock);
        harness_free(h);
}

/* ---- logging ---------------------------------------------------------------- */

/* Every non-empty line of text starts with "<N>" for a priority in allowed. */
static void
check_prefixed(const char *text, const char *allowed, const char *what)
{
        for (const char *p = text; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t l = e != NULL ? (size_t)(e - p) : strlen(p);

                if (l > 0)
                        T_ASSERTF(l >= 3 && p[0] == '<' && p[2] == '>' && p[1] != '\0' &&
                                      strchr(allowed, p[1]) != NULL,
                                  "%s: a log line without a priority prefix <%s>: \"%.*s\"", what,
                                  allowed, (int)l, p);
                if (e == NULL)
                        break;
                p = e + 1;
        }
}

/*
 * With JOURNAL_STREAM set, every line starts with a syslog priority (<3>
 * error, <4> warn, <6> info, <7> debug), and --log-level filters them.
 */
static void
t_journal_prefix_levels(void)
{
        struct harness *h = harness_new();
        const char *env[] = {"JOURNAL_STREAM=8:123456", NULL};
        const char *sleeper[] = {HELPER_PATH, "sleep", "60", NULL};
        struct corral_process p;
        struct corral *c;
        char *log;

        cfg_launch(h, NULL, NULL, env);
        c = harness_connect(h);
        spawn_simple(c, sleeper, "sleeper", &p);
        corral_process_clear(&p);
        corral_close(c);
        harness_stop(h);
        log = file_read(h->log, NULL);
        T_ASSERT(log != NULL);
        check_prefixed(log, "3467", "JOURNAL_STREAM set");
        T_ASSERTF(strstr(log, "<6>") != NULL, "no info line (<6>) at --log-level debug:\n%s", log);
        T_ASSERTF(strstr(log, "<7>") != NULL, "no debug line (<7>) at --log-level debug:\n%s", log);
        free(log);
        harness_free(h);

        /* --log-level warn (the last option wins): no info or debug lines. */
        h = harness_new();
        {
                const char *extra[] = {"--log-level", "warn", NULL};

                cfg_launch(h, NULL, extra, env);
        }
        c = harness_connect(h);
        spawn_simple(c, sleeper, "sleeper", &p);
        corral_process_clear(&p);
        corral_close(c);
        harness_stop(h);
        log = file_read(h->log, NULL);
        T_ASSERT(log != NULL);
        check_prefixed(log, "34", "--log-level warn");
        free(log);
        harness_free(h);
}

/* Without JOURNAL_STREAM, lines carry an ISO 8601 timestamp. */
static void
t_log_timestamps(void)
{
        struct harness *h = harness_new();
        struct corral *c;
        char *log;
        int lines = 0;

        unsetenv("JOURNAL_STREAM"); /* CTest itself may run under systemd */
        harness_launch(h, NULL);
        c = harness_connect(h);
        T_OK(corral_ping(c, &err), &err);
        corral_close(c);
        harness_stop(h);
        log = file_read(h->log, NULL);
        T_ASSERT(log != NULL);
        for (const char *p = log; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
                int y, mo, d, hh, mm, ss;
                char t;

                if (l > 0) {
                        T_ASSERTF(sscanf(p, "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &hh, &mm,
                                         &ss) == 7 &&
                                      t == 'T' && y >= 2000 && mo >= 1 && mo <= 12,
                                  "a log line without an ISO timestamp: \"%.*s\"", (int)l, p);
                        T_ASSERTF(p[0] != '<', "a priority prefix without JOURNAL_STREAM: \"%.*s\"",
                                  (int)l, p);
                        lines++;
                }
                if (e == NULL)
                        break;
                p = e + 1;
        }
        T_ASSERTF(lines > 0, "corrald logged nothing at --log-level debug");
        free(log);
        harness_free(h);
}

static const struct test_case cases[] = {
    TEST_CASE(notify_ready),
    TEST_CASE(notify_status),
    TEST_CASE(notify_reload),
    TEST_CASE(notify_stopping),
    TEST_CASE(watchdog),
    TEST_CASE(watchdog_other_pid),
    TEST_CASE(child_env),
    TEST_CASE(activate_tool),
    TEST_CASE(activate_env),
    TEST_CASE(activate_other_pid),
    TEST_CASE(journal_prefix_levels),
    TEST_CASE(log_timestamps),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
