/* procedures.c - see procedures.h. The file goes to PostgreSQL as it is
 * (COPY ... CSV into a temporary table of text columns); only its header
 * line is read here, to find each column by name. */
#include "procedures.h"
#include "pgutil.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_PROC_MAX_COLUMNS 64

enum tp_proc_col {
        TP_PC_CODE,
        TP_PC_NAME,
        TP_PC_LEVEL,
        TP_PC_DEADLINE,
        TP_PC_SECTOR,
        TP_PC_AGENCY,
        TP_PC__COUNT
};

/* Header names per column: ours, then the national export's (compared
 * with ASCII letters folded to lower case). */
static const char *const tp_proc_names[TP_PC__COUNT][6] = {
        {"code", "procedure_code", "ma_thu_tuc", "mã thủ tục", "mã tthc", NULL},
        {"name", "procedure_name", "ten_thu_tuc", "tên thủ tục", "tên tthc",
         NULL},
        {"level", "competent_level", "cap_thuc_hien", "cấp thực hiện", NULL},
        {"deadline_days", "deadline", "thoi_han_giai_quyet",
         "thời hạn giải quyết", NULL},
        {"sector", "linh_vuc", "lĩnh vực", NULL},
        {"agency", "co_quan_thuc_hien", "cơ quan thực hiện", NULL},
};

/* The header's fields, unquoted, trimmed, ASCII lower case. Returns how
 * many (at most max), or -1 when there are more. */
static int tp_proc_header(const char *line, size_t len, char fields[][96],
                          int max)
{
        int n = 0;
        size_t i = 0;
        while (i <= len) {
                char *f;
                size_t k = 0;
                int quoted = 0;
                if (n == max)
                        return -1;
                f = fields[n++];
                while (i < len && line[i] == ' ')
                        i++;
                for (; i < len; i++) {
                        char c = line[i];
                        if (c == '"' && quoted && i + 1 < len &&
                            line[i + 1] == '"') {
                                i++;
                        } else if (c == '"') {
                                quoted = !quoted;
                                continue;
                        } else if (c == ',' && !quoted) {
                                break;
                        }
                        if (k + 1 < 96)
                                f[k++] = (char)tolower((unsigned char)c);
                }
                while (k > 0 && (f[k - 1] == ' ' || f[k - 1] == '\r'))
                        k--;
                f[k] = '\0';
                i++; /* past the comma (or the end) */
        }
        return n;
}

/* Finds each column by name: col[c] is its 1-based position, 0 when
 * absent. */
static void tp_proc_columns(char fields[][96], int n, int col[TP_PC__COUNT])
{
        for (int c = 0; c < TP_PC__COUNT; c++) {
                col[c] = 0;
                for (int i = 0; i < n && !col[c]; i++)
                        for (int a = 0; tp_proc_names[c][a]; a++)
                                if (strcmp(fields[i], tp_proc_names[c][a]) == 0)
                                        col[c] = i + 1;
        }
}

/* "c3" for a column, "NULL::text" for an absent one. */
static const char *tp_proc_ref(const int col[TP_PC__COUNT], int c, char *buf,
                               size_t size)
{
        if (!col[c])
                return "NULL::text";
        snprintf(buf, size, "c%d", col[c]);
        return buf;
}

/* A header line of n columns: CREATE TEMP TABLE and COPY. */
static int tp_proc_copy(PGconn *conn, struct tp_copybuf *file, int n,
                        char *errstr, size_t errstr_size)
{
        struct tp_buf sql = {0};
        int rc;
        tp_buf_printf(&sql, "CREATE TEMP TABLE tp_proc_load (row_no bigserial");
        for (int i = 1; i <= n; i++)
                tp_buf_printf(&sql, ", c%d text", i);
        tp_buf_printf(&sql, ") ON COMMIT DROP");
        rc = tp_pg_exec(conn, sql.data, errstr, errstr_size);
        tp_buf_reset(&sql);
        tp_buf_printf(&sql, "COPY tp_proc_load (");
        for (int i = 1; i <= n; i++)
                tp_buf_printf(&sql, "%sc%d", i > 1 ? ", " : "", i);
        tp_buf_printf(&sql, ") FROM STDIN WITH (FORMAT csv, HEADER true)");
        if (rc == 0)
                rc = tp_copybuf_send(conn, sql.data, file, errstr, errstr_size);
        tp_buf_release(&sql);
        return rc;
}

/* The row sql finds (row, why, code), as an error; 0 when none. */
static int tp_proc_refuse(PGconn *conn, const char *path, const char *sql,
                          char *errstr, size_t errstr_size)
{
        PGresult *res =
                tp_pg_query(conn, sql, 0, NULL, "could not check the catalogue",
                            errstr, errstr_size);
        int rc = 0;
        if (!res)
                return -1;
        if (PQntuples(res) > 0) {
                snprintf(errstr, errstr_size, "%s: data row %s: %s%s%s", path,
                         PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                         PQgetisnull(res, 0, 2) ? "" : " ",
                         PQgetvalue(res, 0, 2));
                rc = -1;
        }
        PQclear(res);
        return rc;
}

static long tp_proc_count(PGconn *conn, const char *sql, const char *source,
                          char *errstr, size_t errstr_size)
{
        const char *params[1] = {source};
        PGresult *res = tp_pg_query(
                conn, sql, source ? 1 : 0, source ? params : NULL,
                "could not load the catalogue", errstr, errstr_size);
        long n;
        if (!res)
                return -1;
        n = PQntuples(res) == 1 ? atol(PQgetvalue(res, 0, 0)) : -1;
        PQclear(res);
        return n;
}

/* Checks the rows, then upserts them. */
static int tp_proc_write(PGconn *conn, const char *path, const char *source,
                         const int col[TP_PC__COUNT],
                         struct tp_procedures_load *out, char *errstr,
                         size_t errstr_size)
{
        char r[TP_PC__COUNT][16], sql[4096];
        const char *code = tp_proc_ref(col, TP_PC_CODE, r[0], 16);
        const char *name = tp_proc_ref(col, TP_PC_NAME, r[1], 16);
        const char *level = tp_proc_ref(col, TP_PC_LEVEL, r[2], 16);
        const char *dl = tp_proc_ref(col, TP_PC_DEADLINE, r[3], 16);
        const char *sector = tp_proc_ref(col, TP_PC_SECTOR, r[4], 16);
        const char *agency = tp_proc_ref(col, TP_PC_AGENCY, r[5], 16);
        /* the level's first term, Vietnamese capitals folded by hand
         * (lower() folds only ASCII under the C locale) */
        char lv[512];
        PGresult *res;

        snprintf(lv, sizeof(lv), "lower(translate(%s, 'ẤÃỈỘƯƠ', 'ấãỉộươ'))",
                 level);
        /* the first row that breaks a rule */
        snprintf(sql, sizeof(sql),
                 "SELECT row_no, why, code FROM ("
                 "SELECT row_no, 'empty procedure code' AS why, NULL AS code "
                 "FROM tp_proc_load WHERE coalesce(trim(%s), '') = '' "
                 "UNION ALL SELECT row_no, 'empty name for procedure', "
                 "trim(%s) FROM tp_proc_load WHERE coalesce(trim(%s), '') = '' "
                 "UNION ALL SELECT max(row_no), 'the file names this "
                 "procedure code twice:', trim(%s) FROM tp_proc_load "
                 "GROUP BY trim(%s) HAVING count(*) > 1) x "
                 "ORDER BY row_no LIMIT 1",
                 code, code, name, code, code);
        if (tp_proc_refuse(conn, path, sql, errstr, errstr_size) != 0)
                return -1;
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP VIEW tp_proc_rows AS SELECT trim(%s) AS code, "
                 "trim(%s) AS name, CASE "
                 "WHEN %s ~ '^\\s*(commune|(cấp\\s+)?xã)' THEN 'COMMUNE' "
                 "WHEN %s ~ '^\\s*(province|(cấp\\s+)?tỉnh)' THEN 'PROVINCE' "
                 "WHEN %s ~ '^\\s*(central|(cấp\\s+)?(bộ|trung ương))' "
                 "THEN 'CENTRAL' END AS level, "
                 "coalesce(trim(%s), '') <> '' AS level_given, "
                 "substring(%s FROM '^\\s*(\\d{1,5})')::int AS deadline, "
                 "coalesce(trim(%s), '') <> '' AS deadline_given, "
                 "nullif(trim(%s), '') AS sector, "
                 "nullif(trim(%s), '') AS agency FROM tp_proc_load",
                 code, name, lv, lv, lv, level, dl, dl, sector, agency);
        if (tp_pg_exec(conn, sql, errstr, errstr_size) != 0)
                return -1;
        res = tp_pg_query(conn,
                          "SELECT count(*) FILTER (WHERE level IS NULL AND "
                          "level_given), count(*) FILTER (WHERE deadline IS "
                          "NULL AND deadline_given) FROM tp_proc_rows",
                          0, NULL, "could not check the catalogue", errstr,
                          errstr_size);
        if (!res)
                return -1;
        out->level_unread = atol(PQgetvalue(res, 0, 0));
        out->deadline_unread = atol(PQgetvalue(res, 0, 1));
        PQclear(res);
        out->loaded = tp_proc_count(
                conn,
                "WITH w AS (INSERT INTO tthc.procedures (procedure_code, "
                "name, competent_level, deadline_days, sector, agency, "
                "source, loaded_at) SELECT code, name, level, deadline, "
                "sector, agency, $1, now() FROM tp_proc_rows "
                "ON CONFLICT (procedure_code) DO UPDATE SET name = "
                "EXCLUDED.name, competent_level = EXCLUDED.competent_level, "
                "deadline_days = EXCLUDED.deadline_days, sector = "
                "EXCLUDED.sector, agency = EXCLUDED.agency, source = "
                "EXCLUDED.source, loaded_at = EXCLUDED.loaded_at "
                "RETURNING 1) SELECT count(*) FROM w",
                source, errstr, errstr_size);
        if (out->loaded < 0)
                return -1;
        return tp_pg_exec(conn, "DROP VIEW tp_proc_rows", errstr, errstr_size);
}

/* A national load replaces the sample; the codes stored dossiers carry
 * stay listed (with a null name when no catalogue has them). */
static int tp_proc_replace_sample(PGconn *conn, struct tp_procedures_load *out,
                                  char *errstr, size_t errstr_size)
{
        out->removed = tp_proc_count(
                conn,
                "WITH d AS (DELETE FROM tthc.procedures WHERE source = "
                "'sample' RETURNING 1) SELECT count(*) FROM d",
                NULL, errstr, errstr_size);
        if (out->removed < 0 ||
            tp_pg_exec(conn,
                       "INSERT INTO tthc.procedures (procedure_code, source) "
                       "SELECT DISTINCT procedure_code, 'event' FROM "
                       "tthc.dossiers "
                       "ON CONFLICT DO NOTHING",
                       errstr, errstr_size) != 0)
                return -1;
        out->unknown = tp_proc_count(
                conn, "SELECT count(*) FROM tthc.procedures WHERE name IS NULL",
                NULL, errstr, errstr_size);
        return out->unknown < 0 ? -1 : 0;
}

int tp_procedures_load(PGconn *conn, const char *path, const char *source,
                       struct tp_procedures_load *out, char *errstr,
                       size_t errstr_size)
{
        char fields[TP_PROC_MAX_COLUMNS][96], *nl;
        int col[TP_PC__COUNT], n, rc = -1, national;
        struct tp_copybuf file;
        size_t skip = 0;

        memset(out, 0, sizeof(*out));
        national = strcmp(source, "national") == 0;
        if (!national) {
                long nat = tp_proc_count(conn,
                                         "SELECT count(*) FROM tthc.procedures "
                                         "WHERE source = 'national'",
                                         NULL, errstr, errstr_size);
                if (nat != 0)
                        return nat < 0 ? -1 : 0; /* a national one wins */
        }
        tp_copybuf_init(&file);
        file.buf.data = tp_read_file(path, 64 << 20, &file.buf.len, errstr,
                                     errstr_size);
        if (!file.buf.data)
                return -1;
        file.buf.cap = file.buf.len + 1;
        if (file.buf.len >= 3 && memcmp(file.buf.data, "\xEF\xBB\xBF", 3) == 0)
                skip = 3; /* a spreadsheet's byte order mark */
        memmove(file.buf.data, file.buf.data + skip, file.buf.len - skip + 1);
        file.buf.len = tp_crlf_to_lf(file.buf.data, file.buf.len - skip);
        nl = memchr(file.buf.data, '\n', file.buf.len);
        n = tp_proc_header(file.buf.data,
                           nl ? (size_t)(nl - file.buf.data) : file.buf.len,
                           fields, TP_PROC_MAX_COLUMNS);
        if (n < 0) {
                snprintf(errstr, errstr_size, "%s: more than %d columns", path,
                         TP_PROC_MAX_COLUMNS);
                goto done;
        }
        tp_proc_columns(fields, n, col);
        if (!col[TP_PC_CODE] || !col[TP_PC_NAME]) {
                snprintf(errstr, errstr_size,
                         "%s: the header line names no %s column (\"code\" "
                         "or \"%s\")",
                         path, col[TP_PC_CODE] ? "name" : "code",
                         col[TP_PC_CODE] ? "Tên thủ tục" : "Mã thủ tục");
                goto done;
        }
        if (tp_proc_copy(conn, &file, n, errstr, errstr_size) != 0 ||
            tp_proc_write(conn, path, source, col, out, errstr, errstr_size) !=
                    0 ||
            (national &&
             tp_proc_replace_sample(conn, out, errstr, errstr_size) != 0) ||
            tp_pg_exec(conn, "DROP TABLE tp_proc_load", errstr, errstr_size) !=
                    0)
                goto done;
        rc = 0;
done:
        tp_copybuf_release(&file);
        return rc;
}
