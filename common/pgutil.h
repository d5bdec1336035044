/* pgutil.h - small libpq helpers: connecting, running statements,
 * building COPY text rows. Errors are copied out of libpq without its
 * trailing newline. Never put a conninfo in a message: it may hold a
 * password. */
#ifndef TP_PGUTIL_H
#define TP_PGUTIL_H

#include "arena.h"
#include "buf.h"
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Connects; on failure returns NULL and fills errstr, never with a
 * credential: a conninfo that does not parse is reported with its quoted
 * pieces replaced by "[redacted]" (libpq quotes the conninfo back), and
 * the password and sslpassword of one that does are scrubbed from the
 * server's or libpq's message (common/redact.h). */
PGconn *tp_pg_connect(const char *conninfo, const char *app_name, char *errstr,
                      size_t errstr_size);

/* Runs sql (no parameters) and expects success; returns 0 or -1. */
int tp_pg_exec(PGconn *conn, const char *sql, char *errstr, size_t errstr_size);

/* Runs sql with n text parameters, checks that the result has status want
 * (errstr: "what: message"), clears it. Returns 0 or -1. */
int tp_pg_exec_params(PGconn *conn, const char *sql, int n,
                      const char *const *params, ExecStatusType want,
                      const char *what, char *errstr, size_t errstr_size);

/* Runs a query (sql with n text parameters; n 0: params may be NULL) and
 * returns its rows (PGRES_TUPLES_OK; the caller clears it), or NULL with
 * errstr "what: message" (the failed result already cleared). */
PGresult *tp_pg_query(PGconn *conn, const char *sql, int n,
                      const char *const *params, const char *what, char *errstr,
                      size_t errstr_size);

/* 1 when PostgreSQL's statistics of table (a name regclass reads) say
 * it holds no row over pages it has: emptied (a rebuild's DELETE), then
 * vacuumed or analysed before it filled again. The planner then takes it
 * for one row whatever it holds, and may scan it once per row of the
 * other side of a join (a nested loop: minutes for a second's work)
 * until autovacuum analyses it again (after 50 changes, within its
 * naptime). 0 when not; -1 with errstr. */
int tp_pg_stats_say_empty(PGconn *conn, const char *table, char *errstr,
                          size_t errstr_size);

/* Checks a result: returns 0 if its status is want, else fills errstr with
 * "what: message" and returns -1. Does not clear res. */
int tp_pg_check(PGconn *conn, PGresult *res, ExecStatusType want,
                const char *what, char *errstr, size_t errstr_size);

/* Result columns: an epoch-milliseconds bigint (NULL: TP_TS_NONE), the
 * text value itself or its span (NULL: NULL, a NULL p; owned by res, valid
 * until PQclear), a level name (NULL: TP_LEVEL_NONE), an integer (NULL:
 * 0). */
int64_t tp_pg_col_ts(const PGresult *res, int row, int col);
const char *tp_pg_col_text(const PGresult *res, int row, int col);
struct tp_strspan tp_pg_col_span(const PGresult *res, int row, int col);
int tp_pg_col_level(const PGresult *res, int row, int col);
int tp_pg_col_int(const PGresult *res, int row, int col);

/* Errors that came from the server end with " (SQLSTATE xxxxx)".
 * tp_pg_sqlstate() reads the code back from such a message (0, or -1 when
 * there is none: the connection failed, or the error was ours). */
int tp_pg_sqlstate(const char *errstr, char sqlstate[6]);

/* What a failed statement means for the batch that ran it: */
enum tp_pg_errclass {
        TP_PG_OUTAGE, /* anything else: back off and retry the batch */
        TP_PG_DATA,   /* classes 22, 23, 54: a row was refused as data */
        TP_PG_RETRY   /* class 40 (serialization, deadlock): retry at once */
};
enum tp_pg_errclass tp_pg_errclass(const char *errstr);

/* 1 when the connection is usable. */
int tp_pg_ok(PGconn *conn);

/* A growing buffer of COPY rows (buf.data, buf.len; not NUL-terminated
 * but by tp_pgarray_end), in the text format, or, from
 * tp_copybuf_init_binary, in PostgreSQL's binary one: a server parses it
 * in half the time of text, timestamps above all (docs/performance.md,
 * "COPY in binary"). tp_copybuf_send says which in its COPY statement. */
struct tp_copybuf {
        struct tp_buf buf;
        int fields_in_row;
        int binary;
        size_t row_at; /* binary: where the row's field count goes */
};

void tp_copybuf_init(struct tp_copybuf *cb);
/* A buffer of binary rows. Each field must have its column's type:
 * tp_copybuf_str for text, tp_copybuf_int for bigint, tp_copybuf_int4
 * for integer, tp_copybuf_ts for timestamptz, tp_copybuf_bool for
 * boolean, tp_copybuf_uuid for uuid, tp_copybuf_bytes for bytea (the server
 * refuses a row whose field has the wrong length: "insufficient data left in
 * message" or "incorrect binary data format"). */
void tp_copybuf_init_binary(struct tp_copybuf *cb);
void tp_copybuf_release(struct tp_copybuf *cb);
void tp_copybuf_reset(struct tp_copybuf *cb);
/* Field appenders; NULL / TP_TS_NONE write a null. */
void tp_copybuf_str(struct tp_copybuf *cb, const char *s);
void tp_copybuf_int(struct tp_copybuf *cb, int64_t v);
void tp_copybuf_int4(struct tp_copybuf *cb, int32_t v);
void tp_copybuf_ts(struct tp_copybuf *cb, int64_t ts_ms);
void tp_copybuf_bool(struct tp_copybuf *cb, int v);
/* A uuid column: s in the canonical form (36 characters, validate.c's
 * tp_uuid_valid), sent as text, or as its 16 bytes in binary. */
void tp_copybuf_uuid(struct tp_copybuf *cb, const char *s);
/* Bytes (text: as bytea hex, "\\x..."). */
void tp_copybuf_bytes(struct tp_copybuf *cb, const void *p, size_t n);
void tp_copybuf_end_row(struct tp_copybuf *cb);

/* Builds a PostgreSQL array literal of strings in cb (reset it first):
 * tp_pgarray_add() for each element (first = 1 for the first), then
 * tp_pgarray_end(); cb->data is then a NUL-terminated '{"a","b"}'. */
void tp_pgarray_add(struct tp_copybuf *cb, const char *s, int first);
void tp_pgarray_end(struct tp_copybuf *cb);

/* Ends the array built in arr (tp_pgarray_add), runs sql with it as $1
 * (e.g. "UPDATE ... WHERE id = ANY ($1::bigint[])"), expects a command,
 * and releases arr. Returns 0, or -1 with errstr ("<what>: ..."). */
int tp_pg_exec_array(PGconn *conn, const char *sql, struct tp_copybuf *arr,
                     const char *what, char *errstr, size_t errstr_size);

/* Sends the buffer with "COPY ... FROM STDIN" (copy_sql). */
int tp_copybuf_send(PGconn *conn, const char *copy_sql,
                    const struct tp_copybuf *cb, char *errstr,
                    size_t errstr_size);

/* The consumers' way to write a batch of rows: COPYs them into a
 * temporary table (copy_sql), then runs sql, which moves them into their
 * table. Nothing is sent when cb holds no row. Returns 0 or -1 with
 * errstr; cb stays the caller's. */
int tp_copybuf_apply(PGconn *conn, const struct tp_copybuf *cb,
                     const char *copy_sql, const char *sql, char *errstr,
                     size_t errstr_size);

#endif
