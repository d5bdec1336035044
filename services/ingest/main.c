/* tthc-ingest: validate and store filing events, dossier state and hourly
 * commune throughput, exactly once, with dead letters for bad input. */
#include "cfg.h"
#include "consumer.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "store.h"
#include "util.h"
#include "pgutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The ingest handler with its metrics: totals since the last batch are
 * added to the counters when a batch commits. */
struct tp_ingest_metered {
        struct tp_ingest *ig;
        struct tp_metric *stored, *duplicates, *rejected, *event_time;
        struct tp_ingest_counts last;
};

static int tp_metered_prepare(void *ctx, struct tp_batch *b, PGconn *conn,
                              char *errstr, size_t errstr_size)
{
        struct tp_ingest_metered *im = ctx;
        return tp_ingest_prepare(im->ig, b, conn, errstr, errstr_size);
}

static int tp_metered_write(void *ctx, struct tp_batch *b, PGconn *conn,
                            char *errstr, size_t errstr_size)
{
        struct tp_ingest_metered *im = ctx;
        return tp_ingest_write(im->ig, b, conn, errstr, errstr_size);
}

static void tp_metered_done(void *ctx, struct tp_batch *b, int committed)
{
        struct tp_ingest_metered *im = ctx;
        const struct tp_ingest_counts *n;
        if (committed && im->event_time) {
                /* Largest occurred_at per partition (the watermark's
                 * input); entries are cleared by tp_ingest_done. */
                size_t ne = 0;
                struct tp_ingest_entry *e = tp_ingest_entries(im->ig, &ne);
                for (size_t i = 0; i < ne; i++) {
                        char part[16];
                        const char *labels[2] = {e[i].ev.province_code, part};
                        double t;
                        if (e[i].reason != TP_REASON_OK)
                                continue;
                        snprintf(part, sizeof(part), "%d", e[i].msg->partition);
                        t = (double)e[i].ev.occurred_at / 1000.0;
                        if (t > tp_metric_value(im->event_time, labels))
                                tp_metric_set(im->event_time, t, labels);
                }
        }
        tp_ingest_done(im->ig, b, committed);
        n = tp_ingest_counts(im->ig);
        tp_metric_add(im->stored, (double)(n->accepted - im->last.accepted),
                      NULL);
        tp_metric_add(im->duplicates,
                      (double)(n->duplicates - im->last.duplicates), NULL);
        for (int r = 1; r < TP_REASON__COUNT; r++)
                if (n->rejected[r] != im->last.rejected[r])
                        tp_metric_add(
                                im->rejected,
                                (double)(n->rejected[r] - im->last.rejected[r]),
                                (const char *[]){tp_reason_name(r)});
        im->last = *n;
}

static int tp_metered_init(struct tp_ingest_metered *im,
                           struct tp_metrics *metrics, char *errstr,
                           size_t errstr_size)
{
        const struct tp_metric_def defs[] = {
                {&im->stored, TP_METRIC_COUNTER,
                 "tthc_ingest_events_stored_total", "Distinct events stored.",
                 NULL, NULL, 0},
                {&im->duplicates, TP_METRIC_COUNTER,
                 "tthc_ingest_duplicates_total",
                 "Redelivered identical events counted once.", NULL, NULL, 0},
                {&im->rejected, TP_METRIC_COUNTER, "tthc_ingest_rejected_total",
                 "Dead letters by reason code.", "reason", NULL, 0},
                {&im->event_time, TP_METRIC_GAUGE, "tthc_event_time_seconds",
                 "Largest occurred_at seen per partition (Unix seconds).",
                 "province,partition", NULL, 0},
        };
        return tp_metrics_declare_all(metrics, defs, TP_ARRAY_LEN(defs), errstr,
                                      errstr_size);
}

static void tp_report(const struct tp_ingest *ig)
{
        const struct tp_ingest_counts *n = tp_ingest_counts(ig);
        uint64_t rejected = 0;
        for (int r = 0; r < TP_REASON__COUNT; r++)
                rejected += n->rejected[r];
        tp_log_info("stored %llu event(s), %llu duplicate(s) counted once, "
                    "%llu dead letter(s)",
                    (unsigned long long)n->accepted,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)rejected);
        tp_service_log_store(tp_ingest_store(ig));
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_service svc = {"tthc-ingest", argc, argv};
        struct tp_consumer *c = NULL;
        struct tp_ingest *ig = NULL;
        struct tp_handler h = {0};
        struct tp_ingest_metered im = {0};
        char err[1024];
        int rc = 1;

        if (!tp_service_start("tthc-ingest",
                              "Validates and stores TTHC filing events "
                              "from the province topics into PostgreSQL, "
                              "exactly once.",
                              argc, argv, &cfg, &rc)) {
                tp_cfg_release(&cfg);
                return rc;
        }
        rc = 1;
        h.prepare = tp_ingest_prepare;
        h.write = tp_ingest_write;
        h.done = tp_ingest_done;
        c = tp_service_consumer(&cfg, "tthc-ingest", &h);
        if (!c)
                goto out;
        if (cfg.http_port > 0 &&
            tp_metered_init(&im, tp_consumer_metrics(c), err, sizeof(err))) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        ig = tp_ingest_new(&cfg, tp_consumer_pg(c), err, sizeof(err));
        if (!ig) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        im.ig = ig;
        h.ctx = &im;
        h.prepare = tp_metered_prepare;
        h.write = tp_metered_write;
        h.done = tp_metered_done;
        tp_consumer_set_handler(c, &h);
        tp_consumer_set_reload(c, &tp_service_hup, tp_service_reload_cb, &svc);
        tp_log_info("consuming %s as group %s", cfg.topics, cfg.group);
        rc = tp_consumer_run(c, &tp_service_stop) == 0 ? 0 : 1;
        tp_report(ig);
out:
        tp_consumer_destroy(c);
        tp_ingest_destroy(ig);
        tp_cfg_release(&cfg);
        return rc;
}
