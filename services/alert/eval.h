/* eval.h - the pure logic of tthc-alert: working days, watermarks, rule
 * values, hysteresis and episode ids. No I/O; unit-tested in
 * tests/unit/test_alert.c. */
#ifndef TP_ALERT_EVAL_H
#define TP_ALERT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* ---- working days -------------------------------------------------------
 * Monday-Friday that are not days off, plus worked Saturdays
 * (reference/holidays.csv, tthc.holidays). Days are tp_vn_day() numbers. */
struct tp_workcal {
        int64_t *days_off, *worked_saturdays; /* sorted */
        size_t n_off, n_sat;
};

void tp_workcal_init(struct tp_workcal *cal);
void tp_workcal_release(struct tp_workcal *cal);
/* kind: "day_off" or "worked_saturday"; anything else is ignored. */
void tp_workcal_add(struct tp_workcal *cal, int64_t day, const char *kind);
/* Sorts; call after the last tp_workcal_add(). */
void tp_workcal_seal(struct tp_workcal *cal);
int tp_workcal_is_working(const struct tp_workcal *cal, int64_t day);
/* The first working day on or after day; INT64_MAX when there is none
 * within 400 days (a calendar with every day off). */
int64_t tp_workcal_next(const struct tp_workcal *cal, int64_t day);
/* Working days in [a, b) (0 when b <= a). */
int tp_workcal_between(const struct tp_workcal *cal, int64_t a, int64_t b);
/* Office time (ms) in [from, to) of Vietnam working days between
 * start_hour and end_hour local time; cal NULL counts every day. */
int64_t tp_workcal_office_ms(const struct tp_workcal *cal, int64_t from,
                             int64_t to, int start_hour, int end_hour);

/* ---- watermarks -------------------------------------------------------- */

/* One partition of a province topic as the evaluator sees it. */
struct tp_part_wm {
        int present;             /* a state row exists */
        int64_t max_occurred_at; /* TP_TS_NONE: no event yet */
        int caught_up;           /* reached the end of the partition */
};

/* Province watermark: minimum over its partitions of max_occurred_at
 * minus lateness, skipping caught-up partitions idle (in event time) for
 * idle_ms behind the newest. Returns 0 and sets *wm, or -1 when it cannot
 * be known yet (a partition not seen, or one without events that is not
 * caught up). */
int tp_alert_province_wm(const struct tp_part_wm *parts, size_t n,
                         int64_t lateness_ms, int64_t idle_ms, int64_t *wm);

/* Smallest hour boundary >= t. */
int64_t tp_hour_ceil(int64_t t);

/* ---- figures and rules -------------------------------------------------- */

/* A commune's figures at a tick. */
struct tp_commune_fig {
        int open;              /* processing + paused, handled by it */
        int paused;            /* of those, paused */
        int overdue;           /* processing past the effective due date */
        int intake_backlog;    /* online, submitted to its desk, late */
        int64_t last_event_at; /* TP_TS_NONE when none seen */
        /* From day counters over the trailing windows (days before the
         * tick's day). */
        int resolved_w;    /* on_time_rate window */
        int resolved_ok_w; /* early or on time, same window */
        int resolved_g;    /* backlog_growth window */
        int received_g;
        int silent_days;  /* working days without events */
        double baseline;  /* events per working day before silence */
        int history_days; /* days of the province's stream so far */
};

/* The value of rule for fig, and whether it may fire (minimum volume)
 * and whether it can be judged at all (else an open episode holds). */
double tp_alert_rule_value(enum tp_rule rule, const struct tp_rule_params *p,
                           const struct tp_commune_fig *fig, int *can_fire,
                           int *can_judge);

/* ---- hysteresis --------------------------------------------------------- */

enum tp_sev { TP_SEV_NONE, TP_SEV_WARNING, TP_SEV_CRITICAL };
enum tp_change {
        TP_CHANGE_NONE,
        TP_CHANGE_FIRED,
        TP_CHANGE_CHANGED,
        TP_CHANGE_RESOLVED
};

/* One evaluation of an episode's state machine: cur is the open
 * episode's severity (TP_SEV_NONE: none open). Fires at warning (or
 * straight at critical), escalates at critical, de-escalates past
 * deescalate, resolves past resolve. Without can_fire nothing fires;
 * without can_judge an open episode holds. *next gets the new severity
 * (TP_SEV_NONE after a resolve). */
enum tp_change tp_alert_step(enum tp_rule rule, const struct tp_rule_params *p,
                             enum tp_sev cur, double value, int can_fire,
                             int can_judge, enum tp_sev *next);

/* province_feed_stale, the one rule on wall time, through the same
 * state machine. Its value: office hours (rules' office.* keys, working
 * days of cal) between the province's last message and now, the clock
 * the caller passes (wall time in the sinks, any time in tests). */
double tp_alert_feed_hours(const struct tp_workcal *cal,
                           const struct tp_rules *rules, int64_t last,
                           int64_t now);
/* One evaluation: a message since the episode opened (message_since)
 * resolves it; otherwise tp_alert_step on hours, firing only when every
 * partition of the province is caught up (so never during a replay). */
enum tp_change tp_alert_feed_step(const struct tp_rule_params *p,
                                  enum tp_sev cur, double hours, int caught_up,
                                  int message_since, enum tp_sev *next);

/* The threshold reported for a severity (resolve for TP_SEV_NONE). */
double tp_alert_threshold(const struct tp_rule_params *p, enum tp_sev sev);
const char *tp_sev_name(enum tp_sev sev); /* "warning", "critical" */
int tp_sev_parse(const char *s);
const char *tp_change_name(enum tp_change ch);

/* ---- episode ids --------------------------------------------------------- */

/* SHA-1 of data (exposed for tests). */
void tp_sha1(const void *data, size_t len, unsigned char out[20]);
/* RFC 4122 version-5 UUID of name in namespace ns, as text (37 bytes). */
void tp_uuid5(const unsigned char ns[16], const char *name, char out[37]);
/* The episode id: UUIDv5 (project namespace) of
 * "<province>|<commune or ->|<rule>|<starting tick, ms>". */
void tp_alert_episode_id(const char *province, const char *commune,
                         enum tp_rule rule, int64_t started_at, char out[37]);

#endif
