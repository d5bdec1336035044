/* ingest.h - tthc-ingest's batch handler: decode, validate, deduplicate
 * and store events, dossier state and hourly commune counters, and keep
 * dead letters (tthc.rejected_messages + the DLQ topic). */
#ifndef TP_INGEST_H
#define TP_INGEST_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "consumer.h"
#include "event.h"
#include "reason.h"

/* One message of the batch after decoding and validation. */
struct tp_ingest_entry {
        const struct tp_msg *msg;
        enum tp_reason reason;
        char detail[256];
        int32_t schema_id;  /* -1 when the framing was unreadable */
        struct tp_event ev; /* valid when reason == TP_REASON_OK */
        /* 1: an identical copy was already stored; -1: the first copy
         * is in an earlier batch, compared by the flush */
        int duplicate;
        int applied; /* by the write attempt under way */
};

struct tp_ingest_counts {
        uint64_t accepted;
        uint64_t duplicates;
        uint64_t rejected[TP_REASON__COUNT];
};

struct tp_ingest;

/* tthc-ingest's own options (cfg->own; the table is in main.c). */
struct tp_ingest_opts {
        char *dlq_topic;
};

/* Builds the handler state: schema catalog, reference data from
 * PostgreSQL (conn), the dead-letter producer. cfg must outlive it. */
struct tp_ingest *tp_ingest_new(const struct tp_cfg *cfg, PGconn *conn,
                                char *errstr, size_t errstr_size);
void tp_ingest_destroy(struct tp_ingest *ig);

/* The consumer callbacks (ctx = struct tp_ingest *). */
int tp_ingest_prepare(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                      size_t errstr_size);
/* The write in two halves (common/consumer.h, stage and flush): one
 * batch at a time over the same connection, pipelined over two. */
int tp_ingest_stage(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                    size_t errstr_size);
int tp_ingest_flush(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                    size_t errstr_size);
void tp_ingest_done(void *ctx, struct tp_batch *b, int committed);

/* Declares tthc-ingest's metrics in metrics (events stored, duplicates,
 * dead letters by reason, event time per partition), updated at each
 * commit. Returns 0 or -1 with errstr. */
struct tp_metrics;
int tp_ingest_metrics_init(struct tp_ingest *ig, struct tp_metrics *metrics,
                           char *errstr, size_t errstr_size);

/* Totals over committed batches. */
const struct tp_ingest_counts *tp_ingest_counts(const struct tp_ingest *ig);

/* The dossiers' state store (owned by ig). */
struct tp_store;
const struct tp_store *tp_ingest_store(const struct tp_ingest *ig);

#endif
