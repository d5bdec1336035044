/* alert_int.h - the internals of struct tp_alert, shared by state.c (the
 * per-partition state) and sweep.c (the province evaluator). */
#ifndef TP_ALERT_INT_H
#define TP_ALERT_INT_H

#include "alert.h"
#include "filing.h"
#include "dossier.h"
#include "expiry.h"
#include "pgutil.h"
#include "refdata.h"
#include "snapfeed.h"
#include "store.h"
#include "store_pg.h"
#include "strmap.h"
#include "tally.h"

/* A commune as one partition sees it. */
struct tp_acommune {
        char code[8];
        /* the last snapshot row written */
        int open, overdue, intake, paused;
        int64_t last;
        int written;
        /* the figures as of the partition's tally_day, kept as its
         * dossiers change (tally.h), and the latest activity seen */
        struct tp_tally tally;
        int64_t cur_last;
        int dirty; /* in the partition's dirty list */
};

struct tp_apart {
        char *topic;
        int32_t partition;
        char province[4];
        int loaded;
        int64_t next_offset; /* committed, as far as we know */
        int64_t first_occ, max_occ, next_tick;
        /* next_tick as loaded: the snapshot rows of later ticks are this
         * process's while it holds the partition (snapfeed.h) */
        int64_t own_from;
        /* id -> struct tp_dossier: every open dossier of the partition
         * and the closed ones in their tombstone window (the hourly
         * snapshot counts them all, so the store has no cap), as
         * committed plus the changes of the open batch (common/store.h) */
        struct tp_store *dossiers;
        struct tp_strmap *communes; /* code -> struct tp_acommune */
        /* What the hourly snapshot (tp_part_snapshot) needs without
         * walking the dossiers: the communes whose figures or activity
         * changed since the last tick (the only ones whose row can
         * differ from the last written), the Vietnam day their tallies
         * are at (INT64_MIN: none yet), and the closed dossiers by the
         * tick they leave memory. */
        struct tp_acommune **dirty;
        size_t n_dirty, cap_dirty;
        int64_t tally_day;
        struct tp_expiry expiry;
};

/* Day counter changes of the batch, per commune and day (summed over the
 * province's partitions: tthc.alert_commune_days, migration 025). */
struct tp_dayacc {
        char province[4];
        char commune[8];
        int64_t day;
        int events, received, resolved, resolved_ok;
        int64_t last; /* latest activity (events > 0), else TP_TS_NONE */
};

struct tp_aentry {
        const struct tp_msg *msg;
        /* TP_REASON_OK, or why it is skipped (TP_REASON_DB_REJECTED: taken
         * out by the consumer) */
        enum tp_reason reason;
        struct tp_event ev;
};

/* The evaluator's cache of final day counters of a province. */
#define TP_DAY_RING 64
struct tp_cday {
        int64_t day_of[TP_DAY_RING];
        int events[TP_DAY_RING], received[TP_DAY_RING];
        int resolved[TP_DAY_RING], resolved_ok[TP_DAY_RING];
};

struct tp_pcache {
        struct tp_strmap *days;  /* commune -> struct tp_cday */
        struct tp_strmap *names; /* commune -> struct tp_place_name */
        int64_t hi;              /* days < hi loaded (from hi - RING) */
        /* "partition|commune" (of the province's topic) -> each pair's
         * latest snapshot at or before keys_hi, the last tick evaluated
         * (final: the province watermark passed it on every partition);
         * only newer snapshots are read at the next evaluation (sweep.c) */
        struct tp_strmap *keys;
        int64_t keys_hi; /* TP_TS_NONE: nothing read yet */
        /* the snapshot rows this process wrote that are newer than
         * keys_hi: read instead of the table when they are all there are
         * (snapfeed.h) */
        struct tp_snapfeed feed;
        int64_t pruned_day; /* snapshots pruned up to this day's start */
        /* a Vietnam midnight passed since the scorecard's open month last
         * had its days stored (sweep.c, tp_scorecard_store) */
        int days_due;
};

/* Frees a struct tp_place_name (sweep.c). */
void tp_place_name_free(void *value);

struct tp_alert {
        const struct tp_cfg *cfg;
        const struct tp_rules *rules;
        rd_kafka_t *rk; /* borrowed */
        struct tp_filing_reader *reader;
        struct tp_workcal cal;
        struct tp_aentry *entries;
        size_t n_entries, cap_entries;
        struct tp_strmap *parts;    /* "topic|partition" -> tp_apart */
        struct tp_strmap *days;     /* batch day counters */
        struct tp_strmap *topics;   /* topic -> int partition count */
        struct tp_strmap *pcaches;  /* province -> tp_pcache */
        struct tp_copybuf ticks_cb; /* snapshot rows of the batch */
        struct tp_snaprow *snaps;   /* the same rows, for the evaluator */
        size_t n_snaps, cap_snaps;
        /* read the snapshots from PostgreSQL too when the feed answers,
         * and abort on a difference (option verify-snapshots) */
        int verify_snapshots;
        /* how the dossiers' rows are written (owned; read by the flush
         * on the consumer's worker) */
        struct tp_store_pg_write dossiers;
        struct tp_alert_counts counts, pending; /* committed; the batch's */
};

/* The kinds of rows a batch writes, in the order tp_alert_flush sends
 * them. */
enum {
        TP_AW_DOSSIERS,
        TP_AW_DELETED,
        TP_AW_DAYS,
        TP_AW_TICKS,
        TP_AW_PROGRESS,
        TP_AW__N
};

/* A partition's store attempt that a staged batch checkpoints. */
struct tp_asealed {
        const char *topic; /* the batch's */
        int32_t partition;
        uint64_t gen;
        /* the partition's own_from and the next_offset the batch writes
         * (tp_snapfeed_wrote) */
        int64_t own_from, next_offset;
};

/* A province a staged batch evaluates, with its partition count. */
struct tp_aprov {
        const char *topic; /* the batch's */
        int n_parts;
};

/* What a staged batch sends (b->staged, tp_alert_stage): its rows, the
 * provinces to evaluate (in topic order: the evaluator locks each
 * province's row), each partition's sealed attempt, its counts. */
struct tp_alert_staged {
        const PGconn *conn; /* stage's (compared, never used) */
        struct tp_copybuf rows[TP_AW__N];
        struct tp_store_pg_rows dossiers; /* over rows[TP_AW_DOSSIERS] */
        struct tp_asealed *sealed;
        size_t n_sealed;
        struct tp_aprov *provs;
        size_t n_provs;
        struct tp_snaprow *snaps; /* rows[TP_AW_TICKS] as structs */
        size_t n_snaps;
        struct tp_alert_counts pending;
};

/* Drops all in-memory state: it is reloaded from PostgreSQL. */
void tp_alert_forget(struct tp_alert *al);
void tp_alert_clear_pcaches(struct tp_alert *al);
struct tp_acommune *tp_part_commune(struct tp_apart *p, const char *code);

/* Evaluates the province of topic up to its watermark, counting the
 * episode changes and ticks into counts (sweep.c). Reads and writes
 * PostgreSQL (conn, in the batch transaction) and al->pcaches; of the
 * rest of al only what a batch never changes (rules, calendar, rk): it
 * runs on the consumer's worker while the next batch is staged. */
int tp_alert_evaluate(struct tp_alert *al, PGconn *conn, const char *topic,
                      int n_parts, struct tp_alert_counts *counts, char *errstr,
                      size_t errstr_size);

/* Hands the snapshot rows and partitions st writes to their provinces'
 * feeds (sweep.c; on the worker, in the batch transaction, before
 * st's provinces are evaluated). */
void tp_alert_feed(struct tp_alert *al, const struct tp_alert_staged *st);

#endif
