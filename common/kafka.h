/* kafka.h - the one place that builds a librdkafka client.
 *
 * A client gets, in this order: its role's defaults (a consumer's
 * fetch.wait.max.ms of 100 ms, for brokers that hold empty fetches), the
 * client's defaults (struct tp_kafka_opts.defaults, e.g.
 * enable.idempotence for a producer), then
 * the operator's kafka.* properties that apply to the role, then the
 * per-role overrides kafka.consumer.<prop> / kafka.producer.<prop>, and
 * last the properties its guarantees rest on (struct tp_kafka_opts.fixed,
 * e.g. a consumer's enable.auto.commit = false), which nobody overrides. A
 * property of the other role only (a consumer's session.timeout.ms given to
 * every service) is skipped, not passed to librdkafka, so it neither fails nor
 * warns.
 *
 * librdkafka's log lines go through common/log (its level mapped, never in
 * its own "%4|...|" format): a consumer's from its poll loop (log.queue),
 * a producer's from librdkafka's threads.
 *
 * Test tools, bench/raw_consume (the raw limit) and the broker's mock
 * cluster build raw clients on purpose. */
#ifndef TP_KAFKA_H
#define TP_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

enum tp_kafka_role { TP_KAFKA_CONSUMER, TP_KAFKA_PRODUCER };

struct tp_kafka_opts {
        enum tp_kafka_role role;
        const char *brokers;   /* bootstrap.servers */
        const char *client_id; /* the service's name */
        /* the client's own defaults, { property, value } pairs; the
         * operator's properties win over them */
        const char *const (*defaults)[2];
        size_t n_defaults;
        /* properties the client's guarantees rest on (e.g. a consumer's
         * enable.auto.commit = false): set last, the operator's values
         * for them are ignored */
        const char *const (*fixed)[2];
        size_t n_fixed;
        /* the operator's kafka.* properties, without the "kafka." prefix
         * (struct tp_cfg's kafka_keys / kafka_values; may be NULL) */
        char *const *keys;
        char *const *values;
        size_t n;
        void *opaque;
        /* producer: delivery reports */
        void (*dr_msg_cb)(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                          void *opaque);
        /* consumer: rebalances */
        void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t *parts,
                             void *opaque);
};

/* Builds the client. Returns NULL with errstr naming the property or
 * librdkafka's reason; nothing leaks on failure. A consumer is set to
 * poll through rd_kafka_consumer_poll. The caller owns the client
 * (rd_kafka_destroy). */
rd_kafka_t *tp_kafka_new(const struct tp_kafka_opts *o, char *errstr,
                         size_t errstr_size);

/* 1 when prop (without "kafka.") is a property of the other role only
 * and would be skipped for role. */
int tp_kafka_skipped(enum tp_kafka_role role, const char *prop);

/* librdkafka's log callback into common/log (syslog levels mapped),
 * which tp_kafka_new sets; for the raw handles (tthc-broker's mock
 * cluster) that must log as the rest. */
void tp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf);

#endif
