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
#include "strmap.h"

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
        struct tp_route_entry *entries;
        size_t n_entries, cap_entries;
        struct tp_route_counts counts, pending;
        /* the dossiers' routing state, resident across batches:
         * "prov|id" -> struct tp_route_state (common/store.h) */
        struct tp_store *store;
        /* write path scratch, reused per batch */
        struct tp_strmap *levels;    /* procedure_level_daily rows */
        struct tp_strmap *routes;    /* procedure_routing_daily rows */
        struct tp_strmap *anomalies; /* routing_anomalies_daily rows */
        char *levels_upsert; /* the levels' upsert and its twin's (owned) */
};

/* Creates and empties the write path's per-batch maps and builds its
 * SQL (route_write.c; tp_route_destroy destroys and frees them). */
void tp_route_write_init(struct tp_route *rt);
void tp_route_write_reset(struct tp_route *rt);
/* Frees a struct tp_route_state of the store (route_write.c). */
void tp_route_state_free(void *st);

#endif
