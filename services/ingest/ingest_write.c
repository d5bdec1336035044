/* ingest_write.c - tthc-ingest's batch transaction in two halves: stage
 * (dossier state applied in memory, the rows to write) and the
 * statements (duplicates of earlier batches, raw events (COPY), dossiers,
 * hourly counters, dead letters, partition progress, codes), sent after
 * the offsets compare-and-set succeeded. */
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

/* The stored copies, and where each came from. */
static const char tp_dup_sql[] =
        "SELECT " TP_REPLAY_EVENT_COLS ", f.kafka_topic, f.kafka_partition, "
        "f.kafka_offset FROM tthc.filing_events f JOIN tp_keys k USING "
        "(province_code, dossier_id, seq)";

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
        "INCLUDING DEFAULTS, stored boolean) "
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
        "COPY tp_keys FROM STDIN", tp_load_sql, "tthc.dossiers",
        "dossier state", tp_dossier_from_row};

/* e repeats the seq of an event already stored or applied, the first
 * copy, which came at offset of topic and partition: counted once when
 * equal, else kept out as a conflicting duplicate. The detail names the
 * first copy whether it is in the same batch or an earlier one. */
static void tp_compare_copy(struct tp_ingest_entry *e, int same,
                            const char *topic, int32_t partition,
                            int64_t offset)
{
        char where[160];
        if (same) {
                e->duplicate = 1;
                return;
        }
        if (strcmp(topic, e->msg->topic) == 0 && partition == e->msg->partition)
                snprintf(where, sizeof(where), "offset %lld",
                         (long long)offset);
        else
                snprintf(where, sizeof(where), "%.80s partition %d offset %lld",
                         topic, (int)partition, (long long)offset);
        e->reason = TP_REASON_CONFLICTING_DUPLICATE;
        snprintf(e->detail, sizeof(e->detail),
                 "seq %d of dossier %.*s differs from the copy at %s",
                 (int)e->ev.seq, tp_utf8_prefix_len(e->ev.dossier_id, 100),
                 e->ev.dossier_id, where);
}

/* Loads the stored state of the dossiers the batch touches that are not
 * resident. */
static int tp_load_dossiers(struct tp_ingest *ig, PGconn *conn, char *errstr,
                            size_t errstr_size)
{
        struct tp_copybuf cb;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason == TP_REASON_OK) /* tp_keys: and a NULL seq */
                        tp_store_pg_add_miss(ig->store, &cb,
                                             e->ev.province_code,
                                             e->ev.dossier_id, 1);
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
        tp_copybuf_uuid(cb, ev->event_id);
        tp_copybuf_str(cb, tp_event_type_name(ev->event_type));
        tp_copybuf_ts(cb, ev->occurred_at);
        tp_copybuf_str(cb, ev->dossier_id);
        tp_copybuf_int4(cb, ev->seq);
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
        tp_copybuf_int4(cb, e->msg->partition);
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

/* Adds e, applied, to the batch's map of applied events. */
static void tp_applied_put(struct tp_ingest *ig, struct tp_ingest_entry *e)
{
        char key[640], dkey[600];
        tp_dossier_key(dkey, sizeof(dkey), e->ev.province_code,
                       e->ev.dossier_id);
        tp_event_key(key, sizeof(key), dkey, e->ev.seq);
        tp_strmap_put(ig->applied, key, e);
}

/* The entry of the batch before entries[i] that applied the event e
 * repeats, or NULL. The map is built at the first duplicate only: most
 * batches have none, and a map of every event applied cost a key copy
 * and an insert per event. */
static struct tp_ingest_entry *tp_find_first(struct tp_ingest *ig, size_t i,
                                             const char *dkey)
{
        const struct tp_ingest_entry *e = &ig->entries[i];
        char key[640];
        if (!ig->applied_built) {
                for (size_t j = 0; j < i; j++)
                        if (ig->entries[j].applied)
                                tp_applied_put(ig, &ig->entries[j]);
                ig->applied_built = 1;
        }
        tp_event_key(key, sizeof(key), dkey, e->ev.seq);
        return tp_strmap_get(ig->applied, key);
}

/* Applies the batch in order, its new events' COPY rows into events.
 * Duplicates of events applied in this batch are settled here; older
 * ones are left with duplicate = -1 for the flush. */
static void tp_apply_entries(struct tp_ingest *ig, struct tp_copybuf *events)
{
        char dkey[600];
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i], *first;
                struct tp_dossier *d;
                struct tp_effects fx;
                e->applied = 0;
                if (e->reason != TP_REASON_OK)
                        continue;
                tp_dossier_key(dkey, sizeof(dkey), e->ev.province_code,
                               e->ev.dossier_id);
                d = tp_store_get_or_new(ig->store, dkey, tp_dossier_new,
                                        &e->ev);
                if (tp_dossier_check_seq(d, e->ev.seq) == TP_SEQ_DUPLICATE) {
                        first = tp_find_first(ig, i, dkey);
                        if (!first) {
                                e->duplicate = -1;
                        } else {
                                tp_compare_copy(
                                        e, tp_event_equal(&first->ev, &e->ev),
                                        first->msg->topic,
                                        first->msg->partition,
                                        first->msg->offset);
                        }
                        continue;
                }
                tp_store_touch(ig->store, dkey);
                tp_dossier_apply(d, &e->ev, &fx);
                tp_count_hour(ig, d, &e->ev, &fx);
                tp_copy_event(events, e);
                e->applied = 1;
                if (ig->applied_built)
                        tp_applied_put(ig, e);
        }
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
                if (same) {
                        char *id = stored.event_id;
                        stored.event_id = e->ev.event_id;
                        same = tp_event_equal(&stored, &e->ev);
                        stored.event_id = id;
                }
                tp_event_release(&stored);
                tp_compare_copy(
                        e, same, PQgetvalue(res, r, TP_REPLAY_EVENT_NCOLS),
                        tp_pg_col_int(res, r, TP_REPLAY_EVENT_NCOLS + 1),
                        strtoll(PQgetvalue(res, r, TP_REPLAY_EVENT_NCOLS + 2),
                                NULL, 10));
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

/* A dead letter's row of tp_rejected. */
static void tp_copy_rejected(struct tp_copybuf *cb, const char *group,
                             const struct tp_ingest_entry *e)
{
        tp_copybuf_str(cb, group);
        tp_copybuf_str(cb, e->msg->topic);
        tp_copybuf_int(cb, e->msg->partition);
        tp_copybuf_int(cb, e->msg->offset);
        tp_copybuf_bytes(cb, e->msg->key, e->msg->key_len);
        tp_copybuf_bytes(cb, e->msg->value ? e->msg->value : (const void *)"",
                         e->msg->value_len);
        if (e->schema_id >= 0)
                tp_copybuf_int(cb, e->schema_id);
        else
                tp_copybuf_str(cb, NULL);
        tp_copybuf_str(cb, tp_reason_name(e->reason));
        tp_copybuf_str(cb, e->detail);
        tp_copybuf_end_row(cb);
}

/* The partition of st's progress that msg came from. */
static struct tp_ingest_progress *tp_progress_of(struct tp_ingest_staged *st,
                                                 const struct tp_msg *msg)
{
        for (size_t p = 0; p < st->n_progress; p++) {
                struct tp_ingest_progress *pr = &st->progress[p];
                if (pr->partition == msg->partition &&
                    strcmp(pr->topic, msg->topic) == 0)
                        return pr;
        }
        return NULL;
}

/* A valid event of e's partition: its time counts. */
static void tp_progress_add(struct tp_ingest_staged *st,
                            const struct tp_ingest_entry *e)
{
        struct tp_ingest_progress *pr = tp_progress_of(st, e->msg);
        if (!pr)
                return;
        if (e->ev.occurred_at > pr->max_occurred_at)
                pr->max_occurred_at = e->ev.occurred_at;
}

/* Counts e, settled, in the batch's pending counts. */
static void tp_tally(struct tp_ingest_staged *st,
                     const struct tp_ingest_entry *e)
{
        if (e->reason != TP_REASON_OK)
                st->pending.rejected[e->reason]++;
        else if (e->duplicate)
                st->pending.duplicates++;
        else
                st->pending.accepted++;
}

/* Compares the duplicates of earlier batches with the stored events, in
 * the batch transaction (every batch before this one committed): each
 * is counted once, or becomes a dead letter of st. */
static int tp_check_old_duplicates(const struct tp_ingest *ig,
                                   struct tp_batch *b, PGconn *conn,
                                   char *errstr, size_t errstr_size)
{
        struct tp_ingest_staged *st = b->staged;
        struct tp_copybuf cb;
        PGresult *res;
        int64_t horizon;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t i = 0; i < st->n_lookups; i++) {
                const struct tp_ingest_entry *e = &st->lookups[i];
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
        /* sent once: a failed attempt stages the batch again */
        for (size_t i = 0; i < st->n_lookups; i++) {
                struct tp_ingest_entry *e = &st->lookups[i];
                tp_settle_duplicate(e, res, horizon);
                b->msgs[e->msg - b->msgs].reason = e->reason;
                tp_tally(st, e);
                if (e->reason == TP_REASON_OK)
                        tp_progress_add(st, e);
                else if (!b->replay)
                        tp_copy_rejected(&st->rows[TP_IW_REJECTED],
                                         ig->cfg->group, e);
        }
        PQclear(res);
        return 0;
}

static void tp_copy_dossier(const char *key, void *value, int stored, void *ud)
{
        const struct tp_dossier *d = value;
        struct tp_store_pg_rows *rows = ud;
        (void)key;
        tp_dossier_pg_copy(rows->cb, d);
        tp_store_pg_row_end(rows, stored);
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

static const char tp_rejected_insert[] =
        "INSERT INTO tthc.rejected_messages (consumer_group, topic, "
        "partition, kafka_offset, message_key, raw_value, schema_id, reason, "
        "detail) SELECT * FROM tp_rejected ON CONFLICT (topic, partition, "
        "kafka_offset) DO NOTHING";

static const char tp_progress_upsert[] =
        "INSERT INTO tthc.partition_progress AS p (group_id, topic, "
        "partition, province_code, max_occurred_at, last_message_at, "
        "next_offset) SELECT group_id, topic, partition, province_code, "
        "max_occurred_at, now(), next_offset FROM tp_progress ON CONFLICT "
        "(group_id, topic, partition) DO UPDATE SET max_occurred_at = "
        "greatest(p.max_occurred_at, EXCLUDED.max_occurred_at), "
        "last_message_at = now(), next_offset = EXCLUDED.next_offset";

/* Event-time progress per partition, for tthc.freshness: one COPY and
 * one upsert for all the batch's partitions. */
static int tp_send_progress(const struct tp_ingest *ig,
                            const struct tp_ingest_staged *st, PGconn *conn,
                            char *errstr, size_t errstr_size)
{
        struct tp_copybuf cb;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t p = 0; p < st->n_progress; p++) {
                const struct tp_ingest_progress *pr = &st->progress[p];
                tp_copybuf_str(&cb, ig->cfg->group);
                tp_copybuf_str(&cb, pr->topic);
                tp_copybuf_int(&cb, pr->partition);
                tp_copybuf_str(&cb, pr->province);
                tp_copybuf_ts(&cb, pr->max_occurred_at);
                tp_copybuf_int(&cb, pr->next);
                tp_copybuf_end_row(&cb);
        }
        rc = tp_copybuf_apply(conn, &cb,
                              "COPY tp_progress (group_id, topic, partition, "
                              "province_code, max_occurred_at, next_offset) "
                              "FROM STDIN",
                              tp_progress_upsert, errstr, errstr_size);
        tp_copybuf_release(&cb);
        return rc;
}

/* The progress rows of b's partitions, from the entries settled at
 * stage (the flush adds the duplicates it settles). */
static void tp_stage_progress(struct tp_ingest *ig, struct tp_batch *b,
                              struct tp_ingest_staged *st)
{
        st->progress = tp_xcalloc(b->n_parts + 1, sizeof(*st->progress));
        st->n_progress = b->n_parts;
        for (size_t p = 0; p < b->n_parts; p++) {
                struct tp_ingest_progress *pr = &st->progress[p];
                const char *prov = tp_topic_province(b->parts[p].topic);
                pr->topic = b->parts[p].topic;
                pr->partition = b->parts[p].partition;
                pr->max_occurred_at = TP_TS_NONE;
                pr->next = b->parts[p].next;
                pr->province = prov ? prov : "";
        }
        for (size_t i = 0; i < ig->n_entries; i++) {
                const struct tp_ingest_entry *e = &ig->entries[i];
                if (e->reason == TP_REASON_OK && e->duplicate != -1)
                        tp_progress_add(st, e);
        }
}

void tp_ingest_write_init(struct tp_ingest *ig)
{
        static const struct tp_store_pg_table dossiers = {
                "tthc.dossiers", "tp_dossiers", "province_code, dossier_id",
                tp_dossier_pg_cols, "updated_at = now()"};
        tp_store_pg_write_init(&ig->dossiers, &dossiers);
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
        ig->applied_built = 0;
        /* Entries re-flagged by a failed attempt are decoded afresh by
         * the next prepare. */
}

void tp_ingest_staged_free(struct tp_batch *b)
{
        struct tp_ingest_staged *st = b->staged;
        if (!st)
                return;
        for (int i = 0; i < TP_IW__N; i++)
                tp_copybuf_release(&st->rows[i]);
        for (size_t i = 0; i < st->n_lookups; i++)
                tp_event_release(&st->lookups[i].ev);
        free(st->lookups);
        free(st->progress);
        tp_strmap_destroy(st->codes);
        free(st);
        b->staged = NULL;
}

/* The entries' outcome into st: the messages' reasons and counts, the
 * dead letters' rows, and the duplicates the flush compares (moved, with
 * their events). */
static void tp_stage_outcome(struct tp_ingest *ig, struct tp_batch *b,
                             struct tp_ingest_staged *st)
{
        size_t n = 0;
        for (size_t i = 0; i < ig->n_entries; i++)
                n += ig->entries[i].reason == TP_REASON_OK &&
                     ig->entries[i].duplicate == -1;
        st->lookups = tp_xcalloc(n + 1, sizeof(*st->lookups));
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                b->msgs[i].reason = e->reason;
                if (e->reason == TP_REASON_OK && e->duplicate == -1) {
                        st->lookups[st->n_lookups++] = *e;
                        memset(&e->ev, 0, sizeof(e->ev));
                        continue;
                }
                tp_tally(st, e);
                if (e->reason != TP_REASON_OK && !b->replay)
                        tp_copy_rejected(&st->rows[TP_IW_REJECTED],
                                         ig->cfg->group, e);
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
static int tp_send_events(const struct tp_ingest *ig,
                          const struct tp_copybuf *events, PGconn *conn,
                          char *errstr, size_t errstr_size)
{
        if (ig->copy_direct)
                return tp_copybuf_send(conn,
                                       "COPY tthc.filing_events " TP_EVENT_COLS
                                       " FROM STDIN",
                                       events, errstr, errstr_size);
        return tp_copybuf_apply(conn, events,
                                "COPY tp_events " TP_EVENT_COLS " FROM STDIN",
                                "INSERT INTO tthc.filing_events SELECT * FROM "
                                "tp_events",
                                errstr, errstr_size);
}

int tp_ingest_stage(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                    size_t errstr_size)
{
        struct tp_ingest *ig = ctx;
        struct tp_ingest_staged *st;

        /* Staged before: that attempt did not commit, and nothing else
         * is in flight (the consumer commits one batch at a time after
         * a failure). */
        if (b->staged) {
                tp_ingest_staged_free(b);
                tp_store_abort(ig->store);
        }
        tp_write_reset(ig);
        tp_store_begin(ig->store, b->epoch);
        if (tp_pg_exec(conn, tp_temp_tables, errstr, errstr_size) != 0 ||
            tp_load_dossiers(ig, conn, errstr, errstr_size) != 0) {
                tp_write_reset(ig);
                return -1;
        }
        st = tp_xcalloc(1, sizeof(*st));
        for (int i = 0; i < TP_IW__N; i++)
                tp_copybuf_init(&st->rows[i]);
        /* the events and dossiers: the most rows, the dearest to parse
         * as text */
        tp_copybuf_init_binary(&st->rows[TP_IW_EVENTS]);
        tp_copybuf_init_binary(&st->rows[TP_IW_DOSSIERS]);
        st->codes = tp_strmap_new();
        tp_apply_entries(ig, &st->rows[TP_IW_EVENTS]);
        st->dossiers.cb = &st->rows[TP_IW_DOSSIERS];
        tp_store_each_touched(ig->store, tp_copy_dossier, &st->dossiers);
        tp_strmap_each(ig->hourly, tp_copy_hour, &st->rows[TP_IW_HOURLY]);
        tp_stage_progress(ig, b, st);
        tp_ingest_stage_codes(ig, st);
        tp_stage_outcome(ig, b, st);
        tp_write_reset(ig);
        tp_ingest_clear_entries(ig);
        tp_store_pg_seal(&st->sealed, ig->store, conn);
        b->staged = st;
        return 0;
}

/* Sends b's staged rows over conn, the duplicates of earlier batches
 * settled first. On the consumer's worker thread in a pipeline: reads
 * of ig only what never changes. */
int tp_ingest_flush(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                    size_t errstr_size)
{
        const struct tp_ingest *ig = ctx;
        struct tp_ingest_staged *st = b->staged;

        if (tp_store_pg_flush_conn(st->sealed.conn, conn, tp_temp_tables,
                                   errstr, errstr_size) != 0)
                return -1;
        if (st->n_lookups > 0 &&
            tp_check_old_duplicates(ig, b, conn, errstr, errstr_size) != 0)
                return -1;
        /* A replay (tthc-admin rebuild) reads the events from where they
         * are stored, and a message refused today stays where it is. */
        if (!b->replay && st->rows[TP_IW_EVENTS].buf.len > 0 &&
            tp_send_events(ig, &st->rows[TP_IW_EVENTS], conn, errstr,
                           errstr_size) != 0)
                return -1;
        if (tp_store_pg_write(conn, &ig->dossiers, &st->dossiers, errstr,
                              errstr_size) != 0 ||
            tp_copybuf_apply(conn, &st->rows[TP_IW_HOURLY],
                             "COPY tp_hourly FROM STDIN", tp_hourly_upsert,
                             errstr, errstr_size) != 0 ||
            tp_copybuf_apply(conn, &st->rows[TP_IW_REJECTED],
                             "COPY tp_rejected FROM STDIN", tp_rejected_insert,
                             errstr, errstr_size) != 0 ||
            tp_send_progress(ig, st, conn, errstr, errstr_size) != 0)
                return -1;
        return tp_ingest_send_codes(st, conn, errstr, errstr_size);
}
