/* store_pg.h - fills a consumer's state store (store.h) from PostgreSQL:
 * the rows of the dossiers a batch touches that are not resident, with
 * one COPY of their keys into a temporary table and one query that joins
 * it (a miss always consults the database; never one query per key). */
#ifndef TP_STORE_PG_H
#define TP_STORE_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "pgutil.h"
#include "store.h"

struct tp_store_pg_load {
        const char *copy;   /* "COPY <keys table> FROM STDIN" */
        const char *select; /* one row per dossier, joining the keys */
        const char *what;   /* in errors: "could not load <what>" */
        /* The value for row r of select (owned by the store once put);
         * writes its store key into key. */
        void *(*from_row)(const PGresult *res, int r, char *key,
                          size_t key_size);
};

/* Appends the row of a dossier's key to keys — province, dossier_id, then
 * n_null NULLs for the keys table's other columns — unless the dossier is
 * resident in store: the misses a batch sends to tp_store_pg_load. */
void tp_store_pg_add_miss(struct tp_store *store, struct tp_copybuf *keys,
                          const char *province, const char *dossier_id,
                          int n_null);

/* Sends keys (COPY rows for ld->copy; nothing happens when empty), runs
 * ld->select and puts one value per row into store. Returns 0, or -1 with
 * errstr. keys stays the caller's. */
int tp_store_pg_load(struct tp_store *store, PGconn *conn,
                     const struct tp_store_pg_load *ld, struct tp_copybuf *keys,
                     char *errstr, size_t errstr_size);

/* A sealed attempt between a handler's stage and its flush
 * (common/consumer.h): the store generation its commit settles and the
 * connection it was staged over. */
struct tp_store_pg_stage {
        uint64_t gen;
        const PGconn *conn; /* compared, never used */
};

/* Seals the store's open attempt (tp_store_seal) into sg, staged over
 * conn. */
void tp_store_pg_seal(struct tp_store_pg_stage *sg, struct tp_store *store,
                      const PGconn *conn);

/* Readies conn for a flush of what was staged over staged_conn: runs
 * temp_sql (the handler's temporary tables, "CREATE TEMP TABLE IF NOT
 * EXISTS ...") unless that is conn, where they exist. Returns 0, or -1
 * with errstr. */
int tp_store_pg_flush_conn(const PGconn *staged_conn, PGconn *conn,
                           const char *temp_sql, char *errstr,
                           size_t errstr_size);

#endif
