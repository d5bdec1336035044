/* sweep.c - the province evaluator: at each hourly tick of a province's
 * watermark, the figures of every commune from the combined state of all
 * the province's partitions, the rules, and the episodes they open,
 * change and resolve (tthc.alerts, tthc.alert_outbox, NOTIFY). Runs inside
 * the batch transaction, under a lock on the province's row, so whichever
 * instance gets there evaluates, and only from data that is final for the
 * tick: the result does not depend on who or when. */
#include "alert_int.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_skey {
        char commune[8];
        int open, overdue, intake, paused;
        int64_t last;
};

struct tp_episode {
        char id[37];
        char commune[8];
        enum tp_rule rule;
        enum tp_sev sev;
        int64_t started, volume_lost;
};

struct tp_sweep {
        struct tp_alert *al;
        struct tp_alert_counts *counts; /* the batch's */
        PGconn *conn;
        const char *prov;
        const char *topic;
        struct tp_strmap *keys; /* pc->keys: "partition|commune" */
        struct tp_strmap *figs; /* commune -> tp_commune_fig */
        struct tp_strmap *eps;  /* "commune|rule" -> tp_episode */
        struct tp_pcache *pc;
        struct tp_copybuf backlog; /* tthc.commune_backlog_daily rows */
        int64_t tick, day, first_day;
        int month_closed;  /* a tick crossed into a new Vietnam month */
        int parts_drained; /* every partition read to its end */
        /* each partition's next_offset as stored (snapfeed.h) */
        int64_t *offsets;
        int n_parts;
        int unknown_parts; /* a state row of a partition >= n_parts */
        int midnight;      /* the ticks evaluated crossed a Vietnam midnight */
        char *errstr;
        size_t errstr_size;
        int failed;
};

static const enum tp_rule tp_commune_rules[] = {
        TP_RULE_OVERDUE_BACKLOG, TP_RULE_ON_TIME_RATE, TP_RULE_BACKLOG_GROWTH,
        TP_RULE_COMMUNE_SILENT, TP_RULE_INTAKE_BACKLOG};

/* A query of the sweep; NULL after filling sw->errstr ("<what>: ..."). */
static PGresult *tp_sweep_query(struct tp_sweep *sw, const char *sql, int n,
                                const char *const *params, const char *what)
{
        return tp_pg_query(sw->conn, sql, n, params, what, sw->errstr,
                           sw->errstr_size);
}

/* A statement of the sweep; -1 after filling sw->errstr. */
static int tp_sweep_exec(struct tp_sweep *sw, const char *sql, int n,
                         const char *const *params, const char *what)
{
        return tp_pg_exec_params(sw->conn, sql, n, params, PGRES_COMMAND_OK,
                                 what, sw->errstr, sw->errstr_size);
}

/* The month of a day (days since the epoch), as year * 12 + month. */
static int tp_month_of(int64_t day)
{
        int y, m, d;
        tp_civil_from_days(day, &y, &m, &d);
        return y * 12 + m;
}

static void tp_fmt_day(int64_t day, char *buf, size_t size)
{
        int y, m, d;
        tp_civil_from_days(day, &y, &m, &d);
        snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

/* ---- day counters
 * ------------------------------------------------------------- */

static struct tp_cday *tp_cday_get(struct tp_pcache *pc, const char *commune)
{
        struct tp_cday *cd = tp_strmap_get(pc->days, commune);
        if (!cd) {
                cd = tp_xcalloc(1, sizeof(*cd));
                for (int i = 0; i < TP_DAY_RING; i++)
                        cd->day_of[i] = INT64_MIN;
                tp_strmap_put(pc->days, commune, cd);
        }
        return cd;
}

struct tp_inval {
        int64_t lo, hi;
};

static void tp_cday_invalidate(const char *key, void *value, void *ud)
{
        struct tp_cday *cd = value;
        struct tp_inval *iv = ud;
        (void)key;
        for (int64_t d = iv->lo; d < iv->hi; d++) {
                int s = (int)(d & (TP_DAY_RING - 1));
                cd->day_of[s] = d;
                cd->events[s] = cd->received[s] = 0;
                cd->resolved[s] = cd->resolved_ok[s] = 0;
        }
}

/* Makes sure the days before day are cached (they are final). */
static int tp_pcache_load(struct tp_sweep *sw, int64_t day)
{
        struct tp_pcache *pc = sw->pc;
        struct tp_inval iv;
        char lo_s[16], hi_s[16];
        const char *params[3] = {sw->prov, lo_s, hi_s};
        PGresult *res;

        if (pc->hi >= day)
                return 0;
        iv.lo = pc->hi > day - TP_DAY_RING ? pc->hi : day - TP_DAY_RING;
        iv.hi = day;
        tp_fmt_day(iv.lo, lo_s, sizeof(lo_s));
        tp_fmt_day(iv.hi, hi_s, sizeof(hi_s));
        res = tp_sweep_query(
                sw,
                "SELECT commune_code, (day - DATE '1970-01-01'), "
                "sum(events), sum(received), sum(resolved), "
                "sum(resolved_ok) FROM tthc.alert_commune_days WHERE "
                "province_code = $1 AND day >= $2::date AND day < $3::date "
                "GROUP BY 1, 2",
                3, params, "could not load commune day counters");
        if (!res)
                return -1;
        tp_strmap_each(pc->days, tp_cday_invalidate, &iv);
        for (int r = 0; r < PQntuples(res); r++) {
                struct tp_cday *cd = tp_cday_get(pc, PQgetvalue(res, r, 0));
                int64_t d = strtoll(PQgetvalue(res, r, 1), NULL, 10);
                int s = (int)(d & (TP_DAY_RING - 1));
                if (cd->day_of[s] != d)
                        tp_cday_invalidate(NULL, cd,
                                           &(struct tp_inval){d, d + 1});
                cd->events[s] = tp_pg_col_int(res, r, 2);
                cd->received[s] = tp_pg_col_int(res, r, 3);
                cd->resolved[s] = tp_pg_col_int(res, r, 4);
                cd->resolved_ok[s] = tp_pg_col_int(res, r, 5);
        }
        PQclear(res);
        pc->hi = day;
        return 0;
}

static void tp_cday_sum(const struct tp_cday *cd, int64_t a, int64_t b, int *ev,
                        int *rcv, int *res, int *ok)
{
        *ev = *rcv = *res = *ok = 0;
        for (int64_t d = a; cd && d < b; d++) {
                int s = (int)(d & (TP_DAY_RING - 1));
                if (cd->day_of[s] != d)
                        continue;
                *ev += cd->events[s];
                *rcv += cd->received[s];
                *res += cd->resolved[s];
                *ok += cd->resolved_ok[s];
        }
}

/* Fills the window figures of fig from the day counters. */
static void tp_sweep_windows(struct tp_sweep *sw, const char *commune,
                             struct tp_commune_fig *fig)
{
        const struct tp_rules *rules = sw->al->rules;
        const struct tp_cday *cd = tp_strmap_get(sw->pc->days, commune);
        int ev, rcv, res, ok, w;
        int64_t d = sw->day;

        w = tp_rules_get(rules, sw->prov, TP_RULE_ON_TIME_RATE)->window_days;
        tp_cday_sum(cd, d - w, d, &ev, &rcv, &res, &ok);
        fig->resolved_w = res;
        fig->resolved_ok_w = ok;
        w = tp_rules_get(rules, sw->prov, TP_RULE_BACKLOG_GROWTH)->window_days;
        tp_cday_sum(cd, d - w, d, &ev, &rcv, &res, &ok);
        fig->resolved_g = res;
        fig->received_g = rcv;
        fig->history_days = (int)(d - sw->first_day);
        fig->silent_days = 0;
        fig->baseline = 0;
        if (fig->last_event_at != TP_TS_NONE) {
                int64_t last = tp_vn_day(fig->last_event_at);
                int64_t from = last + 1 > d - 400 ? last + 1 : d - 400;
                int wd;
                w = tp_rules_get(rules, sw->prov, TP_RULE_COMMUNE_SILENT)
                            ->window_days;
                fig->silent_days = tp_workcal_between(&sw->al->cal, from, d);
                tp_cday_sum(cd, last - w + 1, last + 1, &ev, &rcv, &res, &ok);
                /* Only the days the stream covers count. */
                wd = tp_workcal_between(&sw->al->cal,
                                        last - w + 1 > sw->first_day
                                                ? last - w + 1
                                                : sw->first_day,
                                        last + 1);
                fig->baseline = (double)ev / (wd > 0 ? wd : 1);
        }
}

/* ---- details and episode writes
 * --------------------------------------------------- */

static const char *tp_rule_title_en(enum tp_rule rule)
{
        static const char *const t[TP_RULE__COUNT] = {
                "overdue dossiers pile up",  "on-time rate is low",
                "backlog is growing",        "the desk has gone silent",
                "the province feed stopped", "online dossiers wait for intake"};
        return t[rule];
}

static const char *tp_rule_title_vi(enum tp_rule rule)
{
        static const char *const t[TP_RULE__COUNT] = {
                "hồ sơ quá hạn tồn đọng",
                "tỷ lệ giải quyết đúng hạn thấp",
                "hồ sơ tồn đọng tăng",
                "bộ phận một cửa không phát sinh giao dịch",
                "dữ liệu của tỉnh ngừng cập nhật",
                "hồ sơ trực tuyến chờ tiếp nhận"};
        return t[rule];
}

char *tp_alert_details_json(const char *province, const char *commune,
                            const struct tp_place_name *name, enum tp_rule rule,
                            enum tp_sev sev, enum tp_change change,
                            double value, double threshold, int64_t tick,
                            const struct tp_commune_fig *fig,
                            const char *resolution)
{
        json_t *o = json_object();
        char ts[40], en[768], vi[768], where_vi[320], where_en[320];
        char *out;
        const char *code = commune ? commune : province;
        const char *state = change == TP_CHANGE_RESOLVED ? "resolved"
                            : sev == TP_SEV_CRITICAL     ? "critical"
                                                         : "warning";

        snprintf(where_vi, sizeof(where_vi), "%s%s%s%s",
                 name      ? name->vi
                 : commune ? "Xã/phường "
                           : "Tỉnh ",
                 name ? " (" : "", code, name ? ")" : "");
        snprintf(where_en, sizeof(where_en), "%s%s%s%s",
                 name      ? name->en
                 : commune ? "commune "
                           : "province ",
                 name ? " (" : "", code, name ? ")" : "");
        tp_format_ts(tick, ts, sizeof(ts));
        if (name)
                json_object_set_new(o,
                                    commune ? "commune_name" : "province_name",
                                    json_string(name->vi));
        json_object_set_new(o, "rule", json_string(tp_rule_name(rule)));
        json_object_set_new(o, "change", json_string(tp_change_name(change)));
        json_object_set_new(o, "province_code", json_string(province));
        if (commune)
                json_object_set_new(o, "commune_code", json_string(commune));
        json_object_set_new(o, "at", json_string(ts));
        json_object_set_new(o, "value", json_real(value));
        json_object_set_new(o, "threshold", json_real(threshold));
        if (resolution)
                json_object_set_new(o, "resolution", json_string(resolution));
        if (fig) {
                const struct {
                        const char *name;
                        int n;
                } counts[] = {
                        {"open_dossiers", fig->open},
                        {"overdue_open", fig->overdue},
                        {"intake_backlog", fig->intake_backlog},
                        {"resolved_window", fig->resolved_w},
                        {"resolved_on_time_window", fig->resolved_ok_w},
                        {"resolved_growth_window", fig->resolved_g},
                        {"received_growth_window", fig->received_g},
                        {"silent_working_days", fig->silent_days},
                };
                for (size_t i = 0; i < TP_ARRAY_LEN(counts); i++)
                        json_object_set_new(o, counts[i].name,
                                            json_integer(counts[i].n));
                json_object_set_new(
                        o, "baseline_events_per_working_day",
                        json_real(round(fig->baseline * 100) / 100));
                if (fig->last_event_at != TP_TS_NONE) {
                        tp_format_ts(fig->last_event_at, ts, sizeof(ts));
                        json_object_set_new(o, "last_event_at",
                                            json_string(ts));
                }
        }
        snprintf(en, sizeof(en), "%s: %s (%s %.4g, threshold %.4g)", where_en,
                 tp_rule_title_en(rule), tp_rule_name(rule), value, threshold);
        snprintf(vi, sizeof(vi), "%s: %s (%s %.4g, ngưỡng %.4g)", where_vi,
                 tp_rule_title_vi(rule), tp_rule_name(rule), value, threshold);
        json_object_set_new(o, "state", json_string(state));
        json_object_set_new(o, "summary_en", json_string(en));
        json_object_set_new(o, "summary_vi", json_string(vi));
        out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
                                    JSON_REAL_PRECISION(10));
        json_decref(o);
        if (!out)
                abort();
        return out;
}

/* Records a change of an episode: tthc.alerts, the outbox, NOTIFY. */
int tp_alert_record(PGconn *conn, const char *id, const char *province,
                    const char *commune, enum tp_rule rule, enum tp_sev sev,
                    enum tp_change change, double value, double threshold,
                    int64_t at, int64_t started, const char *resolution,
                    const char *details, char *errstr, size_t errstr_size)
{
        char v[40], t[40], at_s[40], st_s[40];
        const char *sevs = tp_sev_name(sev);
        const char *status =
                change == TP_CHANGE_RESOLVED ? "resolved" : "firing";
        int rc;

        snprintf(v, sizeof(v), "%.17g", value);
        snprintf(t, sizeof(t), "%.17g", threshold);
        tp_format_ts(at, at_s, sizeof(at_s));
        tp_format_ts(started, st_s, sizeof(st_s));
        if (change == TP_CHANGE_FIRED) {
                const char *p[9] = {
                        id, province, commune, tp_rule_name(rule), sevs, v,
                        t,  st_s,     details};
                rc = tp_pg_exec_params(
                        conn,
                        "INSERT INTO tthc.alerts (alert_id, "
                        "province_code, commune_code, rule, severity, "
                        "status, value, threshold, started_at, details, "
                        "changed_at) VALUES ($1, $2, $3, $4, $5, "
                        "'firing', $6, $7, $8, $9, $8) ON CONFLICT "
                        "(alert_id) DO UPDATE SET severity = "
                        "EXCLUDED.severity, status = 'firing', value = "
                        "EXCLUDED.value, threshold = EXCLUDED.threshold, "
                        "details = EXCLUDED.details, resolved_at = "
                        "NULL, resolution = NULL, volume_lost_at = NULL, "
                        "changed_at = EXCLUDED.changed_at, updated_at = "
                        "now()",
                        9, p, PGRES_COMMAND_OK, "could not record an alert",
                        errstr, errstr_size);
        } else {
                const char *p[8] = {id,   sevs,   v,          t,
                                    at_s, status, resolution, details};
                rc = tp_pg_exec_params(
                        conn,
                        "UPDATE tthc.alerts SET severity = $2, value = "
                        "$3, threshold = $4, changed_at = $5, status = "
                        "$6, resolved_at = CASE WHEN $6 = 'resolved' "
                        "THEN $5::timestamptz END, resolution = $7, "
                        "details = $8, volume_lost_at = NULL, "
                        "updated_at = now() WHERE alert_id = $1",
                        8, p, PGRES_COMMAND_OK, "could not update an alert",
                        errstr, errstr_size);
        }
        if (rc == 0) {
                /* the outbox row and the wake-up of the sink thread */
                const char *p[8] = {id,   tp_change_name(change),
                                    sevs, status,
                                    v,    t,
                                    at_s, details};
                rc = tp_pg_exec_params(
                        conn,
                        "WITH q AS (INSERT INTO tthc.alert_outbox "
                        "(alert_id, change, severity, status, value, "
                        "threshold, changed_at, details) VALUES ($1, $2, "
                        "$3, $4, $5, $6, $7, $8)) "
                        "SELECT pg_notify('tthc_alerts', $1::text)",
                        8, p, PGRES_TUPLES_OK, "could not queue an alert",
                        errstr, errstr_size);
        }
        return rc;
}

static int tp_sweep_volume(struct tp_sweep *sw, struct tp_episode *ep,
                           int64_t at)
{
        char ts[40];
        const char *p[2] = {ep->id, at == TP_TS_NONE ? NULL : ts};
        if (at != TP_TS_NONE)
                tp_format_ts(at, ts, sizeof(ts));
        ep->volume_lost = at;
        return tp_sweep_exec(sw,
                             "UPDATE tthc.alerts SET volume_lost_at = $2, "
                             "updated_at = now() WHERE alert_id = $1",
                             2, p, "could not update an alert");
}

static int tp_sweep_rule(struct tp_sweep *sw, const char *commune,
                         const struct tp_commune_fig *fig, enum tp_rule rule)
{
        const struct tp_rule_params *p =
                tp_rules_get(sw->al->rules, sw->prov, rule);
        char key[64], *details;
        struct tp_episode *ep;
        enum tp_sev next;
        enum tp_change ch;
        const char *resolution = NULL;
        int can_fire, can_judge, rc;
        double value;

        snprintf(key, sizeof(key), "%s|%d", commune, (int)rule);
        ep = tp_strmap_get(sw->eps, key);
        if (ep && ep->sev == TP_SEV_NONE)
                ep = NULL;
        if (!ep && !p->enabled)
                return 0;
        value = tp_alert_rule_value(rule, p, fig, &can_fire, &can_judge);
        ch = tp_alert_step(rule, p, ep ? ep->sev : TP_SEV_NONE, value, can_fire,
                           can_judge, &next);
        if (ep && ch == TP_CHANGE_NONE) {
                if (can_judge && ep->volume_lost != TP_TS_NONE)
                        return tp_sweep_volume(sw, ep, TP_TS_NONE);
                if (can_judge)
                        return 0;
                if (ep->volume_lost == TP_TS_NONE)
                        return tp_sweep_volume(sw, ep, sw->tick);
                if (sw->tick - ep->volume_lost <
                    p->insufficient_days * TP_DAY_MS)
                        return 0;
                ch = TP_CHANGE_RESOLVED;
                next = TP_SEV_NONE;
                resolution = "insufficient_data";
        }
        if (ch == TP_CHANGE_NONE)
                return 0;
        if (ch == TP_CHANGE_RESOLVED && !resolution)
                resolution = "cleared";
        if (!ep) {
                /* A resolved episode of the same commune and rule is
                 * reused in place: the map owns one struct per key. */
                ep = tp_strmap_get(sw->eps, key);
                if (!ep) {
                        ep = tp_xcalloc(1, sizeof(*ep));
                        tp_strmap_put(sw->eps, key, ep);
                }
                memset(ep, 0, sizeof(*ep));
                tp_strlcpy(ep->commune, commune, sizeof(ep->commune));
                ep->rule = rule;
        }
        if (ch == TP_CHANGE_FIRED) {
                ep->started = sw->tick;
                ep->volume_lost = TP_TS_NONE;
                tp_alert_episode_id(sw->prov, commune, rule, sw->tick, ep->id);
        }
        {
                enum tp_sev shown = next == TP_SEV_NONE ? ep->sev : next;
                double thr = tp_alert_threshold(
                        p, ch == TP_CHANGE_RESOLVED ? TP_SEV_NONE : next);
                details = tp_alert_details_json(
                        sw->prov, commune,
                        tp_strmap_get(sw->pc->names, commune), rule, shown, ch,
                        value, thr, sw->tick, fig, resolution);
                rc = tp_alert_record(sw->conn, ep->id, sw->prov, commune, rule,
                                     shown, ch, value, thr, sw->tick,
                                     ep->started, resolution, details,
                                     sw->errstr, sw->errstr_size);
                free(details);
        }
        if (ch == TP_CHANGE_FIRED)
                sw->counts->fired++;
        else if (ch == TP_CHANGE_CHANGED)
                sw->counts->changed++;
        else
                sw->counts->resolved++;
        tp_log_debug("alert %s %s %s commune %s at %lld value %g",
                     tp_change_name(ch), tp_rule_name(rule), ep->id, commune,
                     (long long)sw->tick, value);
        ep->sev = next;
        return rc;
}

/* ---- the sweep
 * ------------------------------------------------------------------------- */

static struct tp_commune_fig *tp_sweep_fig(struct tp_sweep *sw,
                                           const char *commune)
{
        struct tp_commune_fig *f = tp_strmap_get(sw->figs, commune);
        if (!f) {
                f = tp_xcalloc(1, sizeof(*f));
                f->last_event_at = TP_TS_NONE;
                tp_strmap_put(sw->figs, commune, f);
        }
        return f;
}

static void tp_fig_zero(const char *key, void *value, void *ud)
{
        struct tp_commune_fig *f = value;
        (void)key;
        (void)ud;
        memset(f, 0, sizeof(*f));
        f->last_event_at = TP_TS_NONE;
}

static void tp_fig_add_key(const char *key, void *value, void *ud)
{
        struct tp_sweep *sw = ud;
        struct tp_skey *k = value;
        struct tp_commune_fig *f = tp_sweep_fig(sw, k->commune);
        (void)key;
        f->open += k->open;
        f->paused += k->paused;
        f->overdue += k->overdue;
        f->intake_backlog += k->intake;
        if (k->last != TP_TS_NONE &&
            (f->last_event_at == TP_TS_NONE || k->last > f->last_event_at))
                f->last_event_at = k->last;
}

static void tp_fig_add_cday(const char *key, void *value, void *ud)
{
        (void)value;
        tp_sweep_fig(ud, key);
}

static void tp_fig_add_ep(const char *key, void *value, void *ud)
{
        struct tp_episode *ep = value;
        (void)key;
        tp_sweep_fig(ud, ep->commune);
}

static void tp_fig_eval(const char *key, void *value, void *ud)
{
        struct tp_sweep *sw = ud;
        struct tp_commune_fig *f = value;
        if (sw->failed)
                return;
        tp_sweep_windows(sw, key, f);
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_commune_rules); i++)
                if (tp_sweep_rule(sw, key, f, tp_commune_rules[i]) != 0) {
                        sw->failed = 1;
                        return;
                }
}

static int tp_sweep_episodes(struct tp_sweep *sw)
{
        const char *params[1] = {sw->prov};
        PGresult *res = tp_sweep_query(sw,
                                       "SELECT alert_id, commune_code, rule, "
                                       "severity, tthc.epoch_ms(started_at), "
                                       "tthc.epoch_ms(volume_lost_at) "
                                       "FROM tthc.alerts "
                                       "WHERE province_code = $1 "
                                       "AND status = 'firing' "
                                       "AND commune_code IS NOT NULL",
                                       1, params, "could not load open alerts");
        if (!res)
                return -1;
        for (int r = 0; r < PQntuples(res); r++) {
                struct tp_episode *ep = tp_xcalloc(1, sizeof(*ep));
                const char *rn = PQgetvalue(res, r, 2);
                char key[64];
                int rule = tp_rule_parse(rn, strlen(rn));
                int sev = tp_sev_parse(PQgetvalue(res, r, 3));
                tp_strlcpy(ep->id, PQgetvalue(res, r, 0), sizeof(ep->id));
                tp_strlcpy(ep->commune, PQgetvalue(res, r, 1),
                           sizeof(ep->commune));
                ep->rule = (enum tp_rule)(rule < 0 ? 0 : rule);
                ep->sev = sev < 0 ? TP_SEV_WARNING : (enum tp_sev)sev;
                ep->started = tp_pg_col_ts(res, r, 4);
                ep->volume_lost = tp_pg_col_ts(res, r, 5);
                snprintf(key, sizeof(key), "%s|%d", ep->commune, rule);
                if (rule < 0) {
                        free(ep);
                        continue;
                }
                tp_strmap_put(sw->eps, key, ep);
        }
        PQclear(res);
        return 0;
}

void tp_place_name_free(void *value)
{
        struct tp_place_name *n = value;
        free(n->vi);
        free(n->en);
        free(n);
}

/* The names of the province's communes, once per process (reference
 * data). */
static int tp_pcache_names(struct tp_sweep *sw)
{
        const char *params[1] = {sw->prov};
        PGresult *res;
        if (tp_strmap_count(sw->pc->names) > 0)
                return 0;
        res = tp_sweep_query(sw,
                             "SELECT code, full_name, full_name_en "
                             "FROM tthc.communes WHERE province_code = $1",
                             1, params, "could not load commune names");
        if (!res)
                return -1;
        for (int r = 0; r < PQntuples(res); r++) {
                struct tp_place_name *n = tp_xcalloc(1, sizeof(*n));
                n->vi = tp_xstrdup(PQgetvalue(res, r, 1));
                n->en = tp_xstrdup(PQgetvalue(res, r, 2));
                tp_strmap_put(sw->pc->names, PQgetvalue(res, r, 0), n);
        }
        PQclear(res);
        return 0;
}

static struct tp_pcache *tp_pcache_get(struct tp_alert *al, const char *prov)
{
        struct tp_pcache *pc = tp_strmap_get(al->pcaches, prov);
        if (!pc) {
                pc = tp_xcalloc(1, sizeof(*pc));
                pc->days = tp_strmap_new_owning(free);
                pc->names = tp_strmap_new_owning(tp_place_name_free);
                pc->hi = INT64_MIN / 2;
                pc->keys = tp_strmap_new_owning(free);
                pc->keys_hi = TP_TS_NONE;
                tp_snapfeed_init(&pc->feed);
                pc->pruned_day = INT64_MIN;
                tp_strmap_put(al->pcaches, prov, pc);
        }
        return pc;
}

/* Partition states of the topic, and each one's stored next_offset in
 * sw->offsets (tp_snapfeed_complete); returns the count found. */
static int tp_sweep_parts(struct tp_sweep *sw, const char *topic,
                          struct tp_part_wm *parts, int n, int64_t *first,
                          int *all_caught_up)
{
        const char *params[1] = {topic};
        PGresult *res = PQexecParams(sw->conn,
                                     "SELECT partition, "
                                     "tthc.epoch_ms(first_occurred_at), "
                                     "tthc.epoch_ms(max_occurred_at), "
                                     "caught_up, next_offset "
                                     "FROM tthc.alert_partition_state "
                                     "WHERE topic = $1",
                                     1, NULL, params, NULL, NULL, 0);
        *first = TP_TS_NONE;
        *all_caught_up = 1;
        if (tp_pg_check(sw->conn, res, PGRES_TUPLES_OK,
                        "could not load partition states", sw->errstr,
                        sw->errstr_size) != 0) {
                PQclear(res);
                return -1;
        }
        for (int r = 0; r < PQntuples(res); r++) {
                int p = tp_pg_col_int(res, r, 0);
                int64_t f = tp_pg_col_ts(res, r, 1);
                if (p < 0 || p >= n) {
                        /* a partition the topic's count does not know
                         * yet: its rows are the table's to give */
                        sw->unknown_parts = 1;
                        continue;
                }
                parts[p].present = 1;
                parts[p].max_occurred_at = tp_pg_col_ts(res, r, 2);
                parts[p].caught_up = PQgetvalue(res, r, 3)[0] == 't';
                /* a row without an offset matches no write of ours */
                sw->offsets[p] =
                        PQgetisnull(res, r, 4)
                                ? -2
                                : strtoll(PQgetvalue(res, r, 4), NULL, 10);
                if (f != TP_TS_NONE && (*first == TP_TS_NONE || f < *first))
                        *first = f;
        }
        PQclear(res);
        /* A partition we own that has never held a message is drained. */
        for (int p = 0; p < n; p++) {
                int64_t lo = -1, hi = -1;
                if (!parts[p].present && sw->al->rk &&
                    rd_kafka_get_watermark_offsets(sw->al->rk, topic, p, &lo,
                                                   &hi) ==
                            RD_KAFKA_RESP_ERR_NO_ERROR &&
                    hi >= 0 && hi <= lo) {
                        parts[p].present = 1;
                        parts[p].caught_up = 1;
                }
                *all_caught_up &= parts[p].caught_up;
        }
        return 0;
}

/* At a tick that is midnight in Vietnam: the commune's row of
 * tthc.commune_backlog_daily for the day that ends. */
static void tp_backlog_row(const char *commune, void *value, void *ud)
{
        struct tp_sweep *sw = ud;
        const struct tp_commune_fig *f = value;
        struct tp_copybuf *cb = &sw->backlog;
        char day[16];
        tp_fmt_day(sw->day - 1, day, sizeof(day));
        tp_copybuf_str(cb, sw->prov);
        tp_copybuf_str(cb, commune);
        tp_copybuf_str(cb, day);
        tp_copybuf_int(cb, f->open);
        tp_copybuf_int(cb, f->paused);
        tp_copybuf_int(cb, f->overdue);
        tp_copybuf_int(cb, f->intake_backlog);
        tp_copybuf_end_row(cb);
}

/* The days the sweep closed; the same figures again when a tick is
 * evaluated twice (a replay, another instance). The staging table is
 * emptied at once: the batch's next evaluations (other provinces) use it
 * again in the same transaction. */
static int tp_backlog_store(struct tp_sweep *sw)
{
        int rc = tp_copybuf_apply(
                sw->conn, &sw->backlog, "COPY tp_abacklog FROM STDIN",
                "INSERT INTO tthc.commune_backlog_daily SELECT * FROM "
                "tp_abacklog ON CONFLICT (province_code, commune_code, day) "
                "DO UPDATE SET open = EXCLUDED.open, paused = EXCLUDED.paused, "
                "overdue = EXCLUDED.overdue, intake_backlog = "
                "EXCLUDED.intake_backlog; DELETE FROM tp_abacklog",
                sw->errstr, sw->errstr_size);
        tp_copybuf_reset(&sw->backlog);
        return rc;
}

/* The scorecard's stored rows (migrations 016, 022), after a Vietnam
 * midnight of the province: tthc.scorecard_refresh stores the closed
 * months that are missing or stale and adds the open month's days up to
 * the watermark's. It runs when a month closed, when stored months are
 * stale, or when days are due and every partition is read to its end:
 * while replaying, the days wait for the end of the replay (a refresh
 * that adds a day costs 15-25 ms a province on a national year, and a
 * replay crosses hundreds of midnights). Another instance refreshing
 * meanwhile: this one skips (the try-lock; waiting could deadlock on the
 * province rows each holds) and keeps the days due. */
static int tp_scorecard_store(struct tp_sweep *sw)
{
        int now = sw->month_closed || (sw->pc->days_due && sw->parts_drained);
        const char *params[2] = {sw->prov, now ? "t" : "f"};
        PGresult *res;

        if (!sw->midnight && !now)
                return 0;
        res = tp_sweep_query(
                sw,
                "SELECT tthc.scorecard_refresh($1) WHERE ($2::boolean "
                "OR EXISTS (SELECT 1 FROM tthc.scorecard_stale "
                "WHERE province_code = $1)) AND pg_try_advisory_xact_lock("
                "hashtext('tthc.scorecard_refresh'))",
                2, params, "could not refresh the scorecard");
        if (!res)
                return -1;
        if (now && PQntuples(res) == 1)
                sw->pc->days_due = 0;
        PQclear(res);
        return 0;
}

/* The province's snapshots newer than the last tick evaluated
 * (pc->keys_hi) from tthc.alert_commune_ticks, in tick order, into *out
 * (owned by the caller): up to last, and after last those of the
 * partitions in learn (an int[] literal). */
static int tp_sweep_read_snaps(struct tp_sweep *sw, int64_t last,
                               const char *learn, struct tp_snaprow **out,
                               size_t *n_out)
{
        char last_s[40], hi_s[40];
        const char *params[5] = {sw->prov, last_s, NULL, sw->topic, learn};
        PGresult *res;
        int n;

        tp_format_ts(last, last_s, sizeof(last_s));
        if (sw->pc->keys_hi != TP_TS_NONE) {
                tp_format_ts(sw->pc->keys_hi, hi_s, sizeof(hi_s));
                params[2] = hi_s;
        }
        res = tp_sweep_query(sw,
                             "SELECT partition, commune_code, "
                             "tthc.epoch_ms(tick), open, overdue, "
                             "intake_backlog, tthc.epoch_ms(last_event_at), "
                             "paused FROM tthc.alert_commune_ticks "
                             "WHERE province_code = $1 "
                             "AND ($3::timestamptz IS NULL OR tick > $3) "
                             "AND topic = $4 AND (tick <= $2 "
                             "OR partition = ANY($5::int[])) ORDER BY tick",
                             5, params, "could not load commune snapshots");
        if (!res)
                return -1;
        n = PQntuples(res);
        *out = tp_xcalloc((size_t)n + 1, sizeof(**out));
        for (int r = 0; r < n; r++) {
                struct tp_snaprow *s = &(*out)[r];
                s->partition = tp_pg_col_int(res, r, 0);
                tp_strlcpy(s->commune, PQgetvalue(res, r, 1),
                           sizeof(s->commune));
                tp_strlcpy(s->province, sw->prov, sizeof(s->province));
                s->tick = tp_pg_col_ts(res, r, 2);
                s->open = tp_pg_col_int(res, r, 3);
                s->overdue = tp_pg_col_int(res, r, 4);
                s->intake = tp_pg_col_int(res, r, 5);
                s->last = tp_pg_col_ts(res, r, 6);
                s->paused = tp_pg_col_int(res, r, 7);
        }
        PQclear(res);
        *n_out = (size_t)n;
        return 0;
}

/* verify-snapshots: the rows the feed gave (mem) and the table's must be
 * the same; a difference is a bug, and the process aborts. */
static void tp_sweep_verify_snaps(const struct tp_sweep *sw, int64_t last,
                                  const struct tp_snaprow *mem, size_t n_mem,
                                  struct tp_snaprow *db, size_t n_db)
{
        char hi_s[40] = "the start", last_s[40], tick_s[40];
        size_t i = 0;
        qsort(db, n_db, sizeof(*db), tp_snaprow_cmp);
        for (; i < n_mem && i < n_db; i++)
                if (tp_snaprow_cmp(&mem[i], &db[i]) != 0 ||
                    mem[i].last != db[i].last || mem[i].open != db[i].open ||
                    mem[i].overdue != db[i].overdue ||
                    mem[i].intake != db[i].intake ||
                    mem[i].paused != db[i].paused)
                        break;
        if (i == n_mem && i == n_db)
                return;
        if (sw->pc->keys_hi != TP_TS_NONE)
                tp_format_ts(sw->pc->keys_hi, hi_s, sizeof(hi_s));
        tp_format_ts(last, last_s, sizeof(last_s));
        tp_format_ts(i < n_mem ? mem[i].tick : db[i].tick, tick_s,
                     sizeof(tick_s));
        tp_log_error("verify-snapshots: province %s, ticks after %s up to %s: "
                     "%zu snapshot row(s) kept in memory, %zu in "
                     "tthc.alert_commune_ticks; they differ first at row %zu "
                     "(partition %d, commune %s, tick %s)",
                     sw->prov, hi_s, last_s, n_mem, n_db, i,
                     i < n_mem ? (int)mem[i].partition : (int)db[i].partition,
                     i < n_mem ? mem[i].commune : db[i].commune, tick_s);
        abort();
}

/* Whether partition i of the topic was stored by someone else since this
 * process last wrote it, or never written by it (snapfeed.h). */
static int tp_sweep_stranger(const struct tp_sweep *sw, int i)
{
        return sw->offsets[i] >= 0 &&
               !tp_snapfeed_ours(&sw->pc->feed, i, sw->offsets[i]);
}

/* The snapshots newer than pc->keys_hi up to last (*out, owned by the
 * caller, in tick order): the rows this process kept (pc->feed) when
 * they are provably all there are (snapfeed.h), else the table's. A
 * read of the table learns the partitions others wrote: their rows after
 * last join the feed, which then holds them all until they are written
 * again. */
static int tp_sweep_snaps(struct tp_sweep *sw, int64_t last,
                          struct tp_snaprow **out, size_t *n_out)
{
        struct tp_snapfeed *f = &sw->pc->feed;
        struct tp_snaprow *mem, *db;
        struct tp_buf learn = {0};
        size_t n_mem, n_db, k = 0;
        int all = !sw->unknown_parts &&
                  tp_snapfeed_complete(f, sw->offsets, sw->n_parts,
                                       sw->pc->keys_hi);

        n_mem = tp_snapfeed_take(f, sw->pc->keys_hi, last, &mem);
        if (all && !sw->al->verify_snapshots) {
                sw->counts->snaps_memory++;
                *out = mem;
                *n_out = n_mem;
                return 0;
        }
        tp_buf_puts(&learn, "{");
        for (int i = 0; i < sw->n_parts; i++)
                if (tp_sweep_stranger(sw, i))
                        tp_buf_printf(&learn, "%s%d", learn.len > 1 ? "," : "",
                                      i);
        tp_buf_puts(&learn, "}");
        if (tp_sweep_read_snaps(sw, last, learn.data, &db, &n_db) != 0) {
                tp_buf_release(&learn);
                free(mem);
                return -1;
        }
        tp_buf_release(&learn);
        for (int i = 0; i < sw->n_parts; i++)
                if (tp_sweep_stranger(sw, i))
                        tp_snapfeed_learn(f, i, sw->offsets[i]);
        for (size_t i = 0; i < n_db; i++)
                if (db[i].tick <= last)
                        db[k++] = db[i];
                else
                        tp_snapfeed_add(f, &db[i]);
        n_db = k;
        if (all) {
                tp_sweep_verify_snaps(sw, last, mem, n_mem, db, n_db);
                sw->counts->snaps_memory++;
        } else {
                sw->counts->snaps_table++;
        }
        free(mem);
        *out = db;
        *n_out = n_db;
        return 0;
}

/* Evaluates every tick from start to last. The snapshots at or before the
 * last tick evaluated are cached (sw->pc->keys): only newer ones are
 * read. */
static int tp_sweep_ticks(struct tp_sweep *sw, int64_t start, int64_t last)
{
        struct tp_snaprow *snaps;
        size_t r = 0, n;

        if (tp_sweep_snaps(sw, last, &snaps, &n) != 0)
                return -1;
        if (tp_sweep_episodes(sw) != 0) {
                free(snaps);
                return -1;
        }
        for (int64_t t = start; t <= last && !sw->failed; t += TP_HOUR_MS) {
                for (; r < n && snaps[r].tick <= t; r++) {
                        const struct tp_snaprow *s = &snaps[r];
                        char key[32];
                        struct tp_skey *k;
                        snprintf(key, sizeof(key), "%d|%s", (int)s->partition,
                                 s->commune);
                        k = tp_strmap_get(sw->keys, key);
                        if (!k) {
                                k = tp_xcalloc(1, sizeof(*k));
                                tp_strlcpy(k->commune, s->commune,
                                           sizeof(k->commune));
                                tp_strmap_put(sw->keys, key, k);
                        }
                        k->open = s->open;
                        k->overdue = s->overdue;
                        k->intake = s->intake;
                        k->last = s->last;
                        k->paused = s->paused;
                }
                sw->tick = t;
                sw->day = tp_vn_day(t);
                if (tp_pcache_load(sw, sw->day) != 0) {
                        sw->failed = 1;
                        break;
                }
                tp_strmap_each(sw->figs, tp_fig_zero, NULL);
                tp_strmap_each(sw->keys, tp_fig_add_key, sw);
                tp_strmap_each(sw->pc->days, tp_fig_add_cday, sw);
                tp_strmap_each(sw->eps, tp_fig_add_ep, sw);
                tp_strmap_each(sw->figs, tp_fig_eval, sw);
                if (tp_vn_day(t) != tp_vn_day(t - 1)) {
                        tp_strmap_each(sw->figs, tp_backlog_row, sw);
                        if (tp_month_of(sw->day) != tp_month_of(sw->day - 1))
                                sw->month_closed = 1;
                        sw->pc->days_due = 1;
                }
                sw->counts->ticks++;
        }
        free(snaps);
        if (sw->failed)
                return -1;
        sw->pc->keys_hi = last;
        sw->midnight = sw->backlog.buf.len > 0;
        return tp_backlog_store(sw);
}

static int tp_sweep_finish(struct tp_sweep *sw, const char *topic, int n_parts,
                           int64_t next_tick, int64_t wm, int caught_up,
                           int64_t last)
{
        char np[16], nt[40], wm_s[40], last_s[40];
        const char *p[6] = {sw->prov, topic, np, NULL, NULL, NULL};
        snprintf(np, sizeof(np), "%d", n_parts);
        if (next_tick != TP_TS_NONE)
                tp_format_ts(next_tick, nt, sizeof(nt));
        if (wm != TP_TS_NONE)
                tp_format_ts(wm, wm_s, sizeof(wm_s));
        p[3] = next_tick != TP_TS_NONE ? nt : NULL;
        p[4] = wm != TP_TS_NONE ? wm_s : NULL;
        p[5] = caught_up ? "true" : "false";
        if (tp_sweep_exec(
                    sw,
                    "UPDATE tthc.alert_provinces SET topic = $2, partitions "
                    "= $3, next_tick = coalesce($4, next_tick), watermark = "
                    "coalesce($5, watermark), caught_up = $6, caught_up_at = "
                    "CASE WHEN $6 THEN coalesce(caught_up_at, now()) END, "
                    "updated_at = now() WHERE province_code = $1",
                    6, p, "could not update the province state") != 0)
                return -1;
        if (last == TP_TS_NONE || tp_vn_day(last) == sw->pc->pruned_day)
                return 0;
        /* Once per Vietnam day of the last tick evaluated: keep, per
         * partition and commune, the latest snapshot at or before the
         * day's start, and those after it (what stays depends on the day
         * only, not on when batches ended). One hash join against each
         * key's latest tick: a probe of the primary key per row (delete
         * where a newer one EXISTS) cost 2-4 times as much, a window over
         * the rows (row_number, then their ctids) twice. Nested loops
         * off for it: with statistics from before the province's
         * latest ticks (a table analysed early in a replay) the planner
         * takes the day's rows for one and would run the grouping once
         * per row to delete (minutes, not milliseconds, seen in a
         * bench run). */
        tp_format_ts(tp_vn_day(last) * TP_DAY_MS - TP_VN_OFFSET_MS, last_s,
                     sizeof(last_s));
        {
                const char *q[2] = {sw->prov, last_s};
                char day_s[16];
                const char *q2[2] = {sw->prov, day_s};
                if (tp_sweep_exec(sw, "SET LOCAL enable_nestloop = off", 0,
                                  NULL,
                                  "could not prune commune snapshots") != 0 ||
                    tp_sweep_exec(
                            sw,
                            "DELETE FROM tthc.alert_commune_ticks t USING "
                            "(SELECT topic, partition, commune_code, "
                            "max(tick) AS keep FROM tthc.alert_commune_ticks "
                            "WHERE province_code = $1 AND tick <= $2 "
                            "GROUP BY 1, 2, 3) k WHERE t.province_code = $1 "
                            "AND t.tick < $2 AND t.topic = k.topic AND "
                            "t.partition = k.partition AND t.commune_code = "
                            "k.commune_code AND t.tick < k.keep",
                            2, q, "could not prune commune snapshots") != 0 ||
                    tp_sweep_exec(sw, "SET LOCAL enable_nestloop TO DEFAULT", 0,
                                  NULL,
                                  "could not prune commune snapshots") != 0)
                        return -1;
                tp_fmt_day(tp_vn_day(last) - TP_DAY_RING - 8, day_s,
                           sizeof(day_s));
                if (tp_sweep_exec(sw,
                                  "DELETE FROM tthc.alert_commune_days WHERE "
                                  "province_code = $1 AND day < $2::date",
                                  2, q2,
                                  "could not prune commune day counters") != 0)
                        return -1;
                sw->pc->pruned_day = tp_vn_day(last);
                return 0;
        }
}

int tp_alert_evaluate(struct tp_alert *al, PGconn *conn, const char *topic,
                      int n_parts, struct tp_alert_counts *counts, char *errstr,
                      size_t errstr_size)
{
        struct tp_sweep sw;
        const char *prov = tp_topic_province(topic);
        struct tp_part_wm *parts = NULL;
        const char *params[3];
        char np[16];
        PGresult *res;
        int64_t next_tick = TP_TS_NONE, wm, first, last = TP_TS_NONE;
        int all_caught_up = 0, rc = -1, caught_up;

        if (!prov)
                return 0;
        memset(&sw, 0, sizeof(sw));
        tp_copybuf_init(&sw.backlog);
        sw.al = al;
        sw.counts = counts;
        sw.conn = conn;
        sw.prov = prov;
        sw.topic = topic;
        sw.errstr = errstr;
        sw.errstr_size = errstr_size;
        snprintf(np, sizeof(np), "%d", n_parts);
        params[0] = prov;
        params[1] = topic;
        params[2] = np;
        if (tp_pg_exec_params(
                    conn,
                    "INSERT INTO tthc.alert_provinces (province_code, topic, "
                    "partitions) VALUES ($1, $2, $3) ON CONFLICT "
                    "(province_code) DO NOTHING",
                    3, params, PGRES_COMMAND_OK,
                    "could not register the province", errstr,
                    errstr_size) != 0)
                return -1;
        res = tp_pg_query(conn,
                          "SELECT tthc.epoch_ms(next_tick) "
                          "FROM tthc.alert_provinces "
                          "WHERE province_code = $1 FOR UPDATE",
                          1, params, "could not lock the province state",
                          errstr, errstr_size);
        if (!res)
                return -1;
        if (PQntuples(res) == 1)
                next_tick = tp_pg_col_ts(res, 0, 0);
        PQclear(res);
        parts = tp_xcalloc((size_t)n_parts, sizeof(*parts));
        sw.n_parts = n_parts;
        sw.offsets = tp_xcalloc((size_t)n_parts + 1, sizeof(*sw.offsets));
        for (int i = 0; i < n_parts; i++) {
                parts[i].max_occurred_at = TP_TS_NONE;
                sw.offsets[i] = -1; /* no state row */
        }
        if (tp_sweep_parts(&sw, topic, parts, n_parts, &first,
                           &all_caught_up) != 0)
                goto done;
        if (tp_alert_province_wm(parts, (size_t)n_parts, al->rules->lateness_ms,
                                 al->rules->idle_ms, &wm) != 0) {
                rc = tp_sweep_finish(&sw, topic, n_parts, TP_TS_NONE,
                                     TP_TS_NONE, 0, TP_TS_NONE);
                goto done;
        }
        caught_up =
                all_caught_up && tp_now_ms() - wm <= al->rules->catchup_lag_ms;
        if (next_tick == TP_TS_NONE)
                next_tick = tp_hour_floor(first) + TP_HOUR_MS;
        sw.pc = tp_pcache_get(al, prov);
        sw.parts_drained = all_caught_up;
        if (next_tick <= wm) {
                last = tp_hour_floor(wm);
                sw.figs = tp_strmap_new_owning(free);
                sw.eps = tp_strmap_new_owning(free);
                sw.keys = sw.pc->keys;
                sw.first_day = tp_vn_day(first);
                if (tp_pcache_names(&sw) != 0)
                        goto done;
                if (tp_sweep_ticks(&sw, next_tick, last) != 0)
                        goto done;
                next_tick = last + TP_HOUR_MS;
        }
        if (tp_scorecard_store(&sw) != 0)
                goto done;
        rc = tp_sweep_finish(&sw, topic, n_parts, next_tick, wm, caught_up,
                             last);
done:
        tp_strmap_destroy(sw.figs);
        tp_strmap_destroy(sw.eps);
        tp_copybuf_release(&sw.backlog);
        free(parts);
        free(sw.offsets);
        return rc;
}

void tp_alert_feed(struct tp_alert *al, const struct tp_alert_staged *st)
{
        struct tp_pcache *pc = NULL;
        for (size_t i = 0; i < st->n_sealed; i++) {
                const struct tp_asealed *s = &st->sealed[i];
                const char *prov = tp_topic_province(s->topic);
                if (prov)
                        tp_snapfeed_wrote(&tp_pcache_get(al, prov)->feed,
                                          s->partition, s->own_from,
                                          s->next_offset);
        }
        for (size_t i = 0; i < st->n_snaps; i++) {
                const struct tp_snaprow *r = &st->snaps[i];
                if (!pc || strcmp(r->province, st->snaps[i - 1].province) != 0)
                        pc = tp_pcache_get(al, r->province);
                tp_snapfeed_add(&pc->feed, r);
        }
}
