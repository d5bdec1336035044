/* store_pg.c - see store_pg.h. */
#include "store_pg.h"
#include "buf.h"
#include "dossier.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        int stale;

        if (keys->buf.len == 0)
                return 0;
        if (tp_copybuf_send(conn, ld->copy, keys, errstr, errstr_size) != 0)
                return -1;
        stale = tp_pg_stats_say_empty(conn, ld->table, errstr, errstr_size);
        if (stale < 0 ||
            (stale && tp_pg_exec(conn, "SET LOCAL enable_nestloop = off",
                                 errstr, errstr_size) != 0))
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
        if (stale) {
                tp_log_info("%s: its statistics say it is empty: loaded "
                            "%s by hash join",
                            ld->table, ld->what);
                return tp_pg_exec(conn, "SET LOCAL enable_nestloop TO DEFAULT",
                                  errstr, errstr_size);
        }
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

/* The next name of a comma-separated list at *p (advanced past it);
 * its length in *n, 0 at the end. */
static const char *tp_store_pg_next_name(const char **p, size_t *n)
{
        const char *name;
        *p += strspn(*p, ", \n");
        name = *p;
        *n = strcspn(name, ", \n");
        *p += *n;
        return name;
}

/* 1 when name (n bytes) is one of the comma-separated list. */
static int tp_store_pg_listed(const char *list, const char *name, size_t n)
{
        const char *p = list, *k;
        size_t kn;
        while ((k = tp_store_pg_next_name(&p, &kn)), kn > 0)
                if (kn == n && strncmp(k, name, n) == 0)
                        return 1;
        return 0;
}

/* Appends "<col> = <from>.<col>" for each column of sp->cols that is not
 * a key, comma-separated, then sp->also. */
static void tp_store_pg_set_list(struct tp_buf *b,
                                 const struct tp_store_pg_table *sp,
                                 const char *from)
{
        const char *p = sp->cols, *col;
        size_t n;
        int first = 1;
        while ((col = tp_store_pg_next_name(&p, &n)), n > 0) {
                if (tp_store_pg_listed(sp->keys, col, n))
                        continue;
                tp_buf_printf(b, "%s%.*s = %s.%.*s", first ? "" : ", ", (int)n,
                              col, from, (int)n, col);
                first = 0;
        }
        if (sp->also)
                tp_buf_printf(b, ", %s", sp->also);
}

static char *tp_store_pg_take(struct tp_buf *b)
{
        char *s = b->data;
        *b = (struct tp_buf){0};
        return s;
}

void tp_store_pg_write_init(struct tp_store_pg_write *w,
                            const struct tp_store_pg_table *sp)
{
        struct tp_buf b = {0};
        const char *p = sp->keys, *key;
        size_t n;

        w->table = tp_xstrdup(sp->table);
        tp_buf_printf(&b, "COPY %s (%s, stored) FROM STDIN", sp->temp,
                      sp->cols);
        w->copy = tp_store_pg_take(&b);
        tp_buf_printf(&b, "UPDATE %s AS t SET ", sp->table);
        tp_store_pg_set_list(&b, sp, "s");
        tp_buf_printf(&b, " FROM %s s WHERE s.stored", sp->temp);
        while ((key = tp_store_pg_next_name(&p, &n)), n > 0)
                tp_buf_printf(&b, " AND t.%.*s = s.%.*s", (int)n, key, (int)n,
                              key);
        w->update = tp_store_pg_take(&b);
        tp_buf_printf(&b,
                      "INSERT INTO %s (%s) SELECT %s FROM %s WHERE NOT "
                      "stored",
                      sp->table, sp->cols, sp->cols, sp->temp);
        w->insert = tp_store_pg_take(&b);
        tp_buf_printf(&b,
                      "INSERT INTO %s AS t (%s) SELECT %s FROM %s ON "
                      "CONFLICT (%s) DO UPDATE SET ",
                      sp->table, sp->cols, sp->cols, sp->temp, sp->keys);
        tp_store_pg_set_list(&b, sp, "EXCLUDED");
        w->upsert = tp_store_pg_take(&b);
}

void tp_store_pg_write_fini(struct tp_store_pg_write *w)
{
        free(w->table);
        free(w->copy);
        free(w->update);
        free(w->insert);
        free(w->upsert);
        memset(w, 0, sizeof(*w));
}

void tp_store_pg_row_end(struct tp_store_pg_rows *rows, int stored)
{
        tp_copybuf_bool(rows->cb, stored);
        tp_copybuf_end_row(rows->cb);
        if (stored)
                rows->n_stored++;
        else
                rows->n_new++;
}

/* The UPDATE of the stored rows; *updated: how many it found. Over the
 * primary key whatever the planner guesses of the temporary table (never
 * analysed): a hash or merge join would read the whole table, a cost
 * that grows with it. */
static int tp_store_pg_update(PGconn *conn, const struct tp_store_pg_write *w,
                              size_t *updated, char *errstr, size_t errstr_size)
{
        PGresult *res;
        int rc;

        if (tp_pg_exec(conn,
                       "SET LOCAL enable_hashjoin = off; "
                       "SET LOCAL enable_mergejoin = off",
                       errstr, errstr_size) != 0)
                return -1;
        res = PQexec(conn, w->update);
        rc = tp_pg_check(conn, res, PGRES_COMMAND_OK, "could not update rows",
                         errstr, errstr_size);
        if (rc == 0)
                *updated = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        if (rc != 0)
                return -1;
        return tp_pg_exec(conn,
                          "SET LOCAL enable_hashjoin TO DEFAULT; "
                          "SET LOCAL enable_mergejoin TO DEFAULT",
                          errstr, errstr_size);
}

int tp_store_pg_write(PGconn *conn, const struct tp_store_pg_write *w,
                      const struct tp_store_pg_rows *rows, char *errstr,
                      size_t errstr_size)
{
        size_t updated = 0;
        char code[6];
        int stale;

        if (rows->cb->buf.len == 0)
                return 0;
        if (tp_copybuf_send(conn, w->copy, rows->cb, errstr, errstr_size) != 0)
                return -1;
        stale = rows->n_stored > 0 ? tp_pg_stats_say_empty(conn, w->table,
                                                           errstr, errstr_size)
                                   : 0;
        if (stale < 0)
                return -1;
        if (stale) {
                /* no join with the table, and none for the rest of the
                 * transaction: the service's other statements may join it
                 * (tthc-alert's deletes) */
                tp_log_info("%s: its statistics say it is empty: upserting "
                            "this checkpoint's %zu rows, no join with it",
                            w->table, rows->n_stored + rows->n_new);
                if (tp_pg_exec(conn, "SET LOCAL enable_nestloop = off", errstr,
                               errstr_size) != 0)
                        return -1;
                return tp_pg_exec(conn, w->upsert, errstr, errstr_size);
        }
        if (tp_pg_exec(conn, "SAVEPOINT tp_store_rows", errstr, errstr_size) !=
            0)
                return -1;
        if (rows->n_stored > 0 &&
            tp_store_pg_update(conn, w, &updated, errstr, errstr_size) != 0)
                return -1;
        if (updated == rows->n_stored) {
                if (rows->n_new == 0 ||
                    tp_pg_exec(conn, w->insert, errstr, errstr_size) == 0)
                        return tp_pg_exec(conn, "RELEASE tp_store_rows", errstr,
                                          errstr_size);
                if (tp_pg_sqlstate(errstr, code) != 0 ||
                    strcmp(code, "23505") != 0)
                        return -1;
                tp_log_info("%s: a new row of this checkpoint was there "
                            "already (another writer?): upserting its %zu "
                            "rows",
                            w->table, rows->n_stored + rows->n_new);
        } else {
                tp_log_info("%s: %zu of the %zu rows this checkpoint updates "
                            "were not there (deleted meanwhile?): upserting "
                            "its %zu rows",
                            w->table, rows->n_stored - updated, rows->n_stored,
                            rows->n_stored + rows->n_new);
        }
        if (tp_pg_exec(conn, "ROLLBACK TO tp_store_rows", errstr,
                       errstr_size) != 0 ||
            tp_pg_exec(conn, w->upsert, errstr, errstr_size) != 0)
                return -1;
        return tp_pg_exec(conn, "RELEASE tp_store_rows", errstr, errstr_size);
}
