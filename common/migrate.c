/* migrate.c - see migrate.h. */
#include "migrate.h"
#include "procedures.h"
#include "pgutil.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define TP_MIGRATE_LOCK "7368201"
#define TP_MIGRATE_MAX 256

static int tp_name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists "NNN_*.sql" in dir, sorted. Returns the count or -1. */
static int tp_migrate_list(const char *dir, char **names, char *errstr,
                           size_t errstr_size)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;
        if (!d) {
                snprintf(errstr, errstr_size,
                         "could not open migrations directory \"%s\"", dir);
                return -1;
        }
        while ((de = readdir(d)) != NULL && n < TP_MIGRATE_MAX) {
                size_t len = strlen(de->d_name);
                if (len < 8 || strcmp(de->d_name + len - 4, ".sql") != 0 ||
                    strspn(de->d_name, "0123456789") != 3 ||
                    de->d_name[3] != '_')
                        continue;
                names[n++] = tp_xstrdup(de->d_name);
        }
        closedir(d);
        qsort(names, (size_t)n, sizeof(char *), tp_name_cmp);
        return n;
}

static int tp_migrate_is_applied(PGconn *conn, int version, int *applied,
                                 char *errstr, size_t errstr_size)
{
        char v[16];
        const char *params[1] = {v};
        PGresult *res;
        int rc;
        snprintf(v, sizeof(v), "%d", version);
        res = PQexecParams(conn,
                           "SELECT 1 FROM tthc.schema_migrations "
                           "WHERE version = $1",
                           1, NULL, params, NULL, NULL, 0);
        rc = tp_pg_check(conn, res, PGRES_TUPLES_OK,
                         "could not read tthc.schema_migrations", errstr,
                         errstr_size);
        if (rc == 0)
                *applied = PQntuples(res) > 0;
        PQclear(res);
        return rc;
}

static int tp_migrate_one(PGconn *conn, const char *dir, const char *name,
                          char *errstr, size_t errstr_size)
{
        char path[4096], v[16], err[1024];
        const char *params[2] = {v, name};
        char *sql;
        PGresult *res;
        int rc = -1;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        snprintf(v, sizeof(v), "%d", atoi(name));
        sql = tp_read_file(path, 16 << 20, NULL, errstr, errstr_size);
        if (!sql)
                return -1;
        if (tp_pg_exec(conn, "BEGIN", errstr, errstr_size) != 0)
                goto done;
        if (tp_pg_exec(conn, sql, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "migration %s failed: %s", name,
                         err);
                goto rollback;
        }
        res = PQexecParams(conn,
                           "INSERT INTO tthc.schema_migrations "
                           "(version, name) VALUES ($1, $2)",
                           2, NULL, params, NULL, NULL, 0);
        rc = tp_pg_check(conn, res, PGRES_COMMAND_OK,
                         "could not record migration", errstr, errstr_size);
        PQclear(res);
        if (rc == 0)
                rc = tp_pg_exec(conn, "COMMIT", errstr, errstr_size);
        if (rc == 0)
                goto done;
rollback:
        rc = -1;
        tp_pg_exec(conn, "ROLLBACK", err, sizeof(err));
done:
        free(sql);
        return rc;
}

int tp_migrate_apply(PGconn *conn, const char *dir, int *applied, char *errstr,
                     size_t errstr_size)
{
        char *names[TP_MIGRATE_MAX];
        char err[256];
        int n = tp_migrate_list(dir, names, errstr, errstr_size), rc = -1;
        int done;

        *applied = 0;
        if (n < 0)
                return -1;
        if (tp_pg_exec(conn, "SELECT pg_advisory_lock(" TP_MIGRATE_LOCK ")",
                       errstr, errstr_size) != 0)
                goto out;
        if (tp_pg_exec(conn,
                       "SET client_min_messages = warning;"
                       "CREATE SCHEMA IF NOT EXISTS tthc;"
                       "CREATE TABLE IF NOT EXISTS tthc.schema_migrations ("
                       " version integer PRIMARY KEY, name text NOT NULL,"
                       " applied_at timestamptz NOT NULL DEFAULT now())",
                       errstr, errstr_size) != 0)
                goto unlock;
        for (int i = 0; i < n; i++) {
                if (tp_migrate_is_applied(conn, atoi(names[i]), &done, errstr,
                                          errstr_size) != 0)
                        goto unlock;
                if (done)
                        continue;
                if (tp_migrate_one(conn, dir, names[i], errstr, errstr_size) !=
                    0)
                        goto unlock;
                (*applied)++;
        }
        rc = 0;
unlock:
        tp_pg_exec(conn, "SELECT pg_advisory_unlock(" TP_MIGRATE_LOCK ")", err,
                   sizeof(err));
out:
        for (int i = 0; i < n; i++)
                free(names[i]);
        return rc;
}

struct tp_ref_table {
        const char *file;
        const char *table;
        const char *columns;
        const char *key;
        const char *update;
};

static const struct tp_ref_table tp_ref_tables[] = {
        {"provinces.csv", "tthc.provinces",
         "code, name, name_en, full_name, full_name_en, kind", "code",
         "name = EXCLUDED.name, name_en = EXCLUDED.name_en, full_name = "
         "EXCLUDED.full_name, full_name_en = EXCLUDED.full_name_en, kind = "
         "EXCLUDED.kind"},
        {"communes.csv", "tthc.communes",
         "code, province_code, name, name_en, full_name, full_name_en, kind",
         "code",
         "province_code = EXCLUDED.province_code, name = EXCLUDED.name, "
         "name_en = EXCLUDED.name_en, full_name = EXCLUDED.full_name, "
         "full_name_en = EXCLUDED.full_name_en, kind = EXCLUDED.kind"},
        {"holidays.csv", "tthc.holidays", "date, kind, name, basis", "date",
         "kind = EXCLUDED.kind, name = EXCLUDED.name, basis = "
         "EXCLUDED.basis"},
};

static int tp_migrate_csv(PGconn *conn, const char *dir,
                          const struct tp_ref_table *t, char *errstr,
                          size_t errstr_size)
{
        char path[4096], sql[1024];
        struct tp_copybuf cb;
        int rc = -1;

        snprintf(path, sizeof(path), "%s/%s", dir, t->file);
        tp_copybuf_init(&cb);
        cb.buf.data =
                tp_read_file(path, 64 << 20, &cb.buf.len, errstr, errstr_size);
        if (!cb.buf.data)
                return -1;
        cb.buf.cap = cb.buf.len + 1; /* NUL-terminated by tp_read_file */
        /* an operator appending a line with another editor must not
         * break loading */
        cb.buf.len = tp_crlf_to_lf(cb.buf.data, cb.buf.len);
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE tp_ref_load ON COMMIT DROP AS "
                 "SELECT %s FROM %s WITH NO DATA",
                 t->columns, t->table);
        if (tp_pg_exec(conn, sql, errstr, errstr_size) != 0)
                goto done;
        snprintf(sql, sizeof(sql),
                 "COPY tp_ref_load (%s) FROM STDIN WITH (FORMAT csv, HEADER "
                 "true)",
                 t->columns);
        if (tp_copybuf_send(conn, sql, &cb, errstr, errstr_size) != 0)
                goto done;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO %s (%s) SELECT %s FROM tp_ref_load "
                 "ON CONFLICT (%s) DO UPDATE SET %s",
                 t->table, t->columns, t->columns, t->key, t->update);
        rc = tp_pg_exec(conn, sql, errstr, errstr_size);
        if (rc == 0)
                rc = tp_pg_exec(conn, "DROP TABLE tp_ref_load", errstr,
                                errstr_size);
done:
        tp_copybuf_release(&cb);
        return rc;
}

/* The shipped sample catalogue (reference_dir/procedures.csv, when
 * there is one), until a national catalogue is loaded. */
static int tp_migrate_sample_procedures(PGconn *conn, const char *dir,
                                        char *errstr, size_t errstr_size)
{
        struct tp_procedures_load load;
        char path[4096];
        snprintf(path, sizeof(path), "%s/procedures.csv", dir);
        if (access(path, F_OK) != 0)
                return 0;
        return tp_procedures_load(conn, path, "sample", &load, errstr,
                                  errstr_size);
}

int tp_migrate_reference(PGconn *conn, const char *reference_dir, char *errstr,
                         size_t errstr_size)
{
        char err[256];
        if (tp_pg_exec(conn, "BEGIN", errstr, errstr_size) != 0)
                return -1;
        if (tp_pg_exec(conn,
                       "SELECT pg_advisory_xact_lock(" TP_MIGRATE_LOCK ")",
                       errstr, errstr_size) != 0) {
                tp_pg_exec(conn, "ROLLBACK", err, sizeof(err));
                return -1;
        }
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_ref_tables); i++) {
                if (tp_migrate_csv(conn, reference_dir, &tp_ref_tables[i],
                                   errstr, errstr_size) != 0) {
                        tp_pg_exec(conn, "ROLLBACK", err, sizeof(err));
                        return -1;
                }
        }
        if (tp_migrate_sample_procedures(conn, reference_dir, errstr,
                                         errstr_size) != 0) {
                tp_pg_exec(conn, "ROLLBACK", err, sizeof(err));
                return -1;
        }
        return tp_pg_exec(conn, "COMMIT", errstr, errstr_size);
}
