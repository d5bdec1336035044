/* offsets.h - Kafka offsets stored in tthc.consumer_offsets, written in
 * the same transaction as the results they cover. */
#ifndef TP_OFFSETS_H
#define TP_OFFSETS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define TP_OFFSET_NONE (-1)

/* One partition's part of a batch: offsets [start, next). start is the
 * stored next_offset the batch began from (TP_OFFSET_NONE when nothing
 * was stored yet). */
struct tp_part_range {
        const char *topic;
        int32_t partition;
        int64_t start;
        int64_t next;
        /* the offset of the batch's first message of the partition, and
         * how many messages of it the batch holds (tp_batch_add_msg) */
        int64_t first;
        size_t n;
        /* the broker's high watermark when the batch was committed, for
         * the consumer's lag in tthc.freshness (-1: unknown) */
        int64_t high;
};

/* Looks up the stored next offset of each (topics[i], partitions[i]) for
 * group into out[i] (TP_OFFSET_NONE when absent). */
int tp_offsets_load(PGconn *conn, const char *group, const char **topics,
                    const int32_t *partitions, size_t n, int64_t *out,
                    char *errstr, size_t errstr_size);

/* Compare-and-set inside the caller's transaction: moves every range from
 * start to next only if the stored offset still equals start (row locks
 * are held until commit). Returns 0 with *fenced = 0 on success, 0 with
 * *fenced = 1 when another instance moved an offset (roll back), -1 on a
 * database error. */
int tp_offsets_cas(PGconn *conn, const char *group,
                   const struct tp_part_range *ranges, size_t n, int *fenced,
                   char *errstr, size_t errstr_size);

#endif
