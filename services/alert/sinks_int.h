/* sinks_int.h - the internals of the sink thread (sinks.c), shared by
 * the file of each sink: the outbox relay to Kafka (sink_kafka.c),
 * Alertmanager (sink_am.c), province_feed_stale (feed_stale.c) and the
 * gauges (gauges.c). Everything here runs on the sink thread, except
 * what sinks.c guards with the lock. */
#ifndef TP_ALERT_SINKS_INT_H
#define TP_ALERT_SINKS_INT_H

#include "sinks.h"
#include "alert.h"
#include "event.h"
#include "framing.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "pgutil.h"
#include "redact.h"
#include "schema_reg.h"
#include "util.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TP_SINK_BACKOFF_MIN_MS 500
#define TP_SINK_BACKOFF_MAX_MS 60000
#define TP_OUTBOX_BATCH 1000

struct tp_sinks {
        const struct tp_cfg *cfg;
        const char *am_url;    /* Alertmanager ("": none); the cfg's */
        const char *web_url;   /* tthc-web ("": none); the cfg's */
        struct tp_rules rules; /* the thread's own copy */
        struct tp_alert_metrics metrics;
        PGconn *conn;
        rd_kafka_t *producer;
        rd_kafka_topic_t *alert_topic; /* held: its metadata stays known */
        int dr_failures;
        /* outbox ids whose delivery Kafka confirmed, not yet marked */
        int64_t *delivered;
        size_t n_delivered, cap_delivered;
        struct tp_workcal cal;
        int cal_loaded;
        pthread_t thread;
        int started;
        pthread_mutex_t lock;
        pthread_cond_t wake;        /* under lock: kicked or stop */
        int stop;                   /* under lock */
        int final_ms;               /* under lock */
        int kicked;                 /* under lock */
        struct tp_rules next_rules; /* under lock: a reload to take */
        int has_next_rules;         /* under lock */
        int32_t schema_id;          /* 0: not registered yet */
        int64_t reg_retry_at, reg_backoff;
        int64_t gauges_at;
        int64_t kafka_retry_at, kafka_backoff;
        int64_t am_next_at, am_backoff;
        int64_t last_outbox_seen;
};

/* The next retry delay after cur (doubling, at most
 * TP_SINK_BACKOFF_MAX_MS). */
int64_t tp_backoff_next(int64_t cur);

/* sink_kafka.c: the producer's delivery report callback (opaque: s);
 * one round of the outbox relay (final: ignore backoff); the alert
 * topic's metadata looked up before the first alert. */
void tp_sinks_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                    void *opaque);
void tp_sinks_kafka_round(struct tp_sinks *s, int64_t now, int final);
void tp_sinks_warm(struct tp_sinks *s);

/* sink_am.c: one round of Alertmanager deliveries. */
void tp_sinks_am_round(struct tp_sinks *s, int64_t now, int final);

/* feed_stale.c: evaluates province_feed_stale against the wall clock. */
int tp_sinks_stale(struct tp_sinks *s, char *errstr, size_t errstr_size);

/* gauges.c: refreshes the gauges (at most every few seconds). */
void tp_sinks_gauges(struct tp_sinks *s);

/* The tthc-web page of an alert into buf: <web-url>/communes/<commune>,
 * or /provinces/<province> for a province's alert. Returns 0, or -1
 * (buf empty) without --web-url. */
int tp_sinks_page_url(const struct tp_sinks *s, const char *province,
                      const char *commune, char *buf, size_t size);

#endif
