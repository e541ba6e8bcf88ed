/*
 * corralctl-ps.c -- `corralctl ps`: the process table, and the human
 * formats of run time and exit that `info` shares.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "corralctl.h"

/* 5s, 3m12s, 2h04m, 3d02h: two units at most, like ps(1)'s ETIME but shorter. */
void
ctl_format_duration(double seconds, char *buf, size_t len)
{
        unsigned long long s = seconds > 0 ? (unsigned long long)seconds : 0;

        if (s < 60)
                snprintf(buf, len, "%llus", s);
        else if (s < 3600)
                snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, len, "%lluh%02llum", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, len, "%llud%02lluh", s / 86400, s % 86400 / 3600);
}

/* How long it has run: until now if alive, until it ended otherwise. */
double
ctl_process_runtime(const struct corral_process *p)
{
        struct timespec now;
        double end;

        if (p->started_at <= 0)
                return 0;
        if (p->ended_at > 0)
                end = p->ended_at;
        else {
                clock_gettime(CLOCK_REALTIME, &now);
                end = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
        }
        return end > p->started_at ? end - p->started_at : 0;
}

const char *
ctl_format_exit(int exit_code, int sig, char *buf, size_t len)
{
        const char *name;

        if (sig > 0) {
                if ((name = proto_signal_name(sig)) != NULL)
                        snprintf(buf, len, "%s", name);
                else
                        snprintf(buf, len, "SIG%d", sig);
        } else if (exit_code >= 0)
                snprintf(buf, len, "%d", exit_code);
        else
                snprintf(buf, len, "-");
        return buf;
}

/* The exit code, the name of the signal that ended it, or "-". */
const char *
ctl_process_exit(const struct corral_process *p, char *buf, size_t len)
{
        return ctl_format_exit(p->exit_code, p->signal, buf, len);
}

/*
 * The state as people read it: a process that runs but is not ready yet
 * is "starting" even if a daemon reports it as running. Only a daemon
 * that reports readiness (and so the restart policy) is taken at its word.
 */
const char *
ctl_process_state(const struct corral_process *p)
{
        if (strcmp(p->state, "running") == 0 && !p->ready && p->restart[0] != '\0')
                return "starting";
        return p->state;
}

enum { COL_NAME, COL_ID, COL_PID, COL_POOL, COL_STATE, COL_RESTARTS, COL_UPTIME, COL_EXIT, NCOLS };

static const char *const ps_headers[NCOLS] = {"NAME",  "ID",       "PID",    "POOL",
                                              "STATE", "RESTARTS", "UPTIME", "EXIT"};

/* One row's cells; names are at most PROTO_NAME_MAX bytes, the rest short. */
struct ps_row {
        char cell[NCOLS][PROTO_NAME_MAX + 1];
};

static void
ps_fill(struct ps_row *r, const struct corral_process *p)
{
        snprintf(r->cell[COL_NAME], sizeof r->cell[0], "%s", p->name);
        snprintf(r->cell[COL_ID], sizeof r->cell[0], "%llu", (unsigned long long)p->id);
        if (p->pid > 0)
                snprintf(r->cell[COL_PID], sizeof r->cell[0], "%ld", (long)p->pid);
        else
                snprintf(r->cell[COL_PID], sizeof r->cell[0], "-");
        snprintf(r->cell[COL_POOL], sizeof r->cell[0], "%s", p->pool);
        snprintf(r->cell[COL_STATE], sizeof r->cell[0], "%s", ctl_process_state(p));
        snprintf(r->cell[COL_RESTARTS], sizeof r->cell[0], "%u", p->restarts);
        if (p->started_at > 0)
                ctl_format_duration(ctl_process_runtime(p), r->cell[COL_UPTIME], sizeof r->cell[0]);
        else
                snprintf(r->cell[COL_UPTIME], sizeof r->cell[0], "-");
        ctl_process_exit(p, r->cell[COL_EXIT], sizeof r->cell[0]);
}

static void
ps_print_row(const char *const cells[NCOLS], const size_t width[NCOLS])
{
        int i;

        for (i = 0; i < NCOLS - 1; i++)
                printf("%-*s  ", (int)width[i], cells[i]);
        printf("%s\n", cells[NCOLS - 1]);
}

static int
ps_table(const struct corral_process *v, size_t n)
{
        struct ps_row *rows;
        const char *cells[NCOLS];
        size_t width[NCOLS], i, len;
        int c;

        if ((rows = calloc(n + 1, sizeof *rows)) == NULL) {
                ctl_warn("out of memory");
                return CTL_EXIT_IO;
        }
        for (c = 0; c < NCOLS; c++)
                width[c] = strlen(ps_headers[c]);
        for (i = 0; i < n; i++) {
                ps_fill(&rows[i], &v[i]);
                for (c = 0; c < NCOLS; c++) {
                        if ((len = strlen(rows[i].cell[c])) > width[c])
                                width[c] = len;
                }
        }
        ps_print_row(ps_headers, width);
        for (i = 0; i < n; i++) {
                for (c = 0; c < NCOLS; c++)
                        cells[c] = rows[i].cell[c];
                ps_print_row(cells, width);
        }
        free(rows);
        return CTL_EXIT_OK;
}

static int
ps_json(const struct corral_process *v, size_t n)
{
        json_t *a = json_array();
        size_t i;

        for (i = 0; i < n; i++) {
                if (json_array_append_new(a, ctl_json_record(&v[i])) == -1) {
                        json_decref(a);
                        return ctl_json_print(NULL);
                }
        }
        return ctl_json_print(json_pack("{s:o}", "processes", a));
}

static int
ps_run(struct ctl *ctl, int argc, char **argv)
{
        static const struct option opts[] = {
            {"pool", required_argument, NULL, 'p'},
            {"live", no_argument, NULL, 'l'},
            {"quiet", no_argument, NULL, 'q'},
            CTL_COMMON_OPTIONS,
        };
        struct corral_process *v;
        struct corral_error err;
        const char *pool = NULL;
        bool live = false, quiet = false;
        size_t n, i;
        int ch, rc;

        while ((ch = ctl_getopt(ctl, argc, argv, "p:lq", opts, false)) != -1) {
                switch (ch) {
                case 'p':
                        pool = optarg;
                        break;
                case 'l':
                        live = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return ctl_option_other(ctl, ch);
                }
        }
        if ((rc = ctl_want_args(ctl, argc, argv, 0, 0)) != CTL_EXIT_OK ||
            (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
                return rc;
        if (corral_list(ctl->conn, pool, live, &v, &n, &err) == -1)
                return ctl_fail(ctl, &err);
        if (ctl->json)
                rc = ps_json(v, n);
        else if (quiet) {
                for (i = 0; i < n; i++)
                        printf("%llu\n", (unsigned long long)v[i].id);
        } else
                rc = ps_table(v, n);
        corral_process_list_free(v, n);
        return rc;
}

const struct ctl_cmd ctl_cmd_ps = {
    .name = "ps",
    .alias = "status",
    .run = ps_run,
    .usage = "[--pool POOL] [--live] [--quiet]",
    .summary = "List processes, running and ended",
    .help = "Prints a table of the processes the daemon knows, ordered by id: those\n"
            "running and the most recent that have ended.\n"
            "\n"
            "  NAME      its name\n"
            "  ID        its id, never reused\n"
            "  PID       its process id (also its process group), or - if it never ran\n"
            "  POOL      its pool\n"
            "  STATE     pending (waiting for a slot or for --after), starting (not\n"
            "            ready yet), running (and ready), stopping, backoff (waiting to\n"
            "            be restarted), or how it ended: exited, killed, stopped, failed\n"
            "            (its restart policy gave up, or it could not start) or\n"
            "            cancelled (a process it came after failed)\n"
            "  RESTARTS  how many times it was started again\n"
            "  UPTIME    how long its current run has lasted (5s, 3m12s, 2h04m, 3d02h);\n"
            "            for a process that has ended, how long its last run lasted\n"
            "  EXIT      its exit code, the signal that ended it (TERM, KILL...), or -\n"
            "\n"
            "With --json: {\"processes\": [record, ...]}.\n",
    .options = "  -p, --pool POOL      only the processes of POOL\n"
               "  -l, --live           only the processes that have not ended\n"
               "  -q, --quiet          print only the ids, one per line\n",
};
