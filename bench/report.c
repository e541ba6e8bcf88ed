/*
 * report.c -- the results as a markdown table (for people and for
 * BENCHMARKS.md) and as JSON (for tools and for comparing runs).
 *
 * Every figure: median of the repetitions and its min-max spread, for
 * corrald and for the reference measured in the same run, their ratio,
 * and the target with whether the median meets it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench.h"

/* 1234567 -> "1,234,567"; small values keep a few significant decimals. */
static const char *
fmt_num(double v, char *buf, size_t len)
{
        char digits[64];
        size_t n, i, o = 0, lead;

        if (isnan(v)) {
                snprintf(buf, len, "—");
                return buf;
        }
        if (fabs(v) < 10) {
                snprintf(buf, len, "%.2f", v);
                return buf;
        }
        if (fabs(v) < 100) {
                snprintf(buf, len, "%.1f", v);
                return buf;
        }
        snprintf(digits, sizeof digits, "%.0f", fabs(v));
        n = strlen(digits);
        lead = n % 3 == 0 ? 3 : n % 3;
        if (v < 0 && o + 1 < len)
                buf[o++] = '-';
        for (i = 0; i < n && o + 2 < len; i++) {
                if (i >= lead && (i - lead) % 3 == 0)
                        buf[o++] = ',';
                buf[o++] = digits[i];
        }
        buf[o] = '\0';
        return buf;
}

/* "median (min–max)", or the median alone when there is one value. */
static const char *
fmt_cell(const struct summary *s, char *buf, size_t len)
{
        char a[32], b[32], c[32];

        if (s->n == 0)
                snprintf(buf, len, "—");
        else if (s->n == 1 || s->min == s->max)
                snprintf(buf, len, "%s", fmt_num(s->median, a, sizeof a));
        else
                snprintf(buf, len, "%s (%s–%s)", fmt_num(s->median, a, sizeof a),
                         fmt_num(s->min, b, sizeof b), fmt_num(s->max, c, sizeof c));
        return buf;
}

/* 1 met, 0 missed, -1 no target or nothing to judge. */
static int
target_met(const struct figure_def *d, const struct summary *corral, double ratio)
{
        switch (d->target_kind) {
        case TARGET_NONE:
                return -1;
        case TARGET_RATIO_MAX:
                return isnan(ratio) ? -1 : ratio <= d->target;
        case TARGET_RATIO_MIN:
                return isnan(ratio) ? -1 : ratio >= d->target;
        case TARGET_ABS_MAX:
                return corral->n == 0 ? -1 : corral->median <= d->target;
        case TARGET_ABS_MIN:
                return corral->n == 0 ? -1 : corral->median >= d->target;
        }
        return -1;
}

static const char *
target_kind_name(enum target_kind k)
{
        static const char *const names[] = {"none", "ratio_max", "ratio_min", "max", "min"};

        return names[k];
}

static const struct figure_result *
find_figure(const struct results *res, const struct scenario *sc, const char *key)
{
        size_t i;

        for (i = 0; i < res->nfigs; i++) {
                if (res->figs[i].scenario == sc && strcmp(res->figs[i].def->key, key) == 0)
                        return &res->figs[i];
        }
        return NULL;
}

static void
md_machine(FILE *f, const struct results *res)
{
        const struct machine *m = &res->machine;

        fprintf(f,
                "Measured %s on %s, %ld CPUs, %ld MiB RAM, %s, %s; corral %s (%s build), "
                "%s.\n",
                m->date, m->cpu, m->ncpu, m->mem_mib, m->kernel, m->os, m->version, m->build,
                m->compiler);
        fprintf(f, "Peers: supervisor %s, task-spooler %s, redis-server %s, beanstalkd %s. ",
                m->supervisord[0] != '\0' ? m->supervisord : "not installed",
                m->tsp[0] != '\0' ? m->tsp : "not installed",
                m->redis[0] != '\0' ? m->redis : "not installed",
                m->beanstalkd[0] != '\0' ? m->beanstalkd : "not installed");
        fprintf(f,
                "%u repetition%s per figure (fewer where noted), %s sizes; the whole run took "
                "%.0f s.\n\n",
                res->reps, res->reps == 1 ? "" : "s", res->quick ? "--quick" : "full",
                res->seconds);
}

static void
md_figures(FILE *f, const struct results *res)
{
        char c1[96], c2[96], r[32], t[32];
        size_t i;

        fprintf(f, "| scenario | figure | unit | corral: median (min–max) | reference: median "
                   "(min–max) | corral/ref | target | met |\n");
        fprintf(f, "|---|---|---|---:|---:|---:|---|---|\n");
        for (i = 0; i < res->nfigs; i++) {
                const struct figure_result *fr = &res->figs[i];
                struct summary a = stats_summary(&fr->corral), b = stats_summary(&fr->reference);
                double ratio = stats_ratio(&a, &b);
                int met = target_met(fr->def, &a, ratio);

                snprintf(r, sizeof r, "%s", isnan(ratio) ? "—" : "");
                if (!isnan(ratio))
                        snprintf(r, sizeof r, "%.2f", ratio);
                snprintf(t, sizeof t, "%s", fr->def->target_text ? fr->def->target_text : "");
                fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", fr->scenario->title,
                        fr->def->label, fr->def->unit, fmt_cell(&a, c1, sizeof c1),
                        fmt_cell(&b, c2, sizeof c2), r, t,
                        met < 0 ? ""
                        : met   ? "yes"
                                : "**no**");
        }
}

static void
md_peers(FILE *f, const struct results *res)
{
        char c1[96], c2[32], r[32];
        size_t i;
        int met;

        if (res->npeers == 0)
                return;
        fprintf(f, "\n| scenario | peer figure | unit | peer: median (min–max) | corral median | "
                   "peer/corral | target | met |\n");
        fprintf(f, "|---|---|---|---:|---:|---:|---|---|\n");
        for (i = 0; i < res->npeers; i++) {
                const struct peer_result *pr = &res->peers[i];
                const struct figure_result *fr = find_figure(res, pr->scenario, pr->compare);
                struct summary p = stats_summary(&pr->values), c = {NAN, NAN, NAN, 0};
                double ratio;

                if (fr != NULL)
                        c = stats_summary(&fr->corral);
                ratio = stats_ratio(&p, &c);
                if (pr->skipped != NULL) {
                        fprintf(f, "| %s | %s | %s | skipped: %s | | | | |\n", pr->scenario->title,
                                pr->def->label, pr->def->unit, pr->skipped);
                        continue;
                }
                snprintf(r, sizeof r, "%s", "—");
                if (!isnan(ratio))
                        snprintf(r, sizeof r, "%.2f", ratio);
                /* A peer's target bounds peer/corral ("corral ≥ 5×": peer/corral ≤ 0.2). */
                met = target_met(pr->def, &p, ratio);
                fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", pr->scenario->title,
                        pr->def->label, pr->def->unit, fmt_cell(&p, c1, sizeof c1),
                        fmt_num(c.median, c2, sizeof c2), r,
                        pr->def->target_text ? pr->def->target_text : "",
                        met < 0 ? ""
                        : met   ? "yes"
                                : "**no**");
        }
}

static void
md_references(FILE *f, const struct results *res)
{
        const struct scenario *last = NULL;
        size_t i;

        fprintf(f, "\nReferences (measured in the same run, interleaved with corrald's "
                   "repetitions):\n\n");
        for (i = 0; i < res->nfigs; i++) {
                if (res->figs[i].scenario == last)
                        continue;
                last = res->figs[i].scenario;
                fprintf(f, "- %s: %s.\n", last->title, last->reference);
        }
        for (i = 0; i < res->npeers; i++) {
                if (i > 0 && res->peers[i].peer == res->peers[i - 1].peer)
                        continue;
                fprintf(f, "- peer %s (%s): %s.\n", res->peers[i].peer->name,
                        res->peers[i].scenario->title, res->peers[i].peer->what);
        }
}

static void
md_write(FILE *f, const struct results *res)
{
        size_t i;

        md_machine(f, res);
        md_figures(f, res);
        md_peers(f, res);
        md_references(f, res);
        if (res->nnotes > 0) {
                fprintf(f, "\nNotes:\n\n");
                for (i = 0; i < res->nnotes; i++)
                        fprintf(f, "- %s\n", res->notes[i]);
        }
        if (res->nerrors > 0) {
                fprintf(f, "\n**Failures:**\n\n");
                for (i = 0; i < res->nerrors; i++)
                        fprintf(f, "- %s\n", res->errors[i]);
        }
}

int
report_markdown(const struct results *res, const char *path)
{
        FILE *f = fopen(path, "w");

        if (f == NULL)
                return -1;
        md_write(f, res);
        return fclose(f);
}

void
report_console(const struct results *res)
{
        fputc('\n', stdout);
        md_write(stdout, res);
        fflush(stdout);
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *
json_num(double v)
{
        return isnan(v) ? json_null() : json_real(v);
}

static json_t *
json_series(const struct series *s)
{
        struct summary sum = stats_summary(s);
        json_t *o, *vals;
        size_t i;

        if (sum.n == 0)
                return json_null();
        vals = json_array();
        for (i = 0; i < s->n; i++)
                json_array_append_new(vals, json_num(s->v[i]));
        o = json_object();
        json_object_set_new(o, "median", json_num(sum.median));
        json_object_set_new(o, "min", json_num(sum.min));
        json_object_set_new(o, "max", json_num(sum.max));
        json_object_set_new(o, "values", vals);
        return o;
}

static json_t *
json_strings(char **v, size_t n)
{
        json_t *a = json_array();
        size_t i;

        for (i = 0; i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *
json_machine(const struct machine *m)
{
        return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "cpu",
                         m->cpu, "ncpu", (json_int_t)m->ncpu, "mem_mib", (json_int_t)m->mem_mib,
                         "kernel", m->kernel, "os", m->os, "compiler", m->compiler, "build",
                         m->build, "corral_version", m->version, "date", m->date, "supervisor",
                         m->supervisord, "task_spooler", m->tsp, "redis_server", m->redis,
                         "beanstalkd", m->beanstalkd);
}

static json_t *
json_figure(const struct figure_result *fr)
{
        struct summary a = stats_summary(&fr->corral), b = stats_summary(&fr->reference);
        double ratio = stats_ratio(&a, &b);
        int met = target_met(fr->def, &a, ratio);
        json_t *o = json_object(), *t;

        json_object_set_new(o, "scenario", json_string(fr->scenario->name));
        json_object_set_new(o, "key", json_string(fr->def->key));
        json_object_set_new(o, "label", json_string(fr->def->label));
        json_object_set_new(o, "unit", json_string(fr->def->unit));
        json_object_set_new(o, "higher_is_better", json_boolean(fr->def->higher_is_better));
        json_object_set_new(o, "corral", json_series(&fr->corral));
        json_object_set_new(o, "reference", json_series(&fr->reference));
        json_object_set_new(o, "ratio", json_num(ratio));
        if (fr->def->target_kind == TARGET_NONE) {
                json_object_set_new(o, "target", json_null());
        } else {
                t = json_object();
                json_object_set_new(t, "kind", json_string(target_kind_name(fr->def->target_kind)));
                json_object_set_new(t, "value", json_real(fr->def->target));
                json_object_set_new(t, "text", json_string(fr->def->target_text));
                json_object_set_new(t, "met", met < 0 ? json_null() : json_boolean(met));
                json_object_set_new(o, "target", t);
        }
        return o;
}

static json_t *
json_peer(const struct results *res, const struct peer_result *pr)
{
        const struct figure_result *fr = find_figure(res, pr->scenario, pr->compare);
        struct summary p = stats_summary(&pr->values), c = {NAN, NAN, NAN, 0};
        json_t *o = json_object();

        if (fr != NULL)
                c = stats_summary(&fr->corral);
        json_object_set_new(o, "scenario", json_string(pr->scenario->name));
        json_object_set_new(o, "peer", json_string(pr->peer->name));
        json_object_set_new(o, "key", json_string(pr->def->key));
        json_object_set_new(o, "label", json_string(pr->def->label));
        json_object_set_new(o, "unit", json_string(pr->def->unit));
        json_object_set_new(o, "value", json_series(&pr->values));
        json_object_set_new(o, "compared_with", json_string(pr->compare));
        json_object_set_new(o, "corral_median", json_num(c.median));
        json_object_set_new(o, "peer_to_corral", json_num(stats_ratio(&p, &c)));
        json_object_set_new(o, "skipped", pr->skipped ? json_string(pr->skipped) : json_null());
        if (pr->def->target_kind != TARGET_NONE) {
                int met = target_met(pr->def, &p, stats_ratio(&p, &c));
                json_t *t = json_object();

                json_object_set_new(t, "kind", json_string(target_kind_name(pr->def->target_kind)));
                json_object_set_new(t, "value", json_real(pr->def->target));
                json_object_set_new(t, "text", json_string(pr->def->target_text));
                json_object_set_new(t, "met", met < 0 ? json_null() : json_boolean(met));
                json_object_set_new(o, "target", t);
        } else {
                json_object_set_new(o, "target", json_null());
        }
        return o;
}

int
report_json(const struct results *res, const char *path)
{
        json_t *root = json_object(), *figs = json_array(), *peers = json_array(),
               *refs = json_object();
        size_t i;
        int rc;

        for (i = 0; i < res->nfigs; i++) {
                json_array_append_new(figs, json_figure(&res->figs[i]));
                json_object_set_new(refs, res->figs[i].scenario->name,
                                    json_string(res->figs[i].scenario->reference));
        }
        for (i = 0; i < res->npeers; i++)
                json_array_append_new(peers, json_peer(res, &res->peers[i]));
        json_object_set_new(root, "machine", json_machine(&res->machine));
        json_object_set_new(root, "run",
                            json_pack("{s:I, s:b, s:f}", "reps", (json_int_t)res->reps, "quick",
                                      res->quick, "seconds", res->seconds));
        json_object_set_new(root, "figures", figs);
        json_object_set_new(root, "peers", peers);
        json_object_set_new(root, "references", refs);
        json_object_set_new(root, "notes", json_strings(res->notes, res->nnotes));
        json_object_set_new(root, "errors", json_strings(res->errors, res->nerrors));
        rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        return rc;
}
