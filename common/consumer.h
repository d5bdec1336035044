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
 *
 * A write refused as data (SQLSTATE classes 22, 23, 54) is not an outage:
 * the consumer bisects the batch with trial writes (rolled back) to find
 * the messages refused alone, takes them out (tp_msg_db_rejected) and
 * commits the rest. When every message is refused with the same SQLSTATE
 * that is an outage (a broken migration must not dead-letter the stream);
 * while the batch has room it keeps filling it, so a lone message is
 * judged against the ones that follow. Class 40 (serialization failure,
 * deadlock) is retried at once. Handlers must make prepare + write
 * repeatable: a trial is prepare, BEGIN, write, ROLLBACK.
 *
 * In a backlog, a handler that splits write into stage and flush gets
 * pipelined checkpoints: full batch n+1 is prepared and staged (applied)
 * over a second connection while batch n's BEGIN, compare-and-set,
 * flush and COMMIT run on a worker thread over the first. A failure of
 * batch n drops n+1's staged work too, and both go through the path
 * above, one batch at a time (docs/ingest.md, "Pipelined checkpoints").
 */
#ifndef TP_CONSUMER_H
#define TP_CONSUMER_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "cfg.h"
#include "event.h"
#include "metrics.h"
#include "offsets.h"
#include "reason.h"

/* A consumed message: its key and value are a copy owned by the batch
 * until it is reset (librdkafka's message is released as soon as it is
 * added, so a batch holds its messages' bytes, not librdkafka's
 * bookkeeping of each). */
struct tp_msg {
        const char *topic;
        int32_t partition;
        int64_t offset;
        int64_t timestamp; /* Kafka message timestamp (ms) or -1 */
        const unsigned char *key;
        size_t key_len;
        const unsigned char *value;
        size_t value_len;
        /* A message replayed from tthc.filing_events (common/replay.h):
         * the event as stored, read in place of value (NULL, 0). Borrowed
         * from the replay until the batch is reset; NULL when consumed. */
        const struct tp_event *event;
        /* Set by the consumer, read by handlers (tp_msg_db_rejected):
         * PostgreSQL's error when the message was refused as data (owned
         * by the batch), and trial_out while a trial write leaves it out. */
        char *db_error;
        int trial_out;
        /* Set by the handler, at the latest in done(committed = 1): why
         * the message is invalid (tthc-ingest: a dead letter; the others
         * skip it), TP_REASON_OK otherwise. Counted once the batch
         * commits, in tthc_consumer_invalid_total{reason}. */
        enum tp_reason reason;
};

struct tp_batch {
        struct tp_msg *msgs;
        size_t n, cap;
        struct tp_part_range *parts; /* one per partition in the batch */
        size_t n_parts, cap_parts;
        size_t last_part; /* where tp_batch_add_msg looks first */
        size_t bytes;     /* keys + values of the messages */
        /* the messages' keys and values (tp_batch_add), owned */
        struct tp_arena mem;
        /* Changes whenever state outside this process may have changed:
         * partitions assigned or revoked, offsets moved by another
         * instance (a fence). Handlers that keep state across batches
         * (common/store.h) drop it when the epoch changes. */
        uint64_t epoch;
        /* 1 when the batch replays tthc.filing_events (tthc-admin
         * rebuild): handlers recompute their tables but write no raw
         * event, dead letter or notification. */
        int replay;
        /* The handler's rows between its stage and flush (struct
         * tp_handler); owned by the handler, which frees them in done
         * and when it stages the batch again. NULL otherwise. */
        void *staged;
};

/* 1 when the consumer took msg out of the batch's writes: PostgreSQL
 * refused it as data (SQLSTATE class 22, 23 or 54, found by bisecting the
 * batch), or a trial write leaves it out. Handlers then treat it as
 * rejected with reason db_rejected (tthc-ingest: a dead letter; the
 * others skip and count it) and detail says why. */
int tp_msg_db_rejected(const struct tp_msg *msg, char *detail,
                       size_t detail_size);

struct tp_handler {
        void *ctx;
        int (*prepare)(void *ctx, struct tp_batch *b, PGconn *conn,
                       char *errstr, size_t errstr_size);
        /* NULL when stage and flush are given: the write is then stage
         * followed by flush over the same connection. */
        int (*write)(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size);
        /* Optional: after the transaction (committed = 1) or when the
         * batch is abandoned (0). */
        void (*done)(void *ctx, struct tp_batch *b, int committed);
        /* Optional, both or neither: write in two halves, so that the
         * consumer, in a backlog, applies batch n+1 while batch n
         * commits (a pipelined checkpoint). stage does write's work up
         * to the statements that store results: it reads what it needs
         * through conn (a second connection, in a read transaction of
         * its own, while batch n commits on the first; committed state,
         * so state batch n changed must come from the handler's memory:
         * common/store.h, tp_store_seal), applies the batch and keeps
         * the rows to send in b->staged. flush sends them in the
         * transaction, on another thread: it may use only b, conn and
         * what no other callback changes. done(b, 1) may then come
         * after the next batch's stage; done(b, 0) for batch n drops
         * what batch n+1 staged too. One batch at a time (live
         * traffic, retries, bisection, replays), stage and flush run
         * over the same connection in the transaction: flush must
         * work over either. */
        int (*stage)(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size);
        int (*flush)(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size);
        /* Optional: after done, with its own context: the service's
         * observer of the handler (metrics, wake-ups). */
        void *after_ctx;
        void (*after)(void *after_ctx, int committed);
};

/* The handler's write of b over conn: write, or stage then flush. */
int tp_handler_write(const struct tp_handler *h, struct tp_batch *b,
                     PGconn *conn, char *errstr, size_t errstr_size);

struct tp_consumer_stats {
        uint64_t messages;      /* consumed into committed batches */
        uint64_t batches;       /* committed */
        uint64_t retries;       /* failed attempts that backed off */
        uint64_t fenced;        /* compare-and-set failures */
        uint64_t db_rejected;   /* messages refused as data, taken out */
        uint64_t pipelined;     /* batches committed while the next staged */
        int64_t flight_wait_ms; /* the loop waited for batches in flight */
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

/* The configuration it was built with (the caller's). */
const struct tp_cfg *tp_consumer_cfg(const struct tp_consumer *c);
PGconn *tp_consumer_pg(struct tp_consumer *c);
rd_kafka_t *tp_consumer_rk(struct tp_consumer *c);
const struct tp_consumer_stats *tp_consumer_stats(struct tp_consumer *c);
/* 1 once joined to the group with a PostgreSQL connection, while commits
 * have not been failing for longer than cfg->unready_after_ms. Thread-safe
 * (the HTTP server's thread calls it for /readyz). */
int tp_consumer_ready(struct tp_consumer *c);

/* Registers the consumer's metrics (tthc_consumer_*, tthc_postgres_up) in
 * metrics (borrowed; it must outlive the consumer) and keeps them
 * current. Call before tp_consumer_run(); metrics NULL does nothing. */
int tp_consumer_set_metrics(struct tp_consumer *c, struct tp_metrics *metrics,
                            char *errstr, size_t errstr_size);

/* While running, when *flag is set: clear it and call fn(ctx) on the
 * consumer's thread, between batches (SIGHUP reloads). */
void tp_consumer_set_reload(struct tp_consumer *c, volatile sig_atomic_t *flag,
                            void (*fn)(void *ctx), void *ctx);

/* Serves /metrics, /healthz and /readyz as cfg says (http_address,
 * http_port (0: any free port), http_max_per_ip, http_timeout_s; cfg is
 * read here, not kept) from a registry the consumer creates and owns, with
 * the consumer's metrics registered. Returns 0, or -1 with errstr. */
int tp_consumer_serve_http(struct tp_consumer *c, const struct tp_cfg *cfg,
                           char *errstr, size_t errstr_size);
/* The registry of tp_consumer_serve_http() (NULL before): services add
 * their own metrics to it. Owned by the consumer. */
struct tp_metrics *tp_consumer_metrics(struct tp_consumer *c);

/* Batch bookkeeping (exposed for tests). */
void tp_batch_init(struct tp_batch *b);
/* Adds a copy of rkm (the caller keeps rkm); topic is its topic's name,
 * which must outlive the batch; start is the partition's stored offset
 * (used when the partition first appears in the batch). */
void tp_batch_add(struct tp_batch *b, const char *topic,
                  const rd_kafka_message_t *rkm, int64_t start);
void tp_batch_add_msg(struct tp_batch *b, const struct tp_msg *msg,
                      int64_t start);
void tp_batch_reset(struct tp_batch *b);
void tp_batch_release(struct tp_batch *b);
/* Drops the messages of one partition. */
void tp_batch_drop_partition(struct tp_batch *b, const char *topic,
                             int32_t partition);

#endif
