/* replay.c - see replay.h. */
#include "replay.h"
#include "pgutil.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_REPLAY_DEFAULT_BATCH 5000

/* Column col of row r as the event's string field k (NULL when null). */
static void tp_replay_str(struct tp_strspan *sp, enum tp_event_str k,
                          const PGresult *res, int r, int col)
{
        sp[k] = tp_pg_col_span(res, r, col);
}

void tp_replay_event(struct tp_event *ev, const PGresult *res, int r)
{
        struct tp_strspan sp[TP_ES__COUNT];
        memset(ev, 0, sizeof(*ev));
        tp_replay_str(sp, TP_ES_EVENT_ID, res, r, 0);
        ev->event_type =
                (enum tp_event_type)tp_event_type_parse(PQgetvalue(res, r, 1));
        ev->occurred_at = tp_pg_col_ts(res, r, 2);
        tp_replay_str(sp, TP_ES_DOSSIER_ID, res, r, 3);
        ev->seq = tp_pg_col_int(res, r, 4);
        tp_replay_str(sp, TP_ES_PROVINCE, res, r, 5);
        tp_replay_str(sp, TP_ES_COMMUNE, res, r, 6);
        tp_replay_str(sp, TP_ES_PROCEDURE, res, r, 7);
        ev->procedure_level = (enum tp_level)tp_pg_col_level(res, r, 8);
        ev->channel = (enum tp_channel)tp_channel_parse(PQgetvalue(res, r, 9));
        tp_replay_str(sp, TP_ES_AGENCY, res, r, 10);
        ev->handling_level = (enum tp_level)tp_pg_col_level(res, r, 11);
        ev->to_level = tp_pg_col_level(res, r, 12);
        tp_replay_str(sp, TP_ES_TO_AGENCY, res, r, 13);
        ev->due_at = tp_pg_col_ts(res, r, 14);
        tp_replay_str(sp, TP_ES_SOURCE, res, r, 15);
        tp_replay_str(sp, TP_ES_HANDLING_COMMUNE, res, r, 16);
        ev->handling_commune_given =
                PQgetisnull(res, r, 17)
                        ? !PQgetisnull(res, r, 16)
                        : strcmp(PQgetvalue(res, r, 17), "t") == 0;
        tp_event_set_strings(ev, sp, NULL);
}

/* Scope: tp_rebuild (the retention horizon) and tp_rebuild_kept (the
 * dossiers that began before it: their opening events are gone). */
static const char tp_scope_sql[] =
        "CREATE TEMP TABLE tp_rebuild ON COMMIT DROP AS "
        "SELECT tthc.retention_horizon() AS horizon; "
        "CREATE TEMP TABLE tp_rebuild_kept ON COMMIT DROP AS "
        "SELECT d.province_code, d.dossier_id FROM tthc.dossiers d, "
        "tp_rebuild r WHERE coalesce(least(d.submitted_at, d.received_at), "
        "d.last_event_at) < r.horizon; "
        "ALTER TABLE tp_rebuild_kept ADD PRIMARY KEY (province_code, "
        "dossier_id); ANALYZE tp_rebuild_kept";

static const char tp_events_from[] =
        " FROM tthc.filing_events f WHERE NOT EXISTS (SELECT 1 FROM "
        "tp_rebuild_kept k WHERE k.province_code = f.province_code AND "
        "k.dossier_id = f.dossier_id)";

/* What a commit does to the handlers' staging tables (ON COMMIT DELETE
 * ROWS) between two batches of the one transaction. */
static const char tp_clear_sql[] =
        "DO $$DECLARE t text; BEGIN FOR t IN SELECT c.relname FROM pg_class c "
        "WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r' AND "
        "c.relname NOT LIKE 'tp\\_rebuild%' LOOP "
        "EXECUTE format('TRUNCATE pg_temp.%I', t); END LOOP; END$$";

/* The sessions of the service other than ours. */
static int tp_replay_sessions(PGconn *conn, const char *service, long *n,
                              char *errstr, size_t errstr_size)
{
        const char *params[1] = {service};
        PGresult *res =
                tp_pg_query(conn,
                            "SELECT count(*) FROM pg_stat_activity WHERE "
                            "application_name = $1 AND pid <> pg_backend_pid()",
                            1, params, "could not look for running consumers",
                            errstr, errstr_size);
        if (!res)
                return -1;
        *n = atol(PQgetvalue(res, 0, 0));
        PQclear(res);
        return 0;
}

static int tp_replay_fenced(PGconn *conn, const char *service, char *errstr,
                            size_t errstr_size)
{
        long n = 0;
        if (tp_replay_sessions(conn, service, &n, errstr, errstr_size) != 0)
                return -1;
        if (n > 0) {
                snprintf(errstr, errstr_size,
                         "%ld session(s) of %s are connected: stop the "
                         "service before rebuilding its tables",
                         n, service);
                return -1;
        }
        return 0;
}

/* The horizon, the dossiers kept and their events, the events in scope. */
static int tp_replay_scope(PGconn *conn, const struct tp_replay_def *def,
                           const struct tp_replay_opts *o,
                           struct tp_replay_report *rep, char *errstr,
                           size_t errstr_size)
{
        char sql[512];
        PGresult *res;
        if (tp_pg_exec(conn, tp_scope_sql, errstr, errstr_size) != 0)
                return -1;
        snprintf(sql, sizeof(sql),
                 "SELECT (extract(epoch FROM r.horizon) * 1000)::bigint, "
                 "(SELECT count(*) FROM tp_rebuild_kept), (SELECT count(*) "
                 "FROM tthc.filing_events f JOIN tp_rebuild_kept k USING "
                 "(province_code, dossier_id)), (SELECT count(*)%s) FROM "
                 "tp_rebuild r",
                 tp_events_from);
        res = tp_pg_query(conn, sql, 0, NULL, "could not measure the rebuild",
                          errstr, errstr_size);
        if (!res)
                return -1;
        rep->horizon = tp_pg_col_ts(res, 0, 0);
        rep->kept = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        rep->kept_events = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        rep->events = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
        PQclear(res);
        if (rep->horizon != TP_TS_NONE && def->needs_every_event) {
                char at[32];
                tp_format_ts(rep->horizon, at, sizeof(at));
                snprintf(errstr, errstr_size,
                         "retention dropped the events before %s: %s counts "
                         "every open dossier from its opening event, so its "
                         "tables cannot be rebuilt without them",
                         at, def->service);
                return -1;
        }
        if (rep->kept_events > 0 && !o->force) {
                char at[32];
                tp_format_ts(rep->horizon, at, sizeof(at));
                snprintf(errstr, errstr_size,
                         "%llu dossier(s) began before the retention horizon "
                         "%s and have %llu event(s) after it that cannot be "
                         "applied without their opening events; with --force "
                         "their rows are kept as they are and counters from "
                         "the horizon on leave those events out",
                         (unsigned long long)rep->kept, at,
                         (unsigned long long)rep->kept_events);
                return -1;
        }
        return 0;
}

/* The end of each partition's stored events: its high watermark in the
 * replay. */
static void tp_replay_highs(struct tp_batch *b, const PGresult *ends)
{
        for (size_t i = 0; i < b->n_parts; i++) {
                struct tp_part_range *r = &b->parts[i];
                for (int e = 0; e < PQntuples(ends); e++)
                        if (tp_pg_col_int(ends, e, 1) == r->partition &&
                            strcmp(PQgetvalue(ends, e, 0), r->topic) == 0)
                                r->high = strtoll(PQgetvalue(ends, e, 2), NULL,
                                                  10);
        }
}

/* One batch of the cursor's rows through the handler. */
static int tp_replay_batch(PGconn *conn, const struct tp_handler *h,
                           const PGresult *res, const PGresult *ends,
                           struct tp_event *evs, struct tp_batch *b,
                           struct tp_replay_report *rep, char *errstr,
                           size_t errstr_size)
{
        int n = PQntuples(res), rc;
        tp_batch_reset(b);
        b->replay = 1;
        for (int r = 0; r < n; r++) {
                struct tp_msg msg;
                memset(&msg, 0, sizeof(msg));
                tp_replay_event(&evs[r], res, r);
                msg.topic = PQgetvalue(res, r, TP_REPLAY_EVENT_NCOLS);
                msg.partition =
                        tp_pg_col_int(res, r, TP_REPLAY_EVENT_NCOLS + 1);
                msg.offset =
                        strtoll(PQgetvalue(res, r, TP_REPLAY_EVENT_NCOLS + 2),
                                NULL, 10);
                msg.timestamp = -1;
                msg.event = &evs[r];
                tp_batch_add_msg(b, &msg, msg.offset);
        }
        tp_replay_highs(b, ends);
        rc = h->prepare ? h->prepare(h->ctx, b, conn, errstr, errstr_size) : 0;
        if (rc == 0)
                rc = tp_handler_write(h, b, conn, errstr, errstr_size);
        if (rc == 0)
                rc = tp_pg_exec(conn, tp_clear_sql, errstr, errstr_size);
        if (h->done)
                h->done(h->ctx, b, rc == 0);
        if (rc == 0) {
                for (size_t i = 0; i < b->n; i++) {
                        if (b->msgs[i].reason == TP_REASON_OK)
                                rep->applied++;
                        else
                                rep->refused[b->msgs[i].reason]++;
                }
                rep->batches++;
        }
        for (int r = 0; r < n; r++)
                tp_event_release(&evs[r]);
        return rc;
}

/* Every event in scope, in (topic, partition, offset) order. */
static int tp_replay_events(PGconn *conn, const struct tp_handler *h,
                            const struct tp_replay_opts *o,
                            struct tp_replay_report *rep, char *errstr,
                            size_t errstr_size)
{
        size_t batch = o->batch ? o->batch : TP_REPLAY_DEFAULT_BATCH;
        struct tp_event *evs = tp_xcalloc(batch, sizeof(*evs));
        struct tp_batch b;
        PGresult *ends = NULL;
        char sql[1024], fetch[64];
        uint64_t done = 0;
        int rc = -1;

        tp_batch_init(&b);
        snprintf(sql, sizeof(sql),
                 "SELECT f.kafka_topic, f.kafka_partition, max(f.kafka_offset) "
                 "+ 1%s GROUP BY 1, 2",
                 tp_events_from);
        ends = tp_pg_query(conn, sql, 0, NULL,
                           "could not read the partitions' ends", errstr,
                           errstr_size);
        if (!ends)
                goto out;
        snprintf(sql, sizeof(sql),
                 "DECLARE tp_replay NO SCROLL CURSOR FOR SELECT "
                 "%s, f.kafka_topic, f.kafka_partition, f.kafka_offset%s "
                 "ORDER BY f.kafka_topic, f.kafka_partition, f.kafka_offset",
                 TP_REPLAY_EVENT_COLS, tp_events_from);
        if (tp_pg_exec(conn, sql, errstr, errstr_size) != 0)
                goto out;
        snprintf(fetch, sizeof(fetch), "FETCH %zu FROM tp_replay", batch);
        for (;;) {
                PGresult *res = tp_pg_query(conn, fetch, 0, NULL,
                                            "could not read tthc.filing_events",
                                            errstr, errstr_size);
                int n;
                if (!res)
                        goto out;
                n = PQntuples(res);
                if (n == 0) {
                        PQclear(res);
                        break;
                }
                if (tp_replay_batch(conn, h, res, ends, evs, &b, rep, errstr,
                                    errstr_size) != 0) {
                        PQclear(res);
                        goto out;
                }
                PQclear(res);
                done += (uint64_t)n;
                if (o->progress)
                        o->progress(o->progress_ctx, done, rep->events);
        }
        rc = tp_pg_exec(conn, "CLOSE tp_replay", errstr, errstr_size);
out:
        PQclear(ends);
        tp_batch_release(&b);
        free(evs);
        return rc;
}

int tp_replay_rebuild(PGconn *conn, const struct tp_handler *h,
                      const struct tp_replay_def *def,
                      const struct tp_replay_opts *opts,
                      struct tp_replay_report *rep, char *errstr,
                      size_t errstr_size)
{
        memset(rep, 0, sizeof(*rep));
        rep->horizon = TP_TS_NONE;
        if (tp_replay_fenced(conn, def->service, errstr, errstr_size) != 0 ||
            tp_pg_exec(conn,
                       "BEGIN; LOCK TABLE tthc.consumer_offsets IN SHARE MODE",
                       errstr, errstr_size) != 0)
                return -1;
        if (tp_replay_scope(conn, def, opts, rep, errstr, errstr_size) != 0 ||
            tp_pg_exec(conn, def->reset_sql, errstr, errstr_size) != 0 ||
            tp_replay_events(conn, h, opts, rep, errstr, errstr_size) != 0 ||
            (def->finish_sql &&
             tp_pg_exec(conn, def->finish_sql, errstr, errstr_size) != 0) ||
            tp_replay_fenced(conn, def->service, errstr, errstr_size) != 0 ||
            tp_pg_exec(conn, "COMMIT", errstr, errstr_size) != 0) {
                char ignored[256];
                (void)tp_pg_exec(conn, "ROLLBACK", ignored, sizeof(ignored));
                return -1;
        }
        return 0;
}
