/*
 * stats.c -- medians, quantiles and spreads.
 *
 * A figure is reported as the median of its repetitions with the min-max
 * range as its spread: with 3-7 repetitions on a noisy machine, the range
 * says honestly how far apart runs were, where a standard deviation would
 * pretend to a distribution we do not have. Latency percentiles within a
 * run use the nearest-rank method on all samples of that run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int
stats_cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

double
stats_quantile_sorted(const double *sorted, size_t n, double p)
{
        size_t rank;

        if (n == 0)
                return NAN;
        if (p <= 0)
                return sorted[0];
        rank = (size_t)ceil(p * (double)n);
        if (rank < 1)
                rank = 1;
        if (rank > n)
                rank = n;
        return sorted[rank - 1];
}

double
stats_quantile(double *v, size_t n, double p)
{
        qsort(v, n, sizeof *v, stats_cmp_double);
        return stats_quantile_sorted(v, n, p);
}

struct summary
stats_summary(const struct series *s)
{
        struct summary sum = {NAN, NAN, NAN, 0};
        double *v = xcalloc(s->n, sizeof *v);
        size_t i, n = 0;

        for (i = 0; i < s->n; i++) {
                if (!isnan(s->v[i]))
                        v[n++] = s->v[i];
        }
        if (n > 0) {
                qsort(v, n, sizeof *v, stats_cmp_double);
                /* The median of an even count is the mean of the middle two. */
                sum.median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
                sum.min = v[0];
                sum.max = v[n - 1];
        }
        sum.n = n;
        free(v);
        return sum;
}

double
stats_ratio(const struct summary *a, const struct summary *b)
{
        if (a->n == 0 || b->n == 0 || b->median == 0)
                return NAN;
        return a->median / b->median;
}
