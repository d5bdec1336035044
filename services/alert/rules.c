/* rules.c - see rules.h. */
#include "rules.h"
#include "kv.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_RULES_MAX_FILE (1024 * 1024)
#define TP_RULES_MAX_PROVS 64

static const char *const tp_rule_names[TP_RULE__COUNT] = {
        "overdue_backlog", "on_time_rate",        "backlog_growth",
        "commune_silent",  "province_feed_stale", "intake_backlog"};

enum tp_field {
        TP_F_ENABLED,
        TP_F_WARNING,
        TP_F_CRITICAL,
        TP_F_RESOLVE,
        TP_F_DEESCALATE,
        TP_F_MIN_VOLUME,
        TP_F_WINDOW_DAYS,
        TP_F_INSUFFICIENT_DAYS,
        TP_F__COUNT
};

static const char *const tp_field_names[TP_F__COUNT] = {
        "enabled",    "warning",    "critical",    "resolve",
        "deescalate", "min_volume", "window_days", "insufficient_days"};

struct tp_rules_override {
        char province[4];
        enum tp_rule rule;
        enum tp_field field;
        double value;
        int line;
};

const char *tp_rule_name(enum tp_rule rule)
{
        return (unsigned)rule < TP_RULE__COUNT ? tp_rule_names[rule] : "?";
}

int tp_rule_parse(const char *name, size_t len)
{
        for (int i = 0; i < TP_RULE__COUNT; i++)
                if (strlen(tp_rule_names[i]) == len &&
                    strncmp(tp_rule_names[i], name, len) == 0)
                        return i;
        return -1;
}

int tp_rule_lower_is_worse(enum tp_rule rule)
{
        return rule == TP_RULE_ON_TIME_RATE;
}

static void tp_rule_set(struct tp_rule_params *p, double w, double c, double r,
                        double minv, int window)
{
        p->enabled = 1;
        p->warning = w;
        p->critical = c;
        p->resolve = r;
        p->min_volume = minv;
        p->window_days = window;
        p->insufficient_days = 30;
}

/* De-escalation keeps the warning level's resolve margin below (above)
 * the critical threshold. */
static double tp_deesc_default(enum tp_rule rule,
                               const struct tp_rule_params *p)
{
        if (tp_rule_lower_is_worse(rule))
                return p->critical + (p->resolve - p->warning);
        return p->critical - (p->warning - p->resolve);
}

void tp_rules_defaults(struct tp_rules *r)
{
        memset(r, 0, sizeof(*r));
        tp_rule_set(&r->dflt[TP_RULE_OVERDUE_BACKLOG], 5, 20, 3, 0, 0);
        tp_rule_set(&r->dflt[TP_RULE_ON_TIME_RATE], 90, 75, 92, 20, 30);
        tp_rule_set(&r->dflt[TP_RULE_BACKLOG_GROWTH], 2.0, 4.0, 1.5, 20, 7);
        tp_rule_set(&r->dflt[TP_RULE_COMMUNE_SILENT], 3, 10, 1, 5, 30);
        tp_rule_set(&r->dflt[TP_RULE_PROVINCE_FEED_STALE], 2, 8, 0, 0, 0);
        tp_rule_set(&r->dflt[TP_RULE_INTAKE_BACKLOG], 10, 30, 5, 0, 1);
        for (int i = 0; i < TP_RULE__COUNT; i++)
                r->dflt[i].deescalate =
                        tp_deesc_default((enum tp_rule)i, &r->dflt[i]);
        r->lateness_ms = 5 * 60 * 1000LL;
        r->idle_ms = 6 * TP_HOUR_MS;
        r->catchup_lag_ms = 48 * TP_HOUR_MS;
        r->resend_ms = 60 * 1000LL;
        r->office_start_hour = 7;
        r->office_end_hour = 17;
}

void tp_rules_release(struct tp_rules *r)
{
        free(r->provs);
        free(r->ovr);
        r->provs = NULL;
        r->ovr = NULL;
        r->n_provs = r->n_ovr = 0;
}

void tp_rules_copy(struct tp_rules *dst, const struct tp_rules *src)
{
        *dst = *src;
        dst->provs = NULL;
        dst->ovr = NULL;
        if (src->n_provs > 0) {
                dst->provs = tp_xmalloc(src->n_provs * sizeof(*src->provs));
                memcpy(dst->provs, src->provs,
                       src->n_provs * sizeof(*src->provs));
        }
        if (src->n_ovr > 0) {
                dst->ovr = tp_xmalloc(src->n_ovr * sizeof(*src->ovr));
                memcpy(dst->ovr, src->ovr, src->n_ovr * sizeof(*src->ovr));
        }
}

static int tp_parse_num(const char *v, double *out)
{
        char *end;
        double d;
        errno = 0;
        d = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(d))
                return -1;
        *out = d;
        return 0;
}

static int tp_field_parse(const char *s)
{
        for (int i = 0; i < TP_F__COUNT; i++)
                if (strcmp(tp_field_names[i], s) == 0)
                        return i;
        return -1;
}

static int tp_field_check(enum tp_field f, double v, char *msg, size_t size)
{
        if (f == TP_F_ENABLED) {
                if (v != 0 && v != 1) {
                        snprintf(msg, size, "enabled must be 0 or 1");
                        return -1;
                }
        } else if (f == TP_F_WINDOW_DAYS || f == TP_F_INSUFFICIENT_DAYS) {
                if (v < 1 || v > 60 || v != floor(v)) {
                        snprintf(msg, size,
                                 "%s must be a whole number of days in "
                                 "1..60",
                                 tp_field_names[f]);
                        return -1;
                }
        } else if (v < 0) {
                snprintf(msg, size, "%s must not be negative",
                         tp_field_names[f]);
                return -1;
        }
        return 0;
}

static void tp_field_apply(struct tp_rule_params *p, enum tp_field f, double v)
{
        switch (f) {
        case TP_F_ENABLED:
                p->enabled = v != 0;
                break;
        case TP_F_WARNING:
                p->warning = v;
                break;
        case TP_F_CRITICAL:
                p->critical = v;
                break;
        case TP_F_RESOLVE:
                p->resolve = v;
                break;
        case TP_F_DEESCALATE:
                p->deescalate = v;
                break;
        case TP_F_MIN_VOLUME:
                p->min_volume = v;
                break;
        case TP_F_WINDOW_DAYS:
                p->window_days = (int)v;
                break;
        case TP_F_INSUFFICIENT_DAYS:
                p->insufficient_days = (int)v;
                break;
        default:
                break;
        }
}

/* Global keys: name, target (ms), unit in ms, min, max. */
static int tp_rules_global(struct tp_rules *r, const char *key, double v,
                           char *msg, size_t size)
{
        static const struct {
                const char *name;
                size_t off;
                int64_t unit;
                double min, max;
        } g[] = {
                {"watermark.lateness_minutes",
                 offsetof(struct tp_rules, lateness_ms), 60000, 0, 1440},
                {"watermark.idle_minutes", offsetof(struct tp_rules, idle_ms),
                 60000, 1, 100000},
                {"alertmanager.catchup_lag_hours",
                 offsetof(struct tp_rules, catchup_lag_ms), 3600000, 0,
                 1000000},
                {"alertmanager.resend_seconds",
                 offsetof(struct tp_rules, resend_ms), 1000, 1, 86400},
        };
        for (size_t i = 0; i < TP_ARRAY_LEN(g); i++) {
                if (strcmp(g[i].name, key) != 0)
                        continue;
                if (v < g[i].min || v > g[i].max) {
                        snprintf(msg, size, "%s must be in %g..%g", key,
                                 g[i].min, g[i].max);
                        return -1;
                }
                *(int64_t *)((char *)r + g[i].off) =
                        (int64_t)(v * (double)g[i].unit);
                return 0;
        }
        if (strcmp(key, "office.every_day") == 0) {
                if (v != 0 && v != 1) {
                        snprintf(msg, size, "%s must be 0 or 1", key);
                        return -1;
                }
                r->office_every_day = (int)v;
                return 0;
        }
        if (strcmp(key, "office.start_hour") == 0 ||
            strcmp(key, "office.end_hour") == 0) {
                if (v < 0 || v > 24 || v != floor(v)) {
                        snprintf(msg, size, "%s must be an hour 0..24", key);
                        return -1;
                }
                if (key[7] == 's')
                        r->office_start_hour = (int)v;
                else
                        r->office_end_hour = (int)v;
                return 0;
        }
        snprintf(msg, size, "unknown key \"%s\"", key);
        return -1;
}

/* "rule.field" or "province.NN.rule.field" -> parts. */
static int tp_rules_key(const char *key, char prov[4], int *rule, int *field)
{
        const char *dot, *rest = key;
        prov[0] = '\0';
        if (strncmp(key, "province.", 9) == 0) {
                const char *p = key + 9;
                if (!isdigit((unsigned char)p[0]) ||
                    !isdigit((unsigned char)p[1]) || p[2] != '.')
                        return -1;
                prov[0] = p[0];
                prov[1] = p[1];
                prov[2] = '\0';
                rest = p + 3;
        }
        dot = strchr(rest, '.');
        if (!dot)
                return -1;
        *rule = tp_rule_parse(rest, (size_t)(dot - rest));
        *field = tp_field_parse(dot + 1);
        return *rule < 0 || *field < 0 ? -1 : 0;
}

static int tp_rules_line(struct tp_rules *r, char *key, const char *val,
                         int line, char *msg, size_t size)
{
        char prov[4];
        int rule, field;
        double v;

        if (tp_parse_num(val, &v) != 0) {
                snprintf(msg, size, "\"%s\" is not a number", val);
                return -1;
        }
        if (tp_rules_key(key, prov, &rule, &field) != 0) {
                if (strncmp(key, "province.", 9) == 0 ||
                    tp_rule_parse(key, strcspn(key, ".")) >= 0) {
                        snprintf(msg, size,
                                 "unknown key \"%s\" (expected "
                                 "[province.NN.]<rule>.<field>)",
                                 key);
                        return -1;
                }
                return tp_rules_global(r, key, v, msg, size);
        }
        if (tp_field_check((enum tp_field)field, v, msg, size) != 0)
                return -1;
        if (!prov[0]) {
                tp_field_apply(&r->dflt[rule], (enum tp_field)field, v);
                if (field == TP_F_DEESCALATE)
                        r->deesc_set[rule] = line;
                return 0;
        }
        r->ovr = tp_xrealloc(r->ovr, (r->n_ovr + 1) * sizeof(*r->ovr));
        memcpy(r->ovr[r->n_ovr].province, prov, 4);
        r->ovr[r->n_ovr].rule = (enum tp_rule)rule;
        r->ovr[r->n_ovr].field = (enum tp_field)field;
        r->ovr[r->n_ovr].value = v;
        r->ovr[r->n_ovr].line = line;
        r->n_ovr++;
        return 0;
}

/* Thresholds must be ordered from resolve through warning to critical in
 * the rule's direction, with deescalate between. */
static int tp_rule_validate(enum tp_rule rule, const struct tp_rule_params *p,
                            char *msg, size_t size)
{
        int lower = tp_rule_lower_is_worse(rule);
        double s = lower ? -1 : 1;
        if (rule == TP_RULE_PROVINCE_FEED_STALE ||
            rule == TP_RULE_COMMUNE_SILENT) {
                if (p->critical < p->warning) {
                        snprintf(msg, size,
                                 "%s: critical (%g) is below warning (%g)",
                                 tp_rule_name(rule), p->critical, p->warning);
                        return -1;
                }
                return 0;
        }
        if (s * p->resolve > s * p->warning) {
                snprintf(msg, size,
                         "%s: resolve (%g) must be %s warning (%g) for "
                         "hysteresis",
                         tp_rule_name(rule), p->resolve,
                         lower ? "at or above" : "at or below", p->warning);
                return -1;
        }
        if (s * p->warning > s * p->critical) {
                snprintf(msg, size,
                         "%s: critical (%g) must be %s than warning (%g)",
                         tp_rule_name(rule), p->critical,
                         lower ? "lower" : "higher", p->warning);
                return -1;
        }
        if (s * p->deescalate > s * p->critical ||
            s * p->deescalate < s * p->resolve) {
                snprintf(msg, size,
                         "%s: deescalate (%g) must lie between resolve (%g) "
                         "and critical (%g)",
                         tp_rule_name(rule), p->deescalate, p->resolve,
                         p->critical);
                return -1;
        }
        return 0;
}

static struct tp_rules_prov *tp_rules_prov(struct tp_rules *r, const char *prov)
{
        for (size_t i = 0; i < r->n_provs; i++)
                if (strcmp(r->provs[i].province, prov) == 0)
                        return &r->provs[i];
        return NULL;
}

/* Builds the per-province sets (defaults, then overrides in file order)
 * and validates everything. */
static int tp_rules_finish(struct tp_rules *r, const char *origin, char *errstr,
                           size_t errstr_size)
{
        char msg[256];
        for (int i = 0; i < TP_RULE__COUNT; i++) {
                if (!r->deesc_set[i])
                        r->dflt[i].deescalate =
                                tp_deesc_default((enum tp_rule)i, &r->dflt[i]);
                if (tp_rule_validate((enum tp_rule)i, &r->dflt[i], msg,
                                     sizeof(msg)) != 0) {
                        snprintf(errstr, errstr_size, "%s: %s", origin, msg);
                        return -1;
                }
        }
        free(r->provs);
        r->provs = NULL;
        r->n_provs = 0;
        for (size_t k = 0; k < r->n_ovr; k++) {
                struct tp_rules_override *o = &r->ovr[k];
                struct tp_rules_prov *pp = tp_rules_prov(r, o->province);
                if (!pp) {
                        if (r->n_provs >= TP_RULES_MAX_PROVS) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: too many provinces "
                                         "overridden",
                                         origin, o->line);
                                return -1;
                        }
                        r->provs = tp_xrealloc(r->provs,
                                               (r->n_provs + 1) * sizeof(*pp));
                        pp = &r->provs[r->n_provs++];
                        memcpy(pp->province, o->province, 4);
                        memcpy(pp->p, r->dflt, sizeof(pp->p));
                }
                tp_field_apply(&pp->p[o->rule], o->field, o->value);
        }
        for (size_t i = 0; i < r->n_provs; i++) {
                for (int rule = 0; rule < TP_RULE__COUNT; rule++) {
                        struct tp_rule_params *p = &r->provs[i].p[rule];
                        int line = 0, deesc = 0;
                        for (size_t k = 0; k < r->n_ovr; k++) {
                                if ((int)r->ovr[k].rule != rule ||
                                    strcmp(r->ovr[k].province,
                                           r->provs[i].province) != 0)
                                        continue;
                                line = r->ovr[k].line;
                                deesc |= r->ovr[k].field == TP_F_DEESCALATE;
                        }
                        if (!line)
                                continue;
                        if (!deesc && !r->deesc_set[rule])
                                p->deescalate =
                                        tp_deesc_default((enum tp_rule)rule, p);
                        if (tp_rule_validate((enum tp_rule)rule, p, msg,
                                             sizeof(msg)) != 0) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: province %s: %s", origin, line,
                                         r->provs[i].province, msg);
                                return -1;
                        }
                }
        }
        if (r->office_start_hour >= r->office_end_hour) {
                snprintf(errstr, errstr_size,
                         "%s: office.start_hour must be before "
                         "office.end_hour",
                         origin);
                return -1;
        }
        return 0;
}

static int tp_rules_pair(void *ud, char *key, const char *value, int line,
                         char *err, size_t err_size)
{
        return tp_rules_line(ud, key, value, line, err, err_size);
}

int tp_rules_parse_text(struct tp_rules *r, const char *text,
                        const char *origin, char *errstr, size_t errstr_size)
{
        if (tp_kv_parse(text, origin, TP_KV_VALUE_COMMENTS, tp_rules_pair, r,
                        errstr, errstr_size) != 0)
                return -1;
        return tp_rules_finish(r, origin, errstr, errstr_size);
}

int tp_rules_load(struct tp_rules *r, const char *path, char *errstr,
                  size_t errstr_size)
{
        size_t len;
        char *text;
        int rc;
        if (!path || !*path)
                return tp_rules_parse_text(r, "", "defaults", errstr,
                                           errstr_size);
        text = tp_read_file(path, TP_RULES_MAX_FILE, &len, errstr, errstr_size);
        if (!text)
                return -1;
        rc = tp_rules_parse_text(r, text, path, errstr, errstr_size);
        free(text);
        return rc;
}

const struct tp_rule_params *
tp_rules_get(const struct tp_rules *r, const char *province, enum tp_rule rule)
{
        for (size_t i = 0; province && i < r->n_provs; i++)
                if (strcmp(r->provs[i].province, province) == 0)
                        return &r->provs[i].p[rule];
        return &r->dflt[rule];
}
