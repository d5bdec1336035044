/* retention.c - tthc-admin retention: the month partitions of
 * tthc.filing_events older than --keep-months (Vietnam months before the
 * current one), what they hold, and with --apply detached (CONCURRENTLY:
 * the consumers keep writing) and dropped. Aggregates and dossier state
 * are untouched. Refuses to drop the month of an open dossier's first
 * event unless --force (docs/operations.md, "Retention"). */
#include "admin.h"
#include "pgutil.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The partitions older than the cutoff: name, month, size, the open
 * dossiers whose first event is in them, and whether a detach of it was
 * interrupted (DETACH ... CONCURRENTLY cancelled or its connection lost
 * between its two transactions leaves it pending). */
static const char tp_retention_sql[] =
        "WITH cut AS (SELECT (date_trunc('month', now() AT TIME ZONE "
        "'Asia/Ho_Chi_Minh') - make_interval(months => $1::int))::date AS m), "
        "p AS (SELECT c.relname, to_date(substring(c.relname FROM "
        "'(\\d{4}_\\d{2})$'), 'YYYY_MM') AS month, i.inhdetachpending "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'tthc.filing_events'::regclass) "
        "SELECT p.relname, to_char(p.month, 'YYYY-MM'), "
        "pg_size_pretty(pg_total_relation_size(('tthc.' || "
        "quote_ident(p.relname))::regclass)), "
        "(SELECT count(*) FROM tthc.dossiers d WHERE d.status IN "
        "('submitted', 'processing', 'paused') AND "
        "date_trunc('month', coalesce(least(d.submitted_at, d.received_at), "
        "d.last_event_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date = p.month), "
        "p.inhdetachpending "
        "FROM p, cut WHERE p.month < cut.m ORDER BY p.month";

/* Month tables of tthc that are not partitions of filing_events: a run
 * stopped after detaching one and before dropping it (or an operator
 * detached one to keep). Listed, never dropped: only a person knows. */
static const char tp_retention_orphans_sql[] =
        "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'tthc' AND c.relkind = 'r' "
        "AND c.relname ~ '^filing_events_\\d{4}_\\d{2}$' "
        "AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = "
        "c.oid) ORDER BY 1";

/* The events of one partition and their time span. */
static int tp_retention_count(PGconn *conn, const char *part, long *count,
                              char *events, size_t size, char *errstr,
                              size_t errstr_size)
{
        char sql[256];
        PGresult *res;
        snprintf(sql, sizeof(sql),
                 "SELECT count(*), to_char(min(occurred_at) AT TIME ZONE "
                 "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD'), to_char(max(occurred_at) "
                 "AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') FROM tthc.%s",
                 part);
        res = tp_pg_query(conn, sql, 0, NULL, "could not count the events",
                          errstr, errstr_size);
        if (!res)
                return -1;
        *count = atol(PQgetvalue(res, 0, 0));
        snprintf(events, size, "%s event(s)%s%s%s%s", PQgetvalue(res, 0, 0),
                 PQgetisnull(res, 0, 1) ? "" : ", ", PQgetvalue(res, 0, 1),
                 PQgetisnull(res, 0, 1) ? "" : " .. ", PQgetvalue(res, 0, 2));
        PQclear(res);
        return 0;
}

/* Detaches one partition, counts what it holds (detached, nothing more
 * arrives: the count is exactly what is dropped; events as
 * tp_retention_count writes it), drops it and logs it. */
static int tp_retention_drop(PGconn *conn, const char *part, const char *month,
                             int pending, int forced, char *events,
                             size_t events_size, char *errstr,
                             size_t errstr_size)
{
        char sql[256], n[24], e2[64];
        const char *params[3] = {month, n, forced ? "true" : "false"};
        long count;
        /* CONCURRENTLY: no lock that stops tthc-ingest's inserts; it
         * cannot run in a transaction, so each step commits alone. A
         * detach left pending by an interrupted run is finished instead
         * (FINALIZE; a pending partition can be neither re-detached nor
         * written). */
        snprintf(sql, sizeof(sql),
                 "ALTER TABLE tthc.filing_events DETACH PARTITION tthc.%s %s",
                 part, pending ? "FINALIZE" : "CONCURRENTLY");
        if (tp_pg_exec(conn, sql, errstr, errstr_size) != 0)
                return -1;
        if (tp_pg_exec(conn, "BEGIN", errstr, errstr_size) != 0)
                return -1;
        if (tp_retention_count(conn, part, &count, events, events_size, errstr,
                               errstr_size) != 0)
                goto fail;
        snprintf(n, sizeof(n), "%ld", count);
        snprintf(sql, sizeof(sql), "DROP TABLE tthc.%s", part);
        if (tp_pg_exec(conn, sql, errstr, errstr_size) != 0 ||
            tp_pg_exec_params(conn,
                              "INSERT INTO tthc.retention_log (month, events, "
                              "forced) VALUES (($1 || '-01')::date, "
                              "$2::bigint, $3) ON "
                              "CONFLICT (month) DO UPDATE SET events = "
                              "tthc.retention_log.events + EXCLUDED.events, "
                              "dropped_at = now(), forced = EXCLUDED.forced",
                              3, params, PGRES_COMMAND_OK,
                              "could not log the retention", errstr,
                              errstr_size) != 0 ||
            tp_pg_exec(conn, "COMMIT", errstr, errstr_size) != 0)
                goto fail;
        return 0;
fail:
        tp_pg_exec(conn, "ROLLBACK", e2, sizeof(e2));
        return -1;
}

/* Prints the month tables that are not attached, and what to do. */
static int tp_retention_orphans(PGconn *conn, char *errstr, size_t errstr_size)
{
        PGresult *res = tp_pg_query(conn, tp_retention_orphans_sql, 0, NULL,
                                    "could not list detached month tables",
                                    errstr, errstr_size);
        if (!res)
                return -1;
        for (int r = 0; r < PQntuples(res); r++)
                printf("not attached: tthc.%s, %s (a run stopped after "
                       "detaching it, or it was kept on purpose): archive it "
                       "if needed, then DROP TABLE tthc.%s\n",
                       PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                       PQgetvalue(res, r, 0));
        PQclear(res);
        return 0;
}

int tp_cmd_retention(const struct tp_cfg *cfg, const struct tp_admin_opts *o)
{
        char err[1024], keep[16], events[160];
        long count;
        const char *params[1] = {keep};
        PGconn *conn;
        PGresult *res;
        long open_total = 0;
        int rc = 1, n;

        if (o->keep_months < 1) {
                fprintf(stderr, "tthc-admin: retention needs --keep-months N "
                                "(1 or more)\n");
                return 2;
        }
        conn = tp_pg_connect(cfg->pg, "tthc-admin", err, sizeof(err));
        if (!conn) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                return 1;
        }
        snprintf(keep, sizeof(keep), "%d", o->keep_months);
        res = tp_pg_query(conn, tp_retention_sql, 1, params,
                          "could not list the partitions", err, sizeof(err));
        if (!res) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                PQfinish(conn);
                return 1;
        }
        n = PQntuples(res);
        printf("filing_events partitions older than %d month(s): %d\n",
               o->keep_months, n);
        /* A dry run counts each partition's events; --apply counts them
         * once, after detaching (a month of a national year is some
         * 12M events: counting twice doubled the time). */
        for (int r = 0; r < n; r++) {
                long open = atol(PQgetvalue(res, r, 3));
                int pending = PQgetvalue(res, r, 4)[0] == 't';
                if (o->apply)
                        snprintf(events, sizeof(events),
                                 "events counted when dropped");
                else if (tp_retention_count(conn, PQgetvalue(res, r, 0), &count,
                                            events, sizeof(events), err,
                                            sizeof(err)) != 0) {
                        fprintf(stderr, "tthc-admin: %s\n", err);
                        goto out;
                }
                printf("  %s  %s  %s, %s", PQgetvalue(res, r, 1),
                       PQgetvalue(res, r, 0), events, PQgetvalue(res, r, 2));
                if (open)
                        printf(", first event of %ld open dossier(s)", open);
                if (pending)
                        printf(", detach pending (a run was interrupted; "
                               "--apply finishes it)");
                printf("\n");
                open_total += open;
        }
        if (tp_retention_orphans(conn, err, sizeof(err)) != 0) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                goto out;
        }
        if (open_total && !o->force) {
                fprintf(stderr,
                        "tthc-admin: %ld open dossier(s) had their first "
                        "event in these months: dropping them leaves those "
                        "dossiers without their opening events (a rebuild "
                        "could not recompute them); --force drops anyway\n",
                        open_total);
                goto out;
        }
        if (!o->apply) {
                printf("dry run: nothing dropped (--apply drops them)\n");
                rc = 0;
                goto out;
        }
        for (int r = 0; r < n; r++) {
                if (tp_retention_drop(
                            conn, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                            PQgetvalue(res, r, 4)[0] == 't', open_total > 0,
                            events, sizeof(events), err, sizeof(err)) != 0) {
                        fprintf(stderr, "tthc-admin: %s: %s\n",
                                PQgetvalue(res, r, 0), err);
                        goto out;
                }
                printf("dropped %s (%s)\n", PQgetvalue(res, r, 0), events);
        }
        rc = 0;
out:
        PQclear(res);
        PQfinish(conn);
        return rc;
}
