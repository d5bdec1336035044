/* sinks.h - delivery of alert episodes on a thread of its own, so a slow
 * or absent sink never holds up consumption:
 *  - tthc.alert_outbox -> Kafka topic tthc.alerts (Avro vn.tthc.Alert,
 *    Confluent framing, schema id 2 or the registry's, key = commune
 *    code), at least once;
 *  - Alertmanager API v2 (POST /api/v2/alerts): firing episodes of
 *    provinces that are caught up, re-sent every resend interval, and
 *    endsAt once they resolve; retried with backoff while it is down;
 *  - province_feed_stale, the one wall-clock rule;
 *  - the gauges of tthc-alert's metrics (active alerts, outbox, watermark
 *    age), read from PostgreSQL.
 * It uses its own PostgreSQL connection, Kafka producer and copy of the
 * rules. */
#ifndef TP_ALERT_SINKS_H
#define TP_ALERT_SINKS_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "eval.h"
#include "metrics.h"
#include "rules.h"
#include "alert_avro.h"

#define TP_ALERT_TOPIC "tthc.alerts"

struct tp_sinks;

/* tthc-alert's metrics (families owned by the registry). */
struct tp_alert_metrics {
        struct tp_metric *active;         /* gauge {rule,severity} */
        struct tp_metric *transitions;    /* counter {change} */
        struct tp_metric *deliveries;     /* counter {sink,result} */
        struct tp_metric *outbox_pending; /* gauge */
        struct tp_metric *watermark_age;  /* gauge {province} */
};

/* Declares the families in metrics (NULL: leaves am zeroed, all no-ops). */
int tp_alert_metrics_init(struct tp_alert_metrics *am,
                          struct tp_metrics *metrics, char *errstr,
                          size_t errstr_size);

/* cfg must outlive it; rules are copied. With cfg->registry set, the
 * thread registers schemas/avro 2-alert.avsc under subject
 * tthc.alerts-value before it publishes (retrying with backoff: alerts
 * wait in the outbox meanwhile) and frames with the id returned. */
struct tp_sinks *tp_sinks_new(const struct tp_cfg *cfg,
                              const struct tp_rules *rules, char *errstr,
                              size_t errstr_size);
/* Keeps the metrics up to date (am copied). Call before starting. */
void tp_sinks_set_metrics(struct tp_sinks *s,
                          const struct tp_alert_metrics *am);
/* Starts the thread. */
int tp_sinks_start(struct tp_sinks *s, char *errstr, size_t errstr_size);
/* Hands the thread a copy of new rules (SIGHUP), taken at the start of
 * its next round: the caller never waits for a delivery in progress.
 * Thread-safe. */
void tp_sinks_set_rules(struct tp_sinks *s, const struct tp_rules *rules);
/* Wakes the thread for a round now (new changes in the outbox). */
void tp_sinks_kick(struct tp_sinks *s);
/* Stops the thread after a last delivery pass of at most final_ms. */
void tp_sinks_stop(struct tp_sinks *s, int final_ms);
void tp_sinks_destroy(struct tp_sinks *s);

#endif
