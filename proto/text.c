/*
 * text.c -- parameters written as text (the configuration file), decoded
 * by the same field tables as the wire: one definition of every setting's
 * type and bounds. Numbers take unit suffixes (64K, 1M; 500ms, 2m, 1h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto.h"

static void *
text_slot(void *out, size_t off)
{
        return (char *)out + off;
}

const struct proto_field *
proto_spec_field(const struct proto_params_spec *spec, const char *name)
{
        size_t i;

        for (i = 0; i < spec->nfields; i++) {
                if (strcmp(spec->fields[i].name, name) == 0)
                        return &spec->fields[i];
        }
        return NULL;
}

static int
text_bad(struct proto_error *err, const struct proto_field *f, const char *what, const char *text)
{
        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be %s, not '%s'", f->name,
                        what, text);
        return -1;
}

/* An unsigned size: digits with an optional K, M, G, T (powers of 1024). */
static int
text_uint(const char *text, uint64_t *v)
{
        char *end;
        unsigned long long n;
        uint64_t mul = 1;

        if (*text == '-' || *text == '\0')
                return -1;
        errno = 0;
        n = strtoull(text, &end, 0);
        if (errno != 0 || end == text)
                return -1;
        switch (*end) {
        case 'k':
        case 'K':
                mul = 1ull << 10;
                end++;
                break;
        case 'm':
        case 'M':
                mul = 1ull << 20;
                end++;
                break;
        case 'g':
        case 'G':
                mul = 1ull << 30;
                end++;
                break;
        case 't':
        case 'T':
                mul = 1ull << 40;
                end++;
                break;
        }
        if (*end != '\0' || (n != 0 && mul > UINT64_MAX / n))
                return -1;
        *v = (uint64_t)n * mul;
        return 0;
}

/* Seconds: a number with an optional ms, s, m, h or d. */
static int
text_seconds(const char *text, double *v)
{
        char *end;
        double d;

        errno = 0;
        d = strtod(text, &end);
        if (errno != 0 || end == text || !isfinite(d) || d < 0)
                return -1;
        if (strcmp(end, "ms") == 0)
                d /= 1000;
        else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
                d *= 60;
        else if (strcmp(end, "h") == 0)
                d *= 3600;
        else if (strcmp(end, "d") == 0)
                d *= 86400;
        else if (*end != '\0' && strcmp(end, "s") != 0)
                return -1;
        *v = d;
        return 0;
}

static int
text_bool(const char *text, bool *v)
{
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};
        size_t i;

        for (i = 0; i < 4; i++) {
                if (strcasecmp(text, yes[i]) == 0) {
                        *v = true;
                        return 0;
                }
                if (strcasecmp(text, no[i]) == 0) {
                        *v = false;
                        return 0;
                }
        }
        return -1;
}

/* A list of integers separated by spaces or commas. */
static int
text_intv(const struct proto_field *f, const char *text, void *out, struct proto_arena *a,
          struct proto_error *err)
{
        size_t max = f->max_len != 0 ? f->max_len : 256, n = 0;
        int64_t *v = proto_arena_alloc(a, (max + 1) * sizeof *v);
        const char *p = text;

        if (v == NULL)
                return text_bad(err, f, "a list of numbers (out of memory)", text);
        while (*p != '\0') {
                char *end;
                long long x;

                if (*p == ' ' || *p == ',' || *p == '\t') {
                        p++;
                        continue;
                }
                errno = 0;
                x = strtoll(p, &end, 10);
                if (errno != 0 || end == p || x < f->min || x > f->max || n == max)
                        return text_bad(err, f, "a list of numbers in range", text);
                v[n++] = x;
                p = end;
        }
        *(int64_t **)text_slot(out, f->off) = v;
        *(size_t *)text_slot(out, f->count_off) = n;
        return 0;
}

int
proto_field_from_text(const struct proto_field *f, const char *text, void *out,
                      struct proto_arena *a, struct proto_error *err)
{
        char what[96];
        const char *why;
        uint64_t u;
        double d;
        bool b;
        int i;

        switch (f->type) {
        case PF_NAME:
                if (!proto_name_valid(text, strlen(text), &why))
                        return text_bad(err, f, "a name", text);
                /* fall through */
        case PF_STR:
        case PF_PATH:
                if (f->type == PF_PATH && text[0] != '/')
                        return text_bad(err, f, "an absolute path", text);
                if ((*(char **)text_slot(out, f->off) =
                         proto_arena_strndup(a, text, strlen(text))) == NULL)
                        return text_bad(err, f, "shorter (out of memory)", text);
                break;
        case PF_BYTES:
                *(const char **)text_slot(out, f->off) = proto_arena_strndup(a, text, strlen(text));
                *(size_t *)text_slot(out, f->count_off) = strlen(text);
                break;
        case PF_BOOL:
                if (text_bool(text, &b) != 0)
                        return text_bad(err, f, "yes or no", text);
                *(bool *)text_slot(out, f->off) = b;
                break;
        case PF_UINT:
                if (text_uint(text, &u) != 0 || (f->min > 0 && u < (uint64_t)f->min) ||
                    (f->max > 0 && u > (uint64_t)f->max)) {
                        snprintf(what, sizeof what, "a number from %lld to %lld", (long long)f->min,
                                 (long long)f->max);
                        return text_bad(err, f, what, text);
                }
                *(uint64_t *)text_slot(out, f->off) = u;
                break;
        case PF_INT: {
                char *end;
                long long x;

                errno = 0;
                x = strtoll(text, &end, 0);
                if (errno != 0 || end == text || *end != '\0' || x < f->min || x > f->max) {
                        snprintf(what, sizeof what, "a number from %lld to %lld", (long long)f->min,
                                 (long long)f->max);
                        return text_bad(err, f, what, text);
                }
                *(int64_t *)text_slot(out, f->off) = x;
                break;
        }
        case PF_SECONDS:
                if (text_seconds(text, &d) != 0 || (f->max > 0 && d > (double)f->max))
                        return text_bad(err, f, "a duration (1.5, 500ms, 2m, 1h)", text);
                *(double *)text_slot(out, f->off) = d;
                break;
        case PF_SIGNAL:
                if ((i = proto_signal_from_name(text)) < 0)
                        return text_bad(err, f, "a signal (TERM, SIGHUP, 15)", text);
                *(int *)text_slot(out, f->off) = i;
                break;
        case PF_ENUM:
                for (i = 0; f->enum_names[i] != NULL; i++) {
                        if (strcmp(f->enum_names[i], text) == 0) {
                                *(int *)text_slot(out, f->off) = i;
                                goto done;
                        }
                }
                what[0] = '\0';
                for (i = 0; f->enum_names[i] != NULL; i++) {
                        strncat(what, i ? ", " : "one of ", sizeof what - strlen(what) - 1);
                        strncat(what, f->enum_names[i], sizeof what - strlen(what) - 1);
                }
                return text_bad(err, f, what, text);
        case PF_INTV:
                if (text_intv(f, text, out, a, err) != 0)
                        return -1;
                break;
        default:
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s cannot be written as text", f->name);
                return -1;
        }
done:
        if (f->has_off != 0)
                *(bool *)text_slot(out, f->has_off) = true;
        return 0;
}
