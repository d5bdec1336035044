/* ingest_write.c - tthc-ingest's part of the batch transaction: dossier
 * state, duplicates, raw events (COPY), hourly counters, dead letters and
 * partition progress. Runs after the offsets compare-and-set succeeded. */
#include "ingest_int.h"
#include "dossier_pg.h"
#include "utf8.h"
#include "util.h"
#include "validate.h"
#include "store_pg.h"
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Timestamps travel as epoch milliseconds. */
static const char tp_load_sql[] =
        "SELECT d.province_code, d.dossier_id, d.commune_code, "
        "d.procedure_code, d.procedure_level, d.channel, "
        "(extract(epoch FROM d.submitted_at) * 1000)::bigint, "
        "(extract(epoch FROM d.received_at) * 1000)::bigint, "
        "(extract(epoch FROM d.due_at) * 1000)::bigint, d.status, "
        "(extract(epoch FROM d.closed_at) * 1000)::bigint, d.outcome, "
        "(extract(epoch FROM d.original_due_at) * 1000)::bigint, "
        "d.extended, (extract(epoch FROM d.result_returned_at) * "
        "1000)::bigint, d.handling_level, d.agency_code, "
        "d.handling_commune_code, d.last_seq, d.seq_gaps, "
        "d.open_pauses, (extract(epoch FROM d.last_event_at) * "
        "1000)::bigint FROM tthc.dossiers d JOIN (SELECT DISTINCT "
        "province_code, dossier_id FROM tp_keys) k USING "
        "(province_code, dossier_id)";

static const char tp_dup_sql[] =
        "SELECT " TP_REPLAY_EVENT_COLS " FROM tthc.filing_events f JOIN "
        "tp_keys k USING (province_code, dossier_id, seq)";

enum {
        TP_HC_RECEIVED,
        TP_HC_EARLY,
        TP_HC_ON_TIME,
        TP_HC_LATE,
        TP_HC_STOPPED,
        TP_HC_WITHDRAWN,
        TP_HC_REFUSED,
        TP_HC_TRANSFERRED,
        TP_HC_SUPPLEMENT,
        TP_HC_ONLINE,
        TP_HC__COUNT
};

struct tp_hcount {
        char province[4];
        char *commune;
        int64_t hour;
        int c[TP_HC__COUNT];
};

static const char tp_temp_tables[] =
        "SET LOCAL client_min_messages = warning;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_keys (province_code text, "
        " dossier_id text, seq integer) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_dossiers (LIKE tthc.dossiers "
        "INCLUDING DEFAULTS) "
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_hourly "
        " (LIKE tthc.commune_throughput_hourly) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_events "
        " (LIKE tthc.filing_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_progress (group_id text, "
        " topic text, partition integer, province_code text, "
        " max_occurred_at timestamptz, next_offset bigint) "
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_rejected (consumer_group text, "
        " topic text, partition integer, kafka_offset bigint, "
        " message_key bytea, raw_value bytea, schema_id integer, "
        " reason text, detail text) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_procs (procedure_code text) "
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_agencies (province_code text, "
        " agency_code text, level text, commune_code text) "
        " ON COMMIT DELETE ROWS";

void tp_ingest_dossier_free(void *d)
{
        tp_dossier_release(d);
        free(d);
}

static void *tp_dossier_from_row(const PGresult *res, int r, char *key,
                                 size_t key_size)
{
        struct tp_dossier *d = tp_xcalloc(1, sizeof(*d));
        tp_dossier_pg_read(d, res, r);
        tp_dossier_key(key, key_size, d->province_code, d->dossier_id);
        return d;
}

static const struct tp_store_pg_load tp_dossier_load = {
        "COPY tp_keys FROM STDIN", tp_load_sql, "dossier state",
        tp_dossier_from_row};

/* e repeats the seq of an event already applied (copy names it): counted
 * once when equal, else kept out as a conflicting duplicate. */
static void tp_compare_copy(struct tp_ingest_entry *e, int same,
                            const char *copy)
{
        if (same) {
                e->duplicate = 1;
                return;
        }
        e->reason = TP_REASON_CONFLICTING_DUPLICATE;
        snprintf(e->detail, sizeof(e->detail),
                 "seq %d of dossier %.*s differs from %s", (int)e->ev.seq,
                 tp_utf8_prefix_len(e->ev.dossier_id, 100), e->ev.dossier_id,
                 copy);
}

/* Loads the stored state of the dossiers the batch touches that are not
 * resident. */
static int tp_load_dossiers(struct tp_ingest *ig, PGconn *conn, char *errstr,
                            size_t errstr_size)
{
        struct tp_copybuf cb;
        char key[600];
        int rc;

        tp_copybuf_init(&cb);
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason != TP_REASON_OK)
                        continue;
                tp_dossier_key(key, sizeof(key), e->ev.province_code,
                               e->ev.dossier_id);
                if (tp_store_get(ig->store, key))
                        continue;
                tp_copybuf_str(&cb, e->ev.province_code);
                tp_copybuf_str(&cb, e->ev.dossier_id);
                tp_copybuf_str(&cb, NULL);
                tp_copybuf_end_row(&cb);
        }
        rc = tp_store_pg_load(ig->store, conn, &tp_dossier_load, &cb, errstr,
                              errstr_size);
        tp_copybuf_release(&cb);
        return rc;
}

static void tp_copy_event(struct tp_copybuf *cb,
                          const struct tp_ingest_entry *e)
{
        const struct tp_event *ev = &e->ev;
        tp_copybuf_str(cb, ev->event_id);
        tp_copybuf_str(cb, tp_event_type_name(ev->event_type));
        tp_copybuf_ts(cb, ev->occurred_at);
        tp_copybuf_str(cb, ev->dossier_id);
        tp_copybuf_int(cb, ev->seq);
        tp_copybuf_str(cb, ev->province_code);
        tp_copybuf_str(cb, ev->commune_code);
        tp_copybuf_str(cb, ev->procedure_code);
        tp_copybuf_str(cb, tp_level_name(ev->procedure_level));
        tp_copybuf_str(cb, tp_channel_name(ev->channel));
        tp_copybuf_str(cb, ev->agency_code);
        tp_copybuf_str(cb, tp_level_name(ev->handling_level));
        tp_copybuf_str(cb, tp_level_name(ev->to_level));
        tp_copybuf_str(cb, ev->to_agency_code);
        tp_copybuf_ts(cb, ev->due_at);
        tp_copybuf_str(cb, ev->source_system);
        tp_copybuf_str(cb, ev->handling_commune_code);
        tp_copybuf_bool(cb, ev->handling_commune_given);
        tp_copybuf_str(cb, e->msg->topic);
        tp_copybuf_int(cb, e->msg->partition);
        tp_copybuf_int(cb, e->msg->offset);
        tp_copybuf_end_row(cb);
}

static void tp_count_hour(struct tp_ingest *ig, const struct tp_dossier *d,
                          const struct tp_event *ev,
                          const struct tp_effects *fx)
{
        const int add[TP_HC__COUNT] = {fx->received,
                                       fx->resolved_early,
                                       fx->resolved_on_time,
                                       fx->resolved_late,
                                       fx->stopped,
                                       fx->withdrawn,
                                       fx->intake_refused,
                                       fx->transferred_out,
                                       fx->supplement_requested,
                                       fx->online_received};
        const char *commune = d->commune_code;
        int64_t hour = tp_hour_floor(ev->occurred_at);
        struct tp_hcount *hc;
        char key[600];
        size_t n = 0;
        int any = 0;

        for (int i = 0; i < TP_HC__COUNT; i++)
                any |= add[i];
        if (!any)
                return;
        tp_cat(key, sizeof(key), &n, d->province_code);
        tp_cat(key, sizeof(key), &n, commune ? "|" : "|-");
        if (commune)
                tp_cat(key, sizeof(key), &n, commune);
        tp_cat(key, sizeof(key), &n, "|");
        tp_cat_i64(key, sizeof(key), &n, hour);
        hc = tp_strmap_get(ig->hourly, key);
        if (!hc) {
                hc = tp_xcalloc(1, sizeof(*hc));
                tp_strlcpy(hc->province, d->province_code,
                           sizeof(hc->province));
                hc->commune = tp_xstrdup(commune);
                hc->hour = hour;
                tp_strmap_put(ig->hourly, key, hc);
        }
        for (int i = 0; i < TP_HC__COUNT; i++)
                hc->c[i] += add[i];
}

/* A new dossier's state, from its first event (tp_store_get_or_new). */
static void *tp_dossier_new(const void *ev)
{
        struct tp_dossier *d = tp_xcalloc(1, sizeof(*d));
        tp_dossier_init(d, ev);
        return d;
}

/* The key of an event in the batch's applied map: its dossier's key and
 * seq. */
static void tp_event_key(char *buf, size_t size, const char *dkey, int64_t seq)
{
        size_t n = 0;
        tp_cat(buf, size, &n, dkey);
        tp_cat(buf, size, &n, "|");
        tp_cat_i64(buf, size, &n, seq);
}

/* Applies the batch in order. Duplicates of events applied in this batch
 * are settled here; older ones are left with duplicate = -1 for a lookup
 * in tthc.filing_events. */
static size_t tp_apply_entries(struct tp_ingest *ig)
{
        char key[640], dkey[600];
        size_t lookups = 0;
        tp_copybuf_reset(&ig->cb);
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i], *first;
                struct tp_dossier *d;
                struct tp_effects fx;
                if (e->reason != TP_REASON_OK)
                        continue;
                tp_dossier_key(dkey, sizeof(dkey), e->ev.province_code,
                               e->ev.dossier_id);
                d = tp_store_get_or_new(ig->store, dkey, tp_dossier_new,
                                        &e->ev);
                tp_event_key(key, sizeof(key), dkey, e->ev.seq);
                if (tp_dossier_check_seq(d, e->ev.seq) == TP_SEQ_DUPLICATE) {
                        first = tp_strmap_get(ig->applied, key);
                        if (!first) {
                                e->duplicate = -1;
                                lookups++;
                        } else {
                                char copy[64];
                                snprintf(copy, sizeof(copy),
                                         "the copy at offset %lld",
                                         (long long)first->msg->offset);
                                tp_compare_copy(
                                        e, tp_event_equal(&first->ev, &e->ev),
                                        copy);
                        }
                        continue;
                }
                tp_store_touch(ig->store, dkey);
                tp_dossier_apply(d, &e->ev, &fx);
                tp_count_hour(ig, d, &e->ev, &fx);
                tp_copy_event(&ig->cb, e);
                tp_strmap_put(ig->applied, key, e);
        }
        return lookups;
}

/* horizon: the first instant whose events retention keeps (TP_TS_NONE:
 * nothing dropped). */
static void tp_settle_duplicate(struct tp_ingest_entry *e, PGresult *res,
                                int64_t horizon)
{
        for (int r = 0; res && r < PQntuples(res); r++) {
                struct tp_event stored;
                int same;
                if (strcmp(PQgetvalue(res, r, 5), e->ev.province_code) != 0 ||
                    strcmp(PQgetvalue(res, r, 3), e->ev.dossier_id) != 0 ||
                    tp_pg_col_int(res, r, 4) != e->ev.seq)
                        continue;
                tp_replay_event(&stored, res, r);
                /* Case may differ in the stored uuid text. */
                same = strcasecmp(stored.event_id, e->ev.event_id) == 0;
                free(stored.event_id);
                stored.event_id = e->ev.event_id;
                same = same && tp_event_equal(&stored, &e->ev);
                stored.event_id = NULL;
                tp_event_release(&stored);
                tp_compare_copy(e, same, "the stored event");
                return;
        }
        if (horizon != TP_TS_NONE && e->ev.occurred_at < horizon) {
                /* its first copy was in a month retention dropped: no
                 * comparison is possible (docs/ingest.md, "Duplicates") */
                e->duplicate = 1;
                return;
        }
        e->reason = TP_REASON_BAD_SEQ;
        snprintf(e->detail, sizeof(e->detail),
                 "seq %d of dossier %.*s arrived after later events and "
                 "was never stored",
                 (int)e->ev.seq, tp_utf8_prefix_len(e->ev.dossier_id, 100),
                 e->ev.dossier_id);
}

/* Compares duplicates of older batches with the stored events. */
static int tp_check_old_duplicates(struct tp_ingest *ig, PGconn *conn,
                                   char *errstr, size_t errstr_size)
{
        struct tp_copybuf cb;
        PGresult *res;
        int64_t horizon;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason != TP_REASON_OK || e->duplicate != -1)
                        continue;
                tp_copybuf_str(&cb, e->ev.province_code);
                tp_copybuf_str(&cb, e->ev.dossier_id);
                tp_copybuf_int(&cb, e->ev.seq);
                tp_copybuf_end_row(&cb);
        }
        rc = tp_pg_exec(conn, "TRUNCATE tp_keys", errstr, errstr_size);
        if (rc == 0)
                rc = tp_copybuf_send(conn, "COPY tp_keys FROM STDIN", &cb,
                                     errstr, errstr_size);
        tp_copybuf_release(&cb);
        if (rc != 0)
                return -1;
        res = tp_pg_query(
                conn, "SELECT tthc.epoch_ms(tthc.retention_horizon())", 0, NULL,
                "could not read the retention horizon", errstr, errstr_size);
        if (!res)
                return -1;
        horizon = tp_pg_col_ts(res, 0, 0);
        PQclear(res);
        res = tp_pg_query(conn, tp_dup_sql, 0, NULL,
                          "could not look up earlier events", errstr,
                          errstr_size);
        if (!res)
                return -1;
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason == TP_REASON_OK && e->duplicate == -1)
                        tp_settle_duplicate(e, res, horizon);
        }
        PQclear(res);
        return 0;
}

static void tp_copy_dossier(const char *key, void *value, void *ud)
{
        const struct tp_dossier *d = value;
        struct tp_copybuf *cb = ud;
        (void)key;
        tp_dossier_pg_copy(cb, d);
        tp_copybuf_end_row(cb);
}

static int tp_store_dossiers(struct tp_ingest *ig, PGconn *conn, char *errstr,
                             size_t errstr_size)
{
        struct tp_copybuf cb;
        char sql[2048];
        int rc;

        tp_copybuf_init(&cb);
        tp_store_each_touched(ig->store, tp_copy_dossier, &cb);
        if (cb.buf.len == 0) {
                tp_copybuf_release(&cb);
                return 0;
        }
        snprintf(sql, sizeof(sql), "COPY tp_dossiers (%s) FROM STDIN",
                 tp_dossier_pg_cols);
        rc = tp_copybuf_send(conn, sql, &cb, errstr, errstr_size);
        tp_copybuf_release(&cb);
        if (rc != 0)
                return -1;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO tthc.dossiers (%s) SELECT %s FROM tp_dossiers "
                 "ON CONFLICT (province_code, dossier_id) DO UPDATE SET "
                 "commune_code = EXCLUDED.commune_code, submitted_at = "
                 "EXCLUDED.submitted_at, received_at = EXCLUDED.received_at, "
                 "due_at = EXCLUDED.due_at, status = EXCLUDED.status, "
                 "closed_at = EXCLUDED.closed_at, outcome = EXCLUDED.outcome, "
                 "original_due_at = EXCLUDED.original_due_at, extended = "
                 "EXCLUDED.extended, result_returned_at = "
                 "EXCLUDED.result_returned_at, handling_level = "
                 "EXCLUDED.handling_level, agency_code = EXCLUDED.agency_code, "
                 "handling_commune_code = EXCLUDED.handling_commune_code, "
                 "last_seq = EXCLUDED.last_seq, seq_gaps = EXCLUDED.seq_gaps, "
                 "open_pauses = EXCLUDED.open_pauses, last_event_at = "
                 "EXCLUDED.last_event_at, updated_at = now()",
                 tp_dossier_pg_cols, tp_dossier_pg_cols);
        return tp_pg_exec(conn, sql, errstr, errstr_size);
}

static void tp_copy_hour(const char *key, void *value, void *ud)
{
        struct tp_hcount *hc = value;
        struct tp_copybuf *cb = ud;
        (void)key;
        tp_copybuf_str(cb, hc->province);
        tp_copybuf_str(cb, hc->commune);
        tp_copybuf_ts(cb, hc->hour);
        for (int i = 0; i < TP_HC__COUNT; i++)
                tp_copybuf_int(cb, hc->c[i]);
        tp_copybuf_end_row(cb);
}

/* What an increment row adds to a stored one, in the hourly upsert and
 * in its province-day twin's. */
#define TP_HOURLY_ADD                                                          \
        "received = t.received + EXCLUDED.received, "                          \
        "resolved_early = t.resolved_early + EXCLUDED.resolved_early, "        \
        "resolved_on_time = t.resolved_on_time + EXCLUDED.resolved_on_time, "  \
        "resolved_late = t.resolved_late + EXCLUDED.resolved_late, "           \
        "stopped = t.stopped + EXCLUDED.stopped, "                             \
        "withdrawn = t.withdrawn + EXCLUDED.withdrawn, "                       \
        "intake_refused = t.intake_refused + EXCLUDED.intake_refused, "        \
        "transferred_out = t.transferred_out + EXCLUDED.transferred_out, "     \
        "supplement_requested = t.supplement_requested + "                     \
        "EXCLUDED.supplement_requested, "                                      \
        "online_received = t.online_received + EXCLUDED.online_received"

/* The hourly upsert, then the same increments summed per province and
 * Vietnam day (migration 020), so each day's row stays the sum of its
 * hours: the national page reads a month in 31 rows per province instead
 * of a row per commune and hour. */
static const char tp_hourly_upsert[] =
        "INSERT INTO tthc.commune_throughput_hourly AS t "
        "SELECT * FROM tp_hourly ON CONFLICT ON CONSTRAINT "
        "commune_throughput_hourly_key DO UPDATE SET " TP_HOURLY_ADD "; "
        "INSERT INTO tthc.province_throughput_daily AS t "
        "SELECT (hour AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, "
        "province_code, sum(received), sum(resolved_early), "
        "sum(resolved_on_time), sum(resolved_late), sum(stopped), "
        "sum(withdrawn), sum(intake_refused), sum(transferred_out), "
        "sum(supplement_requested), sum(online_received) "
        "FROM tp_hourly GROUP BY 1, 2 "
        "ON CONFLICT (province_code, day) DO UPDATE SET " TP_HOURLY_ADD;

static int tp_store_hourly(struct tp_ingest *ig, PGconn *conn, char *errstr,
                           size_t errstr_size)
{
        struct tp_copybuf cb;
        int rc;
        tp_copybuf_init(&cb);
        tp_strmap_each(ig->hourly, tp_copy_hour, &cb);
        rc = tp_copybuf_apply(conn, &cb, "COPY tp_hourly FROM STDIN",
                              tp_hourly_upsert, errstr, errstr_size);
        tp_copybuf_release(&cb);
        return rc;
}

static int tp_store_rejected(struct tp_ingest *ig, PGconn *conn, char *errstr,
                             size_t errstr_size)
{
        struct tp_copybuf cb;
        size_t n = 0;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason == TP_REASON_OK)
                        continue;
                n++;
                tp_copybuf_str(&cb, ig->cfg->group);
                tp_copybuf_str(&cb, e->msg->topic);
                tp_copybuf_int(&cb, e->msg->partition);
                tp_copybuf_int(&cb, e->msg->offset);
                tp_copybuf_bytes(&cb, e->msg->key, e->msg->key_len);
                tp_copybuf_bytes(
                        &cb, e->msg->value ? e->msg->value : (const void *)"",
                        e->msg->value_len);
                if (e->schema_id >= 0)
                        tp_copybuf_int(&cb, e->schema_id);
                else
                        tp_copybuf_str(&cb, NULL);
                tp_copybuf_str(&cb, tp_reason_name(e->reason));
                tp_copybuf_str(&cb, e->detail);
                tp_copybuf_end_row(&cb);
        }
        rc = n ? tp_copybuf_send(conn, "COPY tp_rejected FROM STDIN", &cb,
                                 errstr, errstr_size)
               : 0;
        tp_copybuf_release(&cb);
        if (rc != 0 || n == 0)
                return rc;
        return tp_pg_exec(conn,
                          "INSERT INTO tthc.rejected_messages (consumer_group,"
                          " topic, partition, kafka_offset, message_key, "
                          "raw_value, schema_id, reason, detail) SELECT * "
                          "FROM tp_rejected ON CONFLICT (topic, partition, "
                          "kafka_offset) DO NOTHING",
                          errstr, errstr_size);
}

/* Event-time progress per partition, for tthc.freshness: one COPY and
 * one upsert for all the batch's partitions. */
static void tp_copy_progress(struct tp_ingest *ig,
                             const struct tp_part_range *r,
                             struct tp_copybuf *cb)
{
        int64_t maxts = TP_TS_NONE;
        const char *prov = NULL;
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason != TP_REASON_OK ||
                    e->msg->partition != r->partition ||
                    strcmp(e->msg->topic, r->topic) != 0)
                        continue;
                prov = e->ev.province_code;
                if (e->ev.occurred_at > maxts)
                        maxts = e->ev.occurred_at;
        }
        if (!prov)
                prov = tp_topic_province(r->topic);
        tp_copybuf_str(cb, ig->cfg->group);
        tp_copybuf_str(cb, r->topic);
        tp_copybuf_int(cb, r->partition);
        tp_copybuf_str(cb, prov ? prov : "");
        tp_copybuf_ts(cb, maxts);
        tp_copybuf_int(cb, r->next);
        tp_copybuf_end_row(cb);
}

static int tp_store_progress(struct tp_ingest *ig, struct tp_batch *b,
                             PGconn *conn, char *errstr, size_t errstr_size)
{
        struct tp_copybuf cb;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t p = 0; p < b->n_parts; p++)
                tp_copy_progress(ig, &b->parts[p], &cb);
        rc = tp_copybuf_apply(
                conn, &cb,
                "COPY tp_progress (group_id, topic, partition, "
                "province_code, max_occurred_at, next_offset) FROM STDIN",
                "INSERT INTO tthc.partition_progress AS p (group_id, topic, "
                "partition, province_code, max_occurred_at, last_message_at, "
                "next_offset) SELECT group_id, topic, partition, "
                "province_code, max_occurred_at, now(), next_offset FROM "
                "tp_progress ON CONFLICT (group_id, topic, partition) DO "
                "UPDATE SET max_occurred_at = greatest(p.max_occurred_at, "
                "EXCLUDED.max_occurred_at), last_message_at = now(), "
                "next_offset = EXCLUDED.next_offset",
                errstr, errstr_size);
        tp_copybuf_release(&cb);
        return rc;
}

void tp_ingest_hcount_free(void *value)
{
        struct tp_hcount *hc = value;
        free(hc->commune);
        free(hc);
}

static void tp_write_reset(struct tp_ingest *ig)
{
        tp_strmap_clear(ig->hourly);
        tp_strmap_clear(ig->applied);
        /* Entries re-flagged by a failed attempt are decoded afresh by
         * the next prepare. */
}

static void tp_tally(struct tp_ingest *ig)
{
        memset(&ig->pending, 0, sizeof(ig->pending));
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason != TP_REASON_OK)
                        ig->pending.rejected[e->reason]++;
                else if (e->duplicate)
                        ig->pending.duplicates++;
                else
                        ig->pending.accepted++;
        }
}

#define TP_EVENT_COLS                                                          \
        "(event_id, event_type, occurred_at, dossier_id, seq, province_code, " \
        "commune_code, procedure_code, procedure_level, channel, "             \
        "agency_code, handling_level, to_level, to_agency_code, due_at, "      \
        "source_system, handling_commune_code, handling_commune_given, "       \
        "kafka_topic, kafka_partition, kafka_offset)"

/* New events: COPY straight into tthc.filing_events when row-level
 * security does not apply to us (it refuses COPY FROM otherwise), else
 * stage in a TEMP table and INSERT ... SELECT. */
static int tp_store_events(struct tp_ingest *ig, PGconn *conn, char *errstr,
                           size_t errstr_size)
{
        if (ig->copy_direct)
                return tp_copybuf_send(conn,
                                       "COPY tthc.filing_events " TP_EVENT_COLS
                                       " FROM STDIN",
                                       &ig->cb, errstr, errstr_size);
        return tp_copybuf_apply(conn, &ig->cb,
                                "COPY tp_events " TP_EVENT_COLS " FROM STDIN",
                                "INSERT INTO tthc.filing_events SELECT * FROM "
                                "tp_events",
                                errstr, errstr_size);
}

int tp_ingest_write(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                    size_t errstr_size)
{
        struct tp_ingest *ig = ctx;
        int rc = -1;

        /* what a previous attempt changed without committing is dropped */
        tp_store_begin(ig->store, b->epoch);
        if (tp_pg_exec(conn, tp_temp_tables, errstr, errstr_size) != 0 ||
            tp_load_dossiers(ig, conn, errstr, errstr_size) != 0)
                goto done;
        if (tp_apply_entries(ig) > 0 &&
            tp_check_old_duplicates(ig, conn, errstr, errstr_size) != 0)
                goto done;
        /* A replay (tthc-admin rebuild) reads the events from where they
         * are stored, and a message refused today stays where it is. */
        if (!b->replay && ig->cb.buf.len > 0 &&
            tp_store_events(ig, conn, errstr, errstr_size))
                goto done;
        if (tp_store_dossiers(ig, conn, errstr, errstr_size) != 0 ||
            tp_store_hourly(ig, conn, errstr, errstr_size) != 0 ||
            (!b->replay &&
             tp_store_rejected(ig, conn, errstr, errstr_size) != 0) ||
            tp_store_progress(ig, b, conn, errstr, errstr_size) != 0 ||
            tp_ingest_store_codes(ig, conn, errstr, errstr_size) != 0)
                goto done;
        tp_tally(ig);
        rc = 0;
done:
        tp_write_reset(ig);
        return rc;
}
