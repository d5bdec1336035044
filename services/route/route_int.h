/* route_int.h - the internals of struct tp_route, shared by
 * route_consume.c (decoding, validation) and route_write.c (the
 * transaction). */
#ifndef TP_ROUTE_INT_H
#define TP_ROUTE_INT_H

#include "filing.h"
#include "pgutil.h"
#include "refdata.h"
#include "route.h"
#include "store.h"
#include "store_pg.h"
#include "strmap.h"

/* The kinds of rows a batch writes, in the order tp_route_flush sends
 * them. */
enum { TP_RW_DOSSIERS, TP_RW_LEVELS, TP_RW_ROUTES, TP_RW_ANOMALIES, TP_RW__N };

/* What a staged batch sends (b->staged, tp_route_stage): its COPY rows,
 * the store attempt they checkpoint and the batch's counts. */
struct tp_route_staged {
        struct tp_store_pg_stage sealed;
        struct tp_copybuf rows[TP_RW__N];
        struct tp_store_pg_rows dossiers; /* over rows[TP_RW_DOSSIERS] */
        struct tp_route_counts pending;
};

/* One message of the batch after decoding and validation. */
struct tp_route_entry {
        const struct tp_msg *msg;
        enum tp_reason reason;
        char detail[256];   /* why, when reason != TP_REASON_OK */
        struct tp_event ev; /* valid when reason == TP_REASON_OK */
};

struct tp_route {
        const struct tp_cfg *cfg;
        struct tp_filing_reader *reader;
        PGconn *conn; /* borrowed, for reference reloads */
        /* the chunk of the batch being applied (tp_route_decode) */
        struct tp_route_entry *entries;
        size_t n_entries, cap_entries;
        /* the strings of the entries' events: reset with them */
        struct tp_arena strings;
        struct tp_route_counts counts, pending;
        /* the dossiers' routing state, resident across batches:
         * "prov|id" -> struct tp_route_state (common/store.h) */
        struct tp_store *store;
        /* write path scratch, reused per batch */
        struct tp_strmap *levels;    /* procedure_level_daily rows */
        struct tp_strmap *routes;    /* procedure_routing_daily rows */
        struct tp_strmap *anomalies; /* routing_anomalies_daily rows */
        /* how the dossiers' rows are written, and each aggregate's
         * COPY into its temporary table and upsert (sql[TP_RW_DOSSIERS]
         * unused); owned, read by tp_route_flush on the consumer's
         * worker */
        struct tp_store_pg_write dossiers;
        struct {
                char *copy, *upsert;
        } sql[TP_RW__N];
};

/* Decodes and validates messages [from, to) of b into rt->entries,
 * emptied first (route_consume.c). Returns 0, or -1 with errstr when the
 * schema registry cannot be read: an outage, retried. */
int tp_route_decode(struct tp_route *rt, const struct tp_batch *b, size_t from,
                    size_t to, PGconn *conn, char *errstr, size_t errstr_size);
/* Releases the decoded events of rt->entries and empties it. */
void tp_route_clear_entries(struct tp_route *rt);

/* Creates the write path's per-batch maps and builds its SQL; empties
 * the maps; destroys both (route_write.c). */
void tp_route_write_init(struct tp_route *rt);
void tp_route_write_reset(struct tp_route *rt);
void tp_route_write_destroy(struct tp_route *rt);
/* Frees what tp_route_stage kept in b->staged (NULL: nothing). */
void tp_route_staged_free(struct tp_batch *b);
/* Frees a struct tp_route_state of the store (route_write.c). */
void tp_route_state_free(void *st);

#endif
