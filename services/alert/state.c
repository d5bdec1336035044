/* state.c - tthc-alert's per-partition state and its part of the batch
 * transaction (see alert.h and docs/alerts.md). The province evaluator
 * lives in sweep.c. */
#include "alert_int.h"
#include "dossier.h"
#include "framing.h"
#include "log.h"
#include "pgutil.h"
#include "store_pg.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_TOMBSTONE_MS (7 * TP_DAY_MS)

/* ---- construction -----------------------------------------------------------
 */

int tp_alert_load_calendar(PGconn *conn, struct tp_workcal *cal, char *errstr,
                           size_t errstr_size)
{
        PGresult *res = tp_pg_query(
                conn,
                "SELECT (date - DATE '1970-01-01'), kind FROM "
                "tthc.holidays",
                0, NULL, "could not load tthc.holidays", errstr, errstr_size);
        if (!res)
                return -1;
        for (int r = 0; r < PQntuples(res); r++)
                tp_workcal_add(cal, strtoll(PQgetvalue(res, r, 0), NULL, 10),
                               PQgetvalue(res, r, 1));
        PQclear(res);
        tp_workcal_seal(cal);
        return 0;
}

static void tp_part_unload(struct tp_apart *p)
{
        tp_store_clear(p->dossiers);
        tp_strmap_clear(p->communes);
        p->n_dirty = 0;
        p->tally_day = INT64_MIN;
        tp_expiry_clear(&p->expiry);
        p->loaded = 0;
}

static void tp_release_part(void *value)
{
        struct tp_apart *p = value;
        tp_store_destroy(p->dossiers);
        tp_strmap_destroy(p->communes);
        tp_expiry_clear(&p->expiry);
        free(p->dirty);
        free(p->topic);
        free(p);
}

static void tp_release_acommune(void *value)
{
        struct tp_acommune *c = value;
        tp_tally_release(&c->tally);
        free(c);
}

static void tp_release_pcache(void *value)
{
        struct tp_pcache *pc = value;
        tp_strmap_destroy(pc->days);
        tp_strmap_destroy(pc->names);
        tp_strmap_destroy(pc->keys);
        tp_snapfeed_release(&pc->feed);
        free(pc);
}

/* The dossiers' rows (tp_alert_flush). */
static const struct tp_store_pg_table tp_alert_dossiers = {
        "tthc.alert_dossiers", "tp_adossiers", "topic, partition, dossier_id",
        "topic, partition, province_code, dossier_id, commune_code, "
        "procedure_code, channel, status, submitted_at, received_at, "
        "closed_at, due_at, original_due_at, handling_level, "
        "handling_commune_code, open_pauses, last_seq, last_event_at",
        NULL};

struct tp_alert *tp_alert_new(const struct tp_cfg *cfg,
                              const struct tp_rules *rules, PGconn *conn,
                              char *errstr, size_t errstr_size)
{
        struct tp_alert *al = tp_xcalloc(1, sizeof(*al));
        al->cfg = cfg;
        al->rules = rules;
        tp_workcal_init(&al->cal);
        al->parts = tp_strmap_new_owning(tp_release_part);
        al->days = tp_strmap_new_owning(free);
        al->topics = tp_strmap_new_owning(free);
        al->pcaches = tp_strmap_new_owning(tp_release_pcache);
        tp_copybuf_init(&al->ticks_cb);
        tp_store_pg_write_init(&al->dossiers, &tp_alert_dossiers);
        al->reader = tp_filing_reader_new(cfg, conn, errstr, errstr_size);
        if (!al->reader ||
            tp_alert_load_calendar(conn, &al->cal, errstr, errstr_size) != 0)
                goto fail;
        return al;
fail:
        tp_alert_destroy(al);
        return NULL;
}

void tp_alert_set_rk(struct tp_alert *al, rd_kafka_t *rk)
{
        al->rk = rk;
}

void tp_alert_set_rules(struct tp_alert *al, const struct tp_rules *rules)
{
        al->rules = rules;
}

void tp_alert_set_verify_snapshots(struct tp_alert *al, int on)
{
        al->verify_snapshots = on;
}

static void tp_release_dossier(void *value)
{
        struct tp_dossier *d = value;
        tp_dossier_release(d);
        free(d);
}

static void *tp_new_dossier(const void *ev)
{
        struct tp_dossier *d = tp_xcalloc(1, sizeof(*d));
        tp_dossier_init(d, ev);
        return d;
}

void tp_alert_clear_pcaches(struct tp_alert *al)
{
        tp_strmap_clear(al->pcaches);
}

static void tp_alert_clear_entries(struct tp_alert *al)
{
        for (size_t i = 0; i < al->n_entries; i++)
                tp_event_release(&al->entries[i].ev);
        al->n_entries = 0;
}

static void tp_alert_clear_days(struct tp_alert *al)
{
        tp_strmap_clear(al->days);
}

void tp_alert_destroy(struct tp_alert *al)
{
        if (!al)
                return;
        tp_alert_clear_entries(al);
        free(al->entries);
        tp_strmap_destroy(al->parts);
        tp_strmap_destroy(al->days);
        tp_strmap_destroy(al->topics);
        tp_strmap_destroy(al->pcaches);
        tp_copybuf_release(&al->ticks_cb);
        free(al->snaps);
        tp_store_pg_write_fini(&al->dossiers);
        tp_workcal_release(&al->cal);
        tp_filing_reader_destroy(al->reader);
        free(al);
}

const struct tp_alert_counts *tp_alert_counts(const struct tp_alert *al)
{
        return &al->counts;
}

/* ---- prepare: decode, validate, topic metadata ------------------------------
 */

/* Decodes and validates; invalid messages are skipped (tthc-ingest owns
 * the dead letters). Sets *outage when the registry is down. */
static void tp_alert_decode(struct tp_alert *al, PGconn *conn,
                            struct tp_aentry *e, int *outage, char *errstr,
                            size_t errstr_size)
{
        char detail[256];
        int32_t sid;

        if (tp_msg_db_rejected(e->msg, detail, sizeof(detail))) {
                e->reason = TP_REASON_DB_REJECTED;
                return;
        }
        if (tp_filing_read_msg(al->reader, conn, e->msg, &e->ev, &sid,
                               &e->reason, detail, sizeof(detail)) != 0) {
                snprintf(errstr, errstr_size, "%s", detail);
                *outage = 1;
        }
}

/* Partition count of a topic, from cached metadata. */
static int tp_alert_topic_parts(struct tp_alert *al, const char *topic,
                                char *errstr, size_t errstr_size)
{
        int *n = tp_strmap_get(al->topics, topic);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt;
        rd_kafka_resp_err_t err;
        int count = -1;

        if (n)
                return 0;
        if (!al->rk) { /* a rebuild: tp_alert_use_stored_partitions */
                snprintf(errstr, errstr_size,
                         "the partition count of %s is unknown: "
                         "tthc.alert_provinces has no row for it (tthc-alert "
                         "registers it when it first evaluates the province)",
                         topic);
                return -1;
        }
        rkt = rd_kafka_topic_new(al->rk, topic, NULL);
        err = rd_kafka_metadata(al->rk, 0, rkt, &md, 10000);
        if (!err && md->topic_cnt == 1 && !md->topics[0].err)
                count = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (count <= 0) {
                snprintf(errstr, errstr_size,
                         "could not read the partition count of %s: %s", topic,
                         err ? rd_kafka_err2str(err) : "no metadata");
                return -1;
        }
        n = tp_xmalloc(sizeof(*n));
        *n = count;
        tp_strmap_put(al->topics, topic, n);
        return 0;
}

int tp_alert_use_stored_partitions(struct tp_alert *al, PGconn *conn,
                                   char *errstr, size_t errstr_size)
{
        PGresult *res = tp_pg_query(
                conn, "SELECT topic, partitions FROM tthc.alert_provinces", 0,
                NULL, "could not read the provinces' partition counts", errstr,
                errstr_size);
        if (!res)
                return -1;
        for (int r = 0; r < PQntuples(res); r++) {
                int *n = tp_xmalloc(sizeof(*n));
                *n = tp_pg_col_int(res, r, 1);
                tp_strmap_put(al->topics, PQgetvalue(res, r, 0), n);
        }
        PQclear(res);
        return 0;
}

int tp_alert_prepare(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size)
{
        struct tp_alert *al = ctx;
        int outage = 0;
        (void)conn;

        tp_alert_clear_entries(al);
        if (b->n > al->cap_entries) {
                al->cap_entries = b->n;
                al->entries =
                        tp_xrealloc(al->entries, b->n * sizeof(*al->entries));
        }
        for (size_t i = 0; i < b->n && !outage; i++) {
                struct tp_aentry *e = &al->entries[al->n_entries++];
                memset(e, 0, sizeof(*e));
                e->msg = &b->msgs[i];
                tp_alert_decode(al, conn, e, &outage, errstr, errstr_size);
        }
        if (outage)
                return -1;
        for (size_t i = 0; i < b->n_parts; i++)
                if (tp_alert_topic_parts(al, b->parts[i].topic, errstr,
                                         errstr_size) != 0)
                        return -1;
        return 0;
}

/* ---- per-partition state
 * -------------------------------------------------------- */

void tp_alert_forget(struct tp_alert *al)
{
        tp_strmap_clear(al->parts);
        tp_alert_clear_pcaches(al);
}

/* The partition's key in al->parts: "topic|partition". */
static void tp_part_key(char *key, size_t size, const char *topic,
                        int32_t partition)
{
        size_t n = 0;
        tp_cat(key, size, &n, topic);
        tp_cat(key, size, &n, "|");
        tp_cat_i64(key, size, &n, partition);
}

/* The partition's state, or NULL when it is not held. */
static struct tp_apart *tp_part_find(struct tp_alert *al, const char *topic,
                                     int32_t partition)
{
        char key[300];
        tp_part_key(key, sizeof(key), topic, partition);
        return tp_strmap_get(al->parts, key);
}

/* The partition's state, created empty (not loaded) when not held. */
static struct tp_apart *tp_part_get(struct tp_alert *al, const char *topic,
                                    int32_t partition)
{
        char key[300];
        struct tp_apart *p = tp_part_find(al, topic, partition);
        const char *prov = tp_topic_province(topic);
        if (p)
                return p;
        tp_part_key(key, sizeof(key), topic, partition);
        p = tp_xcalloc(1, sizeof(*p));
        p->topic = tp_xstrdup(topic);
        p->partition = partition;
        tp_strlcpy(p->province, prov ? prov : "", sizeof(p->province));
        p->dossiers = tp_store_new(tp_release_dossier, SIZE_MAX);
        p->communes = tp_strmap_new_owning(tp_release_acommune);
        p->next_offset = TP_OFFSET_NONE;
        p->tally_day = INT64_MIN;
        tp_expiry_init(&p->expiry);
        tp_strmap_put(al->parts, key, p);
        return p;
}

struct tp_acommune *tp_part_commune(struct tp_apart *p, const char *code)
{
        struct tp_acommune *c = tp_strmap_get(p->communes, code);
        if (!c) {
                c = tp_xcalloc(1, sizeof(*c));
                tp_strlcpy(c->code, code, sizeof(c->code));
                c->last = c->cur_last = TP_TS_NONE;
                tp_strmap_put(p->communes, code, c);
        }
        return c;
}

/* The commune's row may differ from the one last written: the next tick
 * compares it (tp_snap_emit). */
static void tp_part_dirty(struct tp_apart *p, struct tp_acommune *c)
{
        if (c->dirty)
                return;
        if (p->n_dirty == p->cap_dirty) {
                p->cap_dirty = p->cap_dirty ? 2 * p->cap_dirty : 16;
                p->dirty =
                        tp_xrealloc(p->dirty, p->cap_dirty * sizeof(*p->dirty));
        }
        c->dirty = 1;
        p->dirty[p->n_dirty++] = c;
}

static void tp_part_dirty_each(const char *key, void *value, void *ud)
{
        (void)key;
        tp_part_dirty(ud, value);
}

/* ---- what a dossier counts for (tally.h) and when it leaves memory ----- */

/* The tick after which a closed dossier leaves memory (its tombstone
 * window over); one closed without a date leaves at the next tick. */
static int64_t tp_dossier_expiry(const struct tp_dossier *d)
{
        return d->closed_at == TP_TS_NONE ? INT64_MIN
                                          : d->closed_at + TP_TOMBSTONE_MS;
}

/* The commune of s in p (NULL: s counts for none); near, when given, is
 * a likely answer that spares the lookup. */
static struct tp_acommune *tp_share_commune(struct tp_apart *p,
                                            const struct tp_share *s,
                                            struct tp_acommune *near)
{
        if (!s->commune)
                return NULL;
        if (near && strlen(s->commune) < sizeof(near->code) &&
            strcmp(near->code, s->commune) == 0)
                return near;
        return tp_part_commune(p, s->commune);
}

static void tp_part_count(struct tp_apart *p, struct tp_acommune *c,
                          const struct tp_share *s, int sign)
{
        if (!c)
                return;
        tp_tally_add(&c->tally, s, p->tally_day, sign);
        tp_part_dirty(p, c);
}

/* d joins p's figures as it is (loaded, or new) and, closed, the queue of
 * dossiers leaving memory. */
static void tp_part_follow(const struct tp_workcal *cal, struct tp_apart *p,
                           const struct tp_dossier *d)
{
        struct tp_share s;
        tp_tally_share(cal, d, &s);
        tp_part_count(p, tp_share_commune(p, &s, NULL), &s, 1);
        if (!tp_dossier_is_open(d))
                tp_expiry_push(&p->expiry, tp_dossier_expiry(d), d->dossier_id);
}

/* The numbers of ps[0..n) as an array literal in cb (tp_pgarray_add). */
static void tp_parts_list(struct tp_apart *const *ps, size_t n,
                          struct tp_copybuf *cb)
{
        char part[16];
        for (size_t i = 0; i < n; i++) {
                snprintf(part, sizeof(part), "%d", ps[i]->partition);
                tp_pgarray_add(cb, part, i == 0);
        }
        tp_pgarray_end(cb);
}

/* The rows sql gives for partitions of one topic: $1 the topic, $2 their
 * numbers (tp_parts_list, cast to int[]), and with n = 3 $3 the topic's
 * province. */
static PGresult *tp_parts_query(PGconn *conn, const struct tp_apart *p,
                                const char *list, const char *sql, int n,
                                const char *what, char *errstr,
                                size_t errstr_size)
{
        const char *params[3] = {p->topic, list, p->province};
        return tp_pg_query(conn, sql, n, params, what, errstr, errstr_size);
}

/* The partition of ps[0..n) that row r names in column col, or NULL;
 * rows come grouped by partition, so the last one found is tried first. */
static struct tp_apart *tp_parts_row(struct tp_apart *const *ps, size_t n,
                                     struct tp_apart *last, PGresult *res,
                                     int r, int col)
{
        int32_t partition = (int32_t)tp_pg_col_int(res, r, col);
        if (last && last->partition == partition)
                return last;
        for (size_t i = 0; i < n; i++)
                if (ps[i]->partition == partition)
                        return ps[i];
        return NULL;
}

static void tp_part_add_dossier_row(const struct tp_workcal *cal,
                                    struct tp_apart *p, PGresult *res, int r)
{
        struct tp_dossier *d = tp_xcalloc(1, sizeof(*d));
        struct tp_strspan s[TP_DSS__COUNT] = {{0}};
        s[TP_DSS_PROVINCE] = tp_arena_span(p->province);
        s[TP_DSS_DOSSIER_ID] = tp_pg_col_span(res, r, 0);
        s[TP_DSS_COMMUNE] = tp_pg_col_span(res, r, 1);
        s[TP_DSS_PROCEDURE] = tp_pg_col_span(res, r, 2);
        s[TP_DSS_HANDLING_COMMUNE] = tp_pg_col_span(res, r, 11);
        tp_dossier_set_strings(d, s);
        d->channel = (enum tp_channel)tp_channel_parse(PQgetvalue(res, r, 3));
        d->status = (enum tp_dstatus)tp_dstatus_parse(PQgetvalue(res, r, 4));
        d->submitted_at = tp_pg_col_ts(res, r, 5);
        d->received_at = tp_pg_col_ts(res, r, 6);
        d->closed_at = tp_pg_col_ts(res, r, 7);
        d->due_at = tp_pg_col_ts(res, r, 8);
        d->original_due_at = tp_pg_col_ts(res, r, 9);
        d->handling_level =
                PQgetisnull(res, r, 10)
                        ? TP_LEVEL_COMMUNE
                        : (enum tp_level)tp_level_parse(PQgetvalue(res, r, 10));
        d->open_pauses = tp_pg_col_int(res, r, 12);
        d->last_seq = tp_pg_col_int(res, r, 13);
        d->last_event_at = tp_pg_col_ts(res, r, 14);
        d->result_returned_at = TP_TS_NONE;
        tp_store_put(p->dossiers, d->dossier_id, d);
        tp_part_follow(cal, p, d);
}

/* Loads the state of ps[0..n), partitions of one topic, as committed
 * (inside the batch transaction, after the offsets compare-and-set): four
 * queries for them all, so a reload costs four round trips per province,
 * not per partition, and reads the province's snapshots once (their
 * primary key starts with the province: 026). */
static int tp_parts_load(const struct tp_workcal *cal,
                         struct tp_apart *const *ps, size_t n, PGconn *conn,
                         char *errstr, size_t errstr_size)
{
        struct tp_copybuf cb;
        const char *list;
        struct tp_apart *p = NULL;
        PGresult *res;
        tp_copybuf_init(&cb);
        tp_parts_list(ps, n, &cb);
        list = cb.buf.data;
        for (size_t i = 0; i < n; i++) {
                tp_part_unload(ps[i]);
                ps[i]->first_occ = ps[i]->max_occ = ps[i]->next_tick =
                        TP_TS_NONE;
        }
        res = tp_parts_query(conn, ps[0], list,
                             "SELECT dossier_id, commune_code, procedure_code, "
                             "channel, status, tthc.epoch_ms(submitted_at), "
                             "tthc.epoch_ms(received_at), "
                             "tthc.epoch_ms(closed_at), tthc.epoch_ms(due_at), "
                             "tthc.epoch_ms(original_due_at), handling_level, "
                             "handling_commune_code, open_pauses, last_seq, "
                             "tthc.epoch_ms(last_event_at), partition "
                             "FROM tthc.alert_dossiers "
                             "WHERE topic = $1 AND partition = ANY($2::int[])",
                             2, "could not load alert dossiers", errstr,
                             errstr_size);
        if (!res)
                goto fail;
        for (int r = 0; r < PQntuples(res); r++)
                if ((p = tp_parts_row(ps, n, p, res, r, 15)))
                        tp_part_add_dossier_row(cal, p, res, r);
        PQclear(res);
        /* The latest snapshot of each commune of each partition; by the
         * province first: the primary key's order (026). */
        res = tp_parts_query(conn, ps[0], list,
                             "SELECT DISTINCT ON (partition, commune_code) "
                             "commune_code, open, overdue, intake_backlog, "
                             "tthc.epoch_ms(last_event_at), paused, partition "
                             "FROM tthc.alert_commune_ticks "
                             "WHERE province_code = $3 AND topic = $1 "
                             "AND partition = ANY($2::int[]) "
                             "ORDER BY partition, commune_code, tick DESC",
                             3, "could not load alert snapshots", errstr,
                             errstr_size);
        if (!res)
                goto fail;
        for (int r = 0; r < PQntuples(res); r++) {
                struct tp_acommune *c;
                if (!(p = tp_parts_row(ps, n, p, res, r, 6)))
                        continue;
                c = tp_part_commune(p, PQgetvalue(res, r, 0));
                c->open = tp_pg_col_int(res, r, 1);
                c->overdue = tp_pg_col_int(res, r, 2);
                c->intake = tp_pg_col_int(res, r, 3);
                c->last = c->cur_last = tp_pg_col_ts(res, r, 4);
                c->paused = tp_pg_col_int(res, r, 5);
                c->written = 1;
        }
        PQclear(res);
        /* Activity after the last snapshot, checkpointed with the
         * partition's progress (tp_copy_progress). */
        res = tp_parts_query(conn, ps[0], list,
                             "SELECT a.commune_code, tthc.epoch_ms(a.at), "
                             "s.partition "
                             "FROM tthc.alert_partition_state s, "
                             "unnest(s.activity_communes, s.activity_at) "
                             "AS a(commune_code, at) "
                             "WHERE s.topic = $1 "
                             "AND s.partition = ANY($2::int[])",
                             2, "could not load alert activity", errstr,
                             errstr_size);
        if (!res)
                goto fail;
        for (int r = 0; r < PQntuples(res); r++) {
                int64_t at = tp_pg_col_ts(res, r, 1);
                struct tp_acommune *c;
                if (at == TP_TS_NONE ||
                    !(p = tp_parts_row(ps, n, p, res, r, 2)))
                        continue;
                c = tp_part_commune(p, PQgetvalue(res, r, 0));
                if (c->cur_last == TP_TS_NONE || at > c->cur_last)
                        c->cur_last = at;
        }
        PQclear(res);
        res = tp_parts_query(conn, ps[0], list,
                             "SELECT tthc.epoch_ms(first_occurred_at), "
                             "tthc.epoch_ms(max_occurred_at), "
                             "tthc.epoch_ms(next_tick), partition "
                             "FROM tthc.alert_partition_state "
                             "WHERE topic = $1 AND partition = ANY($2::int[])",
                             2, "could not load alert partition state", errstr,
                             errstr_size);
        if (!res)
                goto fail;
        for (int r = 0; r < PQntuples(res); r++) {
                if (!(p = tp_parts_row(ps, n, p, res, r, 3)))
                        continue;
                p->first_occ = tp_pg_col_ts(res, r, 0);
                p->max_occ = tp_pg_col_ts(res, r, 1);
                p->next_tick = tp_pg_col_ts(res, r, 2);
        }
        PQclear(res);
        for (size_t i = 0; i < n; i++) {
                ps[i]->loaded = 1;
                ps[i]->own_from = ps[i]->next_tick;
                /* the next tick compares every commune */
                tp_strmap_each(ps[i]->communes, tp_part_dirty_each, ps[i]);
        }
        tp_copybuf_release(&cb);
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                tp_part_unload(ps[i]);
        tp_copybuf_release(&cb);
        return -1;
}

/* ---- applying events
 * ----------------------------------------------------------------- */

/* The row tp_snap_emit writes, kept for the evaluator (tp_alert_feed). */
static void tp_snap_keep(struct tp_alert *al, const struct tp_apart *p,
                         const struct tp_acommune *c, int64_t tick)
{
        struct tp_snaprow *r =
                tp_snaprow_push(&al->snaps, &al->n_snaps, &al->cap_snaps);
        r->tick = tick;
        r->last = c->last;
        r->partition = p->partition;
        r->open = c->open;
        r->overdue = c->overdue;
        r->intake = c->intake;
        r->paused = c->paused;
        tp_strlcpy(r->province, p->province, sizeof(r->province));
        tp_strlcpy(r->commune, c->code, sizeof(r->commune));
}

/* The commune's row at tick, written when it differs from the last one
 * written (or is the first with anything in it). */
static void tp_snap_emit(struct tp_alert *al, const struct tp_apart *p,
                         struct tp_acommune *c, int64_t tick)
{
        struct tp_copybuf *cb = &al->ticks_cb;
        int open = c->tally.open, paused = c->tally.paused;
        int overdue = tp_tally_overdue(&c->tally);
        int intake = tp_tally_intake(&c->tally);
        c->dirty = 0;
        if (c->written && c->open == open && c->overdue == overdue &&
            c->intake == intake && c->paused == paused &&
            c->last == c->cur_last)
                return;
        if (!c->written && !open && !intake && c->cur_last == TP_TS_NONE)
                return;
        c->open = open;
        c->overdue = overdue;
        c->intake = intake;
        c->paused = paused;
        c->last = c->cur_last;
        c->written = 1;
        tp_snap_keep(al, p, c, tick);
        tp_copybuf_str(cb, p->topic);
        tp_copybuf_int(cb, p->partition);
        tp_copybuf_str(cb, p->province);
        tp_copybuf_str(cb, c->code);
        tp_copybuf_ts(cb, tick);
        tp_copybuf_int(cb, c->open);
        tp_copybuf_int(cb, c->overdue);
        tp_copybuf_int(cb, c->intake);
        tp_copybuf_ts(cb, c->last);
        tp_copybuf_int(cb, c->paused);
        tp_copybuf_end_row(cb);
}

/* A new Vietnam day: the shares whose day it passed are counted. */
static void tp_snap_pass(const char *key, void *value, void *ud)
{
        struct tp_apart *p = ud;
        struct tp_acommune *c = value;
        (void)key;
        if (tp_tally_pass(&c->tally, p->tally_day))
                tp_part_dirty(p, c);
}

/* A closed dossier past its tombstone window leaves memory and its row is
 * deleted by the checkpoint. */
static void tp_snap_evict(struct tp_apart *p, int64_t tick)
{
        char *key;
        while ((key = tp_expiry_pop(&p->expiry, tick))) {
                /* queued when it closed: it may have changed since */
                struct tp_dossier *d = tp_store_get(p->dossiers, key);
                if (d && !tp_dossier_is_open(d) && tp_dossier_expiry(d) < tick)
                        tp_store_del(p->dossiers, key);
                free(key);
        }
}

/* The partition's watermark passed tick: record each commune's
 * dossier-state figures as of now (only those that changed). The figures
 * are kept as the dossiers change (tp_alert_apply, tally.h), so a tick
 * costs the communes that changed since the last one, not a walk over
 * every resident dossier. */
static void tp_part_snapshot(struct tp_alert *al, struct tp_apart *p,
                             int64_t tick)
{
        int64_t day = tp_vn_day(tick);
        if (day > p->tally_day) {
                p->tally_day = day;
                tp_strmap_each(p->communes, tp_snap_pass, p);
        }
        for (size_t i = 0; i < p->n_dirty; i++)
                tp_snap_emit(al, p, p->dirty[i], tick);
        p->n_dirty = 0;
        tp_snap_evict(p, tick);
}

static struct tp_dayacc *tp_count_day(struct tp_alert *al, struct tp_apart *p,
                                      const char *commune, int64_t day, int ev,
                                      int rcv, int res, int ok)
{
        char key[64]; /* province and commune are the catalog's codes */
        struct tp_dayacc *a;
        size_t n = 0;
        tp_cat(key, sizeof(key), &n, p->province);
        tp_cat(key, sizeof(key), &n, "|");
        tp_cat(key, sizeof(key), &n, commune);
        tp_cat(key, sizeof(key), &n, "|");
        tp_cat_i64(key, sizeof(key), &n, day);
        a = tp_strmap_get(al->days, key);
        if (!a) {
                a = tp_xcalloc(1, sizeof(*a));
                tp_strlcpy(a->province, p->province, sizeof(a->province));
                tp_strlcpy(a->commune, commune, sizeof(a->commune));
                a->day = day;
                a->last = TP_TS_NONE;
                tp_strmap_put(al->days, key, a);
        }
        a->events += ev;
        a->received += rcv;
        a->resolved += res;
        a->resolved_ok += ok;
        return a;
}

static void tp_count_activity(struct tp_alert *al, struct tp_apart *p,
                              const char *commune, int64_t day, int64_t at)
{
        struct tp_acommune *c = tp_part_commune(p, commune);
        struct tp_dayacc *a = tp_count_day(al, p, commune, day, 1, 0, 0, 0);
        /* checkpointed with the partition's progress while no snapshot
         * holds it: a reload finds it (tp_copy_progress, tp_parts_load) */
        if (c->cur_last == TP_TS_NONE || at > c->cur_last) {
                c->cur_last = at;
                tp_part_dirty(p, c);
        }
        if (a->last == TP_TS_NONE || at > a->last)
                a->last = at;
}

/* The commune whose desk or agency acted in ev (NULL: not a commune). */
static const char *tp_acting_commune(const struct tp_event *ev)
{
        const char *hc =
                ev->handling_commune_given ? ev->handling_commune_code : NULL;
        if (ev->handling_level != TP_LEVEL_COMMUNE)
                return NULL;
        return hc ? hc : ev->commune_code;
}

static void tp_alert_apply(struct tp_alert *al, struct tp_apart *p,
                           const struct tp_event *ev)
{
        int64_t occ = ev->occurred_at, newmax, wm, day;
        struct tp_dossier *d;
        struct tp_effects fx;
        struct tp_share was, now;
        struct tp_acommune *cw, *cn;
        const char *acting;
        int intake, fresh;

        if (p->first_occ == TP_TS_NONE) {
                p->first_occ = occ;
                p->next_tick = tp_hour_floor(occ) + TP_HOUR_MS;
        }
        newmax =
                p->max_occ == TP_TS_NONE || occ > p->max_occ ? occ : p->max_occ;
        wm = newmax - al->rules->lateness_ms;
        while (p->next_tick <= wm) {
                tp_part_snapshot(al, p, p->next_tick);
                p->next_tick += TP_HOUR_MS;
        }
        p->max_occ = newmax;
        d = tp_store_get_or_new(p->dossiers, ev->dossier_id, tp_new_dossier,
                                ev);
        if (tp_dossier_check_seq(d, ev->seq) == TP_SEQ_DUPLICATE) {
                al->pending.duplicates++;
                return;
        }
        tp_store_touch(p->dossiers, ev->dossier_id);
        /* Late events count in the watermark's day: days before the
         * province watermark never change. */
        day = tp_vn_day(occ < wm ? wm : occ);
        acting = tp_acting_commune(ev);
        intake = ev->event_type == TP_EV_SUBMITTED ||
                 ev->event_type == TP_EV_RECEIVED ||
                 ev->event_type == TP_EV_INTAKE_REFUSED;
        fresh = d->status == TP_DS_NONE;
        /* what d counted for before (its commune found now: the event may
         * move the dossier's strings) and after */
        tp_tally_share(&al->cal, d, &was);
        cw = tp_share_commune(p, &was, NULL);
        tp_dossier_apply(d, ev, &fx);
        /* A result handed back after the dossier's tombstone expired:
         * it was resolved, not reopened. */
        if (fresh && ev->event_type == TP_EV_RESULT_RETURNED) {
                d->status = TP_DS_RESOLVED;
                d->closed_at = occ;
        }
        tp_tally_share(&al->cal, d, &now);
        cn = tp_share_commune(p, &now, cw);
        if (cw != cn || was.intake != now.intake || was.paused != now.paused ||
            was.day != now.day) {
                tp_part_count(p, cw, &was, -1);
                tp_part_count(p, cn, &now, 1);
        }
        if (!tp_dossier_is_open(d))
                tp_expiry_push(&p->expiry, tp_dossier_expiry(d),
                               ev->dossier_id);
        al->pending.events++;
        if (acting)
                tp_count_activity(al, p, acting, day, occ);
        if (intake && ev->commune_code &&
            (!acting || strcmp(acting, ev->commune_code) != 0))
                tp_count_activity(al, p, ev->commune_code, day, occ);
        if (fx.received && d->commune_code)
                tp_count_day(al, p, d->commune_code, day, 0, 1, 0, 0);
        if (fx.resolved_early || fx.resolved_on_time || fx.resolved_late) {
                const char *hc = d->handling_commune_code
                                         ? d->handling_commune_code
                                         : acting;
                if (hc)
                        tp_count_day(al, p, hc, day, 0, 0, 1,
                                     fx.resolved_early || fx.resolved_on_time);
        }
}

/* ---- storing
 * ----------------------------------------------------------------------------
 */

static const char tp_temp_tables[] =
        "SET LOCAL client_min_messages = warning;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_adossiers (LIKE "
        " tthc.alert_dossiers, stored boolean) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_akeys (topic text, partition "
        " integer, dossier_id text) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_adays_n (province_code text, "
        " commune_code text, day integer, "
        " events integer, received integer, resolved integer, "
        " resolved_ok integer, last_event_at timestamptz) "
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_aticks (LIKE "
        " tthc.alert_commune_ticks) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_aprogress (LIKE "
        " tthc.alert_partition_state) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_abacklog (LIKE "
        " tthc.commune_backlog_daily) ON COMMIT DELETE ROWS";

struct tp_checkpoint_ctx {
        struct tp_apart *p;
        struct tp_store_pg_rows *rows; /* rows to write */
        struct tp_copybuf *keys;       /* rows to delete */
};

/* A dossier the batch changed: its row, or its key when it was evicted. */
static void tp_copy_dossier(const char *key, void *value, int stored, void *ud)
{
        struct tp_checkpoint_ctx *st = ud;
        const struct tp_dossier *d = value;
        struct tp_copybuf *cb = st->rows->cb;
        if (!d) {
                tp_copybuf_str(st->keys, st->p->topic);
                tp_copybuf_int(st->keys, st->p->partition);
                tp_copybuf_str(st->keys, key);
                tp_copybuf_end_row(st->keys);
                return;
        }
        tp_copybuf_str(cb, st->p->topic);
        tp_copybuf_int4(cb, st->p->partition);
        tp_copybuf_str(cb, st->p->province);
        tp_copybuf_str(cb, d->dossier_id);
        tp_copybuf_str(cb, d->commune_code);
        tp_copybuf_str(cb, d->procedure_code);
        tp_copybuf_str(cb, tp_channel_name(d->channel));
        tp_copybuf_str(cb, tp_dstatus_name(d->status));
        tp_copybuf_ts(cb, d->submitted_at);
        tp_copybuf_ts(cb, d->received_at);
        tp_copybuf_ts(cb, d->closed_at);
        tp_copybuf_ts(cb, d->due_at);
        tp_copybuf_ts(cb, d->original_due_at);
        tp_copybuf_str(cb, tp_level_name(d->handling_level));
        tp_copybuf_str(cb, d->handling_commune_code);
        tp_copybuf_int4(cb, d->open_pauses);
        tp_copybuf_int4(cb, d->last_seq);
        tp_copybuf_ts(cb, d->last_event_at);
        tp_store_pg_row_end(st->rows, stored);
}

static void tp_copy_day(const char *key, void *value, void *ud)
{
        struct tp_dayacc *a = value;
        struct tp_copybuf *cb = ud;
        (void)key;
        tp_copybuf_str(cb, a->province);
        tp_copybuf_str(cb, a->commune);
        tp_copybuf_int(cb, a->day);
        tp_copybuf_int(cb, a->events);
        tp_copybuf_int(cb, a->received);
        tp_copybuf_int(cb, a->resolved);
        tp_copybuf_int(cb, a->resolved_ok);
        tp_copybuf_ts(cb, a->last);
        tp_copybuf_end_row(cb);
}

/* The communes of a partition whose latest activity no snapshot holds
 * yet (later than the last snapshot written), in code order. */
struct tp_activity {
        const struct tp_acommune **c;
        size_t n;
};

static void tp_activity_add(const char *key, void *value, void *ud)
{
        const struct tp_acommune *c = value;
        struct tp_activity *act = ud;
        (void)key;
        if (c->cur_last != TP_TS_NONE &&
            (c->last == TP_TS_NONE || c->cur_last > c->last))
                act->c[act->n++] = c;
}

static int tp_cmp_acommune(const void *a, const void *b)
{
        return strcmp((*(const struct tp_acommune *const *)a)->code,
                      (*(const struct tp_acommune *const *)b)->code);
}

/* activity_communes and activity_at of p's progress row: two array
 * literals, each one COPY field. */
static void tp_copy_activity(const struct tp_apart *p, struct tp_copybuf *cb)
{
        struct tp_activity act;
        struct tp_copybuf arr;
        char ts[40];

        act.c = tp_xcalloc(tp_strmap_count(p->communes) + 1, sizeof(*act.c));
        act.n = 0;
        tp_strmap_each(p->communes, tp_activity_add, &act);
        qsort(act.c, act.n, sizeof(*act.c), tp_cmp_acommune);
        tp_copybuf_init(&arr);
        for (size_t i = 0; i < act.n; i++)
                tp_pgarray_add(&arr, act.c[i]->code, i == 0);
        tp_pgarray_end(&arr);
        tp_copybuf_str(cb, arr.buf.data);
        tp_copybuf_reset(&arr);
        for (size_t i = 0; i < act.n; i++) {
                tp_format_ts(act.c[i]->cur_last, ts, sizeof(ts));
                tp_pgarray_add(&arr, ts, i == 0);
        }
        tp_pgarray_end(&arr);
        tp_copybuf_str(cb, arr.buf.data);
        tp_copybuf_release(&arr);
        free(act.c);
}

/* A partition's event-time progress and offset (one COPY and one upsert
 * for the whole batch: a national stream has over a thousand
 * partitions, one statement each was most of a batch's round trips),
 * with the activity no snapshot holds yet (tp_parts_load reads it). */
static void tp_copy_progress(const struct tp_apart *p,
                             const struct tp_part_range *r,
                             struct tp_copybuf *cb)
{
        /* the high watermark the consumer (or the replay) saw */
        int caught_up = r->high >= 0 && r->next >= r->high;
        tp_copybuf_str(cb, r->topic);
        tp_copybuf_int(cb, r->partition);
        tp_copybuf_str(cb, p->province);
        /* all three TP_TS_NONE until the first event */
        tp_copybuf_ts(cb, p->first_occ);
        tp_copybuf_ts(cb, p->max_occ);
        tp_copybuf_ts(cb, p->next_tick);
        tp_copybuf_bool(cb, caught_up);
        tp_copybuf_int(cb, r->next);
        tp_copy_activity(p, cb);
        tp_copybuf_end_row(cb);
}

/* Each kind of row's COPY into its temporary table and the statement
 * that moves it into its table (TP_AW_*). */
static const struct {
        const char *copy, *sql;
} tp_alert_sends[TP_AW__N] = {
        /* TP_AW_DOSSIERS: al->dossiers */
        [TP_AW_DELETED] = {"COPY tp_akeys FROM STDIN",
                           "DELETE FROM tthc.alert_dossiers d USING "
                           "tp_akeys k WHERE d.topic = k.topic AND "
                           "d.partition = k.partition AND d.dossier_id = "
                           "k.dossier_id"},
        /* day is a day number: COPY it through an int column. The rows
         * are shared by the province's partitions, which other instances
         * may hold: taken in key order, so upserts wait for each other
         * and never deadlock (migration 025). */
        [TP_AW_DAYS] = {"COPY tp_adays_n FROM STDIN",
                        "INSERT INTO tthc.alert_commune_days AS t "
                        "(province_code, commune_code, day, events, "
                        "received, resolved, resolved_ok, last_event_at) "
                        "SELECT province_code, commune_code, "
                        "DATE '1970-01-01' + day, events, received, "
                        "resolved, resolved_ok, last_event_at FROM "
                        "tp_adays_n ORDER BY province_code, day, "
                        "commune_code ON CONFLICT (province_code, day, "
                        "commune_code) DO UPDATE SET events = t.events "
                        "+ EXCLUDED.events, received = t.received + "
                        "EXCLUDED.received, resolved = t.resolved + "
                        "EXCLUDED.resolved, resolved_ok = t.resolved_ok + "
                        "EXCLUDED.resolved_ok, last_event_at = "
                        "greatest(t.last_event_at, EXCLUDED.last_event_at)"},
        /* Through a TEMP table: the table has row-level security (007),
         * and COPY FROM refuses it for every role but its owner. */
        [TP_AW_TICKS] = {"COPY tp_aticks (topic, partition, "
                         "province_code, commune_code, tick, open, "
                         "overdue, intake_backlog, last_event_at, "
                         "paused) FROM STDIN",
                         "INSERT INTO tthc.alert_commune_ticks SELECT * "
                         "FROM tp_aticks"},
        [TP_AW_PROGRESS] =
                {"COPY tp_aprogress (topic, partition, "
                 "province_code, first_occurred_at, "
                 "max_occurred_at, next_tick, caught_up, "
                 "next_offset, activity_communes, activity_at) FROM STDIN",
                 "INSERT INTO tthc.alert_partition_state (topic, partition, "
                 "province_code, first_occurred_at, max_occurred_at, "
                 "next_tick, caught_up, last_message_at, next_offset, "
                 "activity_communes, activity_at) "
                 "SELECT topic, partition, province_code, first_occurred_at, "
                 "max_occurred_at, next_tick, caught_up, now(), next_offset, "
                 "activity_communes, activity_at "
                 "FROM tp_aprogress ON CONFLICT (topic, partition) DO UPDATE "
                 "SET first_occurred_at = EXCLUDED.first_occurred_at, "
                 "max_occurred_at = EXCLUDED.max_occurred_at, next_tick = "
                 "EXCLUDED.next_tick, caught_up = EXCLUDED.caught_up, "
                 "last_message_at = now(), next_offset = EXCLUDED.next_offset, "
                 "activity_communes = EXCLUDED.activity_communes, "
                 "activity_at = EXCLUDED.activity_at"},
};

static int tp_cmp_prov(const void *a, const void *b)
{
        return strcmp(((const struct tp_aprov *)a)->topic,
                      ((const struct tp_aprov *)b)->topic);
}

/* The provinces of the batch, each once, in topic order (the evaluator
 * locks the province's row), with their partition counts. */
static void tp_stage_provinces(struct tp_alert *al, struct tp_batch *b,
                               struct tp_alert_staged *st)
{
        st->provs = tp_xcalloc(b->n_parts + 1, sizeof(*st->provs));
        for (size_t i = 0; i < b->n_parts; i++) {
                const char *topic = b->parts[i].topic;
                const int *n_parts = tp_strmap_get(al->topics, topic);
                int seen = 0;
                if (!tp_topic_province(topic))
                        continue;
                for (size_t k = 0; k < st->n_provs && !seen; k++)
                        seen = strcmp(st->provs[k].topic, topic) == 0;
                if (seen)
                        continue;
                st->provs[st->n_provs].topic = topic;
                st->provs[st->n_provs++].n_parts = n_parts ? *n_parts : 1;
        }
        qsort(st->provs, st->n_provs, sizeof(*st->provs), tp_cmp_prov);
}

static int tp_cmp_apart(const void *a, const void *b)
{
        const struct tp_apart *x = *(struct tp_apart *const *)a;
        const struct tp_apart *y = *(struct tp_apart *const *)b;
        int c = strcmp(x->topic, y->topic);
        return c ? c
                 : (x->partition > y->partition) -
                               (x->partition < y->partition);
}

/* Loads the partitions of b we do not hold, or hold stale (another
 * instance owned them since), a topic at a time, and starts every
 * partition's store attempt. */
static int tp_stage_parts(struct tp_alert *al, struct tp_batch *b, PGconn *conn,
                          char *errstr, size_t errstr_size)
{
        /* ps[0..n_parts): the batch's partitions; todo: those to load */
        struct tp_apart **ps = tp_xcalloc(2 * b->n_parts + 1, sizeof(*ps));
        struct tp_apart **todo = ps + b->n_parts;
        size_t n = 0;
        int rc = 0;
        for (size_t i = 0; i < b->n_parts; i++) {
                struct tp_part_range *r = &b->parts[i];
                ps[i] = tp_part_get(al, r->topic, r->partition);
                if (!ps[i]->loaded || ps[i]->next_offset != r->start)
                        todo[n++] = ps[i];
        }
        qsort(todo, n, sizeof(*todo), tp_cmp_apart);
        for (size_t i = 0, k; i < n && rc == 0; i = k) {
                for (k = i + 1;
                     k < n && strcmp(todo[k]->topic, todo[i]->topic) == 0; k++)
                        ;
                rc = tp_parts_load(&al->cal, todo + i, k - i, conn, errstr,
                                   errstr_size);
        }
        /* An attempt that did not commit forgot every partition
         * (tp_alert_stage, tp_alert_done), so the store holds committed or
         * sealed state here; staleness is the offset check's, hence no
         * epoch. */
        for (size_t i = 0; i < b->n_parts && rc == 0; i++)
                tp_store_begin(ps[i]->dossiers, 0);
        free(ps);
        return rc;
}

/* The rows of the batch's changes into st, and each partition's attempt
 * sealed: its state in memory now reaches the batch's end. */
static void tp_stage_rows(struct tp_alert *al, struct tp_batch *b,
                          struct tp_alert_staged *st)
{
        st->sealed = tp_xcalloc(b->n_parts + 1, sizeof(*st->sealed));
        for (size_t i = 0; i < b->n_parts; i++) {
                struct tp_part_range *r = &b->parts[i];
                struct tp_apart *p = tp_part_get(al, r->topic, r->partition);
                struct tp_checkpoint_ctx cc = {p, &st->dossiers,
                                               &st->rows[TP_AW_DELETED]};
                tp_store_each_touched(p->dossiers, tp_copy_dossier, &cc);
                tp_copy_progress(p, r, &st->rows[TP_AW_PROGRESS]);
                st->sealed[i].topic = r->topic;
                st->sealed[i].partition = r->partition;
                st->sealed[i].gen = tp_store_seal(p->dossiers);
                st->sealed[i].own_from = p->own_from;
                st->sealed[i].next_offset = r->next;
                p->next_offset = r->next;
        }
        st->n_sealed = b->n_parts;
        tp_strmap_each(al->days, tp_copy_day, &st->rows[TP_AW_DAYS]);
        /* the snapshot rows change hands */
        st->rows[TP_AW_TICKS] = al->ticks_cb;
        tp_copybuf_init(&al->ticks_cb);
        st->snaps = al->snaps;
        st->n_snaps = al->n_snaps;
        al->snaps = NULL;
        al->n_snaps = al->cap_snaps = 0;
}

static void tp_alert_staged_free(struct tp_batch *b)
{
        struct tp_alert_staged *st = b->staged;
        if (!st)
                return;
        for (int i = 0; i < TP_AW__N; i++)
                tp_copybuf_release(&st->rows[i]);
        free(st->sealed);
        free(st->provs);
        free(st->snaps);
        free(st);
        b->staged = NULL;
}

int tp_alert_stage(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size)
{
        struct tp_alert *al = ctx;
        struct tp_alert_staged *st;

        /* Staged before: that attempt applied the batch in memory and did
         * not commit, and nothing else is in flight (the consumer commits
         * one batch at a time after a failure): forget everything and
         * reload from PostgreSQL. */
        if (b->staged) {
                tp_alert_staged_free(b);
                tp_alert_forget(al);
        }
        memset(&al->pending, 0, sizeof(al->pending));
        tp_copybuf_reset(&al->ticks_cb);
        al->n_snaps = 0;
        tp_alert_clear_days(al);
        if (tp_pg_exec(conn, tp_temp_tables, errstr, errstr_size) != 0 ||
            tp_stage_parts(al, b, conn, errstr, errstr_size) != 0)
                return -1;
        for (size_t i = 0; i < al->n_entries; i++) {
                struct tp_aentry *e = &al->entries[i];
                b->msgs[i].reason = e->reason;
                if (e->reason != TP_REASON_OK) {
                        if (e->reason == TP_REASON_DB_REJECTED)
                                al->pending.db_rejected++;
                        else
                                al->pending.invalid++;
                        continue;
                }
                tp_alert_apply(
                        al, tp_part_get(al, e->msg->topic, e->msg->partition),
                        &e->ev);
        }
        st = tp_xcalloc(1, sizeof(*st));
        for (int i = 0; i < TP_AW__N; i++)
                tp_copybuf_init(&st->rows[i]);
        /* the largest rows, the dearest to parse as text */
        tp_copybuf_init_binary(&st->rows[TP_AW_DOSSIERS]);
        st->dossiers.cb = &st->rows[TP_AW_DOSSIERS];
        tp_stage_rows(al, b, st);
        tp_stage_provinces(al, b, st);
        st->pending = al->pending;
        st->conn = conn;
        memset(&al->pending, 0, sizeof(al->pending));
        tp_alert_clear_days(al);
        tp_alert_clear_entries(al);
        b->staged = st;
        return 0;
}

/* Sends b's staged rows over conn, then evaluates its provinces. On the
 * consumer's worker thread in a pipeline: see tp_alert_evaluate. */
int tp_alert_flush(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size)
{
        struct tp_alert *al = ctx;
        struct tp_alert_staged *st = b->staged;

        if (tp_store_pg_flush_conn(st->conn, conn, tp_temp_tables, errstr,
                                   errstr_size) != 0)
                return -1;
        if (tp_store_pg_write(conn, &al->dossiers, &st->dossiers, errstr,
                              errstr_size) != 0)
                return -1;
        for (int i = TP_AW_DOSSIERS + 1; i < TP_AW__N; i++)
                if (tp_copybuf_apply(conn, &st->rows[i], tp_alert_sends[i].copy,
                                     tp_alert_sends[i].sql, errstr,
                                     errstr_size) != 0)
                        return -1;
        tp_alert_feed(al, st);
        for (size_t i = 0; i < st->n_provs; i++)
                if (tp_alert_evaluate(al, conn, st->provs[i].topic,
                                      st->provs[i].n_parts, &st->pending,
                                      errstr, errstr_size) != 0)
                        return -1;
        return 0;
}

/* The batch of b committed (its sealed attempts settled) or was
 * abandoned (everything in memory forgotten: reloaded from
 * PostgreSQL). With pipelined checkpoints this may come after the next
 * batch was staged: what it needs is in b->staged. */
void tp_alert_done(void *ctx, struct tp_batch *b, int committed)
{
        struct tp_alert *al = ctx;
        const struct tp_alert_staged *st = b->staged;

        if (committed && st) {
                for (size_t i = 0; i < st->n_sealed; i++) {
                        struct tp_apart *p =
                                tp_part_find(al, st->sealed[i].topic,
                                             st->sealed[i].partition);
                        if (p)
                                tp_store_commit_sealed(p->dossiers,
                                                       st->sealed[i].gen);
                }
                al->counts.events += st->pending.events;
                al->counts.duplicates += st->pending.duplicates;
                al->counts.invalid += st->pending.invalid;
                al->counts.db_rejected += st->pending.db_rejected;
                al->counts.fired += st->pending.fired;
                al->counts.changed += st->pending.changed;
                al->counts.resolved += st->pending.resolved;
                al->counts.ticks += st->pending.ticks;
                al->counts.snaps_memory += st->pending.snaps_memory;
                al->counts.snaps_table += st->pending.snaps_table;
        } else if (!committed) {
                tp_alert_forget(al);
        }
        tp_alert_staged_free(b);
        tp_alert_clear_entries(al);
}
