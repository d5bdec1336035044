/* snapfeed.h - the snapshot rows this process wrote for a province, kept
 * for the province's evaluator (sweep.c) so that it need not read them
 * back from tthc.alert_commune_ticks.
 *
 * At each evaluation the evaluator needs the province's snapshot rows
 * newer than the last tick it evaluated (keys_hi) and at or before the
 * last tick it evaluates now. The rows this process writes are added
 * here in the batch transaction that inserts them; the feed answers
 * instead of the table only when it provably holds every such row
 * (tp_snapfeed_complete):
 *  - each partition of the topic either has no state row in PostgreSQL,
 *    or its state row's next_offset is the one this process last wrote
 *    for it (no other instance committed it since), and this process
 *    loaded it with its next tick at or before keys_hi + 1 h (earlier
 *    ticks' rows are another owner's or an earlier load's);
 *  - no row newer than keys_hi was dropped for the cap.
 * Otherwise the evaluator reads the table, as it always did. The feed
 * lives in the province's cache (struct tp_pcache), which an attempt
 * that does not commit drops (tp_alert_forget), so it never holds a row
 * that was rolled back. */
#ifndef TP_SNAPFEED_H
#define TP_SNAPFEED_H

#include <stddef.h>
#include <stdint.h>

/* One row of tthc.alert_commune_ticks (the topic is the province's). */
struct tp_snaprow {
        int64_t tick, last; /* last: TP_TS_NONE when NULL */
        int32_t partition;
        int open, overdue, intake, paused;
        char province[4];
        char commune[8];
};

/* What the feed knows of one partition: this process wrote it (known),
 * from which tick on its rows are this process's (from, TP_TS_NONE: all
 * of them), and the next_offset it last wrote. */
struct tp_snapfeed_part {
        int known;
        int64_t from, offset;
};

/* Rows a province's feed holds at most (48 bytes each): beyond,
 * they are dropped and the table is read until the evaluator has passed
 * them. A province writes at most one row per partition and commune an
 * hour (about 3,000 an hour for the largest), so the cap is a day of
 * skew between its partitions. */
#define TP_SNAPFEED_CAP 100000

struct tp_snapfeed {
        struct tp_snaprow *rows; /* in the order added */
        size_t n, cap;
        int64_t lost; /* the newest tick dropped for the cap; TP_TS_NONE */
        struct tp_snapfeed_part *parts; /* by partition number */
        size_t n_parts;
};

void tp_snapfeed_init(struct tp_snapfeed *f);
void tp_snapfeed_release(struct tp_snapfeed *f);

/* Adds a row this process is writing (in the batch transaction). */
void tp_snapfeed_add(struct tp_snapfeed *f, const struct tp_snaprow *r);

/* Records that this process is writing partition's state with
 * next_offset offset, and that its rows from tick from on are its own
 * (the partition's next tick when it was loaded; TP_TS_NONE: all). */
void tp_snapfeed_wrote(struct tp_snapfeed *f, int32_t partition, int64_t from,
                       int64_t offset);

/* Whether partition's rows are this process's: it wrote the partition,
 * and the state row stored (offset) is its last write. */
int tp_snapfeed_ours(const struct tp_snapfeed *f, int32_t partition,
                     int64_t offset);

/* For a partition that is not ours (tp_snapfeed_ours) and stored with
 * offset: drops its rows from the feed, for the caller to add every row
 * of it the table holds newer than the tick evaluated; the feed then has
 * all its rows until someone commits it again, which changes its
 * offset. */
void tp_snapfeed_learn(struct tp_snapfeed *f, int32_t partition,
                       int64_t offset);

/* 1 when the feed holds every row of the topic's n partitions newer than
 * keys_hi. offsets[p] is partition p's next_offset in
 * tthc.alert_partition_state as the evaluator read it: -1 without a
 * row, -2 for a row without one. */
int tp_snapfeed_complete(const struct tp_snapfeed *f, const int64_t *offsets,
                         int n, int64_t keys_hi);

/* Takes the rows at or before last out of the feed: those newer than
 * keys_hi (TP_TS_NONE: all) into *out, sorted by tick, partition and
 * commune (owned by the caller, free()); the older ones are dropped.
 * Returns how many are in *out. */
size_t tp_snapfeed_take(struct tp_snapfeed *f, int64_t keys_hi, int64_t last,
                        struct tp_snaprow **out);

/* A new zeroed row at the end of (*rows)[0..*n), which grows (*cap): the
 * batch's rows (struct tp_alert) and the feed's. */
struct tp_snaprow *tp_snaprow_push(struct tp_snaprow **rows, size_t *n,
                                   size_t *cap);

/* Orders rows by tick, partition and commune (qsort). */
int tp_snaprow_cmp(const void *a, const void *b);

#endif
