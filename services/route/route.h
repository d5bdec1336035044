/* route.h - tthc-route: procedure-level routing aggregates.
 *
 * Two layers:
 *  - pure logic (route.c): how one event moves a dossier's routing state
 *    (struct tp_route_state, built on common/dossier's lifecycle) and
 *    which aggregate rows it adds to (struct tp_route_fx); the fixed
 *    histogram buckets of time spent at a level. No I/O; unit-tested.
 *  - the batch handler (route_consume.c, route_write.c): decode and
 *    validate like tthc-ingest (invalid messages are skipped and counted;
 *    tthc-ingest owns the dead letters), then, in the consumer's
 *    transaction, load the per-dossier state from tthc.route_dossiers,
 *    apply, and upsert state and aggregates.
 */
#ifndef TP_ROUTE_H
#define TP_ROUTE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "consumer.h"
#include "dossier.h"
#include "event.h"
#include "reason.h"

/* Time at a level, in calendar hours, is counted in TP_ROUTE_BUCKETS
 * buckets: bucket i holds [bound[i], bound[i+1]) hours, the last one
 * [bound[TP_ROUTE_BUCKETS - 1], infinity). The bounds are part of the SQL
 * interface (tthc.route_hist_bounds()) and must never change: rows of
 * different days are summed element by element. */
#define TP_ROUTE_BUCKETS 27

/* Lower bound of bucket i in milliseconds. */
int64_t tp_route_bucket_lower_ms(int i);
/* The bucket of a duration (negative durations count as 0). */
int tp_route_bucket(int64_t ms);

/* A dossier as tthc-route sees it. The embedded dossier follows
 * common/dossier.h (effective due date, outcome, pauses); the rest is the
 * current stint: the time since the dossier entered its current level
 * (by receipt or transfer in), minus the pauses during it. */
struct tp_route_state {
        struct tp_dossier d;
        int stint_level;      /* enum tp_level, TP_LEVEL_NONE: none */
        int64_t stint_since;  /* entry time, TP_TS_NONE: no stint */
        int64_t stint_paused; /* ms paused during the stint so far */
        int64_t pause_since;  /* start of the open pause, or TP_TS_NONE */
        int32_t transfers;    /* TRANSFERRED events applied */
        int32_t down_transfers;
        int32_t stints; /* stints ended */
};

/* What one event adds to the aggregates. Counters are attributed to
 * level (the event's handling_level) and day (the Vietnam date of its
 * occurred_at). */
struct tp_route_fx {
        int64_t day;
        int level;
        int received, resolved_early, resolved_on_time, resolved_late;
        int stopped, withdrawn, supplement_requested;
        /* A stint ended (transfer out or closing). */
        int stint_ended;
        int stint_level;
        int64_t stint_ms;
        /* A transfer: from_level -> to_level, to to_agency (borrowed from
         * the event). */
        int transfer;
        int from_level, to_level;
        const char *to_agency;
        /* Anomalies. */
        int resolved_off_level; /* resolved at a level other than the
                                   procedure's competent level */
        int multi_transfer;     /* the dossier's second transfer */
        int down_transfer;      /* to a lower level */
};

/* A fresh state keyed by the event's codes (strings copied). */
void tp_route_state_init(struct tp_route_state *st, const struct tp_event *ev);
void tp_route_state_release(struct tp_route_state *st);

/* Applies ev (whose seq is not a duplicate: check with
 * tp_dossier_check_seq(&st->d, seq)) and fills *fx. */
void tp_route_apply(struct tp_route_state *st, const struct tp_event *ev,
                    struct tp_route_fx *fx);

/* The batch handler. */

struct tp_route_counts {
        uint64_t applied;
        uint64_t duplicates;
        uint64_t skipped[TP_REASON__COUNT]; /* invalid, by reason */
};

struct tp_route;

/* Builds the handler state: schema catalog and reference data (from
 * PostgreSQL, conn). cfg must outlive it. */
struct tp_route *tp_route_new(const struct tp_cfg *cfg, PGconn *conn,
                              char *errstr, size_t errstr_size);
void tp_route_destroy(struct tp_route *rt);

/* The consumer callbacks (ctx = struct tp_route *): the write in two
 * halves (common/consumer.h, stage and flush), one batch at a time over
 * the same connection, pipelined over two. There is no prepare: the stage
 * decodes the batch a chunk at a time (route_write.c), so a batch of any
 * size holds the decoded events of one chunk. */
int tp_route_stage(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size);
int tp_route_flush(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size);
void tp_route_done(void *ctx, struct tp_batch *b, int committed);

/* Totals over committed batches. */
const struct tp_route_counts *tp_route_counts(const struct tp_route *rt);

/* The dossiers' state store (owned by rt). */
struct tp_store;
const struct tp_store *tp_route_store(const struct tp_route *rt);

#endif
