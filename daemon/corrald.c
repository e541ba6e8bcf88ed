/*
 * corrald.c -- the daemon's entry point: options, the configuration, the
 * listening socket, signals and the event loop (the context itself and
 * the graceful stop are in context.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "config-apply.h"
#include "config.h"
#include "corrald.h"
#include "log.h"
#include "output.h"
#include "process.h"
#include "server.h"
#include "systemd.h"
#include "xmalloc.h"

static const char corrald_usage[] =
    "usage: corrald [options]\n"
    "\n"
    "Supervise process pools and queues for clients on a Unix socket.\n"
    "Runs in the foreground; SIGTERM or SIGINT stop it gracefully.\n"
    "\n"
    "  -c, --config FILE      the configuration file (default $CORRAL_CONFIG, else\n"
    "                         /etc/corral/corrald.conf for root, else\n"
    "                         $XDG_CONFIG_HOME/corral/corrald.conf;\n"
    "                         plus the conf.d directory beside it)\n"
    "      --check-config     check the configuration, print what is wrong, and exit\n"
    "  -s, --socket PATH      listen on PATH (default: $CORRAL_SOCKET, else\n"
    "                         /run/corral/corrald.sock for root, else\n"
    "                         $XDG_RUNTIME_DIR/corral/corrald.sock)\n"
    "      --history N        keep the records of the last N ended processes (1000)\n"
    "      --grace SECONDS    default time between the stop signal and KILL (10)\n"
    "      --max-message BYTES  largest request accepted (16777216)\n"
    "      --state-dir DIR    durable queues' logs and saved runtime state (default:\n"
    "                         $CORRAL_STATE_DIR, else /var/lib/corral for root, else\n"
    "                         $XDG_STATE_HOME/corral or ~/.local/state/corral)\n"
    "      --queue-max-message BYTES  largest queue message (8388608)\n"
    "  -l, --log-level LEVEL  error, warn, info or debug (info)\n"
    "  -V, --version          print the version and exit\n"
    "  -h, --help             print this help and exit\n";

/*
 * Each supervised process costs two pipe descriptors (its output): take
 * the hard limit for ourselves, and give children the limit we found.
 */
static void
corrald_raise_nofile(struct corrald_config *c)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
                return;
        c->child_nofile = rl;
        if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                        log_warn("cannot raise the descriptor limit: %s", strerror(errno));
        }
}

/* A number option in [min, max]; exits with a clear message otherwise. */
static double
corrald_number(const char *opt, const char *arg, double min, double max)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(arg, &end);
        if (errno != 0 || end == arg || *end != '\0' || !(v >= min && v <= max)) {
                fprintf(stderr, "corrald: --%s: expected a number from %g to %g, got '%s'\n", opt,
                        min, max, arg);
                exit(2);
        }
        return v;
}

/* /etc/corral/corrald.conf for root, else $XDG_CONFIG_HOME/corral or ~/.config/corral. */
static char *
corrald_default_config(void)
{
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char *path;

        if (geteuid() == 0)
                return xstrdup("/etc/corral/corrald.conf");
        if (xdg != NULL && *xdg == '/')
                xasprintf(&path, "%s/corral/corrald.conf", xdg);
        else if (home != NULL && *home == '/')
                xasprintf(&path, "%s/.config/corral/corrald.conf", home);
        else
                path = xstrdup("/etc/corral/corrald.conf");
        return path;
}

/* /var/lib/corral for root, else $XDG_STATE_HOME/corral or ~/.local/state/corral. */
static char *
corrald_default_state_dir(void)
{
        const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        char *dir;

        if (geteuid() == 0)
                return xstrdup("/var/lib/corral");
        if (xdg != NULL && *xdg == '/')
                xasprintf(&dir, "%s/corral", xdg);
        else if (home != NULL && *home == '/')
                xasprintf(&dir, "%s/.local/state/corral", home);
        else
                xasprintf(&dir, "/tmp/corral-state-%ld", (long)geteuid());
        return dir;
}

static void
corrald_parse_args(struct corrald_config *c, int argc, char **argv, bool *check_only)
{
        enum {
                OPT_HISTORY = 256,
                OPT_GRACE,
                OPT_MAX_MESSAGE,
                OPT_STATE_DIR,
                OPT_QUEUE_MAX,
                OPT_CHECK_CONFIG
        };
        static const struct option opts[] = {
            {"socket", required_argument, NULL, 's'},
            {"config", required_argument, NULL, 'c'},
            {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
            {"history", required_argument, NULL, OPT_HISTORY},
            {"grace", required_argument, NULL, OPT_GRACE},
            {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
            {"state-dir", required_argument, NULL, OPT_STATE_DIR},
            {"queue-max-message", required_argument, NULL, OPT_QUEUE_MAX},
            {"log-level", required_argument, NULL, 'l'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int ch, level;

        while ((ch = getopt_long(argc, argv, "c:s:l:Vh", opts, NULL)) != -1) {
                switch (ch) {
                case 's':
                        free(c->socket_path);
                        c->socket_path = xstrdup(optarg);
                        c->cli_socket = true;
                        break;
                case 'c':
                        free(c->config_path);
                        c->config_path = xstrdup(optarg);
                        c->config_required = true;
                        break;
                case OPT_CHECK_CONFIG:
                        *check_only = true;
                        break;
                case OPT_HISTORY:
                        c->history = (unsigned)corrald_number("history", optarg, 0, 1e7);
                        c->cli_history = true;
                        break;
                case OPT_GRACE:
                        c->default_grace = corrald_number("grace", optarg, 0, 86400);
                        c->cli_grace = true;
                        break;
                case OPT_MAX_MESSAGE:
                        c->limits.max_message =
                            (size_t)corrald_number("max-message", optarg, 1024, 1 << 30);
                        c->cli_max_message = true;
                        break;
                case OPT_STATE_DIR:
                        free(c->state_dir);
                        c->state_dir = xstrdup(optarg);
                        c->cli_state_dir = true;
                        break;
                case OPT_QUEUE_MAX:
                        c->queue_max_message =
                            (size_t)corrald_number("queue-max-message", optarg, 1, 1 << 30);
                        c->cli_queue_max = true;
                        break;
                case 'l':
                        if ((level = log_level_from_name(optarg)) < 0) {
                                fprintf(stderr, "corrald: --log-level: unknown level '%s'\n",
                                        optarg);
                                exit(2);
                        }
                        log_set_level(level);
                        c->cli_log_level = true;
                        break;
                case 'V':
                        printf("corrald %s (protocol %d)\n", CORRAL_VERSION, PROTO_VERSION);
                        exit(0);
                case 'h':
                        fputs(corrald_usage, stdout);
                        exit(0);
                default:
                        fputs(corrald_usage, stderr);
                        exit(2);
                }
        }
        if (optind != argc) {
                fprintf(stderr, "corrald: unexpected argument '%s'\n", argv[optind]);
                exit(2);
        }
        /* Like $CORRAL_SOCKET: the environment names them when the command line does not. */
        if (c->config_path == NULL && getenv("CORRAL_CONFIG") != NULL &&
            *getenv("CORRAL_CONFIG") != '\0') {
                c->config_path = xstrdup(getenv("CORRAL_CONFIG"));
                c->config_required = true;
        }
        if (c->state_dir == NULL && getenv("CORRAL_STATE_DIR") != NULL &&
            *getenv("CORRAL_STATE_DIR") != '\0') {
                c->state_dir = xstrdup(getenv("CORRAL_STATE_DIR"));
                c->cli_state_dir = true;
        }
        if (c->config_path == NULL)
                c->config_path = corrald_default_config();
}

/* Defaults for what neither the command line nor the file set. */
static void
corrald_config_finish(struct corrald_config *c)
{
        if (c->socket_path == NULL)
                c->socket_path = server_default_path();
        if (c->state_dir == NULL)
                c->state_dir = corrald_default_state_dir();
        /* A queue message must fit in a request with its envelope. */
        if (c->queue_max_message + 1024 > c->limits.max_message)
                c->queue_max_message = c->limits.max_message - 1024;
}

/* The other signals arrive here through libevent, as events of the loop. */
static void
corrald_signal_cb(evutil_socket_t sig, short what, void *arg)
{
        struct corrald *d = arg;

        switch (sig) {
        case SIGTERM:
                corrald_stop(d, "SIGTERM received");
                break;
        case SIGINT:
                corrald_stop(d, "SIGINT received");
                break;
        case SIGUSR1:
                output_reopen_files(d);
                break;
        case SIGHUP: {
                char *cause = NULL;

                if (config_reload(d, &cause) != 0)
                        free(cause); /* logged by config_reload */
                break;
        }
        }
}

/* SIGCHLD by signalfd: a child's death is one readable descriptor away from its reaping. */
static void
corrald_sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
        struct corrald *d = arg;
        struct signalfd_siginfo si[16];

        /* Signals coalesce: drain, then reap everything that has ended. */
        while (read(fd, si, sizeof si) > 0)
                ;
        corrald_reap(d);
}

static void
corrald_setup_signals(struct corrald *d)
{
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
        struct sigaction sa;
        sigset_t chld;
        size_t i;

        /* Blocked here (children get an empty mask from the spawner), read from a descriptor. */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &chld, NULL) == -1 ||
            (d->sigchld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
                fatal("signalfd(SIGCHLD)");
        d->sigchld_ev =
            event_new(d->base, d->sigchld_fd, EV_READ | EV_PERSIST, corrald_sigchld_cb, d);
        if (d->sigchld_ev == NULL || event_add(d->sigchld_ev, NULL) != 0)
                fatalx("cannot watch SIGCHLD");

        /* A client that hangs up must cost an EPIPE, not the daemon. */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGPIPE, &sa, NULL) == -1)
                fatal("sigaction(SIGPIPE)");
        for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
                d->sig_ev[i] = evsignal_new(d->base, sigs[i], corrald_signal_cb, d);
                if (d->sig_ev[i] == NULL || evsignal_add(d->sig_ev[i], NULL) != 0)
                        fatalx("cannot watch signal %d", sigs[i]);
        }
}

int
main(int argc, char **argv)
{
        struct corrald d;
        struct config *cfg;
        char *cause = NULL;
        bool check_only = false;

        memset(&d, 0, sizeof d);
        log_init(LOG_LEVEL_INFO, getenv("JOURNAL_STREAM") != NULL);
        corrald_config_default(&d.config);
        corrald_parse_args(&d.config, argc, argv, &check_only);
        if ((cfg = config_load(d.config.config_path, d.config.config_required, &cause)) == NULL) {
                fprintf(stderr, "corrald: %s\n", cause);
                free(cause);
                free(d.config.config_path);
                free(d.config.socket_path);
                free(d.config.state_dir);
                return 1;
        }
        config_daemon_settings(&d, cfg, false);
        corrald_config_finish(&d.config);

        /* Before anything that opens descriptors keeps them. */
        corrald_raise_nofile(&d.config);
        corrald_init(&d);
        if (check_only) {
                /* Everything that can be checked without starting anything. */
                int r = config_check(&d, cfg, &cause);

                if (r == 0)
                        printf("corrald: %s: the configuration is valid (%zu pools, %zu queues)\n",
                               cfg->files, cfg->npools, cfg->nqueues);
                else
                        fprintf(stderr, "corrald: %s\n", cause);
                free(cause);
                config_free(cfg);
                corrald_free(&d);
                libevent_global_shutdown();
                return r == 0 ? 0 : 1;
        }
        d.systemd = systemd_new(&d);
        d.cgroups = cgroups_new();
        d.fd_dir = opendir("/proc/self/fd");
        if (config_apply_access(&d, cfg, &cause) != 0) {
                fprintf(stderr, "corrald: %s\n", cause);
                free(cause);
                config_free(cfg);
                corrald_free(&d);
                return 1;
        }
        corrald_setup_signals(&d);
        /* Orphaned grandchildren come to us, so we reap them: no zombies. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
                log_warn("cannot become a subreaper: %s", strerror(errno));
        corrald_restore(&d);
        if ((d.server = server_new(&d, d.config.socket_path, &cause)) == NULL) {
                log_error("%s", cause);
                free(cause);
                config_free(cfg);
                corrald_free(&d);
                return 1;
        }
        if (corrald_apply(&d, cfg, &cause) != 0) {
                log_error("%s", cause);
                free(cause);
                config_free(cfg);
                corrald_stop(&d, "the configuration could not be applied");
                d.exit_code = 1;
        } else {
                config_free(cfg);
                log_info("corrald %s ready (pid %ld)", CORRAL_VERSION, (long)getpid());
                systemd_ready(d.systemd);
        }
        if (event_base_dispatch(d.base) == -1)
                fatalx("the event loop failed");
        log_info("stopped");
        corrald_free(&d);
        libevent_global_shutdown();
        return d.exit_code;
}
