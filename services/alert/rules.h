/* rules.h - alert rules: thresholds, windows and minimum volumes, with
 * the defaults of design.md, read from a "key = value" rules file with
 * per-province overrides ("province.79.overdue_backlog.warning = 8").
 * Pure: no I/O but reading the file. See docs/alerts.md for the keys. */
#ifndef TP_ALERT_RULES_H
#define TP_ALERT_RULES_H

#include <stddef.h>
#include <stdint.h>

enum tp_rule {
        TP_RULE_OVERDUE_BACKLOG,
        TP_RULE_ON_TIME_RATE,
        TP_RULE_BACKLOG_GROWTH,
        TP_RULE_COMMUNE_SILENT,
        TP_RULE_PROVINCE_FEED_STALE,
        TP_RULE_INTAKE_BACKLOG,
        TP_RULE__COUNT
};

/* One rule's parameters. A rule "fires" at warning, escalates at critical,
 * de-escalates past deescalate and resolves past resolve. For
 * on_time_rate lower values are worse (value < threshold fires, value >=
 * resolve resolves); for the others higher values are worse (value >=
 * threshold fires, value < resolve resolves). */
struct tp_rule_params {
        int enabled;
        double warning, critical, resolve, deescalate;
        double min_volume;     /* see docs/alerts.md, per rule */
        int window_days;       /* trailing window (on_time_rate, ...) */
        int insufficient_days; /* resolve as insufficient_data after */
};

struct tp_rules_override; /* internal */

struct tp_rules {
        struct tp_rule_params dflt[TP_RULE__COUNT];
        /* Per-province parameter sets, built by tp_rules_finish(). */
        struct tp_rules_prov {
                char province[4];
                struct tp_rule_params p[TP_RULE__COUNT];
        } * provs;
        size_t n_provs;
        /* Global settings. */
        int64_t lateness_ms;    /* watermark = max occurred_at - this */
        int64_t idle_ms;        /* event-time idleness of a partition */
        int64_t catchup_lag_ms; /* caught up: watermark within this */
        int64_t resend_ms;      /* Alertmanager re-send interval */
        int office_start_hour;  /* province_feed_stale office hours */
        int office_end_hour;
        int office_every_day; /* 1: every day has office hours (tests) */
        /* Parse-time bookkeeping (overrides in file order). */
        struct tp_rules_override *ovr;
        size_t n_ovr;
        int deesc_set[TP_RULE__COUNT];
};

/* Fills the defaults of design.md. */
void tp_rules_defaults(struct tp_rules *r);
void tp_rules_release(struct tp_rules *r);
/* Makes dst an independent copy of src (dst is overwritten, not
 * released). */
void tp_rules_copy(struct tp_rules *dst, const struct tp_rules *src);

/* Parses rules text; origin names it in "origin:line: message" errors.
 * Calls tp_rules_finish() (validation). Returns 0 or -1. */
int tp_rules_parse_text(struct tp_rules *r, const char *text,
                        const char *origin, char *errstr, size_t errstr_size);
/* Reads and parses a rules file (path NULL or "": defaults only). */
int tp_rules_load(struct tp_rules *r, const char *path, char *errstr,
                  size_t errstr_size);

/* The parameters of rule for a province (its overrides, else defaults). */
const struct tp_rule_params *
tp_rules_get(const struct tp_rules *r, const char *province, enum tp_rule rule);

const char *tp_rule_name(enum tp_rule rule);
int tp_rule_parse(const char *name, size_t len); /* -1 when unknown */
/* 1 when lower values are worse (on_time_rate). */
int tp_rule_lower_is_worse(enum tp_rule rule);

#endif
