/* ingest_int.h - the internals of struct tp_ingest, shared by ingest.c
 * (decoding, dead letters) and ingest_write.c (the transaction). */
#ifndef TP_INGEST_INT_H
#define TP_INGEST_INT_H

#include "filing.h"
#include "metrics.h"
#include "ingest.h"
#include "pgutil.h"
#include "refdata.h"
#include "store.h"
#include "store_pg.h"
#include "strmap.h"

#define TP_INGEST_MAX_MONTHS 64

/* The kinds of rows a batch writes, in the order they are sent. */
enum {
        TP_IW_EVENTS,
        TP_IW_DOSSIERS,
        TP_IW_HOURLY,
        TP_IW_REJECTED,
        TP_IW_PROCS,
        TP_IW_AGENCIES,
        TP_IW__N
};

/* Event-time progress of one partition of a batch (tthc.freshness and
 * the tthc_event_time_seconds gauge). */
struct tp_ingest_progress {
        const char *topic; /* the batch's */
        int32_t partition;
        /* the topic's (a valid event's province is its topic's:
         * validate.c), "" when the topic's name has none */
        const char *province;
        int64_t max_occurred_at; /* TP_TS_NONE: none */
        int64_t next;
};

/* What a staged batch sends (b->staged, tp_ingest_stage): its COPY rows,
 * the store attempt they checkpoint, its counts and codes, and the
 * duplicates of events of earlier batches, compared with the stored
 * copies by the flush, in the batch transaction, once every batch before
 * it committed (the first copy may be in the batch in flight). The flush
 * settles them: counted as duplicates, or dead letters added to the
 * rejected rows. */
struct tp_ingest_staged {
        struct tp_store_pg_stage sealed;
        struct tp_copybuf rows[TP_IW__N];
        struct tp_store_pg_rows dossiers; /* over rows[TP_IW_DOSSIERS] */
        struct tp_ingest_entry *lookups;  /* owned, with their events */
        size_t n_lookups;
        struct tp_ingest_progress *progress; /* one per partition */
        size_t n_progress;
        struct tp_ingest_counts pending;
        struct tp_strmap *codes; /* queued by the batch (ingest_codes.c) */
};

struct tp_ingest {
        const struct tp_cfg *cfg;
        struct tp_filing_reader *reader;
        int copy_direct; /* row-level security does not apply to us */
        PGconn *conn;    /* borrowed, for reference reloads */
        rd_kafka_t *dlq; /* producer */
        int dlq_pending; /* dead letters may wait for the DLQ topic */
        struct tp_ingest_entry *entries;
        size_t n_entries, cap_entries;
        int32_t months[TP_INGEST_MAX_MONTHS]; /* ensured partitions */
        size_t n_months;
        struct tp_ingest_counts counts; /* over committed batches */
        /* the dossiers' state, resident across batches:
         * "prov|id" -> struct tp_dossier (common/store.h) */
        struct tp_store *store;
        /* stage's scratch, reused per batch */
        /* "prov|id|seq" -> entry, built at the batch's first duplicate
         * (tp_find_first) */
        struct tp_strmap *applied;
        int applied_built;
        struct tp_strmap *hourly; /* "prov|commune|hour" -> counters */
        /* how the dossier rows are written (owned; read by the flush on
         * the consumer's worker) */
        struct tp_store_pg_write dossiers;
        /* procedure and agency codes written (ingest_codes.c) */
        struct tp_strmap *codes;
        /* with --http-port (ingest_metrics.c); NULL otherwise */
        struct tp_metric *m_stored, *m_duplicates, *m_rejected, *m_event_time;
};

/* Adds a committed batch (its staged counts and progress) to the
 * metrics (ingest_metrics.c); nothing without tp_ingest_metrics_init. */
void tp_ingest_metrics_commit(struct tp_ingest *ig,
                              const struct tp_ingest_staged *st);

/* Queues the batch's procedure and agency codes not written yet into
 * st (its rows and codes), from the valid new events of ig->entries
 * (ingest_codes.c). */
void tp_ingest_stage_codes(struct tp_ingest *ig, struct tp_ingest_staged *st);
/* Sends st's code rows, in the batch transaction. */
int tp_ingest_send_codes(const struct tp_ingest_staged *st, PGconn *conn,
                         char *errstr, size_t errstr_size);
/* The batch of st committed: remember its codes. */
void tp_ingest_codes_done(struct tp_ingest *ig, struct tp_ingest_staged *st);

/* Builds ig's SQL of the write path (ingest_write.c). */
void tp_ingest_write_init(struct tp_ingest *ig);
/* Frees what tp_ingest_stage kept in b->staged (NULL: nothing). */
void tp_ingest_staged_free(struct tp_batch *b);
/* Empties ig->entries, releasing their events (ingest.c). */
void tp_ingest_clear_entries(struct tp_ingest *ig);

/* Frees a struct tp_dossier of the store (ingest_write.c). */
void tp_ingest_dossier_free(void *d);
/* Frees a struct tp_hcount of ig->hourly (ingest_write.c). */
void tp_ingest_hcount_free(void *hc);

#endif
