/* dossier.h - the state of one dossier and how an event changes it
 * (design.md, lifecycle table and outcome rules). Pure logic: no I/O.
 */
#ifndef TP_DOSSIER_H
#define TP_DOSSIER_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum tp_dstatus {
        TP_DS_NONE, /* no event applied yet */
        TP_DS_SUBMITTED,
        TP_DS_PROCESSING,
        TP_DS_PAUSED,
        TP_DS_RESOLVED,
        TP_DS_STOPPED,
        TP_DS_WITHDRAWN,
        TP_DS_REFUSED,
        TP_DS__COUNT
};

enum tp_outcome { TP_OUT_NONE, TP_OUT_EARLY, TP_OUT_ON_TIME, TP_OUT_LATE };

/* The strings point into one block the dossier owns (strings), set by
 * tp_dossier_init, tp_dossier_set_strings and tp_dossier_apply (which
 * makes a new block when an agency or commune changes); release with
 * tp_dossier_release(). A consumer keeps up to a million dossiers: one
 * allocation for their six strings instead of six. Timestamps are ms or
 * TP_TS_NONE. */
struct tp_dossier {
        char *province_code;
        char *dossier_id;
        char *commune_code;
        char *procedure_code;
        enum tp_level procedure_level;
        enum tp_channel channel;
        int64_t submitted_at, received_at, closed_at, result_returned_at;
        int64_t due_at;          /* the source's latest deadline */
        int64_t original_due_at; /* the effective due date that counts */
        int extended;
        enum tp_dstatus status;
        enum tp_outcome outcome;
        enum tp_level handling_level;
        char *agency_code;
        char *handling_commune_code;
        int32_t last_seq;
        int32_t seq_gaps;
        int32_t open_pauses;
        int64_t last_event_at;
        char *strings; /* owns the strings above */
};

/* The string fields of struct tp_dossier, for tp_dossier_set_strings. */
enum tp_dossier_str {
        TP_DSS_PROVINCE,
        TP_DSS_DOSSIER_ID,
        TP_DSS_COMMUNE,
        TP_DSS_PROCEDURE,
        TP_DSS_AGENCY,
        TP_DSS_HANDLING_COMMUNE,
        TP_DSS__COUNT
};

/* Per-event changes to the hourly commune counters. */
struct tp_effects {
        int received, resolved_early, resolved_on_time, resolved_late;
        int stopped, withdrawn, intake_refused, transferred_out;
        int supplement_requested, online_received;
};

enum tp_seq_check {
        TP_SEQ_NEXT,      /* seq == last_seq + 1 */
        TP_SEQ_GAP,       /* seq > last_seq + 1: applied, gap counted */
        TP_SEQ_DUPLICATE, /* seq <= last_seq: already applied */
};

/* An empty dossier (status TP_DS_NONE) keyed by the event's codes. */
void tp_dossier_init(struct tp_dossier *d, const struct tp_event *ev);

/* The key of a dossier in a consumer's state store (store.h):
 * "<province_code>|<dossier_id>", cut to size. */
void tp_dossier_key(char *buf, size_t size, const char *province,
                    const char *dossier_id);
void tp_dossier_release(struct tp_dossier *d);

/* Points d's string fields at copies of s[TP_DSS_...] in one new block
 * owned by d; the block d had (it may hold the spans) is freed after. */
void tp_dossier_set_strings(struct tp_dossier *d,
                            const struct tp_strspan s[TP_DSS__COUNT]);

enum tp_seq_check tp_dossier_check_seq(const struct tp_dossier *d, int32_t seq);

/* Applies ev (whose seq is not a duplicate) and reports counter changes
 * in *fx (zeroed first). */
void tp_dossier_apply(struct tp_dossier *d, const struct tp_event *ev,
                      struct tp_effects *fx);

/* 1 while open: submitted, processing or paused. */
int tp_dossier_is_open(const struct tp_dossier *d);
/* The Vietnam day (a tp_vn_day() number) after which d, as it is, is
 * overdue: its effective due date's, while it is processing (no pause
 * open); INT64_MAX when it is not (not processing, no due date). */
int64_t tp_dossier_overdue_after(const struct tp_dossier *d);
/* 1 when overdue on eval_day (a tp_vn_day() number): after the day
 * tp_dossier_overdue_after gives. */
int tp_dossier_is_overdue(const struct tp_dossier *d, int64_t eval_day);

const char *tp_dstatus_name(enum tp_dstatus s);
int tp_dstatus_parse(const char *s);
const char *tp_outcome_name(enum tp_outcome o); /* NULL for NONE */
int tp_outcome_parse(const char *s);

#endif
