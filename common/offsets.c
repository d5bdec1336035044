/* offsets.c - see offsets.h. */
#include "offsets.h"
#include "pgutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_offsets_load(PGconn *conn, const char *group, const char **topics,
                    const int32_t *partitions, size_t n, int64_t *out,
                    char *errstr, size_t errstr_size)
{
        const char *params[1] = {group};
        PGresult *res = PQexecParams(conn,
                                     "SELECT topic, partition, next_offset "
                                     "FROM tthc.consumer_offsets "
                                     "WHERE group_id = $1",
                                     1, NULL, params, NULL, NULL, 0);
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                        "could not read tthc.consumer_offsets", errstr,
                        errstr_size) != 0) {
                PQclear(res);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                out[i] = TP_OFFSET_NONE;
                for (int r = 0; r < PQntuples(res); r++) {
                        if (strcmp(PQgetvalue(res, r, 0), topics[i]) == 0 &&
                            atoi(PQgetvalue(res, r, 1)) == partitions[i]) {
                                out[i] = strtoll(PQgetvalue(res, r, 2), NULL,
                                                 10);
                                break;
                        }
                }
        }
        PQclear(res);
        return 0;
}

static int tp_offsets_cas_one(PGconn *conn, const char *group,
                              const struct tp_part_range *r, int *moved,
                              char *errstr, size_t errstr_size)
{
        char part[16], start[24], next[24];
        const char *params[5] = {group, r->topic, part, start, next};
        PGresult *res;
        int rc;

        snprintf(part, sizeof(part), "%d", r->partition);
        snprintf(start, sizeof(start), "%lld", (long long)r->start);
        snprintf(next, sizeof(next), "%lld", (long long)r->next);
        if (r->start == TP_OFFSET_NONE)
                res = PQexecParams(conn,
                                   "INSERT INTO tthc.consumer_offsets "
                                   "(group_id, topic, partition, next_offset) "
                                   "SELECT $1, $2, $3, $5 WHERE $4::bigint < 0 "
                                   "ON CONFLICT DO NOTHING",
                                   5, NULL, params, NULL, NULL, 0);
        else
                res = PQexecParams(conn,
                                   "UPDATE tthc.consumer_offsets "
                                   "SET next_offset = $5, updated_at = now() "
                                   "WHERE group_id = $1 AND topic = $2 AND "
                                   "partition = $3 AND next_offset = $4",
                                   5, NULL, params, NULL, NULL, 0);
        rc = tp_pg_check(conn, res, PGRES_COMMAND_OK, "could not store offsets",
                         errstr, errstr_size);
        if (rc == 0)
                *moved = atoi(PQcmdTuples(res)) == 1;
        PQclear(res);
        return rc;
}

int tp_offsets_cas(PGconn *conn, const char *group,
                   const struct tp_part_range *ranges, size_t n, int *fenced,
                   char *errstr, size_t errstr_size)
{
        *fenced = 0;
        for (size_t i = 0; i < n; i++) {
                int moved = 0;
                if (tp_offsets_cas_one(conn, group, &ranges[i], &moved, errstr,
                                       errstr_size) != 0)
                        return -1;
                if (!moved) {
                        snprintf(errstr, errstr_size,
                                 "stored offset of %s [%d] is no longer %lld",
                                 ranges[i].topic, ranges[i].partition,
                                 (long long)ranges[i].start);
                        *fenced = 1;
                        return 0;
                }
        }
        return 0;
}
