/* kafka.c - see kafka.h. */
#include "kafka.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* Properties of one role only (librdkafka 2.0's CONFIGURATION.md, scope C
 * or P, global and topic level). */
static const char *const tp_kafka_consumer_only[] = {
        "group.id",
        "group.instance.id",
        "group.protocol.type",
        "partition.assignment.strategy",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "coordinator.query.interval.ms",
        "max.poll.interval.ms",
        "enable.auto.commit",
        "auto.commit.enable",
        "auto.commit.interval.ms",
        "enable.auto.offset.store",
        "queued.min.messages",
        "queued.max.messages.kbytes",
        "fetch.wait.max.ms",
        "fetch.queue.backoff.ms",
        "fetch.message.max.bytes",
        "max.partition.fetch.bytes",
        "fetch.max.bytes",
        "fetch.min.bytes",
        "fetch.error.backoff.ms",
        "offset.store.method",
        "offset.store.path",
        "offset.store.sync.interval.ms",
        "isolation.level",
        "enable.partition.eof",
        "check.crcs",
        "auto.offset.reset",
        "consume.callback.max.messages",
};

static const char *const tp_kafka_producer_only[] = {
        "transactional.id",
        "transaction.timeout.ms",
        "enable.idempotence",
        "enable.gapless.guarantee",
        "queue.buffering.max.messages",
        "queue.buffering.max.kbytes",
        "queue.buffering.max.ms",
        "queue.buffering.backpressure.threshold",
        "linger.ms",
        "message.send.max.retries",
        "retries",
        "retry.backoff.ms",
        "compression.codec",
        "compression.type",
        "compression.level",
        "batch.num.messages",
        "batch.size",
        "delivery.report.only.error",
        "sticky.partitioning.linger.ms",
        "request.required.acks",
        "acks",
        "request.timeout.ms",
        "message.timeout.ms",
        "delivery.timeout.ms",
        "partitioner",
        "produce.offset.report",
};

static int tp_kafka_in(const char *const *list, size_t n, const char *prop)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], prop) == 0)
                        return 1;
        return 0;
}

int tp_kafka_skipped(enum tp_kafka_role role, const char *prop)
{
        if (role == TP_KAFKA_PRODUCER)
                return tp_kafka_in(tp_kafka_consumer_only,
                                   TP_ARRAY_LEN(tp_kafka_consumer_only), prop);
        return tp_kafka_in(tp_kafka_producer_only,
                           TP_ARRAY_LEN(tp_kafka_producer_only), prop);
}

void tp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf)
{
        (void)rk;
        tp_log(level <= 3   ? TP_LOG_ERROR
               : level <= 4 ? TP_LOG_WARN
               : level <= 6 ? TP_LOG_INFO
                            : TP_LOG_DEBUG,
               "librdkafka %s: %s", fac, buf);
}

static void tp_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
                              void *opaque)
{
        (void)opaque;
        tp_log_warn("kafka error (%s) %s: %s", rd_kafka_name(rk),
                    rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int tp_kafka_set(rd_kafka_conf_t *conf, const char *k, const char *v,
                        char *errstr, size_t errstr_size)
{
        char err[256];
        if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) == RD_KAFKA_CONF_OK)
                return 0;
        snprintf(errstr, errstr_size, "kafka property \"%s\": %s", k, err);
        return -1;
}

/* The operator's properties for the role: plain ones first, then the
 * role's overrides ("consumer.<prop>", "producer.<prop>"). */
static int tp_kafka_user(rd_kafka_conf_t *conf, const struct tp_kafka_opts *o,
                         char *errstr, size_t errstr_size)
{
        const char *mine =
                o->role == TP_KAFKA_CONSUMER ? "consumer." : "producer.";
        const char *other =
                o->role == TP_KAFKA_CONSUMER ? "producer." : "consumer.";
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < o->n; i++) {
                        const char *k = o->keys[i];
                        int own = strncmp(k, mine, strlen(mine)) == 0;
                        if (strncmp(k, other, strlen(other)) == 0 ||
                            own != pass)
                                continue;
                        if (own)
                                k += strlen(mine);
                        else if (tp_kafka_skipped(o->role, k))
                                continue;
                        if (tp_kafka_set(conf, k, o->values[i], errstr,
                                         errstr_size) != 0)
                                return -1;
                }
        }
        return 0;
}

rd_kafka_t *tp_kafka_new(const struct tp_kafka_opts *o, char *errstr,
                         size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        char err[512];

        if (tp_kafka_set(conf, "bootstrap.servers", o->brokers, errstr,
                         errstr_size) != 0 ||
            (o->client_id && tp_kafka_set(conf, "client.id", o->client_id,
                                          errstr, errstr_size) != 0))
                goto fail;
        /* fetch.wait.max.ms: a broker that holds an empty fetch for its
         * whole wait even when data arrives (librdkafka's mock cluster,
         * tthc-broker) would add up to that wait to every live event and
         * to every read of a topic's end; a real broker answers at once,
         * so 100 ms only costs a few idle fetches a second
         * (docs/benchmarks.md, "Alert latency"). A default: the
         * operator's value wins. */
        if (o->role == TP_KAFKA_CONSUMER &&
            (tp_kafka_set(conf, "log.queue", "true", errstr, errstr_size) !=
                     0 ||
             tp_kafka_set(conf, "fetch.wait.max.ms", "100", errstr,
                          errstr_size) != 0))
                goto fail;
        for (size_t i = 0; i < o->n_defaults; i++)
                if (tp_kafka_set(conf, o->defaults[i][0], o->defaults[i][1],
                                 errstr, errstr_size) != 0)
                        goto fail;
        if (tp_kafka_user(conf, o, errstr, errstr_size) != 0)
                goto fail;
        for (size_t i = 0; i < o->n_fixed; i++)
                if (tp_kafka_set(conf, o->fixed[i][0], o->fixed[i][1], errstr,
                                 errstr_size) != 0)
                        goto fail;
        rd_kafka_conf_set_opaque(conf, o->opaque);
        rd_kafka_conf_set_log_cb(conf, tp_kafka_log_cb);
        rd_kafka_conf_set_error_cb(conf, tp_kafka_error_cb);
        if (o->dr_msg_cb)
                rd_kafka_conf_set_dr_msg_cb(conf, o->dr_msg_cb);
        if (o->rebalance_cb)
                rd_kafka_conf_set_rebalance_cb(conf, o->rebalance_cb);
        rk = rd_kafka_new(o->role == TP_KAFKA_CONSUMER ? RD_KAFKA_CONSUMER
                                                       : RD_KAFKA_PRODUCER,
                          conf, err, sizeof(err));
        if (!rk) {
                snprintf(errstr, errstr_size,
                         "could not create the Kafka %s: %s",
                         o->role == TP_KAFKA_CONSUMER ? "consumer" : "producer",
                         err);
                goto fail;
        }
        /* conf is owned by rk from here */
        if (o->role == TP_KAFKA_CONSUMER) {
                rd_kafka_set_log_queue(rk, NULL);
                rd_kafka_poll_set_consumer(rk);
        }
        return rk;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}
