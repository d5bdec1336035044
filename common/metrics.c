/* metrics.c - see metrics.h.
 *
 * Each family keeps its series in insertion order (so the output is
 * stable between scrapes) and an open-addressing index over them keyed by
 * a hash of the label values. Series are never freed before the registry:
 * a removed series is hidden and reset, and reused if it comes back. */
#include "metrics.h"
#include "buf.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tp_metric_type_names[] = {"counter", "gauge",
                                                   "histogram"};

struct tp_series {
        char **values;     /* n_labels copies */
        uint64_t hash;     /* of the values */
        double value;      /* counter, gauge */
        uint64_t *buckets; /* histogram: n_bounds + 1, not cumulative */
        double sum;
        uint64_t count;
        int hidden; /* removed; kept for reuse */
};

struct tp_metric {
        struct tp_metrics *reg;
        enum tp_metric_kind type;
        char *name;
        char *help;
        char *labels[TP_METRICS_MAX_LABELS];
        size_t n_labels;
        double bounds[TP_METRICS_MAX_BUCKETS];
        size_t n_bounds;
        struct tp_series *series;
        size_t n_series, cap_series;
        size_t *index; /* series position + 1, or 0 when empty */
        size_t index_cap;
};

struct tp_metrics {
        pthread_mutex_t lock;
        struct tp_metric *fams[TP_METRICS_MAX_FAMILIES];
        size_t n_fams;
        size_t n_series;  /* over every family */
        uint64_t dropped; /* updates refused at TP_METRICS_MAX_SERIES */
};

const double tp_metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,  0.1,    0.25,  0.5,  1,
                                             2.5,   5,      10,    30,   60};
const size_t tp_metrics_latency_buckets_n =
        TP_ARRAY_LEN(tp_metrics_latency_buckets);

/* ---- registry --------------------------------------------------------------
 */

struct tp_metrics *tp_metrics_new(void)
{
        struct tp_metrics *metrics = tp_xcalloc(1, sizeof(*metrics));
        pthread_mutex_init(&metrics->lock, NULL);
        return metrics;
}

static void tp_metric_free(struct tp_metric *f)
{
        for (size_t i = 0; i < f->n_series; i++) {
                for (size_t j = 0; j < f->n_labels; j++)
                        free(f->series[i].values[j]);
                free(f->series[i].values);
                free(f->series[i].buckets);
        }
        for (size_t j = 0; j < f->n_labels; j++)
                free(f->labels[j]);
        free(f->series);
        free(f->index);
        free(f->name);
        free(f->help);
        free(f);
}

void tp_metrics_destroy(struct tp_metrics *metrics)
{
        if (!metrics)
                return;
        for (size_t i = 0; i < metrics->n_fams; i++)
                tp_metric_free(metrics->fams[i]);
        pthread_mutex_destroy(&metrics->lock);
        free(metrics);
}

static int tp_metric_name_ok(const char *s, int colons)
{
        if (!*s || (*s >= '0' && *s <= '9'))
                return 0;
        for (; *s; s++) {
                char c = *s;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' ||
                      (colons && c == ':')))
                        return 0;
        }
        return 1;
}

/* Splits "a,b" into f->labels. */
static int tp_metric_parse_labels(struct tp_metric *f, const char *labels,
                                  char *errstr, size_t errstr_size)
{
        const char *p = labels;
        if (!labels || !*labels)
                return 0;
        while (*p) {
                size_t len = strcspn(p, ",");
                char *name = tp_xstrndup(p, len);
                if (f->n_labels == TP_METRICS_MAX_LABELS) {
                        snprintf(errstr, errstr_size,
                                 "metric \"%s\" has more than %d labels",
                                 f->name, TP_METRICS_MAX_LABELS);
                        free(name);
                        return -1;
                }
                f->labels[f->n_labels++] = name;
                if (!tp_metric_name_ok(name, 0) ||
                    strncmp(name, "__", 2) == 0 ||
                    (f->type == TP_METRIC_HISTOGRAM &&
                     strcmp(name, "le") == 0)) {
                        snprintf(errstr, errstr_size,
                                 "metric \"%s\": invalid label name \"%s\"",
                                 f->name, name);
                        return -1;
                }
                p += len;
                if (*p == ',')
                        p++;
        }
        return 0;
}

static struct tp_metric *
tp_metrics_declare(struct tp_metrics *metrics, enum tp_metric_kind type,
                   const char *name, const char *help, const char *labels,
                   const double *bounds, size_t n_bounds, char *errstr,
                   size_t errstr_size)
{
        struct tp_metric *f = NULL;

        if (!metrics)
                return NULL;
        pthread_mutex_lock(&metrics->lock);
        if (!tp_metric_name_ok(name, 1)) {
                snprintf(errstr, errstr_size, "invalid metric name \"%s\"",
                         name);
                goto fail;
        }
        for (size_t i = 0; i < metrics->n_fams; i++) {
                if (strcmp(metrics->fams[i]->name, name) == 0) {
                        snprintf(errstr, errstr_size,
                                 "metric \"%s\" is already registered", name);
                        goto fail;
                }
        }
        if (metrics->n_fams == TP_METRICS_MAX_FAMILIES) {
                snprintf(errstr, errstr_size,
                         "could not register metric \"%s\": more than %d "
                         "families",
                         name, TP_METRICS_MAX_FAMILIES);
                goto fail;
        }
        f = tp_xcalloc(1, sizeof(*f));
        f->reg = metrics;
        f->type = type;
        f->name = tp_xstrdup(name);
        f->help = tp_xstrdup(help ? help : "");
        if (tp_metric_parse_labels(f, labels, errstr, errstr_size) != 0)
                goto fail;
        if (type == TP_METRIC_HISTOGRAM) {
                if (n_bounds < 1 || n_bounds > TP_METRICS_MAX_BUCKETS) {
                        snprintf(errstr, errstr_size,
                                 "histogram \"%s\" needs 1 to %d buckets", name,
                                 TP_METRICS_MAX_BUCKETS);
                        goto fail;
                }
                for (size_t i = 0; i < n_bounds; i++) {
                        if (isnan(bounds[i]) ||
                            (i > 0 && !(bounds[i] > bounds[i - 1]))) {
                                snprintf(errstr, errstr_size,
                                         "histogram \"%s\": bucket bounds "
                                         "must increase",
                                         name);
                                goto fail;
                        }
                        f->bounds[i] = bounds[i];
                }
                f->n_bounds = n_bounds;
        }
        metrics->fams[metrics->n_fams++] = f;
        pthread_mutex_unlock(&metrics->lock);
        return f;
fail:
        pthread_mutex_unlock(&metrics->lock);
        if (f)
                tp_metric_free(f);
        return NULL;
}

int tp_metrics_declare_all(struct tp_metrics *metrics,
                           const struct tp_metric_def *defs, size_t n,
                           char *errstr, size_t errstr_size)
{
        for (size_t i = 0; i < n; i++) {
                const struct tp_metric_def *d = &defs[i];
                *d->out = NULL;
                if (!metrics)
                        continue;
                *d->out = tp_metrics_declare(metrics, d->kind, d->name, d->help,
                                             d->labels, d->bounds, d->n_bounds,
                                             errstr, errstr_size);
                if (!*d->out)
                        return -1;
        }
        return 0;
}

struct tp_metric *tp_metrics_counter(struct tp_metrics *metrics,
                                     const char *name, const char *help,
                                     const char *labels, char *errstr,
                                     size_t errstr_size)
{
        return tp_metrics_declare(metrics, TP_METRIC_COUNTER, name, help,
                                  labels, NULL, 0, errstr, errstr_size);
}

struct tp_metric *tp_metrics_gauge(struct tp_metrics *metrics, const char *name,
                                   const char *help, const char *labels,
                                   char *errstr, size_t errstr_size)
{
        return tp_metrics_declare(metrics, TP_METRIC_GAUGE, name, help, labels,
                                  NULL, 0, errstr, errstr_size);
}

struct tp_metric *tp_metrics_histogram(struct tp_metrics *metrics,
                                       const char *name, const char *help,
                                       const char *labels, const double *bounds,
                                       size_t n_bounds, char *errstr,
                                       size_t errstr_size)
{
        return tp_metrics_declare(metrics, TP_METRIC_HISTOGRAM, name, help,
                                  labels, bounds, n_bounds, errstr,
                                  errstr_size);
}

/* ---- series lookup (registry locked)
 * -----------------------------------------
 */

/* A missing array or value reads as the empty string. */
static const char *tp_label_at(const char *const *values, size_t i)
{
        return values && values[i] ? values[i] : "";
}

static uint64_t tp_labels_hash(const struct tp_metric *f,
                               const char *const *values)
{
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i < f->n_labels; i++) {
                const char *v = tp_label_at(values, i);
                h = tp_hash64(v, strlen(v) + 1, h); /* the NUL separates */
        }
        return h;
}

static int tp_labels_equal(const struct tp_metric *f, const struct tp_series *s,
                           const char *const *values)
{
        for (size_t i = 0; i < f->n_labels; i++)
                if (strcmp(s->values[i], tp_label_at(values, i)) != 0)
                        return 0;
        return 1;
}

static void tp_index_put(size_t *index, size_t cap, uint64_t hash, size_t pos)
{
        size_t i = (size_t)hash & (cap - 1);
        while (index[i])
                i = (i + 1) & (cap - 1);
        index[i] = pos + 1;
}

static void tp_index_grow(struct tp_metric *f)
{
        size_t cap = f->index_cap ? f->index_cap * 2 : 16;
        size_t *index = tp_xcalloc(cap, sizeof(*index));
        for (size_t i = 0; i < f->n_series; i++)
                tp_index_put(index, cap, f->series[i].hash, i);
        free(f->index);
        f->index = index;
        f->index_cap = cap;
}

/* Finds the series, creating it when create is set and the registry has
 * room. Returns NULL otherwise. */
static struct tp_series *tp_series_get(struct tp_metric *f,
                                       const char *const *values, int create)
{
        uint64_t hash = tp_labels_hash(f, values);
        struct tp_series *s;

        if (f->index_cap) {
                size_t i = (size_t)hash & (f->index_cap - 1);
                for (; f->index[i]; i = (i + 1) & (f->index_cap - 1)) {
                        s = &f->series[f->index[i] - 1];
                        if (s->hash == hash && tp_labels_equal(f, s, values))
                                return s;
                }
        }
        if (!create)
                return NULL;
        if (f->reg->n_series >= TP_METRICS_MAX_SERIES) {
                f->reg->dropped++;
                return NULL;
        }
        if (f->n_series == f->cap_series) {
                f->cap_series = f->cap_series ? f->cap_series * 2 : 8;
                f->series = tp_xrealloc(f->series, f->cap_series * sizeof(*s));
        }
        s = &f->series[f->n_series];
        memset(s, 0, sizeof(*s));
        s->hash = hash;
        s->values = tp_xcalloc(f->n_labels + 1, sizeof(char *));
        for (size_t i = 0; i < f->n_labels; i++)
                s->values[i] = tp_xstrdup(tp_label_at(values, i));
        if (f->type == TP_METRIC_HISTOGRAM)
                s->buckets = tp_xcalloc(f->n_bounds + 1, sizeof(uint64_t));
        f->n_series++;
        f->reg->n_series++;
        if (f->n_series * 2 > f->index_cap)
                tp_index_grow(f); /* also indexes the new series */
        else
                tp_index_put(f->index, f->index_cap, hash, f->n_series - 1);
        return s;
}

static void tp_series_reset(struct tp_metric *f, struct tp_series *s)
{
        s->value = 0;
        s->sum = 0;
        s->count = 0;
        if (s->buckets)
                memset(s->buckets, 0, (f->n_bounds + 1) * sizeof(uint64_t));
}

/* ---- updates ---------------------------------------------------------------
 */

static void tp_metric_update(struct tp_metric *f, int set, double v,
                             const char *const *values)
{
        struct tp_series *s;
        if (!f || f->type == TP_METRIC_HISTOGRAM)
                return;
        if (f->type == TP_METRIC_COUNTER && (set || !(v >= 0)))
                return;
        pthread_mutex_lock(&f->reg->lock);
        s = tp_series_get(f, values, 1);
        if (s) {
                s->hidden = 0;
                if (set)
                        s->value = v;
                else
                        s->value += v;
        }
        pthread_mutex_unlock(&f->reg->lock);
}

void tp_metric_add(struct tp_metric *f, double v,
                   const char *const *label_values)
{
        tp_metric_update(f, 0, v, label_values);
}

void tp_metric_inc(struct tp_metric *f, const char *const *label_values)
{
        tp_metric_update(f, 0, 1, label_values);
}

void tp_metric_set(struct tp_metric *f, double v,
                   const char *const *label_values)
{
        tp_metric_update(f, 1, v, label_values);
}

void tp_metric_observe(struct tp_metric *f, double v,
                       const char *const *label_values)
{
        struct tp_series *s;
        size_t b = 0;
        if (!f || f->type != TP_METRIC_HISTOGRAM || isnan(v))
                return;
        while (b < f->n_bounds && v > f->bounds[b])
                b++;
        pthread_mutex_lock(&f->reg->lock);
        s = tp_series_get(f, label_values, 1);
        if (s) {
                s->hidden = 0;
                s->buckets[b]++;
                s->sum += v;
                s->count++;
        }
        pthread_mutex_unlock(&f->reg->lock);
}

void tp_metric_remove(struct tp_metric *f, const char *const *label_values)
{
        struct tp_series *s;
        if (!f)
                return;
        pthread_mutex_lock(&f->reg->lock);
        s = tp_series_get(f, label_values, 0);
        if (s) {
                s->hidden = 1;
                tp_series_reset(f, s);
        }
        pthread_mutex_unlock(&f->reg->lock);
}

double tp_metric_value(struct tp_metric *f, const char *const *label_values)
{
        struct tp_series *s;
        double v = 0;
        if (!f)
                return 0;
        pthread_mutex_lock(&f->reg->lock);
        s = tp_series_get(f, label_values, 0);
        if (s && !s->hidden)
                v = f->type == TP_METRIC_HISTOGRAM ? (double)s->count
                                                   : s->value;
        pthread_mutex_unlock(&f->reg->lock);
        return v;
}

/* ---- rendering -------------------------------------------------------------
 */

/* Escapes \ and newline (HELP), and " too in label values. */
static void tp_buf_escaped(struct tp_buf *b, const char *s, int quotes)
{
        for (; *s; s++) {
                if (*s == '\\')
                        tp_buf_puts(b, "\\\\");
                else if (*s == '\n')
                        tp_buf_puts(b, "\\n");
                else if (quotes && *s == '"')
                        tp_buf_puts(b, "\\\"");
                else
                        tp_buf_putc(b, *s);
        }
}

/* Shortest of %.15g / %.17g that reads back exactly; Prometheus
 * spellings for the infinities and NaN. */
static void tp_format_double(double v, char *out, size_t size)
{
        if (isnan(v)) {
                snprintf(out, size, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        snprintf(out, size, "%.15g", v);
        if (strtod(out, NULL) != v)
                snprintf(out, size, "%.17g", v);
}

static void tp_buf_double(struct tp_buf *b, double v)
{
        char num[40];
        tp_format_double(v, num, sizeof(num));
        tp_buf_puts(b, num);
}

/* Writes name{labels[,le="x"]}. */
static void tp_render_head(struct tp_buf *b, const struct tp_metric *f,
                           const char *suffix, const struct tp_series *s,
                           const char *le)
{
        tp_buf_puts(b, f->name);
        tp_buf_puts(b, suffix);
        if (f->n_labels == 0 && !le)
                return;
        tp_buf_putc(b, '{');
        for (size_t i = 0; i < f->n_labels; i++) {
                if (i > 0)
                        tp_buf_putc(b, ',');
                tp_buf_printf(b, "%s=\"", f->labels[i]);
                tp_buf_escaped(b, s->values[i], 1);
                tp_buf_putc(b, '"');
        }
        if (le)
                tp_buf_printf(b, "%sle=\"%s\"", f->n_labels ? "," : "", le);
        tp_buf_putc(b, '}');
}

static void tp_render_series(struct tp_buf *b, const struct tp_metric *f,
                             const struct tp_series *s)
{
        uint64_t cum = 0;
        char le[40];
        if (f->type != TP_METRIC_HISTOGRAM) {
                tp_render_head(b, f, "", s, NULL);
                tp_buf_putc(b, ' ');
                tp_buf_double(b, s->value);
                tp_buf_putc(b, '\n');
                return;
        }
        for (size_t i = 0; i <= f->n_bounds; i++) {
                cum += s->buckets[i];
                if (i < f->n_bounds)
                        tp_format_double(f->bounds[i], le, sizeof(le));
                else
                        snprintf(le, sizeof(le), "+Inf");
                tp_render_head(b, f, "_bucket", s, le);
                tp_buf_printf(b, " %llu\n", (unsigned long long)cum);
        }
        tp_render_head(b, f, "_sum", s, NULL);
        tp_buf_putc(b, ' ');
        tp_buf_double(b, s->sum);
        tp_buf_putc(b, '\n');
        tp_render_head(b, f, "_count", s, NULL);
        tp_buf_printf(b, " %llu\n", (unsigned long long)s->count);
}

static void tp_render_family(struct tp_buf *b, struct tp_metric *f)
{
        tp_buf_printf(b, "# HELP %s ", f->name);
        tp_buf_escaped(b, f->help, 0);
        tp_buf_printf(b, "\n# TYPE %s %s\n", f->name,
                      tp_metric_type_names[f->type]);
        /* A family without labels always has its one series, at zero. */
        if (f->n_labels == 0 && f->n_series == 0)
                tp_series_get(f, NULL, 1);
        for (size_t i = 0; i < f->n_series; i++)
                if (!f->series[i].hidden)
                        tp_render_series(b, f, &f->series[i]);
}

char *tp_metrics_render(struct tp_metrics *metrics, size_t *len_out)
{
        struct tp_buf b = {0};
        tp_buf_puts(&b, "");
        if (metrics) {
                pthread_mutex_lock(&metrics->lock);
                for (size_t i = 0; i < metrics->n_fams; i++)
                        tp_render_family(&b, metrics->fams[i]);
                tp_buf_puts(&b, "# HELP tthc_metrics_dropped_updates_total "
                                "Metric updates dropped because the series "
                                "limit was reached.\n"
                                "# TYPE tthc_metrics_dropped_updates_total "
                                "counter\n");
                tp_buf_printf(&b, "tthc_metrics_dropped_updates_total %llu\n",
                              (unsigned long long)metrics->dropped);
                pthread_mutex_unlock(&metrics->lock);
        }
        if (len_out)
                *len_out = b.len;
        return b.data;
}
