/* consumer.h - the exactly-once consume loop shared by the services.
 *
 * A consumer subscribes (regex or list), and on partition assignment
 * resumes from the offsets stored in PostgreSQL. It gathers messages into
 * a batch (bounded by count and time) and commits it through a handler:
 *
 *   prepare(batch)   outside any transaction (decode, create partitions,
 *                    produce dead letters); -1 means "try again later"
 *   BEGIN
 *   offsets compare-and-set (fences zombies; on failure: roll back, reload
 *                    the stored offsets, seek, start over)
 *   write(batch)     results, in the same transaction
 *   COMMIT
 *
 * When PostgreSQL (or anything prepare needs) is down, the consumer pauses
 * its partitions, keeps polling so it stays in the group, retries with
 * exponential backoff and resumes: back-pressure, never a crash.
 */
#ifndef TP_CONSUMER_H
#define TP_CONSUMER_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "metrics.h"
#include "offsets.h"

/* A consumed message; borrowed from librdkafka until the batch is reset. */
struct tp_msg {
        const char *topic;
        int32_t partition;
        int64_t offset;
        int64_t timestamp; /* Kafka message timestamp (ms) or -1 */
        const unsigned char *key;
        size_t key_len;
        const unsigned char *value;
        size_t value_len;
        rd_kafka_message_t *rkm; /* owned by the batch */
};

struct tp_batch {
        struct tp_msg *msgs;
        size_t n, cap;
        struct tp_part_range *parts; /* one per partition in the batch */
        size_t n_parts, cap_parts;
};

struct tp_handler {
        void *ctx;
        int (*prepare)(void *ctx, struct tp_batch *b, PGconn *conn,
                       char *errstr, size_t errstr_size);
        int (*write)(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size);
        /* Optional: after the transaction (committed = 1) or when the
         * batch is abandoned (0). */
        void (*done)(void *ctx, struct tp_batch *b, int committed);
};

struct tp_consumer_stats {
        uint64_t messages; /* consumed into committed batches */
        uint64_t batches;  /* committed */
        uint64_t retries;  /* failed attempts that backed off */
        uint64_t fenced;   /* compare-and-set failures */
        int64_t last_commit_ms;
};

struct tp_consumer;

/* Builds the consumer (Kafka handle, PostgreSQL connection). service names
 * it in logs and application_name. handler is copied. */
struct tp_consumer *tp_consumer_new(const struct tp_cfg *cfg,
                                    const char *service,
                                    const struct tp_handler *handler,
                                    char *errstr, size_t errstr_size);

/* Runs until *stop is set (then commits the batch in hand and leaves the
 * group) or, with exit_when_idle, until every assigned partition is drained
 * and committed. Returns 0 on a clean exit, -1 on a fatal error. */
int tp_consumer_run(struct tp_consumer *c, volatile sig_atomic_t *stop);

void tp_consumer_destroy(struct tp_consumer *c);

/* Replaces the handler (e.g. once its context, which needs the
 * consumer's connection, exists). Call before tp_consumer_run(). */
void tp_consumer_set_handler(struct tp_consumer *c,
                             const struct tp_handler *handler);

PGconn *tp_consumer_pg(struct tp_consumer *c);
rd_kafka_t *tp_consumer_rk(struct tp_consumer *c);
const struct tp_consumer_stats *tp_consumer_stats(struct tp_consumer *c);
/* 1 once joined to the group with a PostgreSQL connection. Thread-safe
 * (the HTTP server's thread calls it for /readyz). */
int tp_consumer_ready(struct tp_consumer *c);

/* Registers the consumer's metrics (tthc_consumer_*, tthc_postgres_up) in
 * m (borrowed; it must outlive the consumer) and keeps them current. Call
 * before tp_consumer_run(); m NULL does nothing. */
int tp_consumer_set_metrics(struct tp_consumer *c, struct tp_metrics *m,
                            char *errstr, size_t errstr_size);

/* While running, when *flag is set: clear it and call fn(ctx) on the
 * consumer's thread, between batches (SIGHUP reloads). */
void tp_consumer_set_reload(struct tp_consumer *c, volatile sig_atomic_t *flag,
                            void (*fn)(void *ctx), void *ctx);

/* Serves /metrics, /healthz and /readyz on port (0: any free port) from
 * a registry the consumer creates and owns, with the consumer's metrics
 * registered. Returns 0, or -1 with errstr. */
int tp_consumer_serve_http(struct tp_consumer *c, int port, char *errstr,
                           size_t errstr_size);
/* The registry of tp_consumer_serve_http() (NULL before): services add
 * their own metrics to it. Owned by the consumer. */
struct tp_metrics *tp_consumer_metrics(struct tp_consumer *c);

/* Batch bookkeeping (exposed for tests). */
void tp_batch_init(struct tp_batch *b);
/* Adds a message; start is the partition's stored offset (used when the
 * partition first appears in the batch). The batch takes rkm. */
void tp_batch_add(struct tp_batch *b, rd_kafka_message_t *rkm, int64_t start);
void tp_batch_add_msg(struct tp_batch *b, const struct tp_msg *m,
                      int64_t start);
void tp_batch_reset(struct tp_batch *b);
void tp_batch_release(struct tp_batch *b);
/* Drops the messages of one partition. */
void tp_batch_drop_partition(struct tp_batch *b, const char *topic,
                             int32_t partition);

#endif
