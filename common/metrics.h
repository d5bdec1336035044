/* metrics.h - a small registry of Prometheus counters, gauges and
 * histograms with labels, rendered in the text exposition format 0.0.4.
 *
 * One registry per process. The consumer thread updates metrics while the
 * HTTP server thread renders them: every call below takes the registry's
 * mutex, so all of them are thread-safe. Updates are cheap (a hash lookup
 * under an uncontended lock), but prefer one update per batch to one per
 * message.
 *
 * A family (struct tp_metric) is declared once with its label names; a
 * series is one combination of label values and is created on first use.
 * The number of series is bounded (TP_METRICS_MAX_SERIES for the whole
 * registry): updates to new series beyond it are dropped and counted in
 * tthc_metrics_dropped_updates_total, so a label with unbounded values can
 * never exhaust memory.
 *
 * NULL is accepted everywhere a registry or family is expected and does
 * nothing, so code can be instrumented unconditionally and run without a
 * registry (--http-port 0).
 *
 * Label values are passed as an array with exactly as many entries as the
 * family has label names (NULL for a family without labels), e.g.
 *
 *   tp_metric_add(rejected, n, (const char *[]){"bad_avro"});
 */
#ifndef TP_METRICS_H
#define TP_METRICS_H

#include <stddef.h>

#define TP_METRICS_MAX_FAMILIES 64
#define TP_METRICS_MAX_LABELS 4
#define TP_METRICS_MAX_BUCKETS 32
#define TP_METRICS_MAX_SERIES 4096

struct tp_metrics;
struct tp_metric;

/* Creates an empty registry; tp_metrics_destroy() frees it and every
 * family it holds. */
struct tp_metrics *tp_metrics_new(void);
void tp_metrics_destroy(struct tp_metrics *metrics);

/* Declare families. name must match [a-zA-Z_:][a-zA-Z0-9_:]*; labels is a
 * comma-separated list of label names ("topic,partition") or NULL/"" for
 * none. Counters should end in "_total", durations be in seconds. The
 * returned family is owned by the registry and lives as long as it.
 * Returns NULL and fills errstr on a bad name, a duplicate family, too many
 * families or labels; returns NULL without an error when metrics is NULL. */
struct tp_metric *tp_metrics_counter(struct tp_metrics *metrics,
                                     const char *name, const char *help,
                                     const char *labels, char *errstr,
                                     size_t errstr_size);
struct tp_metric *tp_metrics_gauge(struct tp_metrics *metrics, const char *name,
                                   const char *help, const char *labels,
                                   char *errstr, size_t errstr_size);
/* bounds: n_bounds (1..TP_METRICS_MAX_BUCKETS) strictly increasing upper
 * bounds, copied; the +Inf bucket is implicit. */
struct tp_metric *tp_metrics_histogram(struct tp_metrics *metrics,
                                       const char *name, const char *help,
                                       const char *labels, const double *bounds,
                                       size_t n_bounds, char *errstr,
                                       size_t errstr_size);

/* A family for tp_metrics_declare_all: where its handle goes, its kind,
 * name, help and labels, and for a histogram its bounds. */
enum tp_metric_kind { TP_METRIC_COUNTER, TP_METRIC_GAUGE, TP_METRIC_HISTOGRAM };
struct tp_metric_def {
        struct tp_metric **out;
        enum tp_metric_kind kind;
        const char *name, *help, *labels;
        const double *bounds;
        size_t n_bounds;
};

/* Declares defs[0..n) in order, each handle into *defs[i].out. Returns 0,
 * or -1 with errstr at the first that fails; with metrics NULL every
 * handle is NULL (updates are no-ops) and it returns 0. */
int tp_metrics_declare_all(struct tp_metrics *metrics,
                           const struct tp_metric_def *defs, size_t n,
                           char *errstr, size_t errstr_size);

/* Counters and gauges: adds v (a counter ignores v < 0). */
void tp_metric_add(struct tp_metric *f, double v,
                   const char *const *label_values);
/* Adds 1. */
void tp_metric_inc(struct tp_metric *f, const char *const *label_values);
/* Gauges: sets the value. */
void tp_metric_set(struct tp_metric *f, double v,
                   const char *const *label_values);
/* Histograms: records one observation. */
void tp_metric_observe(struct tp_metric *f, double v,
                       const char *const *label_values);
/* Stops exporting a series (e.g. the lag of a revoked partition) and
 * resets it; a later update brings it back from zero. */
void tp_metric_remove(struct tp_metric *f, const char *const *label_values);

/* Reads a counter's or gauge's value (0 when the series does not exist);
 * for a histogram, its observation count. For tests. */
double tp_metric_value(struct tp_metric *f, const char *const *label_values);

/* Renders every family in registration order. Returns a NUL-terminated
 * heap string the caller frees, and its length in *len_out (may be
 * NULL). */
char *tp_metrics_render(struct tp_metrics *metrics, size_t *len_out);

/* Default histogram buckets for durations in seconds, 1 ms to 60 s. */
extern const double tp_metrics_latency_buckets[];
extern const size_t tp_metrics_latency_buckets_n;

#endif
