/* offsets.c - see offsets.h. */
#include "offsets.h"
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
static void tp_offsets_arrays(const struct tp_part_range *ranges, size_t n,
                              struct tp_copybuf *topics, char **parts,
                              char **starts, char **nexts)
{
        size_t cap = n * 24 + 3;
        char *p = tp_xmalloc(cap), *s = tp_xmalloc(cap), *x = tp_xmalloc(cap);
        size_t lp = 0, ls = 0, lx = 0;

        tp_copybuf_reset(topics);
        p[lp++] = s[ls++] = x[lx++] = '{';
        for (size_t i = 0; i < n; i++) {
                const char *sep = i ? "," : "";
                tp_pgarray_add(topics, ranges[i].topic, i == 0);
                lp += (size_t)snprintf(p + lp, cap - lp, "%s%d", sep,
                                       ranges[i].partition);
                ls += (size_t)snprintf(s + ls, cap - ls, "%s%lld", sep,
                                       (long long)ranges[i].start);
                lx += (size_t)snprintf(x + lx, cap - lx, "%s%lld", sep,
                                       (long long)ranges[i].next);
        }
        tp_pgarray_end(topics);
        p[lp++] = '}', s[ls++] = '}', x[lx++] = '}';
        p[lp] = s[ls] = x[lx] = '\0';
        *parts = p, *starts = s, *nexts = x;
}

/* One statement for all partitions: rows whose stored offset equals the
 * range's start move to its end; partitions with nothing stored are
 * inserted. The count of rows moved tells whether we were fenced. */
static const char tp_cas_sql[] =
        "WITH v AS (SELECT * FROM unnest($2::text[], $3::int[], "
        "$4::bigint[], $5::bigint[]) AS v(topic, part, start, next)), "
        "upd AS (UPDATE tthc.consumer_offsets o SET next_offset = v.next, "
        "updated_at = now() FROM v WHERE o.group_id = $1 AND "
        "o.topic = v.topic AND o.partition = v.part AND v.start >= 0 AND "
        "o.next_offset = v.start RETURNING 1), "
        "ins AS (INSERT INTO tthc.consumer_offsets (group_id, topic, "
        "partition, next_offset) SELECT $1, topic, part, next FROM v "
        "WHERE start < 0 ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)";

int tp_offsets_cas(PGconn *conn, const char *group,
                   const struct tp_part_range *ranges, size_t n, int *fenced,
                   char *errstr, size_t errstr_size)
{
        struct tp_copybuf topics;
        char *parts, *starts, *nexts;
        const char *params[5];
        PGresult *res;
        int rc;

        *fenced = 0;
        if (n == 0)
                return 0;
        tp_copybuf_init(&topics);
        tp_offsets_arrays(ranges, n, &topics, &parts, &starts, &nexts);
        params[0] = group;
        params[1] = topics.buf.data;
        params[2] = parts;
        params[3] = starts;
        params[4] = nexts;
        res = PQexecParams(conn, tp_cas_sql, 5, NULL, params, NULL, NULL, 0);
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
        free(parts);
        free(starts);
        free(nexts);
        return rc;
}
