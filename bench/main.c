/*
 * main.c -- corral-bench: options, the scenario table, and running each
 * scenario's repetitions (corrald and its reference interleaved, peers
 * after them), then the table in markdown and JSON.
 *
 *   corral-bench [--quick] [--reps N] [--only NAME[,NAME]] [--no-peers]
 *                [--md FILE] [--json FILE] [--corrald PATH] [--keep] [--list]
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#ifndef CORRALD_PATH
#define CORRALD_PATH "corrald"
#endif
#ifndef CORRALCTL_PATH
#define CORRALCTL_PATH "corralctl"
#endif
#ifndef READY_CHILD_PATH
#define READY_CHILD_PATH "corral-bench-child"
#endif

#define BENCH_REPS_DEFAULT 5
#define BENCH_WATCHDOG     900 /* seconds one scenario may take before everything is killed */
#define BENCH_MAX_PEERS    4

static const struct scenario *const scenarios[] = {
    &scenario_roundtrip, &scenario_command,   &scenario_pipeline,        &scenario_spawn,
    &scenario_spawn_rss, &scenario_replicas,  &scenario_restart,         &scenario_join,
    &scenario_queue,     &scenario_footprint, &scenario_queue_footprint, &scenario_scale,
    &scenario_events,
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

static const char usage[] =
    "usage: corral-bench [options]\n"
    "\n"
    "Measure corrald against raw references and peers; print a markdown table.\n"
    "\n"
    "  --list           list the scenarios and their figures, then exit\n"
    "  --only NAME,...  run only these scenarios\n"
    "  --quick          small sizes and 2 repetitions: a smoke run\n"
    "  --reps N         repetitions of each figure (default 5)\n"
    "  --no-peers       skip supervisord and task-spooler\n"
    "  --md FILE        write the markdown report to FILE\n"
    "  --json FILE      write the JSON report to FILE\n"
    "  --corrald PATH   the daemon to measure (default: the one built with the bench);\n"
    "                   the command scenario then runs the corralctl beside it, if any\n"
    "  --keep           keep the temporary directory (logs, sockets) afterwards\n"
    "  -v, --verbose    print every repetition's values\n"
    "  -h, --help       this help\n";

static struct results *note_sink;

void
bench_set_results(struct results *res)
{
        note_sink = res;
}

void
bench_note(const char *fmt, ...)
{
        va_list ap;
        char *s;
        size_t i;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s == NULL || note_sink == NULL) {
                free(s);
                return;
        }
        for (i = 0; i < note_sink->nnotes; i++) {
                if (strcmp(note_sink->notes[i], s) == 0) { /* once per run is enough */
                        free(s);
                        return;
                }
        }
        fprintf(stderr, "note: %s\n", s);
        note_sink->notes = xrealloc(note_sink->notes, (note_sink->nnotes + 1) * sizeof(char *));
        note_sink->notes[note_sink->nnotes++] = s;
}

static void
add_error(struct results *res, const char *name, const char *cause)
{
        char *s;

        xasprintf(&s, "%s: %s", name, cause != NULL ? cause : "failed");
        fprintf(stderr, "corral-bench: %s\n", s);
        res->errors = xrealloc(res->errors, (res->nerrors + 1) * sizeof(char *));
        res->errors[res->nerrors++] = s;
}

static struct series
series_new(unsigned reps)
{
        struct series s = {xcalloc(reps, sizeof(double)), reps};
        unsigned i;

        for (i = 0; i < reps; i++)
                s.v[i] = NAN;
        return s;
}

static bool
selected(const char *only, const char *name)
{
        const char *p = only;
        size_t len = strlen(name);

        if (only == NULL)
                return true;
        while ((p = strstr(p, name)) != NULL) {
                if ((p == only || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
                        return true;
                p += len;
        }
        return false;
}

static void
list_scenarios(void)
{
        size_t i, j, k;

        for (i = 0; i < NSCENARIOS; i++) {
                const struct scenario *sc = scenarios[i];

                printf("%-10s %s\n", sc->name, sc->title);
                for (j = 0; j < sc->nfigures; j++)
                        printf("           - %s (%s)%s%s\n", sc->figures[j].label,
                               sc->figures[j].unit, sc->figures[j].target_text ? ", target " : "",
                               sc->figures[j].target_text ? sc->figures[j].target_text : "");
                printf("           reference: %s\n", sc->reference);
                for (j = 0; j < sc->npeers; j++) {
                        for (k = 0; k < sc->peers[j]->nfigures; k++)
                                printf("           peer %s: %s (%s)\n", sc->peers[j]->name,
                                       sc->peers[j]->figures[k].label,
                                       sc->peers[j]->figures[k].unit);
                }
        }
}

/* One line per repetition on stderr, so a long run shows progress. */
static void
progress(const struct scenario *sc, unsigned rep, unsigned reps, const double *c, const double *r)
{
        size_t i;

        fprintf(stderr, "[%s %u/%u]", sc->name, rep + 1, reps);
        for (i = 0; i < sc->nfigures; i++) {
                fprintf(stderr, " %s %.4g", sc->figures[i].key, c[i]);
                if (!isnan(r[i]))
                        fprintf(stderr, " (ref %.4g)", r[i]);
        }
        fputc('\n', stderr);
}

struct peer_slot {
        const struct peer_def *def;
        void *state;
        bool active;
        size_t first; /* index of its first figure in res->peers */
};

static void
peer_skip(struct results *res, struct peer_slot *ps, const char *why)
{
        size_t i;

        ps->active = false;
        for (i = 0; i < ps->def->nfigures; i++) {
                free(res->peers[ps->first + i].skipped);
                res->peers[ps->first + i].skipped = xstrdup(why != NULL ? why : "failed");
        }
}

/* Register a scenario's peers in res and set them up. */
static size_t
peers_prepare(struct bench *b, const struct scenario *sc, struct results *res, unsigned reps,
              bool peers_on, struct peer_slot *slots)
{
        size_t n = sc->npeers < BENCH_MAX_PEERS ? sc->npeers : BENCH_MAX_PEERS, i, j;
        char *why = NULL;

        for (i = 0; i < n; i++) {
                struct peer_slot *ps = &slots[i];

                ps->def = sc->peers[i];
                ps->state = NULL;
                ps->active = true;
                ps->first = res->npeers;
                res->peers =
                    xrealloc(res->peers, (res->npeers + ps->def->nfigures) * sizeof *res->peers);
                for (j = 0; j < ps->def->nfigures; j++) {
                        struct peer_result *pr = &res->peers[res->npeers++];

                        memset(pr, 0, sizeof *pr);
                        pr->scenario = sc;
                        pr->peer = ps->def;
                        pr->def = &ps->def->figures[j];
                        pr->compare = ps->def->compare[j];
                        pr->values = series_new(reps);
                }
                if (!peers_on) {
                        peer_skip(res, ps, "--no-peers");
                } else if (!ps->def->available(b, &why)) {
                        bench_note("peer %s skipped: %s", ps->def->name, why);
                        peer_skip(res, ps, why);
                } else if (ps->def->setup != NULL && ps->def->setup(b, &ps->state, &why) != 0) {
                        bench_note("peer %s failed to start: %s", ps->def->name, why);
                        peer_skip(res, ps, why);
                }
                free(why);
                why = NULL;
        }
        return n;
}

static void
peers_run(struct bench *b, struct results *res, struct peer_slot *slots, size_t n, unsigned rep)
{
        double out[BENCH_MAX_FIGURES];
        char *why = NULL;
        size_t i, j;

        for (i = 0; i < n; i++) {
                struct peer_slot *ps = &slots[i];

                if (!ps->active)
                        continue;
                for (j = 0; j < BENCH_MAX_FIGURES; j++)
                        out[j] = NAN;
                if (ps->def->run(b, ps->state, out, &why) != 0) {
                        bench_note("peer %s failed: %s", ps->def->name, why);
                        peer_skip(res, ps, why);
                        free(why);
                        why = NULL;
                        continue;
                }
                for (j = 0; j < ps->def->nfigures; j++)
                        res->peers[ps->first + j].values.v[rep] = out[j];
                if (b->verbose)
                        fprintf(stderr, "  peer %s: %s %.4g\n", ps->def->name,
                                ps->def->figures[0].key, out[0]);
        }
}

static void
peers_teardown(struct bench *b, struct peer_slot *slots, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (slots[i].def->teardown != NULL)
                        slots[i].def->teardown(b, slots[i].state);
                slots[i].state = NULL;
        }
}

static int
run_reps(struct bench *b, const struct scenario *sc, struct results *res, size_t first,
         unsigned reps, void *state, struct peer_slot *slots, size_t npeers, char **cause)
{
        double c[BENCH_MAX_FIGURES], r[BENCH_MAX_FIGURES];
        unsigned rep;
        size_t i;
        bool ref_first;

        for (rep = 0; rep < reps; rep++) {
                for (i = 0; i < BENCH_MAX_FIGURES; i++)
                        c[i] = r[i] = NAN;
                /* Alternate which goes first, so that drift favours neither. */
                ref_first = rep % 2 == 1;
                if (ref_first && sc->reference_run != NULL &&
                    sc->reference_run(b, state, r, cause) != 0)
                        return -1;
                if (sc->run(b, state, c, cause) != 0)
                        return -1;
                if (!ref_first && sc->reference_run != NULL &&
                    sc->reference_run(b, state, r, cause) != 0)
                        return -1;
                for (i = 0; i < sc->nfigures; i++) {
                        res->figs[first + i].corral.v[rep] = c[i];
                        res->figs[first + i].reference.v[rep] = r[i];
                }
                progress(sc, rep, reps, c, r);
                peers_run(b, res, slots, npeers, rep);
        }
        return 0;
}

static void
run_scenario(struct bench *b, const struct scenario *sc, struct results *res, bool peers_on)
{
        unsigned reps = sc->max_reps != 0 && sc->max_reps < b->reps ? sc->max_reps : b->reps;
        struct peer_slot slots[BENCH_MAX_PEERS];
        size_t first = res->nfigs, npeers = 0, i;
        void *state = NULL;
        char *cause = NULL;
        double t0 = now_mono();

        fprintf(stderr, "== %s (%u repetition%s)\n", sc->title, reps, reps == 1 ? "" : "s");
        if (reps < b->reps)
                bench_note("%s: %u repetitions (each takes long)", sc->title, reps);
        res->figs = xrealloc(res->figs, (res->nfigs + sc->nfigures) * sizeof *res->figs);
        for (i = 0; i < sc->nfigures; i++) {
                struct figure_result *fr = &res->figs[res->nfigs++];

                fr->scenario = sc;
                fr->def = &sc->figures[i];
                fr->corral = series_new(reps);
                fr->reference = series_new(reps);
        }
        alarm(BENCH_WATCHDOG);
        if (sc->fresh_daemon && bench_daemon_start(b, &cause) != 0)
                goto failed;
        if (sc->setup != NULL && sc->setup(b, &state, &cause) != 0)
                goto failed;
        npeers = peers_prepare(b, sc, res, reps, peers_on, slots);
        if (run_reps(b, sc, res, first, reps, state, slots, npeers, &cause) != 0)
                goto failed;
        goto done;
failed:
        add_error(res, sc->name, cause);
        if (b->corrald != 0)
                bench_daemon_log_tail(b);
done:
        peers_teardown(b, slots, npeers);
        if (sc->teardown != NULL)
                sc->teardown(b, state);
        bench_daemon_stop(b);
        /* Anything left (a stray child, an orphan) goes now, not into the next scenario. */
        proc_kill_all();
        alarm(0);
        free(cause);
        fprintf(stderr, "   %s: %.1f s\n", sc->name, now_mono() - t0);
}

static void
results_free(struct results *res)
{
        size_t i;

        for (i = 0; i < res->nfigs; i++) {
                free(res->figs[i].corral.v);
                free(res->figs[i].reference.v);
        }
        for (i = 0; i < res->npeers; i++) {
                free(res->peers[i].values.v);
                free(res->peers[i].skipped);
        }
        for (i = 0; i < res->nnotes; i++)
                free(res->notes[i]);
        for (i = 0; i < res->nerrors; i++)
                free(res->errors[i]);
        free(res->figs);
        free(res->peers);
        free(res->notes);
        free(res->errors);
}

/* The corralctl beside a --corrald given, if there is one there; else the one built with us. */
static const char *
corralctl_beside(const char *corrald, char *buf, size_t len)
{
        const char *slash = strrchr(corrald, '/');
        int n;

        if (slash == NULL) /* found in $PATH: no directory to look in */
                return CORRALCTL_PATH;
        n = snprintf(buf, len, "%.*s/corralctl", (int)(slash - corrald), corrald);
        if (n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
                return buf;
        return CORRALCTL_PATH;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

int
main(int argc, char **argv)
{
        enum {
                OPT_LIST = 256,
                OPT_ONLY,
                OPT_QUICK,
                OPT_REPS,
                OPT_NO_PEERS,
                OPT_MD,
                OPT_JSON,
                OPT_CORRALD,
                OPT_KEEP
        };
        static const struct option opts[] = {
            {"list", no_argument, NULL, OPT_LIST},
            {"only", required_argument, NULL, OPT_ONLY},
            {"quick", no_argument, NULL, OPT_QUICK},
            {"reps", required_argument, NULL, OPT_REPS},
            {"no-peers", no_argument, NULL, OPT_NO_PEERS},
            {"md", required_argument, NULL, OPT_MD},
            {"json", required_argument, NULL, OPT_JSON},
            {"corrald", required_argument, NULL, OPT_CORRALD},
            {"keep", no_argument, NULL, OPT_KEEP},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        struct bench b;
        struct results res;
        const char *only = NULL, *md = NULL, *json = NULL;
        char self[PATH_MAX], ctl[PATH_MAX];
        bool peers_on = true, keep = false, reps_set = false;
        double t0;
        size_t i, ran = 0;
        ssize_t n;
        int ch, rc = 0;

        if (argc > 1 && strcmp(argv[1], "--raw-server") == 0)
                return raw_server_main(argc, argv);
        memset(&b, 0, sizeof b);
        memset(&res, 0, sizeof res);
        b.corrald_path = CORRALD_PATH;
        b.corralctl_path = CORRALCTL_PATH;
        b.child_path = READY_CHILD_PATH;
        b.reps = BENCH_REPS_DEFAULT;
        while ((ch = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
                switch (ch) {
                case OPT_LIST:
                        list_scenarios();
                        return 0;
                case OPT_ONLY:
                        only = optarg;
                        break;
                case OPT_QUICK:
                        b.quick = true;
                        break;
                case OPT_REPS:
                        b.reps = (unsigned)strtoul(optarg, NULL, 10);
                        reps_set = true;
                        if (b.reps < 1 || b.reps > 100) {
                                fprintf(stderr, "corral-bench: --reps: 1 to 100\n");
                                return 2;
                        }
                        break;
                case OPT_NO_PEERS:
                        peers_on = false;
                        break;
                case OPT_MD:
                        md = optarg;
                        break;
                case OPT_JSON:
                        json = optarg;
                        break;
                case OPT_CORRALD:
                        b.corrald_path = optarg;
                        b.corralctl_path = corralctl_beside(optarg, ctl, sizeof ctl);
                        break;
                case OPT_KEEP:
                        keep = true;
                        break;
                case 'v':
                        b.verbose = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "corral-bench: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        for (i = 0; i < NSCENARIOS; i++)
                ran += selected(only, scenarios[i]->name);
        if (ran == 0) {
                fprintf(stderr, "corral-bench: --only %s matches no scenario (see --list)\n", only);
                return 2;
        }
        if (b.quick && !reps_set)
                b.reps = 2;
        if (access(b.corrald_path, X_OK) != 0) {
                fprintf(stderr, "corral-bench: cannot run %s: %s\n", b.corrald_path,
                        strerror(errno));
                return 1;
        }
        if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0) {
                perror("corral-bench: /proc/self/exe");
                return 1;
        }
        self[n] = '\0';
        b.self_path = self;
        snprintf(b.dir, sizeof b.dir, "/tmp/corral-bench.XXXXXX");
        if (mkdtemp(b.dir) == NULL) {
                perror("corral-bench: mkdtemp");
                return 1;
        }
        proc_init(b.dir);
        bench_set_results(&res);
        machine_read(&res.machine);
        res.reps = b.reps;
        res.quick = b.quick;
        t0 = now_mono();
        for (i = 0; i < NSCENARIOS; i++) {
                if (selected(only, scenarios[i]->name))
                        run_scenario(&b, scenarios[i], &res, peers_on);
        }
        res.seconds = now_mono() - t0;
        proc_kill_all();
        report_console(&res);
        if (md != NULL && report_markdown(&res, md) != 0) {
                fprintf(stderr, "corral-bench: cannot write %s: %s\n", md, strerror(errno));
                rc = 1;
        }
        if (json != NULL && report_json(&res, json) != 0) {
                fprintf(stderr, "corral-bench: cannot write %s\n", json);
                rc = 1;
        }
        if (keep)
                fprintf(stderr, "corral-bench: logs and sockets kept in %s\n", b.dir);
        else
                nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (res.nerrors > 0)
                rc = 1;
        bench_set_results(NULL);
        results_free(&res);
        return rc;
}
