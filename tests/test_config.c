/*
 * test_config.c -- corrald's configuration file: parsing (every key, every
 * kind of error with its file and line, --check-config), what exists at
 * start-up, conf.d drop-ins, reloads (daemon.reload and SIGHUP) applying
 * only the difference, and the privileges a pool's members run with.
 *
 * Each case starts its own corrald (or only runs --check-config);
 * `test_config CASE` runs one.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg_support.h"

#define CHILD CFG_CHILD_PATH

static struct harness *h;
static struct corral *c;
static struct corral_error err;
static char conf[512];

/* A directory and the path of its corrald.conf; no daemon yet. */
static void
setup_dir(void)
{
        h = harness_new();
        snprintf(conf, sizeof conf, "%s/corrald.conf", h->dir);
}

/* corrald --config conf, with conf already written, and a connection. */
static void
start(void)
{
        cfg_launch(h, conf, NULL, NULL);
        c = harness_connect(h);
}

static void
finish(void)
{
        corral_close(c);
        c = NULL;
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

static void
skip(const char *why)
{
        printf("SKIP: %s\n", why);
        exit(77);
}

/* Output of a run, stdout and stderr together, for messages. */
static char *
run_output(const struct run_result *r)
{
        char *s = NULL;

        T_ASSERT(asprintf(&s, "%s%s", r->out, r->err) >= 0);
        return s;
}

/* ---- parsing and --check-config ------------------------------------------- */

/* A file with every key of every section is valid. */
static void
t_check_all_keys(void)
{
        struct run_result r;

        setup_dir();
        cfg_write(conf,
                  "; every key corrald.conf knows\n"
                  "# a comment of the other kind\n"
                  "[daemon]\n"
                  "socket = %s/other.sock\n"
                  "socket_mode = 0660\n"
                  "socket_group = root\n"
                  "state_dir = %s/state\n"
                  "log_level = debug\n"
                  "history = 50\n"
                  "grace = 2s\n"
                  "max_message = 1M\n"
                  "queue_max_message = 64K\n"
                  "max_pinned = 64\n"
                  "\n"
                  "[queue:dead]\n"
                  "[queue:jobs]\n"
                  "maxsize = 100\n"
                  "max_bytes = 1M\n"
                  "durable = yes\n"
                  "fsync = always\n"
                  "visibility_timeout = 1m\n"
                  "max_attempts = 3\n"
                  "dead_letter = dead\n"
                  "\n"
                  "[pool:web]\n"
                  "command = %s sleep 600\n"
                  "replicas = 2\n"
                  "env = A=1\n"
                  "env = B=2\n"
                  "cwd = /tmp\n"
                  "size = 4\n"
                  "restart = on-failure\n"
                  "success_codes = 0 3\n"
                  "restart_delay = 500ms\n"
                  "restart_delay_max = 1m\n"
                  "min_uptime = 2s\n"
                  "start_limit_burst = 5\n"
                  "start_limit_interval = 1h\n"
                  "failed_retry_after = 10m\n"
                  "ready = uptime\n"
                  "ready_timeout = 30s\n"
                  "stop_signal = INT\n"
                  "grace = 1.5\n"
                  "stdout = capture\n"
                  "stderr = stdout\n"
                  "log_buffer = 64K\n"
                  "log_max_bytes = 1M\n"
                  "log_backups = 2\n"
                  "%s"
                  "umask = 027\n"
                  "nice = 5\n"
                  "oom_score_adjust = 100\n"
                  "nofile = 1024\n"
                  "nproc = 512\n"
                  "core = 0\n"
                  "as = 4G\n"
                  "cpu = 3600\n"
                  "\n"
                  "[pool:workers]\n"
                  "consume = jobs\n"
                  "command = %s consume /tmp\n"
                  "size = 2\n"
                  "\n"
                  "[pool:slots]\n"
                  "size = 3\n",
                  h->dir, h->dir, CHILD,
                  /* user and group need root, even to check them. */
                  geteuid() == 0 ? "user = nobody\ngroup = nogroup\n" : "", CHILD);
        T_ASSERTF(cfg_check_config(conf, &r) == 0, "--check-config of a valid file: exit %d\n%s%s",
                  r.status, r.out, r.err);
        run_result_clear(&r);
        /* It only checks: no socket, no state directory. */
        T_ASSERT(!file_exists(harness_path(h, "other.sock")));
        T_ASSERT(!file_exists(harness_path(h, "state")));
        harness_free(h);
}

/*
 * body written to path (main conf unless given); --check-config of conf
 * must exit 1 and print "path:LINE:" for the line holding marker (or
 * alt_marker, if not NULL) and each string of want.
 */
static void
expect_error(const char *path, const char *body, const char *marker, const char *alt_marker,
             const char *const *want)
{
        struct run_result r;
        char *out;
        int line = cfg_line_of(body, marker), alt = alt_marker ? cfg_line_of(body, alt_marker) : 0;

        cfg_write(path, "%s", body);
        cfg_check_config(conf, &r);
        out = run_output(&r);
        T_ASSERTF(r.status == 1, "--check-config exit %d (expected 1) for:\n%s\noutput:\n%s",
                  r.status, body, out);
        T_ASSERTF(strstr(out, cfg_place(path, line)) != NULL ||
                      (alt > 0 && strstr(out, cfg_place(path, alt)) != NULL),
                  "the error does not name %s (the line of '%s')%s%s for:\n%s\noutput:\n%s",
                  cfg_place(path, line), marker, alt ? " or " : "", alt ? cfg_place(path, alt) : "",
                  body, out);
        for (size_t i = 0; want != NULL && want[i] != NULL; i++)
                T_ASSERTF(strstr(out, want[i]) != NULL,
                          "the error does not say '%s' for:\n%s\noutput:\n%s", want[i], body, out);
        free(out);
        run_result_clear(&r);
}

static void
t_error_unknown_key(void)
{
        setup_dir();
        {
                const char *want[] = {"[pool:web] frobnicate", NULL};

                expect_error(conf, "[pool:web]\ncommand = /bin/true\nfrobnicate = 1\nsize = 2\n",
                             "frobnicate", NULL, want);
        }
        {
                const char *want[] = {"[daemon] sockets", NULL};

                expect_error(conf, "# comment\n\n[daemon]\nsockets = /x\n", "sockets", NULL, want);
        }
        {
                const char *want[] = {"[queue:q] maxsise", NULL};

                expect_error(conf, "[queue:q]\nmaxsize = 3\nmaxsise = 4\n", "maxsise", NULL, want);
        }
        {
                /* name is the section's: not a key. */
                const char *want[] = {"[queue:q] name", NULL};

                expect_error(conf, "[queue:q]\nname = other\n", "name", NULL, want);
        }
        harness_free(h);
}

static void
t_error_bad_number(void)
{
        static const struct {
                const char *body, *marker, *want;
        } cases[] = {
            {"[pool:web]\ncommand = /bin/true\nsize = many\n", "size", "[pool:web] size"},
            {"[pool:web]\ncommand = /bin/true\nreplicas = -1\n", "replicas", "[pool:web] replicas"},
            {"[pool:web]\ncommand = /bin/true\nnice = 99\n", "nice", "[pool:web] nice"},
            {"[pool:web]\ncommand = /bin/true\nlog_buffer = 12Q\n", "log_buffer",
             "[pool:web] log_buffer"},
            {"[pool:web]\ncommand = /bin/true\nsuccess_codes = 0 x\n", "success_codes",
             "[pool:web] success_codes"},
            {"[queue:q]\nmaxsize = 10x\n", "maxsize", "[queue:q] maxsize"},
            {"[queue:q]\nmax_attempts = 1.5\n", "max_attempts", "[queue:q] max_attempts"},
            {"[daemon]\nhistory = lots\n", "history", "[daemon] history"},
            {"[daemon]\nsocket_mode = 0999\n", "socket_mode", "[daemon] socket_mode"},
            {"[daemon]\nmax_pinned = -1\n", "max_pinned", "[daemon] max_pinned"},
            {"[daemon]\nmax_pinned = 2000000\n", "max_pinned", "[daemon] max_pinned"},
        };

        setup_dir();
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *want[] = {cases[i].want, NULL};

                expect_error(conf, cases[i].body, cases[i].marker, NULL, want);
        }
        harness_free(h);
}

static void
t_error_bad_duration(void)
{
        static const struct {
                const char *body, *marker, *want;
        } cases[] = {
            {"[pool:web]\ncommand = /bin/true\nrestart_delay = 5 parsecs\n", "restart_delay",
             "[pool:web] restart_delay"},
            {"[pool:web]\ncommand = /bin/true\ngrace = -1s\n", "grace", "[pool:web] grace"},
            {"[pool:web]\ncommand = /bin/true\nready_timeout = 1w\n", "ready_timeout",
             "[pool:web] ready_timeout"},
            {"[queue:q]\nvisibility_timeout = soon\n", "visibility_timeout",
             "[queue:q] visibility_timeout"},
            {"[daemon]\ngrace = 10x\n", "grace", "[daemon] grace"},
        };

        setup_dir();
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *want[] = {cases[i].want, NULL};

                expect_error(conf, cases[i].body, cases[i].marker, NULL, want);
        }
        harness_free(h);
}

/* Values of other kinds: booleans, enums, signals, paths, env. */
static void
t_error_bad_value(void)
{
        static const struct {
                const char *body, *marker, *want;
        } cases[] = {
            {"[queue:q]\ndurable = maybe\n", "durable", "[queue:q] durable"},
            {"[queue:q]\nfsync = sometimes\n", "fsync", "[queue:q] fsync"},
            {"[pool:web]\ncommand = /bin/true\nrestart = sometimes\n", "restart",
             "[pool:web] restart"},
            {"[pool:web]\ncommand = /bin/true\nstop_signal = SIGFOO\n", "stop_signal",
             "[pool:web] stop_signal"},
            {"[pool:web]\ncommand = /bin/true\nready = later\n", "ready", "[pool:web] ready"},
            {"[pool:web]\ncommand = /bin/true\ncwd = relative/dir\n", "cwd", "[pool:web] cwd"},
            {"[pool:web]\ncommand = /bin/true\nenv = NOEQUALS\n", "env", "[pool:web] env"},
            {"[daemon]\nlog_level = loud\n", "log_level", "[daemon] log_level"},
            {"[daemon]\nstate_dir = relative\n", "state_dir", "[daemon] state_dir"},
        };

        setup_dir();
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *want[] = {cases[i].want, NULL};

                expect_error(conf, cases[i].body, cases[i].marker, NULL, want);
        }
        harness_free(h);
}

static void
t_error_unknown_section(void)
{
        setup_dir();
        {
                /* With a key: the section's line or the key's. */
                const char *want[] = {"[bogus]", NULL};

                expect_error(conf, "[daemon]\nhistory = 5\n\n[bogus]\nkey = 1\n", "[bogus]",
                             "key = 1", want);
        }
        {
                const char *want[] = {"[pool:]", NULL};

                expect_error(conf, "[pool:]\nsize = 1\n", "[pool:]", "size = 1", want);
        }
        {
                const char *want[] = {"[pool:bad name]", NULL};

                expect_error(conf, "[pool:bad name]\nsize = 1\n", "[pool:bad name]", "size = 1",
                             want);
        }
        {
                /* Without keys: still an unknown section. */
                const char *want[] = {"[bogus]", NULL};

                expect_error(conf, "[daemon]\nhistory = 5\n[bogus]\n", "[bogus]", NULL, want);
        }
        {
                /* Not INI at all. */
                expect_error(conf, "[daemon]\nhistory = 5\nthis is not a key\n", "this is not",
                             NULL, NULL);
        }
        harness_free(h);
}

static void
t_error_unclosed_quote(void)
{
        setup_dir();
        {
                const char *want[] = {"[pool:web] command", NULL};

                expect_error(conf, "[pool:web]\nsize = 2\ncommand = /bin/echo \"abc def\n",
                             "command", NULL, want);
        }
        {
                const char *want[] = {"[pool:web] command", NULL};

                expect_error(conf, "[pool:web]\ncommand = /bin/echo 'abc\n", "command", NULL, want);
        }
        harness_free(h);
}

/* replicas, env, cwd without command; consume without command; consume with replicas. */
static void
t_error_needs_command(void)
{
        setup_dir();
        {
                const char *want[] = {"[pool:x]", "replicas", NULL};

                expect_error(conf, "[daemon]\nhistory = 5\n[pool:x]\nsize = 2\nreplicas = 2\n",
                             "replicas", "[pool:x]", want);
        }
        {
                const char *want[] = {"[pool:x]", NULL};

                expect_error(conf, "[queue:q]\n[pool:x]\nconsume = q\n", "consume", "[pool:x]",
                             want);
        }
        {
                const char *want[] = {"[pool:x]", NULL};

                expect_error(
                    conf, "[queue:q]\n[pool:x]\nconsume = q\ncommand = /bin/true\nreplicas = 2\n",
                    "replicas", "[pool:x]", want);
        }
        harness_free(h);
}

/* An error in a drop-in names the drop-in and its line. */
static void
t_error_in_dropin(void)
{
        char dir[512], dropin[600];
        const char *want[] = {"[pool:p] restart", NULL};

        setup_dir();
        cfg_write(conf, "[pool:p]\nsize = 1\n");
        snprintf(dir, sizeof dir, "%s/conf.d", h->dir);
        cfg_mkdir(dir, 0755);
        cfg_write(harness_path(h, "conf.d/10-fine.conf"), "[queue:q]\nmaxsize = 3\n");
        snprintf(dropin, sizeof dropin, "%s/20-bad.conf", dir);
        expect_error(dropin, "# drop-in\n[pool:p]\nsize = 2\nrestart = whenever\n", "restart", NULL,
                     want);
        harness_free(h);
}

/* --check-config of a missing file, and of a file naming a queue that is not there. */
static void
t_check_config_exit_codes(void)
{
        struct run_result r;
        char missing[600];

        setup_dir();
        cfg_write(conf, "[pool:p]\nsize = 1\n");
        T_ASSERTF(cfg_check_config(conf, &r) == 0, "--check-config: exit %d\n%s%s", r.status, r.out,
                  r.err);
        run_result_clear(&r);
        snprintf(missing, sizeof missing, "%s/missing.conf", h->dir);
        T_ASSERTF(cfg_check_config(missing, &r) == 1,
                  "--check-config --config of a missing file: exit %d, expected 1\n%s%s", r.status,
                  r.out, r.err);
        T_ASSERTF(strstr(r.err, "missing.conf") != NULL || strstr(r.out, "missing.conf") != NULL,
                  "the error does not name the missing file:\n%s%s", r.out, r.err);
        run_result_clear(&r);
        harness_free(h);
}

/* corrald --config with an error does not start: it exits non-zero and says why. */
static void
t_startup_invalid(void)
{
        const char *argv[] = {CORRALD_PATH, "--socket",    NULL, "--config",
                              NULL,         "--state-dir", NULL, NULL};
        char *log;

        setup_dir();
        argv[2] = h->sock;
        argv[4] = conf;
        argv[6] = harness_path(h, "state");
        cfg_write(conf, "[pool:p]\nsize = 1\nrestart = whenever\n");
        cfg_exec_daemon(h, argv, NULL, -1, false);
        T_ASSERTF(harness_wait_exit(h, CFG_WAIT), "corrald started with an invalid configuration");
        T_ASSERTF(!WIFEXITED(h->status) || WEXITSTATUS(h->status) != 0,
                  "corrald exited 0 with an invalid configuration");
        log = file_read(h->log, NULL);
        T_ASSERT(log != NULL);
        T_ASSERTF(strstr(log, cfg_place(conf, 3)) != NULL, "the log does not name %s:\n%s",
                  cfg_place(conf, 3), log);
        free(log);
        T_ASSERT(!harness_can_connect(h->sock));
        harness_free(h);
}

/* Words split like a shell, without expansions. */
static void
t_command_words(void)
{
        struct corral_pool p;
        static const char *const want[] = {CHILD,  "sleep", "6 0",   "a \"b\" c", "d e",
                                           "it's", "",      "$HOME", "x\\y",      NULL};
        size_t n;

        setup_dir();
        cfg_write(conf,
                  "[pool:words]\n"
                  "restart = no\n"
                  "command = %s sleep '6 0'  \"a \\\"b\\\" c\"\td\\ e it\\'s '' '$HOME' 'x\\y'\n",
                  CHILD);
        start();
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "words", &p, &err), &err);
        T_ASSERT(p.has_replicas && p.replicas_argv != NULL);
        for (n = 0; p.replicas_argv[n] != NULL; n++)
                ;
        for (size_t i = 0; want[i] != NULL; i++) {
                T_ASSERTF(i < n, "argv has %zu words, expected more", n);
                T_ASSERTF(strcmp(p.replicas_argv[i], want[i]) == 0,
                          "argv[%zu] = [%s], expected [%s]", i, p.replicas_argv[i], want[i]);
        }
        T_EQ_INT(n, 9);
        corral_pool_clear(&p);
        finish();
}

/* ---- what exists at start-up ------------------------------------------------ */

static bool
codes_are(const struct corral_policy *pol, const int *codes, size_t n)
{
        if (pol->nsuccess_codes != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (pol->success_codes[i] != codes[i])
                        return false;
        }
        return true;
}

static void
t_startup_settings(void)
{
        struct corral_pool p;
        struct corral_queue_info q;
        char report[600], workdir[600], other[600], *text;
        static const int codes[] = {0, 3};
        struct stat st;
        bool root = geteuid() == 0;

        setup_dir();
        snprintf(report, sizeof report, "%s/web.report", h->dir);
        snprintf(workdir, sizeof workdir, "%s/work", h->dir);
        snprintf(other, sizeof other, "%s/other.sock", h->dir);
        cfg_mkdir(workdir, 0755);
        /* Declared against their dependencies: pool before its queue, queue before its dead letter.
         */
        cfg_write(conf,
                  "[daemon]\n"
                  "socket = %s\n"
                  "socket_mode = 0600\n"
                  "%s"
                  "state_dir = %s/filestate\n"
                  "log_level = error\n"
                  "\n"
                  "[pool:workers]\n"
                  "consume = jobs\n"
                  "command = %s consume %s\n"
                  "size = 2\n"
                  "\n"
                  "[queue:jobs]\n"
                  "dead_letter = dead\n"
                  "max_attempts = 3\n"
                  "maxsize = 100\n"
                  "max_bytes = 64K\n"
                  "visibility_timeout = 2m\n"
                  "durable = yes\n"
                  "fsync = always\n"
                  "\n"
                  "[queue:dead]\n"
                  "\n"
                  "[pool:web]\n"
                  "command = %s report %s\n"
                  "replicas = 2\n"
                  "size = 5\n"
                  "env = A=1\n"
                  "env = B=two words\n"
                  "cwd = %s\n"
                  "restart = on-failure\n"
                  "success_codes = 0 3\n"
                  "restart_delay = 2s\n"
                  "restart_delay_max = 1m\n"
                  "min_uptime = 500ms\n"
                  "start_limit_burst = 7\n"
                  "start_limit_interval = 1h\n"
                  "failed_retry_after = 2m\n"
                  "ready = spawned\n"
                  "ready_timeout = 45s\n"
                  "stop_signal = INT\n"
                  "grace = 1500ms\n"
                  "stdout = capture\n"
                  "stderr = stdout\n"
                  "log_buffer = 128K\n"
                  "log_max_bytes = 1M\n"
                  "log_backups = 3\n"
                  "\n"
                  "[pool:single]\n"
                  "command = %s sleep 600\n"
                  "\n"
                  "[pool:slots]\n"
                  "size = 3\n",
                  other, root ? "socket_group = nogroup\n" : "", h->dir, CHILD, workdir, CHILD,
                  report, workdir, CHILD);
        /* No --state-dir and no $CORRAL_STATE_DIR: the file's state_dir is the only one. */
        unsetenv("CORRAL_STATE_DIR");
        {
                const char *argv[] = {CORRALD_PATH, "--socket",    h->sock, "--config",
                                      conf,         "--log-level", "debug", NULL};

                cfg_exec_daemon(h, argv, NULL, -1, false);
        }
        cfg_wait_serving(h, h->sock, CFG_WAIT);
        c = harness_connect(h);

        /* Command-line options win: --socket, --log-level debug. */
        T_ASSERTF(!file_exists(other), "[daemon] socket won over --socket");
        {
                char *log = file_read(h->log, NULL);

                T_ASSERTF(log != NULL && strstr(log, ": debug: ") != NULL,
                          "[daemon] log_level = error won over --log-level debug");
                free(log);
        }
        /* [daemon] socket_mode and socket_group apply to the socket it binds. */
        T_ASSERT(stat(h->sock, &st) == 0);
        T_ASSERTF((st.st_mode & 0777) == 0600, "socket mode %o, expected 600 (socket_mode)",
                  (unsigned)(st.st_mode & 0777));
        if (root) {
                struct group *g = getgrnam("nogroup");

                T_ASSERT(g != NULL);
                T_ASSERTF(st.st_gid == g->gr_gid, "socket group %ld, expected nogroup (%ld)",
                          (long)st.st_gid, (long)g->gr_gid);
        }

        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "web", &p, &err), &err);
        T_EQ_INT(p.size, 5);
        T_ASSERT(p.has_replicas);
        T_EQ_INT(p.replicas, 2);
        T_ASSERT(p.replicas_argv != NULL && p.replicas_argv[0] != NULL &&
                 p.replicas_argv[1] != NULL && p.replicas_argv[2] != NULL);
        T_EQ_STR(p.replicas_argv[0], CHILD);
        T_EQ_STR(p.replicas_argv[1], "report");
        T_EQ_STR(p.replicas_argv[2], report);
        T_ASSERT(p.replicas_argv[3] == NULL);
        T_EQ_STR(p.replicas_cwd, workdir);
        T_EQ_INT(p.defaults.restart, CORRAL_RESTART_ON_FAILURE);
        T_ASSERTF(codes_are(&p.defaults, codes, 2), "success_codes are not {0, 3}");
        T_ASSERT(p.defaults.restart_delay == 2.0);
        T_ASSERT(p.defaults.restart_delay_max == 60.0);
        T_ASSERT(p.defaults.min_uptime == 0.5);
        T_EQ_INT(p.defaults.start_limit_burst, 7);
        T_ASSERT(p.defaults.start_limit_interval == 3600.0);
        T_ASSERT(p.defaults.failed_retry_after == 120.0);
        T_EQ_INT(p.defaults.ready, CORRAL_READY_SPAWNED);
        T_ASSERT(p.defaults.ready_timeout == 45.0);
        T_EQ_INT(p.defaults.stop_signal, SIGINT);
        T_ASSERTF(p.defaults.grace == 1.5, "grace %g, expected 1.5", p.defaults.grace);
        T_EQ_STR(p.stdout_to, "capture");
        T_EQ_STR(p.stderr_to, "stdout");
        T_EQ_INT(p.log_buffer, 128 * 1024);
        T_EQ_INT(p.log_max_bytes, 1024 * 1024);
        T_EQ_INT(p.log_backups, 3);
        corral_pool_clear(&p);
        cfg_wait_running(c, "web", 2, NULL, CFG_WAIT);

        /* A member's environment and working directory. */
        text = cfg_report_read(report, CFG_WAIT);
        T_EQ_STR(cfg_report(text, "env:A"), "1");
        T_EQ_STR(cfg_report(text, "env:B"), "two words");
        T_EQ_STR(cfg_report(text, "env:CORRAL_POOL"), "web");
        T_EQ_STR(cfg_report(text, "cwd"), workdir);
        free(text);

        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "workers", &p, &err), &err);
        T_ASSERT(p.has_consume);
        T_EQ_STR(p.consume_queue, "jobs");
        T_EQ_INT(p.size, 2);
        T_ASSERT(!p.has_replicas);
        corral_pool_clear(&p);

        /* A command without replicas: one. */
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "single", &p, &err), &err);
        T_ASSERT(p.has_replicas);
        T_EQ_INT(p.replicas, 1);
        corral_pool_clear(&p);
        cfg_wait_running(c, "single", 1, NULL, CFG_WAIT);

        /* No command: slots only. */
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "slots", &p, &err), &err);
        T_EQ_INT(p.size, 3);
        T_ASSERT(!p.has_replicas && !p.has_consume);
        corral_pool_clear(&p);

        memset(&q, 0, sizeof q);
        T_OK(corral_queue_info(c, "jobs", &q, &err), &err);
        T_ASSERT(q.durable);
        T_EQ_STR(q.fsync, "always");
        T_EQ_INT(q.maxsize, 100);
        T_EQ_INT(q.max_bytes, 64 * 1024);
        T_ASSERT(q.visibility_timeout == 120.0);
        T_EQ_INT(q.max_attempts, 3);
        T_EQ_STR(q.dead_letter, "dead");
        corral_queue_clear(&q);
        T_ASSERT(cfg_queue_exists(c, "dead"));

        /* A durable queue's log lives in [daemon] state_dir. */
        T_OK(corral_queue_put(c, "jobs", "x", 1, NULL, NULL, &err), &err);
        T_ASSERTF(file_exists(harness_path(h, "filestate/queues/jobs.log")),
                  "no log of durable queue jobs under [daemon] state_dir %s/filestate", h->dir);
        finish();
}

/* daemon.stats' max_pinned_per_connection. */
static uint64_t
stats_max_pinned(void)
{
        struct corral_result res;
        const msgpack_object *v;
        uint64_t n;

        T_OK(corral_call(c, "daemon.stats", NULL, 0, &res, &err), &err);
        v = obj_get(&res.obj, "max_pinned_per_connection");
        T_ASSERT(v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
        n = v->via.u64;
        corral_result_free(&res);
        return n;
}

/*
 * [daemon] grace, history, max_message, queue_max_message, max_pinned
 * apply; the command line wins.
 */
static void
t_daemon_settings(void)
{
        const char *quick[] = {HELPER_PATH, "exit", "0", NULL};
        struct corral_queue_opts qo;
        struct corral_process *ps = NULL;
        struct corral_pool p;
        char big[3000];
        size_t n = 0;

        setup_dir();
        cfg_write(conf, "[daemon]\ngrace = 3s\nhistory = 2\nmax_message = 64K\n"
                        "queue_max_message = 2K\nmax_pinned = 3\n");
        start();
        T_EQ_INT(stats_max_pinned(), 3);
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "default", &p, &err), &err);
        T_ASSERTF(p.defaults.grace == 3.0, "default grace %g, expected 3 ([daemon] grace)",
                  p.defaults.grace);
        corral_pool_clear(&p);

        memset(&qo, 0, sizeof qo);
        qo.name = "q";
        T_OK(corral_queue_create(c, &qo, NULL, &err), &err);
        memset(big, 'x', sizeof big);
        T_ERR(corral_queue_put(c, "q", big, sizeof big, NULL, NULL, &err), &err, "too_large");
        T_OK(corral_queue_put(c, "q", big, 2000, NULL, NULL, &err), &err);

        /* history = 2: at most two ended records are kept. */
        for (int i = 0; i < 4; i++) {
                struct corral_process sp, j;

                spawn_simple(c, quick, NULL, &sp);
                T_OK(corral_join(c, target_id(sp.id), CFG_WAIT, &j, &err), &err);
                corral_process_clear(&j);
                corral_process_clear(&sp);
        }
        T_OK(corral_list(c, NULL, false, &ps, &n, &err), &err);
        corral_process_list_free(ps, n);
        T_ASSERTF(n <= 2, "%zu ended records kept with history = 2", n);

        /* max_message = 64K: a larger request is refused (an error or a closed connection). */
        {
                static char data[100 * 1024];
                struct corral_spawn_opts o;
                struct corral_process sp;
                struct corral *c2 = harness_connect(h);

                memset(&o, 0, sizeof o);
                o.argv = quick;
                o.stdin_data = data;
                o.stdin_len = sizeof data;
                o.has_stdin = true;
                T_ASSERTF(corral_spawn(c2, &o, &sp, &err) != 0,
                          "a 100 KiB request was accepted with max_message = 64K");
                corral_close(c2);
        }
        T_OK(corral_ping(c, &err), &err);
        /* max_pinned changes on reload (0: nothing is pinned). */
        cfg_write(conf, "[daemon]\ngrace = 3s\nhistory = 2\nmax_message = 64K\n"
                        "queue_max_message = 2K\nmax_pinned = 0\n");
        T_OK(cfg_reload(c, &err), &err);
        T_EQ_INT(stats_max_pinned(), 0);
        finish();

        /* The command line wins over the file. */
        setup_dir();
        cfg_write(conf, "[daemon]\ngrace = 3s\n");
        {
                const char *extra[] = {"--grace", "5", NULL};

                cfg_launch(h, conf, extra, NULL);
        }
        c = harness_connect(h);
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "default", &p, &err), &err);
        T_ASSERTF(p.defaults.grace == 5.0, "default grace %g: --grace 5 must win over the file",
                  p.defaults.grace);
        corral_pool_clear(&p);
        finish();
}

/* A consuming pool from the file runs its command once per message. */
static void
t_consume(void)
{
        char outdir[600], path[700];
        struct corral_queue_info q;
        uint64_t ids[5];

        setup_dir();
        snprintf(outdir, sizeof outdir, "%s/out", h->dir);
        cfg_mkdir(outdir, 0755);
        cfg_write(conf,
                  "[pool:workers]\nconsume = jobs\ncommand = %s consume %s\nsize = 2\n"
                  "[queue:jobs]\n",
                  CHILD, outdir);
        start();
        for (int i = 0; i < 5; i++) {
                char msg[32];

                snprintf(msg, sizeof msg, "message %d", i);
                T_OK(corral_queue_put(c, "jobs", msg, strlen(msg), NULL, &ids[i], &err), &err);
        }
        for (int i = 0; i < 5; i++) {
                char *text, msg[32];

                snprintf(path, sizeof path, "%s/msg-%llu", outdir, (unsigned long long)ids[i]);
                T_ASSERTF(wait_file(path, CFG_WAIT), "message %d was not consumed (%s)", i, path);
                text = file_read(path, NULL);
                snprintf(msg, sizeof msg, "message %d", i);
                T_ASSERTF(text != NULL && strncmp(text, msg, strlen(msg)) == 0,
                          "message %d's job read \"%s\"", i, text ? text : "(null)");
                free(text);
        }
        /* Each success acks its message. */
        for (double deadline = now_mono() + CFG_WAIT;;) {
                memset(&q, 0, sizeof q);
                T_OK(corral_queue_info(c, "jobs", &q, &err), &err);
                if (q.total_acked == 5 && q.count == 0) {
                        corral_queue_clear(&q);
                        break;
                }
                T_ASSERTF(now_mono() < deadline, "jobs: %llu acked, %llu left",
                          (unsigned long long)q.total_acked, (unsigned long long)q.count);
                corral_queue_clear(&q);
                usleep(20000);
        }
        finish();
}

/* conf.d/ *.conf after the main file, in name order; other names are ignored. */
static void
t_dropins_order(void)
{
        struct corral_pool p;
        char dir[600];

        setup_dir();
        cfg_write(conf, "[pool:p]\nsize = 1\n[queue:main]\n");
        snprintf(dir, sizeof dir, "%s/conf.d", h->dir);
        cfg_mkdir(dir, 0755);
        /* Made in reverse order, so that directory order is not name order. */
        cfg_write(harness_path(h, "conf.d/b.conf"), "[pool:p]\nsize = 3\n[queue:fromb]\n");
        cfg_write(harness_path(h, "conf.d/a.conf"), "[pool:p]\nsize = 2\n[queue:froma]\n");
        cfg_write(harness_path(h, "conf.d/README"), "not a configuration file\n");
        cfg_write(harness_path(h, "conf.d/c.conf.disabled"), "[bogus]\nnot = valid\n");
        start();
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "p", &p, &err), &err);
        T_ASSERTF(p.size == 3, "pool p has size %u: conf.d/b.conf (3) is not read last", p.size);
        corral_pool_clear(&p);
        T_ASSERT(cfg_queue_exists(c, "main"));
        T_ASSERT(cfg_queue_exists(c, "froma"));
        T_ASSERT(cfg_queue_exists(c, "fromb"));
        finish();
}

/* ---- reload -------------------------------------------------------------------- */

/* A pool and a queue made over the socket: a reload leaves them alone. */
static pid_t
make_adhoc(void)
{
        const char *argv[] = {CHILD, "sleep", "600", NULL};
        struct corral_replicas r = {argv, NULL, NULL, 1};
        struct corral_pool_opts o;
        struct corral_queue_opts qo;
        pid_t pid;

        memset(&o, 0, sizeof o);
        o.name = "adhoc";
        o.replicas = &r;
        T_OK(corral_pool_create(c, &o, NULL, &err), &err);
        memset(&qo, 0, sizeof qo);
        qo.name = "adhocq";
        T_OK(corral_queue_create(c, &qo, NULL, &err), &err);
        cfg_wait_running(c, "adhoc", 1, &pid, CFG_WAIT);
        return pid;
}

static void
check_adhoc(pid_t pid)
{
        pid_t now;

        cfg_wait_running(c, "adhoc", 1, &now, CFG_WAIT);
        T_ASSERTF(now == pid, "the socket-made pool adhoc was restarted by a reload (%ld -> %ld)",
                  (long)pid, (long)now);
        T_ASSERTF(cfg_queue_exists(c, "adhocq"), "a reload removed the socket-made queue adhocq");
}

/* An unchanged file (comments, blank lines, sections reordered): {} and not a process touched. */
static void
t_reload_unchanged(void)
{
        pid_t a[2], b[1], a2[2], b2[1], adhoc;

        setup_dir();
        cfg_write(conf,
                  "[pool:a]\ncommand = %s sleep 600\nreplicas = 2\nenv = X=1\n"
                  "[pool:b]\ncommand = %s sleep 600\nsize = 3\n[queue:q]\nmaxsize = 5\n",
                  CHILD, CHILD);
        start();
        adhoc = make_adhoc();
        cfg_wait_running(c, "a", 2, a, CFG_WAIT);
        cfg_wait_running(c, "b", 1, b, CFG_WAIT);
        T_OK(corral_queue_put(c, "q", "kept", 4, NULL, NULL, &err), &err);
        cfg_write(conf,
                  "# rewritten\n[queue:q]\nmaxsize=5\n\n[pool:b]\ncommand = %s sleep 600\n"
                  "; a comment\nsize = 3\n\n"
                  "[pool:a]\ncommand=%s sleep 600\nreplicas = 2\nenv = X=1\n",
                  CHILD, CHILD);
        for (int i = 0; i < 2; i++) {
                T_OK(cfg_reload(c, &err), &err);
                usleep(300 * 1000); /* room for a wrongly started roll to show */
                cfg_wait_running(c, "a", 2, a2, CFG_WAIT);
                cfg_wait_running(c, "b", 1, b2, CFG_WAIT);
                T_ASSERTF(a2[0] == a[0] && a2[1] == a[1],
                          "unchanged pool a restarted: %ld %ld -> %ld %ld", (long)a[0], (long)a[1],
                          (long)a2[0], (long)a2[1]);
                T_ASSERTF(b2[0] == b[0], "unchanged pool b restarted");
        }
        {
                struct corral_queue_info q;

                memset(&q, 0, sizeof q);
                T_OK(corral_queue_info(c, "q", &q, &err), &err);
                T_ASSERTF(q.count == 1, "unchanged queue q lost its message (count %llu)",
                          (unsigned long long)q.count);
                corral_queue_clear(&q);
        }
        check_adhoc(adhoc);
        finish();
}

/*
 * The same definition spelled differently (blanks inside command, another
 * unit for a duration, keys in another order) is no change: no restart.
 */
static void
t_reload_same_meaning(void)
{
        static const char *const what[] = {
            "extra blanks between command's words",
            "grace = 1500ms for grace = 1.5",
            "grace before command (key order)",
        };
        char failures[1024] = "";
        pid_t a[1], a2[1];

        setup_dir();
        cfg_write(conf, "[pool:a]\ncommand = %s sleep 600\ngrace = 1.5\n", CHILD);
        start();
        cfg_wait_running(c, "a", 1, a, CFG_WAIT);
        for (int i = 0; i < 3; i++) {
                /* Back to the original spelling first: only one difference at a time. */
                cfg_write(conf, "[pool:a]\ncommand = %s sleep 600\ngrace = 1.5\n", CHILD);
                T_OK(cfg_reload(c, &err), &err);
                usleep(300 * 1000);
                cfg_wait_running(c, "a", 1, a, CFG_WAIT);
                if (i == 0)
                        cfg_write(conf, "[pool:a]\ncommand = %s    sleep   600\ngrace = 1.5\n",
                                  CHILD);
                else if (i == 1)
                        cfg_write(conf, "[pool:a]\ncommand = %s sleep 600\ngrace = 1500ms\n",
                                  CHILD);
                else
                        cfg_write(conf, "[pool:a]\ngrace = 1.5\ncommand = %s sleep 600\n", CHILD);
                T_OK(cfg_reload(c, &err), &err);
                usleep(300 * 1000); /* room for a wrongly started roll to show */
                cfg_wait_running(c, "a", 1, a2, CFG_WAIT);
                if (a2[0] != a[0]) {
                        size_t len = strlen(failures);

                        snprintf(failures + len, sizeof failures - len, "\n  %s", what[i]);
                }
        }
        T_ASSERTF(failures[0] == '\0',
                  "pool a was restarted by a reload that changed nothing "
                  "but spelling:%s",
                  failures);
        finish();
}

struct tracked {
        uint64_t id;
        char state[16];
};

/* Index of id in t (added with state if new). */
static size_t
track(struct tracked *t, size_t *n, uint64_t id, const char *state)
{
        for (size_t i = 0; i < *n; i++) {
                if (t[i].id == id)
                        return i;
        }
        T_ASSERT(*n < 256);
        t[*n].id = id;
        snprintf(t[*n].state, sizeof t[*n].state, "%s", state);
        return (*n)++;
}

static size_t
count_running(const struct tracked *t, size_t n)
{
        size_t r = 0;

        for (size_t i = 0; i < n; i++)
                r += strcmp(t[i].state, "running") == 0;
        return r;
}

/*
 * A changed command rolls the pool: every member gets a new pid, one at a
 * time (never fewer than replicas - 1 running). An env change rolls too;
 * a size change applies at once without a restart.
 */
static void
t_reload_command_rolls(void)
{
        static struct tracked t[256];
        const char *pools[] = {"a", NULL}, *types[] = {"process.state", NULL};
        pid_t a[3], a2[3], b[1], b2[1], cc[1], cc2[1], adhoc;
        struct corral_process *ps = NULL;
        struct corral_pool p;
        struct corral *ev;
        size_t n = 0, nt = 0, events = 0, min_running = 3;

        setup_dir();
        cfg_write(conf,
                  "[pool:a]\ncommand = %s sleep 600\nreplicas = 3\n"
                  "[pool:b]\ncommand = %s sleep 600\nenv = X=1\n"
                  "[pool:c]\ncommand = %s sleep 600\nsize = 4\n",
                  CHILD, CHILD, CHILD);
        start();
        adhoc = make_adhoc();
        cfg_wait_running(c, "a", 3, a, CFG_WAIT);
        cfg_wait_running(c, "b", 1, b, CFG_WAIT);
        cfg_wait_running(c, "c", 1, cc, CFG_WAIT);

        ev = harness_connect(h);
        T_OK(corral_events_subscribe(ev, pools, types, &err), &err);
        T_OK(corral_list(c, "a", true, &ps, &n, &err), &err);
        for (size_t i = 0; i < n; i++)
                track(t, &nt, ps[i].id, ps[i].state);
        corral_process_list_free(ps, n);
        T_EQ_INT(count_running(t, nt), 3);

        cfg_write(conf,
                  "[pool:a]\ncommand = %s sleep 601\nreplicas = 3\n"
                  "[pool:b]\ncommand = %s sleep 600\nenv = X=2\n"
                  "[pool:c]\ncommand = %s sleep 600\nsize = 6\n",
                  CHILD, CHILD, CHILD);
        T_OK(cfg_reload(c, &err), &err);

        /* size applies at once. */
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "c", &p, &err), &err);
        T_EQ_INT(p.size, 6);
        corral_pool_clear(&p);

        /* Follow a's members until all three are new and running. */
        for (double deadline = now_mono() + 60;;) {
                struct corral_event e;
                size_t running, live;
                int r;

                memset(&e, 0, sizeof e);
                r = corral_events_next(ev, &e, 0.2, &err);
                T_ASSERTF(r >= 0, "events: %s %s", err.code, err.message);
                if (r == 1) {
                        size_t i = track(t, &nt, e.id, e.from);

                        T_ASSERTF(strcmp(t[i].state, e.from) == 0 || e.from[0] == '\0',
                                  "event for %llu from %s, but it was %s", (unsigned long long)e.id,
                                  e.from, t[i].state);
                        snprintf(t[i].state, sizeof t[i].state, "%s", e.to);
                        events++;
                        running = count_running(t, nt);
                        if (running < min_running)
                                min_running = running;
                        T_ASSERTF(running >= 2,
                                  "only %zu of pool a's 3 members running during the roll "
                                  "(after %s -> %s of %llu): not one at a time",
                                  running, e.from, e.to, (unsigned long long)e.id);
                        corral_event_clear(&e);
                        continue;
                }
                running = cfg_running_pids(c, "a", a2, 3, &live);
                if (running == 3 && live == 3 && !cfg_pids_have(a, 3, a2[0]) &&
                    !cfg_pids_have(a, 3, a2[1]) && !cfg_pids_have(a, 3, a2[2]))
                        break;
                T_ASSERTF(now_mono() < deadline,
                          "pool a did not roll onto the new command: %zu running of %zu live",
                          running, live);
        }
        T_ASSERTF(events > 0, "no process.state events for pool a during its roll");
        T_ASSERTF(min_running <= 2, "pool a's members were never stopped");
        memset(&p, 0, sizeof p);
        T_OK(corral_pool_info(c, "a", &p, &err), &err);
        T_ASSERT(p.replicas_argv != NULL && p.replicas_argv[1] != NULL &&
                 p.replicas_argv[2] != NULL);
        T_EQ_STR(p.replicas_argv[2], "601");
        corral_pool_clear(&p);

        /* b's env changed: a new member. c only changed size: the same one. */
        for (double deadline = now_mono() + CFG_WAIT;;) {
                size_t live;

                if (cfg_running_pids(c, "b", b2, 1, &live) == 1 && live == 1 && b2[0] != b[0])
                        break;
                T_ASSERTF(now_mono() < deadline, "pool b (env changed) was not restarted");
                usleep(20000);
        }
        cfg_wait_running(c, "c", 1, cc2, CFG_WAIT);
        T_ASSERTF(cc2[0] == cc[0], "pool c (only size changed) was restarted");
        check_adhoc(adhoc);
        corral_close(ev);
        finish();
}

/* replicas 2 -> 3 adds one and keeps the others; 3 -> 1 keeps one of them. */
static void
t_reload_scale(void)
{
        pid_t a[2], a3[3], a1[1];
#define SCALE_BODY "[pool:a]\ncommand = %s sleep 600\nreplicas = %d\n"

        setup_dir();
        cfg_write(conf, SCALE_BODY, CHILD, 2);
        start();
        cfg_wait_running(c, "a", 2, a, CFG_WAIT);
        cfg_write(conf, SCALE_BODY, CHILD, 3);
        T_OK(cfg_reload(c, &err), &err);
        cfg_wait_running(c, "a", 3, a3, CFG_WAIT);
        T_ASSERTF(cfg_pids_have(a3, 3, a[0]) && cfg_pids_have(a3, 3, a[1]),
                  "scaling 2 -> 3 replaced members: %ld %ld -> %ld %ld %ld", (long)a[0], (long)a[1],
                  (long)a3[0], (long)a3[1], (long)a3[2]);
        cfg_write(conf, SCALE_BODY, CHILD, 1);
        T_OK(cfg_reload(c, &err), &err);
        cfg_wait_running(c, "a", 1, a1, CFG_WAIT);
        T_ASSERTF(cfg_pids_have(a3, 3, a1[0]), "scaling 3 -> 1 started a new member");
        {
                struct corral_pool p;

                memset(&p, 0, sizeof p);
                T_OK(corral_pool_info(c, "a", &p, &err), &err);
                T_EQ_INT(p.replicas, 1);
                corral_pool_clear(&p);
        }
        finish();
}

/* A pool removed from the file goes (its members stopped); new ones come; queues too. */
static void
t_reload_remove_add(void)
{
        pid_t gone[2], stay[1], stay2[1], adhoc;

        setup_dir();
        cfg_write(conf,
                  "[pool:gone]\ncommand = %s sleep 600\nreplicas = 2\n"
                  "[pool:stay]\ncommand = %s sleep 600\n"
                  "[queue:oldq]\n",
                  CHILD, CHILD);
        start();
        adhoc = make_adhoc();
        cfg_wait_running(c, "gone", 2, gone, CFG_WAIT);
        cfg_wait_running(c, "stay", 1, stay, CFG_WAIT);
        cfg_write(conf,
                  "[pool:stay]\ncommand = %s sleep 600\n"
                  "[queue:newq]\nmaxsize = 7\n"
                  "[pool:newp]\ncommand = %s sleep 600\nreplicas = 2\n",
                  CHILD, CHILD);
        T_OK(cfg_reload(c, &err), &err);
        for (double deadline = now_mono() + CFG_WAIT; cfg_pool_exists(c, "gone");) {
                T_ASSERTF(now_mono() < deadline, "pool gone still exists %.0f s after the reload",
                          CFG_WAIT);
                usleep(20000);
        }
        T_ASSERTF(wait_pid_gone(gone[0], h->pid, CFG_WAIT) &&
                      wait_pid_gone(gone[1], h->pid, CFG_WAIT),
                  "the removed pool's members are still running");
        /* Gracefully: its stop signal (TERM), not KILL. */
        for (int i = 0; i < 2; i++) {
                struct corral_process p;
                char name[32];

                snprintf(name, sizeof name, "gone.%d", i);
                memset(&p, 0, sizeof p);
                T_OK(corral_info(c, target_name(name), &p, &err), &err);
                T_ASSERTF(p.signal == SIGTERM,
                          "%s of the removed pool ended %s with signal %d, "
                          "expected SIGTERM (a graceful stop)",
                          name, p.state, p.signal);
                corral_process_clear(&p);
        }
        T_ASSERTF(cfg_queue_exists(c, "newq"), "the new queue newq was not created");
        {
                struct corral_queue_info q;

                memset(&q, 0, sizeof q);
                T_OK(corral_queue_info(c, "newq", &q, &err), &err);
                T_EQ_INT(q.maxsize, 7);
                corral_queue_clear(&q);
        }
        T_ASSERTF(!cfg_queue_exists(c, "oldq"), "the removed queue oldq still exists");
        cfg_wait_running(c, "newp", 2, NULL, CFG_WAIT);
        cfg_wait_running(c, "stay", 1, stay2, CFG_WAIT);
        T_ASSERTF(stay2[0] == stay[0], "the unchanged pool stay was restarted");
        check_adhoc(adhoc);
        finish();
}

/* Pools and queue of the "before" file, checked unchanged. */
struct before {
        pid_t a[2], b[1];
};

static void
check_unchanged(const struct before *bf, const char *after)
{
        pid_t a[2], b[1];

        usleep(300 * 1000); /* room for a wrongly applied change to show */
        cfg_wait_running(c, "a", 2, a, CFG_WAIT);
        cfg_wait_running(c, "b", 1, b, CFG_WAIT);
        T_ASSERTF(a[0] == bf->a[0] && a[1] == bf->a[1] && b[0] == bf->b[0], "%s: processes changed",
                  after);
        T_ASSERTF(!cfg_pool_exists(c, "c"), "%s: pool c was created", after);
        T_ASSERTF(!cfg_queue_exists(c, "newq"), "%s: queue newq was created", after);
}

#define BEFORE_BODY                                                                                \
        "[pool:a]\ncommand = %s sleep 600\nreplicas = 2\n"                                         \
        "[pool:b]\ncommand = %s sleep 600\n"                                                       \
        "[queue:q]\n"
/* Changes everything, with an error on its last line (8). */
#define INVALID_BODY                                                                               \
        "[pool:a]\ncommand = %s sleep 601\nreplicas = 3\n"                                         \
        "[queue:q]\n"                                                                              \
        "[queue:newq]\n"                                                                           \
        "[pool:c]\ncommand = %s sleep 600\n"                                                       \
        "size = lots\n"

/* An invalid file changes nothing; daemon.reload answers bad_config naming the line. */
static void
t_reload_invalid(void)
{
        struct before bf;
        char msg[1024];
        pid_t a[3];

        setup_dir();
        cfg_write(conf, BEFORE_BODY, CHILD, CHILD);
        start();
        cfg_wait_running(c, "a", 2, bf.a, CFG_WAIT);
        cfg_wait_running(c, "b", 1, bf.b, CFG_WAIT);
        cfg_write(conf, INVALID_BODY, CHILD, CHILD);
        T_ERR(cfg_reload(c, &err), &err, "bad_config");
        snprintf(msg, sizeof msg, "%s", err.message);
        T_ASSERTF(strstr(msg, cfg_place(conf, 8)) != NULL,
                  "daemon.reload's message does not name %s: \"%s\"", cfg_place(conf, 8), msg);
        T_ASSERTF(strstr(msg, "[pool:c] size") != NULL,
                  "daemon.reload's message does not name [pool:c] size: \"%s\"", msg);
        check_unchanged(&bf, "after an invalid reload");
        /* Fixed, it applies. */
        cfg_write(conf,
                  "[pool:a]\ncommand = %s sleep 600\nreplicas = 3\n[queue:q]\n[queue:newq]\n"
                  "[pool:c]\ncommand = %s sleep 600\n",
                  CHILD, CHILD);
        T_OK(cfg_reload(c, &err), &err);
        cfg_wait_running(c, "a", 3, a, CFG_WAIT);
        T_ASSERT(cfg_pids_have(a, 3, bf.a[0]) && cfg_pids_have(a, 3, bf.a[1]));
        T_ASSERT(cfg_queue_exists(c, "newq"));
        cfg_wait_running(c, "c", 1, NULL, CFG_WAIT);
        for (double deadline = now_mono() + CFG_WAIT; cfg_pool_exists(c, "b");) {
                T_ASSERTF(now_mono() < deadline, "pool b, removed, still exists");
                usleep(20000);
        }
        finish();
}

/*
 * Errors found only by looking across sections or at the system: a queue
 * that is not there, an output destination, a user. Each is appended to a
 * valid file; marker is on the offending line.
 */
static const struct {
        const char *snippet, *marker, *want;
} refs[] = {
    {"[pool:c]\nconsume = nosuchqueue\ncommand = /bin/true\n", "consume = nosuchqueue",
     "nosuchqueue"},
    {"[queue:dlq]\ndead_letter = nosuchdl\n", "dead_letter = nosuchdl", "nosuchdl"},
    {"[pool:c]\ncommand = /bin/true\nstdout = bogus:dest\n", "stdout = bogus", "[pool:c]"},
    {"[pool:c]\ncommand = /bin/true\nuser = nosuchuser\n", "user = nosuchuser", "[pool:c]"},
};
#define NREFS     (sizeof refs / sizeof refs[0])
#define REFS_BASE "[queue:q]\n[pool:p]\nsize = 1\n"

/* --check-config finds them: exit 1, naming the section and what is missing. */
static void
t_check_config_references(void)
{
        struct run_result r;

        setup_dir();
        for (size_t i = 0; i < NREFS; i++) {
                char *out;

                cfg_write(conf, REFS_BASE "%s", refs[i].snippet);
                cfg_check_config(conf, &r);
                out = run_output(&r);
                T_ASSERTF(r.status == 1, "--check-config exit %d (expected 1) for:\n%s\n%s",
                          r.status, refs[i].snippet, out);
                T_ASSERTF(strstr(out, refs[i].want) != NULL,
                          "--check-config does not say '%s' for:\n%s\n%s", refs[i].want,
                          refs[i].snippet, out);
                free(out);
                run_result_clear(&r);
        }
        harness_free(h);
}

/* ... and name the line, like every other error ("FILE:LINE: [section] key: problem"). */
static void
t_error_references_line(void)
{
        char failures[2048] = "", body[512];
        struct run_result r;

        setup_dir();
        for (size_t i = 0; i < NREFS; i++) {
                const char *place;
                char *out;

                snprintf(body, sizeof body, REFS_BASE "%s", refs[i].snippet);
                place = cfg_place(conf, cfg_line_of(body, refs[i].marker));
                cfg_write(conf, "%s", body);
                cfg_check_config(conf, &r);
                out = run_output(&r);
                if (strstr(out, place) == NULL) {
                        size_t len = strlen(failures);

                        snprintf(failures + len, sizeof failures - len, "\n  '%s' (want %s): %s",
                                 refs[i].marker, place, out);
                }
                free(out);
                run_result_clear(&r);
        }
        T_ASSERTF(failures[0] == '\0', "errors without their line:%s", failures);
        harness_free(h);
}

/* What changed since BEFORE_BODY was applied, or NULL. */
static const char *
changed_since(const struct before *bf)
{
        static char why[256];
        pid_t a[2], b[1];
        size_t live;

        usleep(300 * 1000); /* room for a wrongly applied change to show */
        if (cfg_running_pids(c, "a", a, 2, &live) != 2 || live != 2)
                snprintf(why, sizeof why, "pool a has %zu live members, not 2", live);
        else if (a[0] != bf->a[0] || a[1] != bf->a[1])
                snprintf(why, sizeof why, "pool a's members were restarted");
        else if (!cfg_pool_exists(c, "b"))
                snprintf(why, sizeof why, "pool b was deleted");
        else if (cfg_running_pids(c, "b", b, 1, &live) != 1 || b[0] != bf->b[0])
                snprintf(why, sizeof why, "pool b's member was restarted");
        else if (cfg_queue_exists(c, "newq"))
                snprintf(why, sizeof why, "queue newq was created");
        else if (cfg_pool_exists(c, "c"))
                snprintf(why, sizeof why, "pool c was created");
        else
                return NULL;
        return why;
}

/*
 * A reload whose error only shows across sections is refused as a whole:
 * bad_config, and nothing changes (a fresh daemon per kind of error).
 */
static void
t_reload_invalid_references(void)
{
        char failures[2048] = "";

        for (size_t i = 0; i < NREFS; i++) {
                struct before bf;
                const char *why = NULL;
                char line[600];
                int r;

                setup_dir();
                cfg_write(conf, BEFORE_BODY, CHILD, CHILD);
                start();
                cfg_wait_running(c, "a", 2, bf.a, CFG_WAIT);
                cfg_wait_running(c, "b", 1, bf.b, CFG_WAIT);
                cfg_write(conf,
                          "[pool:a]\ncommand = %s sleep 601\nreplicas = 3\n[queue:q]\n"
                          "[queue:newq]\n%s",
                          CHILD, refs[i].snippet);
                r = cfg_reload(c, &err);
                if (r == 0)
                        why = "daemon.reload succeeded";
                else if (strcmp(err.code, "bad_config") != 0)
                        why = err.code;
                else if (strstr(err.message, refs[i].want) == NULL)
                        why = "the message does not name the problem";
                else
                        why = changed_since(&bf);
                if (why != NULL) {
                        size_t len = strlen(failures);

                        snprintf(line, sizeof line, "%s", refs[i].marker);
                        snprintf(failures + len, sizeof failures - len,
                                 "\n  '%s': %s (reload: %s %s)", line, why,
                                 r == 0 ? "ok" : err.code, r == 0 ? "" : err.message);
                }
                finish();
        }
        T_ASSERTF(failures[0] == '\0',
                  "reloads with a cross-reference error were not refused "
                  "whole:%s",
                  failures);
}

/* Wait until the log contains needle. */
static bool
log_has(void *arg)
{
        char *log = file_read(h->log, NULL);
        bool r = log != NULL && strstr(log, arg) != NULL;

        free(log);
        return r;
}

/* SIGHUP reloads like daemon.reload; an invalid file is logged and changes nothing. */
static void
t_sighup(void)
{
        struct before bf;
        char place[600];
        pid_t a[3];

        setup_dir();
        cfg_write(conf, BEFORE_BODY, CHILD, CHILD);
        start();
        cfg_wait_running(c, "a", 2, bf.a, CFG_WAIT);
        cfg_wait_running(c, "b", 1, bf.b, CFG_WAIT);
        cfg_write(conf, INVALID_BODY, CHILD, CHILD);
        snprintf(place, sizeof place, "%s", cfg_place(conf, 8));
        T_ASSERT(kill(h->pid, SIGHUP) == 0);
        T_ASSERTF(wait_until(log_has, place, CFG_WAIT),
                  "SIGHUP with an invalid file did not log %s", place);
        T_OK(corral_ping(c, &err), &err);
        check_unchanged(&bf, "after SIGHUP with an invalid file");
        cfg_write(conf,
                  "[pool:a]\ncommand = %s sleep 600\nreplicas = 3\n"
                  "[pool:b]\ncommand = %s sleep 600\n[queue:q]\n[queue:newq]\n",
                  CHILD, CHILD);
        T_ASSERT(kill(h->pid, SIGHUP) == 0);
        for (double deadline = now_mono() + CFG_WAIT; !cfg_queue_exists(c, "newq");) {
                T_ASSERTF(now_mono() < deadline, "SIGHUP did not create queue newq");
                usleep(20000);
        }
        cfg_wait_running(c, "a", 3, a, CFG_WAIT);
        T_ASSERT(cfg_pids_have(a, 3, bf.a[0]) && cfg_pids_have(a, 3, bf.a[1]));
        finish();
}

/* ---- privileges ------------------------------------------------------------------ */

/* "a,b,c" holds only allowed ids; 0 (root's group) never. */
static void
check_groups(const char *groups, long allowed)
{
        char buf[512], *save = NULL;

        T_ASSERT(groups != NULL);
        snprintf(buf, sizeof buf, "%s", groups);
        for (char *g = strtok_r(buf, ",", &save); g != NULL; g = strtok_r(NULL, ",", &save))
                T_ASSERTF(atol(g) == allowed, "supplementary groups \"%s\": %s is not %ld", groups,
                          g, allowed);
}

/*
 * user/group/limits: a child as nobody:nogroup with nofile=123, umask 027,
 * nice 5; as nobody alone, nobody's own group; `as` seen by a shell.
 */
static void
t_privileges(void)
{
        char child[600], rdir[600], r1[700], r2[700], r3[700], *text;
        struct run_result rr;
        long nobody_gid;

        if (geteuid() != 0)
                skip("not root: user, group and limits need corrald to run as root");
        setup_dir();
        /* nobody must reach the program and the report directory. */
        T_ASSERT(chmod(h->dir, 0711) == 0);
        snprintf(child, sizeof child, "%s/cfg_child", h->dir);
        {
                const char *argv[] = {"/bin/cp", CHILD, child, NULL};

                T_ASSERTF(run_cmd(&rr, 30, argv, NULL) == 0, "cp: %s", rr.err);
                run_result_clear(&rr);
        }
        T_ASSERT(chmod(child, 0755) == 0);
        snprintf(rdir, sizeof rdir, "%s/reports", h->dir);
        cfg_mkdir(rdir, 0777);
        snprintf(r1, sizeof r1, "%s/priv.report", rdir);
        snprintf(r2, sizeof r2, "%s/user.report", rdir);
        snprintf(r3, sizeof r3, "%s/as.report", rdir);
        /*
         * Valgrind refuses a child's setrlimit(RLIMIT_NOFILE) before exec
         * (EPERM): under it, every setting but nofile is checked.
         */
        cfg_write(conf,
                  "[pool:priv]\n"
                  "command = %s report %s\n"
                  "user = nobody\n"
                  "group = nogroup\n"
                  "%s"
                  "nproc = 1000\n"
                  "core = 0\n"
                  "cpu = 3600\n"
                  "umask = 027\n"
                  "nice = 5\n"
                  "oom_score_adjust = 300\n"
                  "\n"
                  "[pool:useronly]\n"
                  "command = %s report %s\n"
                  "user = nobody\n"
                  "\n"
                  "[pool:aslimit]\n"
                  "command = /bin/sh -c 'ulimit -v > %s.tmp && mv %s.tmp %s; exec sleep 600'\n"
                  "user = nobody\n"
                  "as = 1G\n",
                  child, r1, harness_valgrind() ? "" : "nofile = 123\n", child, r2, r3, r3, r3);
        start();

        text = cfg_report_read(r1, CFG_WAIT);
        T_EQ_STR(cfg_report(text, "uid"), "65534");
        T_EQ_STR(cfg_report(text, "euid"), "65534");
        {
                struct group *g = getgrnam("nogroup");
                char want[32];

                T_ASSERT(g != NULL);
                nobody_gid = (long)g->gr_gid;
                snprintf(want, sizeof want, "%ld", nobody_gid);
                T_EQ_STR(cfg_report(text, "gid"), want);
                T_EQ_STR(cfg_report(text, "egid"), want);
        }
        check_groups(cfg_report(text, "groups"), nobody_gid);
        T_EQ_STR(cfg_report(text, "umask"), "0027");
        if (!harness_valgrind())
                T_EQ_STR(cfg_report(text, "nofile"), "123/123");
        T_EQ_STR(cfg_report(text, "nproc"), "1000/1000");
        T_EQ_STR(cfg_report(text, "core"), "0/0");
        T_EQ_STR(cfg_report(text, "cpu"), "3600/3600");
        T_EQ_STR(cfg_report(text, "nice"), "5");
        T_EQ_STR(cfg_report(text, "oom_score_adj"), "300");
        free(text);

        /* user alone: that user's primary group, and never root's groups. */
        text = cfg_report_read(r2, CFG_WAIT);
        T_EQ_STR(cfg_report(text, "uid"), "65534");
        T_EQ_STR(cfg_report(text, "gid"), "65534");
        check_groups(cfg_report(text, "groups"), 65534);
        free(text);

        text = cfg_report_read(r3, CFG_WAIT);
        T_ASSERTF(strncmp(text, "1048576", 7) == 0, "ulimit -v under as = 1G: \"%s\"", text);
        free(text);
        finish();
}

/* ---- the shipped example ------------------------------------------------------------ */

/* packaging/corrald.conf is valid as shipped, and with every example uncommented. */
static void
t_example_config(void)
{
        const char *src = SOURCE_DIR "/packaging/corrald.conf";
        char *text, *out, *o;
        struct run_result r;

        text = file_read(src, NULL);
        if (text == NULL)
                skip("packaging/corrald.conf does not exist yet");
        setup_dir();
        T_ASSERTF(cfg_check_config(src, &r) == 0, "--check-config %s: exit %d\n%s%s", src, r.status,
                  r.out, r.err);
        run_result_clear(&r);
        if (geteuid() != 0) {
                /* Its examples set user and group, which need root even to be checked. */
                printf("not root: the example with every setting uncommented is not checked\n");
                free(text);
                harness_free(h);
                return;
        }
        /* "#key = value" and "#[section]" lines are examples: uncomment them. */
        out = calloc(1, strlen(text) + 1);
        T_ASSERT(out != NULL);
        o = out;
        for (const char *p = text; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t l = e != NULL ? (size_t)(e - p + 1) : strlen(p);

                if (p[0] == '#' && (p[1] == '[' || (p[1] >= 'a' && p[1] <= 'z'))) {
                        memcpy(o, p + 1, l - 1);
                        o += l - 1;
                } else {
                        memcpy(o, p, l);
                        o += l;
                }
                p += l;
        }
        cfg_write(conf, "%s", out);
        T_ASSERTF(cfg_check_config(conf, &r) == 0,
                  "--check-config of the example with every setting uncommented: exit %d\n%s%s",
                  r.status, r.out, r.err);
        run_result_clear(&r);
        free(out);
        free(text);
        harness_free(h);
}

static const struct test_case cases[] = {
    TEST_CASE(check_all_keys),
    TEST_CASE(error_unknown_key),
    TEST_CASE(error_bad_number),
    TEST_CASE(error_bad_duration),
    TEST_CASE(error_bad_value),
    TEST_CASE(error_unknown_section),
    TEST_CASE(error_unclosed_quote),
    TEST_CASE(error_needs_command),
    TEST_CASE(error_in_dropin),
    TEST_CASE(check_config_exit_codes),
    TEST_CASE(check_config_references),
    TEST_CASE(error_references_line),
    TEST_CASE(startup_invalid),
    TEST_CASE(command_words),
    TEST_CASE(startup_settings),
    TEST_CASE(daemon_settings),
    TEST_CASE(consume),
    TEST_CASE(dropins_order),
    TEST_CASE(reload_unchanged),
    TEST_CASE(reload_same_meaning),
    TEST_CASE(reload_command_rolls),
    TEST_CASE(reload_scale),
    TEST_CASE(reload_remove_add),
    TEST_CASE(reload_invalid),
    TEST_CASE(reload_invalid_references),
    TEST_CASE(sighup),
    TEST_CASE(privileges),
    TEST_CASE(example_config),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
