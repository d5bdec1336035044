/* store_pg.h - a consumer's state store (store.h) and PostgreSQL: fills
 * it with the rows of the dossiers a batch touches that are not resident,
 * with one COPY of their keys into a temporary table and one query that
 * joins it (a miss always consults the database; never one query per
 * key), and writes the rows a checkpoint changed back. */
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
        const char *table;  /* the table select joins them with */
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
 * errstr. keys stays the caller's. With ld->table's statistics saying it
 * is empty (tp_pg_stats_say_empty), the select runs with nested loops
 * off (a hash join: linear whatever the estimates). */
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

/* How a checkpoint writes the rows of the dossiers it changed into their
 * table: COPYed into a temporary table with the table's columns and a
 * last one, stored (tp_store_each_touched's hint), then one UPDATE of the
 * stored rows and one plain INSERT of the others, cheaper than an INSERT
 * ... ON CONFLICT of all (docs/performance.md, "Plain UPDATE and
 * INSERT"). The hint may be wrong: a row deleted while resident (a
 * rebuild, an operator), one inserted by another writer meanwhile. When
 * the UPDATE finds fewer rows than were stored or the INSERT one that
 * exists (a unique violation), the write goes back to its savepoint and
 * upserts all the rows, as a data error must not come of it. While the
 * table's statistics say it is empty (tp_pg_stats_say_empty), the
 * checkpoint upserts at once (no join), with nested loops off for the
 * rest of its transaction. Built by tp_store_pg_write_init, freed by
 * tp_store_pg_write_fini. */
struct tp_store_pg_write {
        char *table;  /* in the log */
        char *copy;   /* COPY <temp> (<cols>, stored) FROM STDIN */
        char *update; /* the stored rows, over the primary key */
        char *insert; /* the others */
        char *upsert; /* all of them, when the hint was wrong */
};

/* The rows of one checkpoint: tp_store_pg_row_end after each row's
 * fields. cb is borrowed. */
struct tp_store_pg_rows {
        struct tp_copybuf *cb;
        size_t n_stored, n_new;
};

/* What tp_store_pg_write_init builds from (strings borrowed). */
struct tp_store_pg_table {
        const char *table; /* e.g. "tthc.route_dossiers" */
        const char *temp; /* a temporary table like it, then "stored boolean" */
        const char *keys; /* its primary key's columns, comma-separated */
        const char *cols; /* the columns COPYed, comma-separated, keys too */
        const char *also; /* added to what an update sets, or NULL */
};

/* w for sp: an update sets every column of sp->cols but the keys, and
 * sp->also ("updated_at = now()"). */
void tp_store_pg_write_init(struct tp_store_pg_write *w,
                            const struct tp_store_pg_table *sp);
void tp_store_pg_write_fini(struct tp_store_pg_write *w);

/* Ends the current row of rows->cb with its stored field and counts it. */
void tp_store_pg_row_end(struct tp_store_pg_rows *rows, int stored);

/* Writes rows (nothing when empty) as w says, in the caller's
 * transaction. Returns 0, or -1 with errstr (the transaction is then
 * aborted: a data error keeps its SQLSTATE). */
int tp_store_pg_write(PGconn *conn, const struct tp_store_pg_write *w,
                      const struct tp_store_pg_rows *rows, char *errstr,
                      size_t errstr_size);

#endif
