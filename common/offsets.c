/* offsets.c - see offsets.h. */
#include "offsets.h"
#include "buf.h"
#include "pgutil.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_offsets_load(PGconn *conn, const char *group, const char **topics,
                    const int32_t *partitions, size_t n, int64_t *out,
                    char *errstr, size_t errstr_size)
{
        const char *params[1] = {group};
        PGresult *res =
                tp_pg_query(conn,
                            "SELECT topic, partition, next_offset "
                            "FROM tthc.consumer_offsets "
                            "WHERE group_id = $1",
                            1, params, "could not read tthc.consumer_offsets",
                            errstr, errstr_size);
        if (!res)
                return -1;
        for (size_t i = 0; i < n; i++) {
                out[i] = TP_OFFSET_NONE;
                for (int r = 0; r < PQntuples(res); r++) {
                        if (strcmp(PQgetvalue(res, r, 0), topics[i]) == 0 &&
                            tp_pg_col_int(res, r, 1) == partitions[i]) {
                                out[i] = strtoll(PQgetvalue(res, r, 2), NULL,
                                                 10);
                                break;
                        }
                }
        }
        PQclear(res);
        return 0;
}

/* Appends a Postgres array literal element list for the ranges. */
/* The number columns of ranges as PostgreSQL array literals: partition,
 * start, next and high (NULL for an unknown high watermark). */
enum { TP_OA_PART, TP_OA_START, TP_OA_NEXT, TP_OA_HIGH, TP_OA__COUNT };

static void tp_offsets_arrays(const struct tp_part_range *ranges, size_t n,
                              struct tp_copybuf *topics,
                              struct tp_buf arrays[TP_OA__COUNT])
{
        tp_copybuf_reset(topics);
        for (int a = 0; a < TP_OA__COUNT; a++)
                tp_buf_putc(&arrays[a], '{');
        for (size_t i = 0; i < n; i++) {
                const char *sep = i ? "," : "";
                const struct tp_part_range *r = &ranges[i];
                tp_pgarray_add(topics, r->topic, i == 0);
                tp_buf_printf(&arrays[TP_OA_PART], "%s%d", sep, r->partition);
                tp_buf_printf(&arrays[TP_OA_START], "%s%lld", sep,
                              (long long)r->start);
                tp_buf_printf(&arrays[TP_OA_NEXT], "%s%lld", sep,
                              (long long)r->next);
                if (r->high >= 0)
                        tp_buf_printf(&arrays[TP_OA_HIGH], "%s%lld", sep,
                                      (long long)r->high);
                else
                        tp_buf_printf(&arrays[TP_OA_HIGH], "%sNULL", sep);
        }
        tp_pgarray_end(topics);
        for (int a = 0; a < TP_OA__COUNT; a++)
                tp_buf_putc(&arrays[a], '}');
}

static const char tp_cas_sql[] =
        "WITH v AS (SELECT * FROM unnest($2::text[], $3::int[], "
        "$4::bigint[], $5::bigint[], $6::bigint[]) "
        "AS v(topic, part, start, next, high)), "
        "upd AS (UPDATE tthc.consumer_offsets o SET next_offset = v.next, "
        "high_watermark = coalesce(v.high, o.high_watermark), "
        "updated_at = now() FROM v WHERE o.group_id = $1 AND "
        "o.topic = v.topic AND o.partition = v.part AND v.start >= 0 AND "
        "o.next_offset = v.start RETURNING 1), "
        "ins AS (INSERT INTO tthc.consumer_offsets (group_id, topic, "
        "partition, next_offset, high_watermark) SELECT $1, topic, part, "
        "next, high FROM v "
        "WHERE start < 0 ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)";

int tp_offsets_cas(PGconn *conn, const char *group,
                   const struct tp_part_range *ranges, size_t n, int *fenced,
                   char *errstr, size_t errstr_size)
{
        struct tp_copybuf topics;
        struct tp_buf arrays[TP_OA__COUNT] = {{0}};
        const char *params[6];
        PGresult *res;
        int rc;

        *fenced = 0;
        if (n == 0)
                return 0;
        tp_copybuf_init(&topics);
        tp_offsets_arrays(ranges, n, &topics, arrays);
        params[0] = group;
        params[1] = topics.buf.data;
        for (int a = 0; a < TP_OA__COUNT; a++)
                params[2 + a] = arrays[a].data;
        res = PQexecParams(conn, tp_cas_sql, 6, NULL, params, NULL, NULL, 0);
        rc = tp_pg_check(conn, res, PGRES_TUPLES_OK, "could not store offsets",
                         errstr, errstr_size);
        if (rc == 0 && strtoull(PQgetvalue(res, 0, 0), NULL, 10) != n) {
                snprintf(errstr, errstr_size,
                         "stored offsets of %zu partition(s) no longer match "
                         "this batch's start",
                         n);
                *fenced = 1;
        }
        PQclear(res);
        tp_copybuf_release(&topics);
        for (int a = 0; a < TP_OA__COUNT; a++)
                tp_buf_release(&arrays[a]);
        return rc;
}
