/* ingest_metrics.c - tthc-ingest's metrics (see ingest.h). */
#include "ingest_int.h"
#include "util.h"

#include <stdio.h>

int tp_ingest_metrics_init(struct tp_ingest *ig, struct tp_metrics *metrics,
                           char *errstr, size_t errstr_size)
{
        const struct tp_metric_def defs[] = {
                {&ig->m_stored, TP_METRIC_COUNTER,
                 "tthc_ingest_events_stored_total", "Distinct events stored.",
                 NULL, NULL, 0},
                {&ig->m_duplicates, TP_METRIC_COUNTER,
                 "tthc_ingest_duplicates_total",
                 "Redelivered identical events counted once.", NULL, NULL, 0},
                {&ig->m_rejected, TP_METRIC_COUNTER,
                 "tthc_ingest_rejected_total", "Dead letters by reason code.",
                 "reason", NULL, 0},
                {&ig->m_event_time, TP_METRIC_GAUGE, "tthc_event_time_seconds",
                 "Largest occurred_at seen per partition (Unix seconds).",
                 "province,partition", NULL, 0},
        };
        return tp_metrics_declare_all(metrics, defs, TP_ARRAY_LEN(defs), errstr,
                                      errstr_size);
}

/* The largest occurred_at per partition (the watermark's input). */
static void tp_ingest_event_time(struct tp_ingest *ig,
                                 const struct tp_ingest_staged *st)
{
        for (size_t p = 0; p < st->n_progress; p++) {
                const struct tp_ingest_progress *pr = &st->progress[p];
                char part[16];
                const char *labels[2] = {pr->province, part};
                double t;
                if (pr->max_occurred_at == TP_TS_NONE)
                        continue;
                snprintf(part, sizeof(part), "%d", (int)pr->partition);
                t = (double)pr->max_occurred_at / 1000.0;
                if (t > tp_metric_value(ig->m_event_time, labels))
                        tp_metric_set(ig->m_event_time, t, labels);
        }
}

void tp_ingest_metrics_commit(struct tp_ingest *ig,
                              const struct tp_ingest_staged *st)
{
        if (!ig->m_stored)
                return;
        tp_ingest_event_time(ig, st);
        tp_metric_add(ig->m_stored, (double)st->pending.accepted, NULL);
        tp_metric_add(ig->m_duplicates, (double)st->pending.duplicates, NULL);
        for (int r = 1; r < TP_REASON__COUNT; r++)
                if (st->pending.rejected[r])
                        tp_metric_add(ig->m_rejected,
                                      (double)st->pending.rejected[r],
                                      (const char *[]){tp_reason_name(r)});
}
