/* sinks.h - delivery of alert episodes on a thread of its own, so a slow
 * or absent sink never holds up consumption:
 *  - tthc.alert_outbox -> Kafka topic tthc.alerts (Avro vn.tthc.Alert,
 *    Confluent framing, schema id 2, key = commune code), at least once;
 *  - Alertmanager API v2 (POST /api/v2/alerts): firing episodes of
 *    provinces that are caught up, re-sent every resend interval, and
 *    endsAt once they resolve; retried with backoff while it is down;
 *  - province_feed_stale, the one wall-clock rule.
 * It uses its own PostgreSQL connection and Kafka producer. */
#ifndef TP_ALERT_SINKS_H
#define TP_ALERT_SINKS_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "eval.h"
#include "rules.h"

#define TP_ALERT_SCHEMA_ID 2
#define TP_ALERT_TOPIC "tthc.alerts"

struct tp_sinks;

/* cfg and rules must outlive it. */
struct tp_sinks *tp_sinks_new(const struct tp_cfg *cfg,
                              const struct tp_rules *rules, char *errstr,
                              size_t errstr_size);
/* Starts the thread. */
int tp_sinks_start(struct tp_sinks *s, char *errstr, size_t errstr_size);
/* Stops the thread after a last delivery pass of at most final_ms. */
void tp_sinks_stop(struct tp_sinks *s, int final_ms);
void tp_sinks_destroy(struct tp_sinks *s);

/* One outbox row, as encoded for Kafka. */
struct tp_alert_msg {
        const char *alert_id, *change, *rule, *province, *commune;
        const char *severity, *status, *resolution, *details;
        double value, threshold;
        int64_t started_at, changed_at, resolved_at; /* TP_TS_NONE */
        int64_t sequence;
};

/* Encodes m as a Confluent-framed vn.tthc.Alert (heap buffer). */
unsigned char *tp_alert_encode(const struct tp_alert_msg *m, size_t *len);

#endif
