/* eval.c - see eval.h. */
#include "eval.h"
#include "event.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- working days -------------------------------------------------------- */

void tp_workcal_init(struct tp_workcal *cal)
{
        memset(cal, 0, sizeof(*cal));
}

void tp_workcal_release(struct tp_workcal *cal)
{
        free(cal->days_off);
        free(cal->worked_saturdays);
        memset(cal, 0, sizeof(*cal));
}

static void tp_days_push(int64_t **arr, size_t *n, int64_t day)
{
        *arr = tp_xrealloc(*arr, (*n + 1) * sizeof(**arr));
        (*arr)[(*n)++] = day;
}

void tp_workcal_add(struct tp_workcal *cal, int64_t day, const char *kind)
{
        if (strcmp(kind, "day_off") == 0)
                tp_days_push(&cal->days_off, &cal->n_off, day);
        else if (strcmp(kind, "worked_saturday") == 0)
                tp_days_push(&cal->worked_saturdays, &cal->n_sat, day);
}

static int tp_day_cmp(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

void tp_workcal_seal(struct tp_workcal *cal)
{
        if (cal->n_off)
                qsort(cal->days_off, cal->n_off, sizeof(int64_t), tp_day_cmp);
        if (cal->n_sat)
                qsort(cal->worked_saturdays, cal->n_sat, sizeof(int64_t),
                      tp_day_cmp);
}

static int tp_days_has(const int64_t *arr, size_t n, int64_t day)
{
        return n && bsearch(&day, arr, n, sizeof(int64_t), tp_day_cmp);
}

int tp_workcal_is_working(const struct tp_workcal *cal, int64_t day)
{
        /* 1970-01-01 was a Thursday: ISO weekday 1 (Monday) .. 7. */
        int64_t dow = ((day % 7) + 7 + 3) % 7 + 1;
        if (dow <= 5)
                return !tp_days_has(cal->days_off, cal->n_off, day);
        return dow == 6 && tp_days_has(cal->worked_saturdays, cal->n_sat, day);
}

int64_t tp_workcal_next(const struct tp_workcal *cal, int64_t day)
{
        for (int i = 0; i < 400; i++)
                if (tp_workcal_is_working(cal, day + i))
                        return day + i;
        return INT64_MAX;
}

int tp_workcal_between(const struct tp_workcal *cal, int64_t a, int64_t b)
{
        int n = 0;
        for (int64_t d = a; d < b; d++)
                n += tp_workcal_is_working(cal, d);
        return n;
}

int64_t tp_workcal_office_ms(const struct tp_workcal *cal, int64_t from,
                             int64_t to, int start_hour, int end_hour)
{
        int64_t total = 0;
        if (to <= from)
                return 0;
        for (int64_t d = tp_vn_day(from); d <= tp_vn_day(to - 1); d++) {
                int64_t base = d * TP_DAY_MS - TP_VN_OFFSET_MS;
                int64_t lo = base + start_hour * TP_HOUR_MS;
                int64_t hi = base + end_hour * TP_HOUR_MS;
                if (cal && !tp_workcal_is_working(cal, d))
                        continue;
                if (lo < from)
                        lo = from;
                if (hi > to)
                        hi = to;
                if (hi > lo)
                        total += hi - lo;
        }
        return total;
}

/* ---- watermarks -----------------------------------------------------------
 */

int64_t tp_hour_ceil(int64_t t)
{
        int64_t f = tp_hour_floor(t);
        return f == t ? t : f + TP_HOUR_MS;
}

int tp_alert_province_wm(const struct tp_part_wm *parts, size_t n,
                         int64_t lateness_ms, int64_t idle_ms, int64_t *wm)
{
        int64_t newest = TP_TS_NONE, low = TP_TS_NONE;
        int any = 0;
        for (size_t i = 0; i < n; i++) {
                if (!parts[i].present)
                        return -1;
                if (parts[i].max_occurred_at != TP_TS_NONE &&
                    parts[i].max_occurred_at > newest)
                        newest = parts[i].max_occurred_at;
        }
        for (size_t i = 0; i < n; i++) {
                const struct tp_part_wm *p = &parts[i];
                /* Only a partition known to be drained may be skipped:
                 * while replaying, a lagging partition holds the
                 * province back, so results do not depend on timing. */
                if (p->caught_up && (p->max_occurred_at == TP_TS_NONE ||
                                     p->max_occurred_at < newest - idle_ms))
                        continue;
                if (p->max_occurred_at == TP_TS_NONE)
                        return -1;
                if (!any || p->max_occurred_at < low)
                        low = p->max_occurred_at;
                any = 1;
        }
        if (!any)
                return -1;
        *wm = low - lateness_ms;
        return 0;
}

/* ---- figures and rules ------------------------------------------------------
 */

double tp_alert_rule_value(enum tp_rule rule, const struct tp_rule_params *p,
                           const struct tp_commune_fig *fig, int *can_fire,
                           int *can_judge)
{
        double v = 0;
        *can_fire = *can_judge = 1;
        switch (rule) {
        case TP_RULE_OVERDUE_BACKLOG:
                v = fig->overdue;
                break;
        case TP_RULE_ON_TIME_RATE:
                v = fig->resolved_w > 0
                            ? 100.0 * fig->resolved_ok_w / fig->resolved_w
                            : 100.0;
                *can_fire = *can_judge =
                        fig->resolved_w > 0 && fig->resolved_w >= p->min_volume;
                break;
        case TP_RULE_BACKLOG_GROWTH:
                v = (double)fig->open /
                    (fig->resolved_g > 0 ? fig->resolved_g : 1);
                /* A window longer than the stream so far under-counts
                 * resolutions: wait for a full window. */
                *can_fire = fig->open >= p->min_volume &&
                            fig->history_days >= p->window_days;
                break;
        case TP_RULE_COMMUNE_SILENT:
                v = fig->silent_days;
                *can_fire = fig->baseline >= p->min_volume;
                break;
        case TP_RULE_INTAKE_BACKLOG:
                v = fig->intake_backlog;
                break;
        default:
                *can_fire = 0;
                break;
        }
        return v;
}

/* ---- hysteresis
 * --------------------------------------------------------------- */

static int tp_at(int lower, double v, double thr)
{
        return lower ? v < thr : v >= thr;
}

static int tp_past(int lower, double v, double thr)
{
        return lower ? v >= thr : v < thr;
}

enum tp_change tp_alert_step(enum tp_rule rule, const struct tp_rule_params *p,
                             enum tp_sev cur, double value, int can_fire,
                             int can_judge, enum tp_sev *next)
{
        int lower = tp_rule_lower_is_worse(rule);
        *next = cur;
        if (cur == TP_SEV_NONE) {
                if (!p->enabled || !can_fire)
                        return TP_CHANGE_NONE;
                if (tp_at(lower, value, p->critical))
                        *next = TP_SEV_CRITICAL;
                else if (tp_at(lower, value, p->warning))
                        *next = TP_SEV_WARNING;
                return *next == TP_SEV_NONE ? TP_CHANGE_NONE : TP_CHANGE_FIRED;
        }
        if (!p->enabled) {
                *next = TP_SEV_NONE;
                return TP_CHANGE_RESOLVED;
        }
        if (!can_judge)
                return TP_CHANGE_NONE;
        if (tp_past(lower, value, p->resolve)) {
                *next = TP_SEV_NONE;
                return TP_CHANGE_RESOLVED;
        }
        if (cur == TP_SEV_WARNING && tp_at(lower, value, p->critical)) {
                *next = TP_SEV_CRITICAL;
                return TP_CHANGE_CHANGED;
        }
        if (cur == TP_SEV_CRITICAL && tp_past(lower, value, p->deescalate)) {
                *next = TP_SEV_WARNING;
                return TP_CHANGE_CHANGED;
        }
        return TP_CHANGE_NONE;
}

double tp_alert_feed_hours(const struct tp_workcal *cal,
                           const struct tp_rules *rules, int64_t last,
                           int64_t now)
{
        return (double)tp_workcal_office_ms(
                       rules->office_every_day ? NULL : cal, last, now,
                       rules->office_start_hour, rules->office_end_hour) /
               (double)TP_HOUR_MS;
}

enum tp_change tp_alert_feed_step(const struct tp_rule_params *p,
                                  enum tp_sev cur, double hours, int caught_up,
                                  int message_since, enum tp_sev *next)
{
        if (cur != TP_SEV_NONE && message_since) {
                *next = TP_SEV_NONE;
                return TP_CHANGE_RESOLVED;
        }
        return tp_alert_step(TP_RULE_PROVINCE_FEED_STALE, p, cur, hours,
                             caught_up, 1, next);
}

double tp_alert_threshold(const struct tp_rule_params *p, enum tp_sev sev)
{
        return sev == TP_SEV_CRITICAL  ? p->critical
               : sev == TP_SEV_WARNING ? p->warning
                                       : p->resolve;
}

const char *tp_sev_name(enum tp_sev sev)
{
        return sev == TP_SEV_CRITICAL ? "critical" : "warning";
}

int tp_sev_parse(const char *s)
{
        if (strcmp(s, "critical") == 0)
                return TP_SEV_CRITICAL;
        if (strcmp(s, "warning") == 0)
                return TP_SEV_WARNING;
        return -1;
}

const char *tp_change_name(enum tp_change ch)
{
        switch (ch) {
        case TP_CHANGE_FIRED:
                return "fired";
        case TP_CHANGE_CHANGED:
                return "changed";
        case TP_CHANGE_RESOLVED:
                return "resolved";
        default:
                return "none";
        }
}

/* ---- SHA-1 and UUIDv5
 * ------------------------------------------------------------ */

static uint32_t tp_rol(uint32_t x, int n)
{
        return (x << n) | (x >> (32 - n));
}

static void tp_sha1_block(uint32_t h[5], const unsigned char *p)
{
        uint32_t w[80], a, b, c, d, e;
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (int i = 16; i < 80; i++)
                w[i] = tp_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        a = h[0];
        b = h[1];
        c = h[2];
        d = h[3];
        e = h[4];
        for (int i = 0; i < 80; i++) {
                uint32_t f, k, t;
                if (i < 20) {
                        f = (b & c) | (~b & d);
                        k = 0x5A827999;
                } else if (i < 40) {
                        f = b ^ c ^ d;
                        k = 0x6ED9EBA1;
                } else if (i < 60) {
                        f = (b & c) | (b & d) | (c & d);
                        k = 0x8F1BBCDC;
                } else {
                        f = b ^ c ^ d;
                        k = 0xCA62C1D6;
                }
                t = tp_rol(a, 5) + f + e + k + w[i];
                e = d;
                d = c;
                c = tp_rol(b, 30);
                b = a;
                a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
}

void tp_sha1(const void *data, size_t len, unsigned char out[20])
{
        uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
                         0xC3D2E1F0};
        const unsigned char *p = data;
        unsigned char tail[128];
        size_t full = len / 64 * 64, rest = len - full, tl;
        uint64_t bits = (uint64_t)len * 8;

        for (size_t i = 0; i < full; i += 64)
                tp_sha1_block(h, p + i);
        memset(tail, 0, sizeof(tail));
        if (rest)
                memcpy(tail, p + full, rest);
        tail[rest] = 0x80;
        tl = rest + 1 + 8 <= 64 ? 64 : 128;
        for (int i = 0; i < 8; i++)
                tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
        for (size_t i = 0; i < tl; i += 64)
                tp_sha1_block(h, tail + i);
        for (int i = 0; i < 5; i++) {
                out[4 * i] = (unsigned char)(h[i] >> 24);
                out[4 * i + 1] = (unsigned char)(h[i] >> 16);
                out[4 * i + 2] = (unsigned char)(h[i] >> 8);
                out[4 * i + 3] = (unsigned char)h[i];
        }
}

void tp_uuid5(const unsigned char ns[16], const char *name, char out[37])
{
        size_t n = strlen(name);
        unsigned char *buf = tp_xmalloc(16 + n), d[20];
        memcpy(buf, ns, 16);
        memcpy(buf + 16, name, n);
        tp_sha1(buf, 16 + n, d);
        free(buf);
        d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
        d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
        snprintf(out, 37,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x",
                 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9],
                 d[10], d[11], d[12], d[13], d[14], d[15]);
}

/* tthc-pulse's namespace for alert ids (a fixed random UUID). */
static const unsigned char tp_alert_ns[16] = {
        0x3c, 0x6e, 0x0b, 0x57, 0x2d, 0x41, 0x4a, 0x8e,
        0x9b, 0x1f, 0x52, 0x7a, 0x44, 0x0c, 0x91, 0xd3};

void tp_alert_episode_id(const char *province, const char *commune,
                         enum tp_rule rule, int64_t started_at, char out[37])
{
        char name[128];
        snprintf(name, sizeof(name), "%s|%s|%s|%lld", province,
                 commune ? commune : "-", tp_rule_name(rule),
                 (long long)started_at);
        tp_uuid5(tp_alert_ns, name, out);
}
