/* store_pg.c - see store_pg.h. */
#include "store_pg.h"
#include "dossier.h"

#include <stdio.h>

void tp_store_pg_add_miss(struct tp_store *store, struct tp_copybuf *keys,
                          const char *province, const char *dossier_id,
                          int n_null)
{
        char key[600];
        tp_dossier_key(key, sizeof(key), province, dossier_id);
        if (tp_store_get(store, key))
                return;
        tp_copybuf_str(keys, province);
        tp_copybuf_str(keys, dossier_id);
        for (int i = 0; i < n_null; i++)
                tp_copybuf_str(keys, NULL);
        tp_copybuf_end_row(keys);
}

int tp_store_pg_load(struct tp_store *store, PGconn *conn,
                     const struct tp_store_pg_load *ld, struct tp_copybuf *keys,
                     char *errstr, size_t errstr_size)
{
        char what[128], key[600];
        PGresult *res;

        if (keys->buf.len == 0)
                return 0;
        if (tp_copybuf_send(conn, ld->copy, keys, errstr, errstr_size) != 0)
                return -1;
        res = PQexec(conn, ld->select);
        snprintf(what, sizeof(what), "could not load %s", ld->what);
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK, what, errstr,
                        errstr_size) != 0) {
                PQclear(res);
                return -1;
        }
        for (int r = 0; r < PQntuples(res); r++) {
                void *value = ld->from_row(res, r, key, sizeof(key));
                tp_store_put(store, key, value);
        }
        PQclear(res);
        return 0;
}

void tp_store_pg_seal(struct tp_store_pg_stage *sg, struct tp_store *store,
                      const PGconn *conn)
{
        sg->gen = tp_store_seal(store);
        sg->conn = conn;
}

int tp_store_pg_flush_conn(const PGconn *staged_conn, PGconn *conn,
                           const char *temp_sql, char *errstr,
                           size_t errstr_size)
{
        if (conn == staged_conn)
                return 0;
        return tp_pg_exec(conn, temp_sql, errstr, errstr_size);
}
