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
#include "strmap.h"

#define TP_INGEST_MAX_MONTHS 64

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
        struct tp_ingest_counts counts, pending;
        /* the dossiers' state, resident across batches:
         * "prov|id" -> struct tp_dossier (common/store.h) */
        struct tp_store *store;
        /* write path scratch, reused per batch */
        struct tp_strmap *applied; /* "prov|id|seq" -> entry */
        struct tp_strmap *hourly;  /* "prov|commune|hour" -> counters */
        struct tp_copybuf cb;
        /* procedure and agency codes written (ingest_codes.c), and those
         * of the batch in hand */
        struct tp_strmap *codes, *codes_new;
        /* with --http-port (ingest_metrics.c); NULL otherwise */
        struct tp_metric *m_stored, *m_duplicates, *m_rejected, *m_event_time;
};

/* Adds a committed batch (ig->pending, ig->entries) to the metrics
 * (ingest_metrics.c); nothing without tp_ingest_metrics_init. */
void tp_ingest_metrics_commit(struct tp_ingest *ig);

/* Writes the batch's procedure and agency codes not written yet
 * (ingest_codes.c), in the batch transaction. */
int tp_ingest_store_codes(struct tp_ingest *ig, PGconn *conn, char *errstr,
                          size_t errstr_size);
/* After the batch: remember its codes if it committed. */
void tp_ingest_codes_done(struct tp_ingest *ig, int committed);

/* Frees a struct tp_dossier of the store (ingest_write.c). */
void tp_ingest_dossier_free(void *d);
/* Frees a struct tp_hcount of ig->hourly (ingest_write.c). */
void tp_ingest_hcount_free(void *hc);

#endif
