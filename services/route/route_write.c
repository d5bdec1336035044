/* route_write.c - tthc-route's part of the batch transaction: load the
 * routing state of the dossiers the batch touches and the store does not
 * hold (common/store.h), apply the events in order (duplicates by seq are
 * skipped), then COPY the state of the dossiers the batch changed and the
 * aggregate increments into temporary tables and upsert them. Runs after
 * the offsets compare-and-set succeeded, so state, aggregates and offsets
 * commit together. */
#include "route_int.h"
#include "buf.h"
#include "dossier_pg.h"
#include "util.h"
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages decoded and applied at a time (tp_apply_batch). */
#define TP_ROUTE_CHUNK 16384

enum {
        TP_RL_RECEIVED,
        TP_RL_EARLY,
        TP_RL_ON_TIME,
        TP_RL_LATE,
        TP_RL_STOPPED,
        TP_RL_WITHDRAWN,
        TP_RL_SUPPLEMENT,
        TP_RL_STINTS,
        TP_RL__COUNT
};

enum {
        TP_RA_RESOLVED,
        TP_RA_OFF_LEVEL,
        TP_RA_TRANSFERRED,
        TP_RA_MULTI,
        TP_RA_TRANSFERS,
        TP_RA_DOWN,
        TP_RA__COUNT
};

/* The key shared by the three aggregates: day, province, procedure and
 * its competent level. */
struct tp_rkey {
        int64_t day;
        char province[4];
        char *procedure;
        int procedure_level;
};

struct tp_rlevel {
        struct tp_rkey k;
        int handling_level;
        int c[TP_RL__COUNT];
        int64_t stint_ms;
        int32_t hist[TP_ROUTE_BUCKETS];
};

struct tp_rroute {
        struct tp_rkey k;
        int from_level, to_level;
        char *to_agency;
        int transfers;
};

struct tp_ranom {
        struct tp_rkey k;
        int c[TP_RA__COUNT];
};

static const char tp_route_temp_tables[] =
        "SET LOCAL client_min_messages = warning;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_r_keys (province_code text, "
        " dossier_id text) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_r_dossiers "
        " (LIKE tthc.route_dossiers INCLUDING DEFAULTS, stored boolean) "
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_r_levels "
        " (LIKE tthc.procedure_level_daily) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_r_routes "
        " (LIKE tthc.procedure_routing_daily) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_r_anomalies "
        " (LIKE tthc.routing_anomalies_daily) ON COMMIT DELETE ROWS";

static const char tp_route_state_cols[] =
        "province_code, dossier_id, commune_code, procedure_code, "
        "procedure_level, channel, submitted_at, received_at, due_at, status, "
        "closed_at, outcome, original_due_at, extended, result_returned_at, "
        "handling_level, agency_code, handling_commune_code, last_seq, "
        "seq_gaps, open_pauses, last_event_at, stint_level, stint_since, "
        "stint_paused_ms, pause_since, transfers, down_transfers, stints";

/* Timestamps travel as milliseconds since the epoch. */
static const char tp_route_state_select[] =
        /* the keys are taken out as they are read: the next chunk of
         * the batch sends its own */
        "WITH k AS (DELETE FROM tp_r_keys RETURNING province_code, "
        "dossier_id) "
        "SELECT d.province_code, d.dossier_id, d.commune_code, "
        "d.procedure_code, d.procedure_level, d.channel, "
        "tthc.epoch_ms(d.submitted_at), tthc.epoch_ms(d.received_at), "
        "tthc.epoch_ms(d.due_at), "
        "d.status, tthc.epoch_ms(d.closed_at), d.outcome, "
        "tthc.epoch_ms(d.original_due_at), d.extended, "
        "tthc.epoch_ms(d.result_returned_at), d.handling_level, d.agency_code, "
        "d.handling_commune_code, d.last_seq, d.seq_gaps, d.open_pauses, "
        "tthc.epoch_ms(d.last_event_at), d.stint_level, "
        "tthc.epoch_ms(d.stint_since), "
        "d.stint_paused_ms, tthc.epoch_ms(d.pause_since), d.transfers, "
        "d.down_transfers, d.stints "
        "FROM tthc.route_dossiers d JOIN (SELECT DISTINCT province_code, "
        "dossier_id FROM k) k USING (province_code, dossier_id)";

static void tp_state_from_row(struct tp_route_state *st, const PGresult *res,
                              int r)
{
        memset(st, 0, sizeof(*st));
        tp_dossier_pg_read(&st->d, res, r);
        st->stint_level = tp_pg_col_level(res, r, 22);
        st->stint_since = tp_pg_col_ts(res, r, 23);
        st->stint_paused = strtoll(PQgetvalue(res, r, 24), NULL, 10);
        st->pause_since = tp_pg_col_ts(res, r, 25);
        st->transfers = tp_pg_col_int(res, r, 26);
        st->down_transfers = tp_pg_col_int(res, r, 27);
        st->stints = tp_pg_col_int(res, r, 28);
}

void tp_route_state_free(void *st)
{
        tp_route_state_release(st);
        free(st);
}

static void *tp_state_from_db(const PGresult *res, int r, char *key,
                              size_t key_size)
{
        struct tp_route_state *st = tp_xcalloc(1, sizeof(*st));
        tp_state_from_row(st, res, r);
        tp_dossier_key(key, key_size, st->d.province_code, st->d.dossier_id);
        return st;
}

static const struct tp_store_pg_load tp_state_load = {
        "COPY tp_r_keys FROM STDIN", tp_route_state_select,
        "tthc.route_dossiers", "routing state", tp_state_from_db};

/* Loads the stored state of the dossiers the chunk touches that are not
 * resident. */
static int tp_load_states(struct tp_route *rt, PGconn *conn, char *errstr,
                          size_t errstr_size)
{
        struct tp_copybuf cb;
        int rc;

        tp_copybuf_init(&cb);
        for (size_t i = 0; i < rt->n_entries; i++) {
                struct tp_route_entry *e = &rt->entries[i];
                if (e->reason == TP_REASON_OK)
                        tp_store_pg_add_miss(rt->store, &cb,
                                             e->ev.province_code,
                                             e->ev.dossier_id, 0);
        }
        rc = tp_store_pg_load(rt->store, conn, &tp_state_load, &cb, errstr,
                              errstr_size);
        tp_copybuf_release(&cb);
        return rc;
}

/* A new dossier's routing state, from its first event
 * (tp_store_get_or_new). */
static void *tp_state_new(const void *ev)
{
        struct tp_route_state *st = tp_xcalloc(1, sizeof(*st));
        tp_route_state_init(st, ev);
        return st;
}

static void tp_rkey_set(struct tp_rkey *k, const struct tp_event *ev,
                        int64_t day)
{
        k->day = day;
        tp_strlcpy(k->province, ev->province_code, sizeof(k->province));
        k->procedure = tp_xstrdup(ev->procedure_code);
        k->procedure_level = ev->procedure_level;
}

/* The key of an aggregate row: day|province|procedure|level; returns its
 * length. Strings are at most 256 bytes (docs/design.md, "Decoding
 * notes"), so the callers' buffers never truncate. */
static size_t tp_rkey_print(char *buf, size_t size, const struct tp_event *ev,
                            int64_t day)
{
        size_t n = 0;
        tp_cat_i64(buf, size, &n, day);
        tp_cat(buf, size, &n, "|");
        tp_cat(buf, size, &n, ev->province_code);
        tp_cat(buf, size, &n, "|");
        tp_cat(buf, size, &n, ev->procedure_code);
        tp_cat(buf, size, &n, "|");
        tp_cat_i64(buf, size, &n, ev->procedure_level);
        return n;
}

static struct tp_rlevel *tp_level_row(struct tp_route *rt,
                                      const struct tp_event *ev, int64_t day,
                                      int level)
{
        char key[700];
        struct tp_rlevel *row;
        size_t n = tp_rkey_print(key, sizeof(key), ev, day);
        tp_cat(key, sizeof(key), &n, "|");
        tp_cat_i64(key, sizeof(key), &n, level);
        row = tp_strmap_get(rt->levels, key);
        if (!row) {
                row = tp_xcalloc(1, sizeof(*row));
                tp_rkey_set(&row->k, ev, day);
                row->handling_level = level;
                tp_strmap_put(rt->levels, key, row);
        }
        return row;
}

static void tp_count_level(struct tp_route *rt, const struct tp_event *ev,
                           const struct tp_route_fx *fx)
{
        const int add[TP_RL__COUNT - 1] = {fx->received,
                                           fx->resolved_early,
                                           fx->resolved_on_time,
                                           fx->resolved_late,
                                           fx->stopped,
                                           fx->withdrawn,
                                           fx->supplement_requested};
        struct tp_rlevel *row;
        int any = 0;

        for (size_t i = 0; i < TP_ARRAY_LEN(add); i++)
                any |= add[i];
        if (any) {
                row = tp_level_row(rt, ev, fx->day, fx->level);
                for (size_t i = 0; i < TP_ARRAY_LEN(add); i++)
                        row->c[i] += add[i];
        }
        if (fx->stint_ended && fx->stint_level != TP_LEVEL_NONE) {
                row = tp_level_row(rt, ev, fx->day, fx->stint_level);
                row->c[TP_RL_STINTS]++;
                row->stint_ms += fx->stint_ms;
                row->hist[tp_route_bucket(fx->stint_ms)]++;
        }
}

static void tp_count_route(struct tp_route *rt, const struct tp_event *ev,
                           const struct tp_route_fx *fx)
{
        char key[1000];
        struct tp_rroute *row;
        size_t n;

        if (!fx->transfer || fx->to_level == TP_LEVEL_NONE)
                return;
        n = tp_rkey_print(key, sizeof(key), ev, fx->day);
        tp_cat(key, sizeof(key), &n, "|");
        tp_cat_i64(key, sizeof(key), &n, fx->from_level);
        tp_cat(key, sizeof(key), &n, "|");
        tp_cat_i64(key, sizeof(key), &n, fx->to_level);
        tp_cat(key, sizeof(key), &n, fx->to_agency ? "|a:" : "|-");
        if (fx->to_agency)
                tp_cat(key, sizeof(key), &n, fx->to_agency);
        row = tp_strmap_get(rt->routes, key);
        if (!row) {
                row = tp_xcalloc(1, sizeof(*row));
                tp_rkey_set(&row->k, ev, fx->day);
                row->from_level = fx->from_level;
                row->to_level = fx->to_level;
                row->to_agency = tp_xstrdup(fx->to_agency);
                tp_strmap_put(rt->routes, key, row);
        }
        row->transfers++;
}

static void tp_count_anomalies(struct tp_route *rt, const struct tp_event *ev,
                               const struct tp_route_fx *fx,
                               const struct tp_route_state *st)
{
        const int add[TP_RA__COUNT] = {ev->event_type == TP_EV_RESOLVED,
                                       fx->resolved_off_level,
                                       fx->transfer && st->transfers == 1,
                                       fx->multi_transfer,
                                       fx->transfer,
                                       fx->down_transfer};
        struct tp_ranom *row;
        char key[700];
        int any = 0;

        for (int i = 0; i < TP_RA__COUNT; i++)
                any |= add[i];
        if (!any)
                return;
        tp_rkey_print(key, sizeof(key), ev, fx->day);
        row = tp_strmap_get(rt->anomalies, key);
        if (!row) {
                row = tp_xcalloc(1, sizeof(*row));
                tp_rkey_set(&row->k, ev, fx->day);
                tp_strmap_put(rt->anomalies, key, row);
        }
        for (int i = 0; i < TP_RA__COUNT; i++)
                row->c[i] += add[i];
}

/* Applies the chunk in order; an event whose seq the dossier has already
 * seen is a duplicate (or a conflicting copy, which tthc-ingest keeps
 * out as well): skipped. */
static void tp_apply_entries(struct tp_route *rt)
{
        for (size_t i = 0; i < rt->n_entries; i++) {
                struct tp_route_entry *e = &rt->entries[i];
                struct tp_route_fx fx;
                struct tp_route_state *st;
                char key[600];
                if (e->reason != TP_REASON_OK) {
                        rt->pending.skipped[e->reason]++;
                        continue;
                }
                tp_dossier_key(key, sizeof(key), e->ev.province_code,
                               e->ev.dossier_id);
                st = tp_store_get_or_new(rt->store, key, tp_state_new, &e->ev);
                if (tp_dossier_check_seq(&st->d, e->ev.seq) ==
                    TP_SEQ_DUPLICATE) {
                        rt->pending.duplicates++;
                        continue;
                }
                tp_store_touch(rt->store, key);
                tp_route_apply(st, &e->ev, &fx);
                rt->pending.applied++;
                tp_count_level(rt, &e->ev, &fx);
                tp_count_route(rt, &e->ev, &fx);
                tp_count_anomalies(rt, &e->ev, &fx, st);
        }
}

static void tp_copy_day(struct tp_copybuf *cb, int64_t day)
{
        char buf[16];
        tp_format_day(day, buf, sizeof(buf));
        tp_copybuf_str(cb, buf);
}

static void tp_copy_rkey(struct tp_copybuf *cb, const struct tp_rkey *k)
{
        tp_copy_day(cb, k->day);
        tp_copybuf_str(cb, k->province);
        tp_copybuf_str(cb, k->procedure);
        tp_copybuf_str(cb, tp_level_name(k->procedure_level));
}

static void tp_copy_state(const char *key, void *value, int stored, void *ud)
{
        const struct tp_route_state *st = value;
        struct tp_store_pg_rows *rows = ud;
        struct tp_copybuf *cb = rows->cb;
        (void)key;
        tp_dossier_pg_copy(cb, &st->d);
        tp_copybuf_str(cb, tp_level_name(st->stint_level));
        tp_copybuf_ts(cb, st->stint_since);
        tp_copybuf_int(cb, st->stint_paused);
        tp_copybuf_ts(cb, st->pause_since);
        tp_copybuf_int4(cb, st->transfers);
        tp_copybuf_int4(cb, st->down_transfers);
        tp_copybuf_int4(cb, st->stints);
        tp_store_pg_row_end(rows, stored);
}

static void tp_copy_level(const char *key, void *value, void *ud)
{
        const struct tp_rlevel *row = value;
        struct tp_copybuf *cb = ud;
        char hist[TP_ROUTE_BUCKETS * 12 + 4];
        size_t n = 0;
        (void)key;
        tp_copy_rkey(cb, &row->k);
        tp_copybuf_str(cb, tp_level_name(row->handling_level));
        for (int i = 0; i < TP_RL__COUNT; i++)
                tp_copybuf_int(cb, row->c[i]);
        tp_copybuf_int(cb, row->stint_ms);
        tp_cat(hist, sizeof(hist), &n, "{");
        for (int i = 0; i < TP_ROUTE_BUCKETS; i++) {
                if (i)
                        tp_cat(hist, sizeof(hist), &n, ",");
                tp_cat_i64(hist, sizeof(hist), &n, row->hist[i]);
        }
        tp_cat(hist, sizeof(hist), &n, "}");
        tp_copybuf_str(cb, hist);
        tp_copybuf_end_row(cb);
}

static void tp_copy_route(const char *key, void *value, void *ud)
{
        const struct tp_rroute *row = value;
        struct tp_copybuf *cb = ud;
        (void)key;
        tp_copy_rkey(cb, &row->k);
        tp_copybuf_str(cb, tp_level_name(row->from_level));
        tp_copybuf_str(cb, tp_level_name(row->to_level));
        tp_copybuf_str(cb, row->to_agency);
        tp_copybuf_int(cb, row->transfers);
        tp_copybuf_end_row(cb);
}

static void tp_copy_anomaly(const char *key, void *value, void *ud)
{
        const struct tp_ranom *row = value;
        struct tp_copybuf *cb = ud;
        (void)key;
        tp_copy_rkey(cb, &row->k);
        for (int i = 0; i < TP_RA__COUNT; i++)
                tp_copybuf_int(cb, row->c[i]);
        tp_copybuf_end_row(cb);
}

/* What an increment row adds to a stored one: the daily upserts and
 * their monthly twins' (migration 019) add the same counters, and the
 * histograms element by element (tp_hist_add_sql). */
#define TP_LEVELS_ADD                                                          \
        "received = t.received + EXCLUDED.received, "                          \
        "resolved_early = t.resolved_early + EXCLUDED.resolved_early, "        \
        "resolved_on_time = t.resolved_on_time + EXCLUDED.resolved_on_time, "  \
        "resolved_late = t.resolved_late + EXCLUDED.resolved_late, "           \
        "stopped = t.stopped + EXCLUDED.stopped, "                             \
        "withdrawn = t.withdrawn + EXCLUDED.withdrawn, "                       \
        "supplement_requested = t.supplement_requested + "                     \
        "EXCLUDED.supplement_requested, "                                      \
        "stints = t.stints + EXCLUDED.stints, "                                \
        "stint_ms = t.stint_ms + EXCLUDED.stint_ms, "                          \
        "hist = "

/* The histogram a stored row's becomes: unchanged without ended stints,
 * else ARRAY[coalesce(t.hist[1], 0) + EXCLUDED.hist[1], ...] over the
 * TP_ROUTE_BUCKETS buckets an increment always has (a stored one
 * shorter counts 0 for the rest), as tthc.hist_add sums them; inline,
 * because the function call was a third of the upsert
 * (docs/performance.md, "The histograms added inline"). */
static void tp_hist_add_sql(struct tp_buf *b)
{
        tp_buf_puts(b, "CASE WHEN EXCLUDED.stints = 0 THEN t.hist ELSE ARRAY[");
        for (int i = 1; i <= TP_ROUTE_BUCKETS; i++)
                tp_buf_printf(b,
                              "%scoalesce(t.hist[%d], 0) + EXCLUDED.hist[%d]",
                              i > 1 ? ", " : "", i, i);
        tp_buf_puts(b, "] END");
}

#define TP_ANOMALIES_ADD                                                       \
        "resolved = t.resolved + EXCLUDED.resolved, "                          \
        "resolved_off_level = t.resolved_off_level + "                         \
        "EXCLUDED.resolved_off_level, "                                        \
        "transferred_dossiers = t.transferred_dossiers + "                     \
        "EXCLUDED.transferred_dossiers, "                                      \
        "multi_transfer_dossiers = t.multi_transfer_dossiers + "               \
        "EXCLUDED.multi_transfer_dossiers, "                                   \
        "transfers = t.transfers + EXCLUDED.transfers, "                       \
        "down_transfers = t.down_transfers + EXCLUDED.down_transfers"

#define TP_ROUTES_ADD "transfers = t.transfers + EXCLUDED.transfers"

/* Each daily upsert is followed by its monthly twin's: the same
 * increments summed per month; the analyst views read those rows, 4-19
 * times fewer than the days. The twin's histograms are summed with one
 * sum() per bucket, as 019's views do: the aggregate tthc.hist_sum was
 * most of the statement (a function call per staged row). Built by
 * tp_levels_upsert_sql. */
static const char tp_levels_daily_upsert[] =
        "INSERT INTO tthc.procedure_level_daily AS t SELECT * FROM "
        "tp_r_levels ON CONFLICT (day, province_code, procedure_code, "
        "procedure_level, handling_level) DO UPDATE SET " TP_LEVELS_ADD;
static const char tp_levels_month_upsert[] =
        "INSERT INTO tthc.procedure_level_by_month AS t "
        "SELECT date_trunc('month', day)::date, province_code, "
        "procedure_code, procedure_level, handling_level, sum(received), "
        "sum(resolved_early), sum(resolved_on_time), sum(resolved_late), "
        "sum(stopped), sum(withdrawn), sum(supplement_requested), "
        "sum(stints), sum(stint_ms), ARRAY[";
static const char tp_levels_month_upsert_end[] =
        "]::integer[] FROM tp_r_levels "
        "GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (month, province_code, "
        "procedure_code, procedure_level, handling_level) DO UPDATE "
        "SET " TP_LEVELS_ADD;

static const char tp_routes_upsert[] =
        "INSERT INTO tthc.procedure_routing_daily AS t SELECT * FROM "
        "tp_r_routes ON CONFLICT ON CONSTRAINT procedure_routing_daily_key "
        "DO UPDATE SET " TP_ROUTES_ADD "; "
        "INSERT INTO tthc.procedure_routing_by_month AS t "
        "SELECT date_trunc('month', day)::date, province_code, "
        "procedure_code, procedure_level, from_level, to_level, "
        "to_agency_code, sum(transfers) FROM tp_r_routes "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7 "
        "ON CONFLICT ON CONSTRAINT procedure_routing_by_month_key "
        "DO UPDATE SET " TP_ROUTES_ADD;

static const char tp_anomalies_upsert[] =
        "INSERT INTO tthc.routing_anomalies_daily AS t SELECT * FROM "
        "tp_r_anomalies ON CONFLICT (day, province_code, procedure_code, "
        "procedure_level) DO UPDATE SET " TP_ANOMALIES_ADD "; "
        "INSERT INTO tthc.routing_anomalies_by_month AS t "
        "SELECT date_trunc('month', day)::date, province_code, "
        "procedure_code, procedure_level, sum(resolved), "
        "sum(resolved_off_level), sum(transferred_dossiers), "
        "sum(multi_transfer_dossiers), sum(transfers), sum(down_transfers) "
        "FROM tp_r_anomalies GROUP BY 1, 2, 3, 4 "
        "ON CONFLICT (month, province_code, procedure_code, procedure_level) "
        "DO UPDATE SET " TP_ANOMALIES_ADD;

static void tp_release_level(void *value)
{
        struct tp_rlevel *row = value;
        free(row->k.procedure);
        free(row);
}

static void tp_release_route(void *value)
{
        struct tp_rroute *row = value;
        free(row->k.procedure);
        free(row->to_agency);
        free(row);
}

static void tp_release_anomaly(void *value)
{
        struct tp_ranom *row = value;
        free(row->k.procedure);
        free(row);
}

/* The daily and monthly upserts of the level rows (malloc'ed). */
static char *tp_levels_upsert_sql(void)
{
        struct tp_buf b = {0};

        tp_buf_puts(&b, tp_levels_daily_upsert);
        tp_hist_add_sql(&b);
        tp_buf_puts(&b, "; ");
        tp_buf_puts(&b, tp_levels_month_upsert);
        for (int i = 1; i <= TP_ROUTE_BUCKETS; i++)
                tp_buf_printf(&b, "%ssum(hist[%d])", i > 1 ? ", " : "", i);
        tp_buf_puts(&b, tp_levels_month_upsert_end);
        tp_hist_add_sql(&b);
        return b.data;
}

void tp_route_write_init(struct tp_route *rt)
{
        static const struct tp_store_pg_table dossiers = {
                "tthc.route_dossiers", "tp_r_dossiers",
                "province_code, dossier_id", tp_route_state_cols,
                "updated_at = now()"};
        tp_store_pg_write_init(&rt->dossiers, &dossiers);
        rt->sql[TP_RW_LEVELS].copy = tp_xstrdup("COPY tp_r_levels FROM STDIN");
        rt->sql[TP_RW_LEVELS].upsert = tp_levels_upsert_sql();
        rt->sql[TP_RW_ROUTES].copy = tp_xstrdup("COPY tp_r_routes FROM STDIN");
        rt->sql[TP_RW_ROUTES].upsert = tp_xstrdup(tp_routes_upsert);
        rt->sql[TP_RW_ANOMALIES].copy =
                tp_xstrdup("COPY tp_r_anomalies FROM STDIN");
        rt->sql[TP_RW_ANOMALIES].upsert = tp_xstrdup(tp_anomalies_upsert);
        rt->levels = tp_strmap_new_owning(tp_release_level);
        rt->routes = tp_strmap_new_owning(tp_release_route);
        rt->anomalies = tp_strmap_new_owning(tp_release_anomaly);
}

void tp_route_write_destroy(struct tp_route *rt)
{
        tp_store_pg_write_fini(&rt->dossiers);
        for (int i = 0; i < TP_RW__N; i++) {
                free(rt->sql[i].copy);
                free(rt->sql[i].upsert);
        }
        tp_strmap_destroy(rt->levels);
        tp_strmap_destroy(rt->routes);
        tp_strmap_destroy(rt->anomalies);
}

void tp_route_write_reset(struct tp_route *rt)
{
        tp_strmap_clear(rt->levels);
        tp_strmap_clear(rt->routes);
        tp_strmap_clear(rt->anomalies);
}

/* Decodes, loads and applies the batch TP_ROUTE_CHUNK messages at a
 * time: a batch holds the decoded events of one chunk, whatever its
 * size (a replay's large checkpoints), and the misses of each chunk are
 * one query. */
static int tp_apply_batch(struct tp_route *rt, struct tp_batch *b, PGconn *conn,
                          char *errstr, size_t errstr_size)
{
        int rc = 0;
        for (size_t from = 0; from < b->n; from += TP_ROUTE_CHUNK) {
                size_t to = b->n - from > TP_ROUTE_CHUNK ? from + TP_ROUTE_CHUNK
                                                         : b->n;
                rc = tp_route_decode(rt, b, from, to, conn, errstr,
                                     errstr_size);
                if (rc == 0)
                        rc = tp_load_states(rt, conn, errstr, errstr_size);
                if (rc != 0)
                        break;
                tp_apply_entries(rt);
                for (size_t i = 0; i < rt->n_entries; i++)
                        b->msgs[from + i].reason = rt->entries[i].reason;
        }
        tp_route_clear_entries(rt);
        return rc;
}

void tp_route_staged_free(struct tp_batch *b)
{
        struct tp_route_staged *st = b->staged;
        if (!st)
                return;
        for (int i = 0; i < TP_RW__N; i++)
                tp_copybuf_release(&st->rows[i]);
        free(st);
        b->staged = NULL;
}

int tp_route_stage(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size)
{
        struct tp_route *rt = ctx;
        struct tp_route_staged *st;

        /* Staged before: that attempt did not commit, and nothing else
         * is in flight (the consumer commits one batch at a time after
         * a failure). */
        if (b->staged) {
                tp_route_staged_free(b);
                tp_store_abort(rt->store);
        }
        /* A failed attempt leaves the pending counts of the next, and its
         * changes to the store are dropped. */
        tp_route_write_reset(rt);
        tp_store_begin(rt->store, b->epoch);
        memset(&rt->pending, 0, sizeof(rt->pending));
        if (tp_pg_exec(conn, tp_route_temp_tables, errstr, errstr_size) != 0 ||
            tp_apply_batch(rt, b, conn, errstr, errstr_size) != 0) {
                tp_route_write_reset(rt);
                return -1;
        }
        st = tp_xcalloc(1, sizeof(*st));
        for (int i = 0; i < TP_RW__N; i++)
                tp_copybuf_init(&st->rows[i]);
        /* the largest rows, the dearest to parse as text */
        tp_copybuf_init_binary(&st->rows[TP_RW_DOSSIERS]);
        st->dossiers.cb = &st->rows[TP_RW_DOSSIERS];
        tp_store_each_touched(rt->store, tp_copy_state, &st->dossiers);
        tp_strmap_each(rt->levels, tp_copy_level, &st->rows[TP_RW_LEVELS]);
        tp_strmap_each(rt->routes, tp_copy_route, &st->rows[TP_RW_ROUTES]);
        tp_strmap_each(rt->anomalies, tp_copy_anomaly,
                       &st->rows[TP_RW_ANOMALIES]);
        tp_route_write_reset(rt);
        st->pending = rt->pending;
        memset(&rt->pending, 0, sizeof(rt->pending));
        tp_store_pg_seal(&st->sealed, rt->store, conn);
        b->staged = st;
        return 0;
}

int tp_route_flush(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size)
{
        const struct tp_route *rt = ctx;
        const struct tp_route_staged *st = b->staged;
        if (tp_store_pg_flush_conn(st->sealed.conn, conn, tp_route_temp_tables,
                                   errstr, errstr_size) != 0)
                return -1;
        if (tp_store_pg_write(conn, &rt->dossiers, &st->dossiers, errstr,
                              errstr_size) != 0)
                return -1;
        for (int i = TP_RW_DOSSIERS + 1; i < TP_RW__N; i++)
                if (tp_copybuf_apply(conn, &st->rows[i], rt->sql[i].copy,
                                     rt->sql[i].upsert, errstr,
                                     errstr_size) != 0)
                        return -1;
        return 0;
}
