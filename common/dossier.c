/* dossier.c - see dossier.h. */
#include "dossier.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tp_dstatus_names[TP_DS__COUNT] = {
        "none",     "submitted", "processing", "paused",
        "resolved", "stopped",   "withdrawn",  "refused"};
static const char *const tp_outcome_names[] = {NULL, "early", "on_time",
                                               "late"};

const char *tp_dstatus_name(enum tp_dstatus s)
{
        return (unsigned)s < TP_DS__COUNT ? tp_dstatus_names[s] : "none";
}

int tp_dstatus_parse(const char *s)
{
        for (int i = 0; i < TP_DS__COUNT; i++)
                if (strcmp(tp_dstatus_names[i], s) == 0)
                        return i;
        return -1;
}

const char *tp_outcome_name(enum tp_outcome o)
{
        return (unsigned)o < TP_ARRAY_LEN(tp_outcome_names)
                       ? tp_outcome_names[o]
                       : NULL;
}

int tp_outcome_parse(const char *s)
{
        for (int i = 1; i < (int)TP_ARRAY_LEN(tp_outcome_names); i++)
                if (strcmp(tp_outcome_names[i], s) == 0)
                        return i;
        return -1;
}

/* Where each enum tp_dossier_str lies in struct tp_dossier. */
static const size_t tp_dossier_str_at[TP_DSS__COUNT] = {
        [TP_DSS_PROVINCE] = offsetof(struct tp_dossier, province_code),
        [TP_DSS_DOSSIER_ID] = offsetof(struct tp_dossier, dossier_id),
        [TP_DSS_COMMUNE] = offsetof(struct tp_dossier, commune_code),
        [TP_DSS_PROCEDURE] = offsetof(struct tp_dossier, procedure_code),
        [TP_DSS_AGENCY] = offsetof(struct tp_dossier, agency_code),
        [TP_DSS_HANDLING_COMMUNE] =
                offsetof(struct tp_dossier, handling_commune_code),
};

static char **tp_dossier_str(struct tp_dossier *d, int k)
{
        return (char **)((char *)d + tp_dossier_str_at[k]);
}

void tp_dossier_set_strings(struct tp_dossier *d,
                            const struct tp_strspan s[TP_DSS__COUNT])
{
        char *old = d->strings;
        d->strings =
                tp_arena_pack(NULL, d, tp_dossier_str_at, s, TP_DSS__COUNT);
        free(old);
}

/* Sets string k to a copy of v (NULL: null) when it differs: a new block,
 * the others copied along. Most events name the agency and commune the
 * dossier has, and cost nothing here. */
static void tp_dossier_set_str(struct tp_dossier *d, int k, const char *v)
{
        struct tp_strspan s[TP_DSS__COUNT];
        const char *cur = *tp_dossier_str(d, k);
        if (cur && v ? strcmp(cur, v) == 0 : cur == v)
                return;
        for (int i = 0; i < TP_DSS__COUNT; i++)
                s[i] = tp_arena_span(*tp_dossier_str(d, i));
        s[k] = tp_arena_span(v);
        tp_dossier_set_strings(d, s);
}

void tp_dossier_init(struct tp_dossier *d, const struct tp_event *ev)
{
        struct tp_strspan s[TP_DSS__COUNT] = {{0}};
        memset(d, 0, sizeof(*d));
        s[TP_DSS_PROVINCE] = tp_arena_span(ev->province_code);
        s[TP_DSS_DOSSIER_ID] = tp_arena_span(ev->dossier_id);
        s[TP_DSS_COMMUNE] = tp_arena_span(ev->commune_code);
        s[TP_DSS_PROCEDURE] = tp_arena_span(ev->procedure_code);
        tp_dossier_set_strings(d, s);
        d->procedure_level = ev->procedure_level;
        d->channel = ev->channel;
        d->submitted_at = d->received_at = d->closed_at = TP_TS_NONE;
        d->result_returned_at = d->due_at = d->original_due_at = TP_TS_NONE;
        d->last_event_at = TP_TS_NONE;
        d->handling_level = ev->handling_level;
        d->status = TP_DS_NONE;
}

void tp_dossier_release(struct tp_dossier *d)
{
        free(d->strings);
        memset(d, 0, sizeof(*d));
}

enum tp_seq_check tp_dossier_check_seq(const struct tp_dossier *d, int32_t seq)
{
        if (seq <= d->last_seq)
                return TP_SEQ_DUPLICATE;
        return seq == d->last_seq + 1 ? TP_SEQ_NEXT : TP_SEQ_GAP;
}

int tp_dossier_is_open(const struct tp_dossier *d)
{
        return d->status == TP_DS_SUBMITTED || d->status == TP_DS_PROCESSING ||
               d->status == TP_DS_PAUSED;
}

int64_t tp_dossier_overdue_after(const struct tp_dossier *d)
{
        if (d->status != TP_DS_PROCESSING || d->original_due_at == TP_TS_NONE)
                return INT64_MAX;
        return tp_vn_day(d->original_due_at);
}

int tp_dossier_is_overdue(const struct tp_dossier *d, int64_t eval_day)
{
        return tp_dossier_overdue_after(d) < eval_day;
}

/* The deadline rules: the first due_at is the effective due date; only
 * the end of a pause moves it; any other change is an extension. A null
 * due_at never clears it. */
static void tp_dossier_due(struct tp_dossier *d, const struct tp_event *ev)
{
        int ends_pause = ev->event_type == TP_EV_SUPPLEMENT_RECEIVED ||
                         ev->event_type == TP_EV_RESUMED;
        if (ev->due_at == TP_TS_NONE)
                return;
        if (d->original_due_at == TP_TS_NONE || ends_pause)
                d->original_due_at = ev->due_at;
        else if (d->due_at != TP_TS_NONE && ev->due_at != d->due_at)
                d->extended = 1;
        d->due_at = ev->due_at;
}

/* Who handles it after ev: a transfer moves it to to_level / to_agency;
 * other events report the handler themselves. Older writers omit
 * handling_commune_code: then a commune-level handler is assumed to be
 * the receiving commune. */
static void tp_dossier_handler(struct tp_dossier *d, const struct tp_event *ev)
{
        if (ev->event_type == TP_EV_TRANSFERRED) {
                d->handling_level = (enum tp_level)ev->to_level;
                tp_dossier_set_str(d, TP_DSS_AGENCY, ev->to_agency_code);
                if (ev->to_level != TP_LEVEL_COMMUNE)
                        tp_dossier_set_str(d, TP_DSS_HANDLING_COMMUNE, NULL);
                return;
        }
        d->handling_level = ev->handling_level;
        tp_dossier_set_str(d, TP_DSS_AGENCY, ev->agency_code);
        if (ev->handling_commune_given)
                tp_dossier_set_str(d, TP_DSS_HANDLING_COMMUNE,
                                   ev->handling_commune_code);
        else
                tp_dossier_set_str(d, TP_DSS_HANDLING_COMMUNE,
                                   ev->handling_level == TP_LEVEL_COMMUNE
                                           ? d->commune_code
                                           : NULL);
}

static enum tp_outcome tp_dossier_outcome(const struct tp_dossier *d,
                                          int64_t at)
{
        int64_t done, due;
        if (d->original_due_at == TP_TS_NONE)
                return TP_OUT_ON_TIME;
        done = tp_vn_day(at);
        due = tp_vn_day(d->original_due_at);
        if (done < due)
                return TP_OUT_EARLY;
        return done == due ? TP_OUT_ON_TIME : TP_OUT_LATE;
}

static void tp_dossier_close(struct tp_dossier *d, enum tp_dstatus st,
                             int64_t at)
{
        d->status = st;
        if (d->closed_at == TP_TS_NONE)
                d->closed_at = at;
}

static void tp_dossier_pause(struct tp_dossier *d, int delta)
{
        d->open_pauses += delta;
        if (d->open_pauses < 0)
                d->open_pauses = 0;
        if (d->status == TP_DS_PROCESSING && d->open_pauses > 0)
                d->status = TP_DS_PAUSED;
        else if (d->status == TP_DS_PAUSED && d->open_pauses == 0)
                d->status = TP_DS_PROCESSING;
}

static void tp_dossier_resolve(struct tp_dossier *d, const struct tp_event *ev,
                               struct tp_effects *fx)
{
        d->outcome = tp_dossier_outcome(d, ev->occurred_at);
        fx->resolved_early = d->outcome == TP_OUT_EARLY;
        fx->resolved_on_time = d->outcome == TP_OUT_ON_TIME;
        fx->resolved_late = d->outcome == TP_OUT_LATE;
        tp_dossier_close(d, TP_DS_RESOLVED, ev->occurred_at);
}

static void tp_dossier_receive(struct tp_dossier *d, const struct tp_event *ev,
                               struct tp_effects *fx)
{
        fx->received = 1;
        fx->online_received = ev->channel == TP_CH_ONLINE;
        if (d->received_at == TP_TS_NONE)
                d->received_at = ev->occurred_at;
        if (d->status == TP_DS_NONE || d->status == TP_DS_SUBMITTED)
                d->status =
                        d->open_pauses > 0 ? TP_DS_PAUSED : TP_DS_PROCESSING;
}

void tp_dossier_apply(struct tp_dossier *d, const struct tp_event *ev,
                      struct tp_effects *fx)
{
        memset(fx, 0, sizeof(*fx));
        if (tp_dossier_check_seq(d, ev->seq) == TP_SEQ_GAP)
                d->seq_gaps += ev->seq - d->last_seq - 1;
        d->last_seq = ev->seq;
        d->last_event_at = ev->occurred_at;
        if (!d->commune_code && ev->commune_code)
                tp_dossier_set_str(d, TP_DSS_COMMUNE, ev->commune_code);
        tp_dossier_due(d, ev);
        if (ev->event_type == TP_EV_TRANSFERRED)
                fx->transferred_out = ev->handling_level == TP_LEVEL_COMMUNE;
        tp_dossier_handler(d, ev);
        switch (ev->event_type) {
        case TP_EV_SUBMITTED:
                if (d->submitted_at == TP_TS_NONE)
                        d->submitted_at = ev->occurred_at;
                if (d->status == TP_DS_NONE)
                        d->status = TP_DS_SUBMITTED;
                break;
        case TP_EV_RECEIVED:
                tp_dossier_receive(d, ev, fx);
                break;
        case TP_EV_INTAKE_REFUSED:
                fx->intake_refused = 1;
                tp_dossier_close(d, TP_DS_REFUSED, ev->occurred_at);
                break;
        case TP_EV_SUPPLEMENT_REQUESTED:
                fx->supplement_requested = 1;
                tp_dossier_pause(d, +1);
                break;
        case TP_EV_SUSPENDED:
                tp_dossier_pause(d, +1);
                break;
        case TP_EV_SUPPLEMENT_RECEIVED:
        case TP_EV_RESUMED:
                tp_dossier_pause(d, -1);
                break;
        case TP_EV_RESOLVED:
                tp_dossier_resolve(d, ev, fx);
                break;
        case TP_EV_RESULT_RETURNED:
                if (d->result_returned_at == TP_TS_NONE)
                        d->result_returned_at = ev->occurred_at;
                break;
        case TP_EV_STOPPED:
                fx->stopped = 1;
                tp_dossier_close(d, TP_DS_STOPPED, ev->occurred_at);
                break;
        case TP_EV_WITHDRAWN:
                fx->withdrawn = 1;
                tp_dossier_close(d, TP_DS_WITHDRAWN, ev->occurred_at);
                break;
        default:
                break;
        }
        /* A dossier first seen mid-life (its opening events lost) is open. */
        if (d->status == TP_DS_NONE)
                d->status =
                        d->open_pauses > 0 ? TP_DS_PAUSED : TP_DS_PROCESSING;
}

void tp_dossier_key(char *buf, size_t size, const char *province,
                    const char *dossier_id)
{
        size_t n = 0;
        tp_cat(buf, size, &n, province);
        tp_cat(buf, size, &n, "|");
        tp_cat(buf, size, &n, dossier_id);
}
