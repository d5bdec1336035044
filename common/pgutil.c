/* pgutil.c - see pgutil.h. */
#include "pgutil.h"
#include "event.h"
#include "redact.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SQLSTATE suffix that tp_pg_sqlstate() reads back. */
#define TP_SQLSTATE_TAG " (SQLSTATE "

/* "what: msg (SQLSTATE xxxxx)"; the suffix only when res carries a code.
 * The suffix always fits (msg is cut first), and the tag is neutralised
 * inside msg, which may quote data a producer chose, so the last tag in
 * errstr is always the server's. */
static void tp_pg_msg_res(const char *what, const char *msg,
                          const PGresult *res, char *errstr, size_t errstr_size)
{
        const char *code =
                res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        char suffix[32] = "";
        size_t room;
        char *p;

        if (code && strlen(code) == 5)
                snprintf(suffix, sizeof(suffix), TP_SQLSTATE_TAG "%s)", code);
        room = errstr_size > strlen(suffix) ? errstr_size - strlen(suffix) : 1;
        snprintf(errstr, room, "%s: %s", what, msg ? msg : "?");
        tp_chomp(errstr);
        while ((p = strstr(errstr, TP_SQLSTATE_TAG)) != NULL)
                p[2] = 's'; /* " (sQLSTATE " */
        if (suffix[0] && strlen(errstr) + strlen(suffix) < errstr_size)
                strcat(errstr, suffix);
}

static void tp_pg_msg(const char *what, const char *msg, char *errstr,
                      size_t errstr_size)
{
        tp_pg_msg_res(what, msg, NULL, errstr, errstr_size);
}

int tp_pg_sqlstate(const char *errstr, char sqlstate[6])
{
        const char *p = NULL, *q = errstr;
        while (q && (q = strstr(q, TP_SQLSTATE_TAG)) != NULL)
                p = q++;
        if (!p)
                return -1;
        p += strlen(TP_SQLSTATE_TAG);
        for (int i = 0; i < 5; i++)
                if (!isalnum((unsigned char)p[i]))
                        return -1;
        if (p[5] != ')')
                return -1;
        memcpy(sqlstate, p, 5);
        sqlstate[5] = '\0';
        return 0;
}

enum tp_pg_errclass tp_pg_errclass(const char *errstr)
{
        char code[6];
        if (tp_pg_sqlstate(errstr, code) != 0)
                return TP_PG_OUTAGE;
        if (!strncmp(code, "22", 2) || !strncmp(code, "23", 2) ||
            !strncmp(code, "54", 2))
                return TP_PG_DATA;
        if (!strncmp(code, "40", 2))
                return TP_PG_RETRY;
        return TP_PG_OUTAGE;
}

/* 1 when the n bytes at piece occur in s. */
static int tp_pg_occurs(const char *s, const char *piece, size_t n)
{
        for (; *s; s++)
                if (strncmp(s, piece, n) == 0)
                        return 1;
        return 0;
}

/* libpq's conninfo parse errors end with a quoted piece of the conninfo (a
 * whole URI, a percent-encoded token, the word after a stray space), which
 * may hold the password, and quotes of its own. The piece runs from some
 * quote to the last quote of the message: the earliest quote from which
 * the text up to the last quote is part of the conninfo opens it; when
 * none does (libpq decoded it), everything from the first quote on is
 * redacted. Single-character quotes before it ("=", "]") are kept. */
static void tp_pg_redact_quoted(char *msg, size_t size, const char *conninfo)
{
        char *first = strchr(msg, '"'), *last = strrchr(msg, '"');
        char *open = NULL, *tail, *out;

        if (!first)
                return;
        if (first == last) { /* an unmatched quote: the rest may be data */
                snprintf(first, size - (size_t)(first - msg), "\"%s",
                         TP_REDACTED);
                return;
        }
        for (char *q = first; q && q < last; q = strchr(q + 1, '"')) {
                size_t n = (size_t)(last - q - 1);
                if (n > 0 && tp_pg_occurs(conninfo, q + 1, n)) {
                        open = q;
                        break;
                }
        }
        if (!open)
                open = first;
        out = tp_xmalloc(size);
        tail = last + 1;
        snprintf(out, size, "%.*s\"%s\"%s", (int)(open - msg), msg, TP_REDACTED,
                 tail);
        memcpy(msg, out, strlen(out) + 1);
        free(out);
}

/* 1 when libpq reads s as a connection string rather than a database
 * name (its recognized_connection_string()). */
static int tp_pg_is_conninfo(const char *s)
{
        return strchr(s, '=') != NULL || strncmp(s, "postgresql://", 13) == 0 ||
               strncmp(s, "postgres://", 11) == 0;
}

/* Points *pw and *sslpw at the values of the secret options of a parsed
 * conninfo (owned by opts), or NULL. */
static void tp_pg_secrets(PQconninfoOption *opts, const char **pw,
                          const char **sslpw)
{
        *pw = *sslpw = NULL;
        for (PQconninfoOption *o = opts; o && o->keyword; o++) {
                if (!o->val || !*o->val)
                        continue;
                if (strcmp(o->keyword, "password") == 0)
                        *pw = o->val;
                else if (strcmp(o->keyword, "sslpassword") == 0)
                        *sslpw = o->val;
        }
}

PGconn *tp_pg_connect(const char *conninfo, const char *app_name, char *errstr,
                      size_t errstr_size)
{
        const char *keys[] = {"dbname", "application_name", NULL};
        const char *vals[] = {conninfo, app_name, NULL};
        const char *pw, *sslpw;
        char *perr = NULL;
        PQconninfoOption *opts;
        PGconn *conn;

        /* Parse first: a parse error is reported without the quoted
         * pieces, and the passwords are known to scrub later messages. A
         * plain database name (what libpq's expand_dbname takes as such:
         * no '=' and no URI prefix) holds no secret and is not parsed. */
        if (!conninfo)
                conninfo = "";
        opts = PQconninfoParse(tp_pg_is_conninfo(conninfo) ? conninfo : "",
                               &perr);
        if (!opts) {
                /* Redacted whole, before errstr may cut its last quote. */
                size_t n = (perr ? strlen(perr) : 0) + sizeof(TP_REDACTED) + 8;
                char *shown = tp_xmalloc(n);
                snprintf(shown, n, "%s", perr ? perr : "out of memory");
                tp_pg_redact_quoted(shown, n, conninfo);
                tp_pg_msg("could not connect to PostgreSQL: invalid conninfo",
                          shown, errstr, errstr_size);
                free(shown);
                PQfreemem(perr);
                return NULL;
        }
        conn = PQconnectdbParams(keys, vals, 1);
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
                tp_pg_msg("could not connect to PostgreSQL",
                          conn ? PQerrorMessage(conn) : "out of memory", errstr,
                          errstr_size);
                tp_pg_secrets(opts, &pw, &sslpw);
                tp_redact_secret(errstr, errstr_size, pw);
                tp_redact_secret(errstr, errstr_size, sslpw);
                PQfinish(conn);
                conn = NULL;
        }
        PQconninfoFree(opts);
        return conn;
}

int tp_pg_check(PGconn *conn, PGresult *res, ExecStatusType want,
                const char *what, char *errstr, size_t errstr_size)
{
        if (res && PQresultStatus(res) == want)
                return 0;
        tp_pg_msg_res(what,
                      res ? PQresultErrorMessage(res) : PQerrorMessage(conn),
                      res, errstr, errstr_size);
        return -1;
}

int tp_pg_exec(PGconn *conn, const char *sql, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        int rc = 0;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                char what[96];
                snprintf(what, sizeof(what), "could not run \"%.60s\"", sql);
                tp_pg_msg_res(what,
                              res ? PQresultErrorMessage(res)
                                  : PQerrorMessage(conn),
                              res, errstr, errstr_size);
                rc = -1;
        }
        PQclear(res);
        return rc;
}

int64_t tp_pg_col_ts(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col)
                       ? TP_TS_NONE
                       : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *tp_pg_col_text(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

struct tp_strspan tp_pg_col_span(const PGresult *res, int row, int col)
{
        struct tp_strspan sp = {NULL, 0};
        if (!PQgetisnull(res, row, col)) {
                sp.p = PQgetvalue(res, row, col);
                sp.len = (size_t)PQgetlength(res, row, col);
        }
        return sp;
}

int tp_pg_col_level(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col)
                       ? TP_LEVEL_NONE
                       : tp_level_parse(PQgetvalue(res, row, col));
}

PGresult *tp_pg_query(PGconn *conn, const char *sql, int n,
                      const char *const *params, const char *what, char *errstr,
                      size_t errstr_size)
{
        PGresult *res =
                n > 0 ? PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0)
                      : PQexec(conn, sql);
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK, what, errstr,
                        errstr_size) != 0) {
                PQclear(res);
                return NULL;
        }
        return res;
}

int tp_pg_stats_say_empty(PGconn *conn, const char *table, char *errstr,
                          size_t errstr_size)
{
        const char *params[1] = {table};
        PGresult *res = tp_pg_query(
                conn,
                "SELECT reltuples = 0 AND relpages > 0 FROM pg_class "
                "WHERE oid = $1::regclass",
                1, params, "could not read a table's statistics", errstr,
                errstr_size);
        int empty;
        if (!res)
                return -1;
        empty = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        return empty;
}

int tp_pg_exec_params(PGconn *conn, const char *sql, int n,
                      const char *const *params, ExecStatusType want,
                      const char *what, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
        int rc = tp_pg_check(conn, res, want, what, errstr, errstr_size);
        PQclear(res);
        return rc;
}

int tp_pg_col_int(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? 0 : atoi(PQgetvalue(res, row, col));
}

int tp_pg_ok(PGconn *conn)
{
        return conn && PQstatus(conn) == CONNECTION_OK;
}

void tp_copybuf_init(struct tp_copybuf *cb)
{
        memset(cb, 0, sizeof(*cb));
}

void tp_copybuf_init_binary(struct tp_copybuf *cb)
{
        memset(cb, 0, sizeof(*cb));
        cb->binary = 1;
}

void tp_copybuf_release(struct tp_copybuf *cb)
{
        tp_buf_release(&cb->buf);
        cb->fields_in_row = 0;
}

void tp_copybuf_reset(struct tp_copybuf *cb)
{
        cb->buf.len = 0;
        cb->fields_in_row = 0;
}

/* Room for n more bytes, which the appenders write themselves (the COPY
 * text is never read as a C string). */
static void tp_copybuf_reserve(struct tp_copybuf *cb, size_t n)
{
        if (cb->buf.cap == 0)
                tp_buf_reserve(&cb->buf, 65536);
        tp_buf_reserve(&cb->buf, n);
}

static void tp_copybuf_raw(struct tp_copybuf *cb, const char *s, size_t n)
{
        tp_copybuf_reserve(cb, n);
        memcpy(cb->buf.data + cb->buf.len, s, n);
        cb->buf.len += n;
}

/* Big-endian integers of the binary format. */
static void tp_copybuf_be(struct tp_copybuf *cb, uint64_t v, int bytes)
{
        tp_copybuf_reserve(cb, (size_t)bytes);
        for (int i = bytes - 1; i >= 0; i--)
                cb->buf.data[cb->buf.len++] = (char)((v >> (8 * i)) & 0xff);
}

/* The binary format's file header: signature, flags, no extension. */
static const char tp_copy_signature[11] = "PGCOPY\n\377\r\n";

static void tp_copybuf_sep(struct tp_copybuf *cb)
{
        tp_copybuf_reserve(cb, 1);
        if (!cb->binary) {
                if (cb->fields_in_row++ > 0)
                        cb->buf.data[cb->buf.len++] = '\t';
                return;
        }
        if (cb->fields_in_row++ > 0)
                return;
        if (cb->buf.len == 0) {
                tp_copybuf_raw(cb, tp_copy_signature,
                               sizeof(tp_copy_signature));
                tp_copybuf_be(cb, 0, 4); /* flags */
                tp_copybuf_be(cb, 0, 4); /* header extension length */
        }
        cb->row_at = cb->buf.len;
        tp_copybuf_be(cb, 0, 2); /* the field count, set by end_row */
}

/* A binary field: its length (-1: null) then its n bytes. */
static void tp_copybuf_field(struct tp_copybuf *cb, const void *p, size_t n)
{
        tp_copybuf_sep(cb);
        if (!p) {
                tp_copybuf_be(cb, UINT32_MAX, 4);
                return;
        }
        tp_copybuf_be(cb, n, 4);
        tp_copybuf_raw(cb, p, n);
}

/* A binary fixed-width field: its length, then v's low bytes big-endian
 * (8: bigint and timestamptz, 4: integer). */
static void tp_copybuf_fixed(struct tp_copybuf *cb, uint64_t v, int bytes)
{
        tp_copybuf_sep(cb);
        tp_copybuf_be(cb, (uint64_t)bytes, 4);
        tp_copybuf_be(cb, v, bytes);
}

void tp_copybuf_str(struct tp_copybuf *cb, const char *s)
{
        size_t len;
        if (cb->binary) {
                tp_copybuf_field(cb, s, s ? strlen(s) : 0);
                return;
        }
        tp_copybuf_sep(cb);
        if (!s) {
                tp_copybuf_raw(cb, "\\N", 2);
                return;
        }
        len = strlen(s);
        if (strcspn(s, "\\\t\n\r") == len) { /* nothing to escape */
                tp_copybuf_raw(cb, s, len);
                return;
        }
        tp_copybuf_reserve(cb, len * 2);
        for (; *s; s++) {
                char c = *s, esc = 0;
                switch (c) {
                case '\\':
                        esc = '\\';
                        break;
                case '\t':
                        esc = 't';
                        break;
                case '\n':
                        esc = 'n';
                        break;
                case '\r':
                        esc = 'r';
                        break;
                default:
                        break;
                }
                if (esc) {
                        cb->buf.data[cb->buf.len++] = '\\';
                        cb->buf.data[cb->buf.len++] = esc;
                } else {
                        cb->buf.data[cb->buf.len++] = c;
                }
        }
}

void tp_copybuf_int(struct tp_copybuf *cb, int64_t v)
{
        char buf[TP_I64_CHARS];
        size_t n;
        if (cb->binary) {
                tp_copybuf_fixed(cb, (uint64_t)v, 8);
                return;
        }
        n = tp_format_i64(v, buf);
        tp_copybuf_sep(cb);
        tp_copybuf_raw(cb, buf, n);
}

void tp_copybuf_int4(struct tp_copybuf *cb, int32_t v)
{
        if (!cb->binary) {
                tp_copybuf_int(cb, v);
                return;
        }
        tp_copybuf_fixed(cb, (uint32_t)v, 4);
}

void tp_copybuf_ts(struct tp_copybuf *cb, int64_t ts_ms)
{
        char buf[40];
        if (ts_ms == TP_TS_NONE) {
                tp_copybuf_str(cb, NULL);
                return;
        }
        if (cb->binary) { /* microseconds since 2000-01-01 00:00 UTC */
                tp_copybuf_fixed(
                        cb, (uint64_t)((ts_ms - 946684800000LL) * 1000), 8);
                return;
        }
        size_t n = tp_format_ts(ts_ms, buf, sizeof(buf));
        tp_copybuf_sep(cb);
        tp_copybuf_raw(cb, buf, n);
}

static int tp_hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return c - 'A' + 10;
}

void tp_copybuf_uuid(struct tp_copybuf *cb, const char *s)
{
        char bytes[16];
        int n = 0;
        if (!cb->binary || !s) {
                tp_copybuf_str(cb, s);
                return;
        }
        for (const char *p = s; *p && n < 16; p++) {
                if (*p == '-')
                        continue;
                bytes[n++] = (char)(tp_hexval(p[0]) << 4 | tp_hexval(p[1]));
                p++;
        }
        tp_copybuf_field(cb, bytes, (size_t)n);
}

void tp_copybuf_bool(struct tp_copybuf *cb, int v)
{
        if (cb->binary) {
                char b = v ? 1 : 0;
                tp_copybuf_field(cb, &b, 1);
                return;
        }
        tp_copybuf_sep(cb);
        tp_copybuf_raw(cb, v ? "t" : "f", 1);
}

void tp_copybuf_bytes(struct tp_copybuf *cb, const void *p, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *b = p;
        if (cb->binary) {
                tp_copybuf_field(cb, p, n);
                return;
        }
        tp_copybuf_sep(cb);
        if (!p) {
                tp_copybuf_raw(cb, "\\N", 2);
                return;
        }
        tp_copybuf_reserve(cb, 3 + 2 * n);
        tp_copybuf_raw(cb, "\\\\x", 3);
        for (size_t i = 0; i < n; i++) {
                cb->buf.data[cb->buf.len++] = hex[b[i] >> 4];
                cb->buf.data[cb->buf.len++] = hex[b[i] & 15];
        }
}

void tp_copybuf_end_row(struct tp_copybuf *cb)
{
        if (cb->binary) {
                cb->buf.data[cb->row_at] = (char)(cb->fields_in_row >> 8);
                cb->buf.data[cb->row_at + 1] = (char)(cb->fields_in_row & 0xff);
                cb->fields_in_row = 0;
                return;
        }
        tp_copybuf_reserve(cb, 1);
        cb->buf.data[cb->buf.len++] = '\n';
        cb->fields_in_row = 0;
}

void tp_pgarray_add(struct tp_copybuf *cb, const char *s, int first)
{
        tp_copybuf_reserve(cb, strlen(s) * 2 + 4);
        cb->buf.data[cb->buf.len++] = first ? '{' : ',';
        cb->buf.data[cb->buf.len++] = '"';
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        cb->buf.data[cb->buf.len++] = '\\';
                cb->buf.data[cb->buf.len++] = *s;
        }
        cb->buf.data[cb->buf.len++] = '"';
}

void tp_pgarray_end(struct tp_copybuf *cb)
{
        tp_copybuf_reserve(cb, 3);
        if (cb->buf.len == 0)
                cb->buf.data[cb->buf.len++] = '{';
        cb->buf.data[cb->buf.len++] = '}';
        cb->buf.data[cb->buf.len] = '\0';
}

int tp_pg_exec_array(PGconn *conn, const char *sql, struct tp_copybuf *arr,
                     const char *what, char *errstr, size_t errstr_size)
{
        const char *params[1];
        int rc;
        tp_pgarray_end(arr);
        params[0] = arr->buf.data;
        rc = tp_pg_exec_params(conn, sql, 1, params, PGRES_COMMAND_OK, what,
                               errstr, errstr_size);
        tp_copybuf_release(arr);
        return rc;
}

/* The statement that starts cb's COPY: copy_sql, told the format when
 * it is binary (malloc'd then, else copy_sql itself). */
static char *tp_copybuf_sql(const struct tp_copybuf *cb, const char *copy_sql)
{
        static const char binary[] = " (FORMAT binary)";
        size_t n = strlen(copy_sql);
        char *sql;
        if (!cb->binary)
                return (char *)copy_sql;
        sql = tp_xmalloc(n + sizeof(binary));
        memcpy(sql, copy_sql, n);
        memcpy(sql + n, binary, sizeof(binary));
        return sql;
}

int tp_copybuf_send(PGconn *conn, const char *copy_sql,
                    const struct tp_copybuf *cb, char *errstr,
                    size_t errstr_size)
{
        static const char trailer[2] = {'\377', '\377'}; /* binary: -1 */
        char *sql = tp_copybuf_sql(cb, copy_sql);
        PGresult *res = PQexec(conn, sql);
        int rc = -1;

        if (sql != copy_sql)
                free(sql);
        if (tp_pg_check(conn, res, PGRES_COPY_IN, "could not start COPY",
                        errstr, errstr_size) != 0)
                goto done;
        PQclear(res);
        res = NULL;
        if ((cb->buf.len > 0 &&
             PQputCopyData(conn, cb->buf.data, (int)cb->buf.len) != 1) ||
            (cb->binary && cb->buf.len > 0 &&
             PQputCopyData(conn, trailer, sizeof(trailer)) != 1)) {
                tp_pg_msg("could not send COPY data", PQerrorMessage(conn),
                          errstr, errstr_size);
                PQputCopyEnd(conn, "send failed");
                res = PQgetResult(conn);
                goto done;
        }
        if (PQputCopyEnd(conn, NULL) != 1) {
                tp_pg_msg("could not end COPY", PQerrorMessage(conn), errstr,
                          errstr_size);
                goto done;
        }
        res = PQgetResult(conn);
        rc = tp_pg_check(conn, res, PGRES_COMMAND_OK, "COPY failed", errstr,
                         errstr_size);
done:
        PQclear(res);
        /* Drain any further results so the connection is reusable. */
        while ((res = PQgetResult(conn)) != NULL)
                PQclear(res);
        return rc;
}

int tp_copybuf_apply(PGconn *conn, const struct tp_copybuf *cb,
                     const char *copy_sql, const char *sql, char *errstr,
                     size_t errstr_size)
{
        if (cb->buf.len == 0)
                return 0;
        if (tp_copybuf_send(conn, copy_sql, cb, errstr, errstr_size) != 0)
                return -1;
        return tp_pg_exec(conn, sql, errstr, errstr_size);
}
