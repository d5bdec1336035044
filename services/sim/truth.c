/* truth.c - the exact figures a consumer must arrive at, folded from the
 * events tthc-sim actually produced (first copies only) with the
 * definitions of design.md, and written as JSON (docs/sim.md). */
#include "sim.h"
#include "util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
        TP_SIM_C_RECEIVED,
        TP_SIM_C_EARLY,
        TP_SIM_C_ON_TIME,
        TP_SIM_C_LATE,
        TP_SIM_C_STOPPED,
        TP_SIM_C_WITHDRAWN,
        TP_SIM_C_INTAKE_REFUSED,
        TP_SIM_C_TRANSFERRED_OUT,
        TP_SIM_C_SUPPLEMENT_REQUESTED,
        TP_SIM_C_ONLINE_RECEIVED,
        TP_SIM_C_OPEN,
        TP_SIM_C_PAUSED,
        TP_SIM_C_OVERDUE,
        TP_SIM_C_INTAKE_BACKLOG,
        TP_SIM_C_COUNT
};

static const char *const tp_sim_c_names[TP_SIM_C_COUNT] = {
        "received",
        "resolved_early",
        "resolved_on_time",
        "resolved_late",
        "stopped",
        "withdrawn",
        "intake_refused",
        "transferred_out",
        "supplement_requested",
        "online_received",
        "open",
        "paused",
        "overdue",
        "intake_backlog"};

struct tp_sim_pstats {
        int64_t events;
        int64_t dossiers;
        int64_t by_type[TP_SIM_EVTYPE_COUNT];
        int64_t first_t;
        int64_t last_t;
        int64_t open, paused, overdue, intake_backlog;
};

struct tp_sim_truth {
        const struct tp_sim_ref *ref;
        int n_slots; /* communes, then one provincial-centre slot each */
        int64_t (*counts)[TP_SIM_C_COUNT];
        int64_t (*handled)[3]; /* per handling commune: open, paused,
                                  overdue */
        struct tp_sim_pstats *prov;
        int64_t *transfers; /* [province][procedure][from][to] */
        uint64_t events;
};

static void tp_sim_terr(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void tp_sim_terr(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

struct tp_sim_truth *tp_sim_truth_new(const struct tp_sim_ref *ref)
{
        struct tp_sim_truth *tr = tp_xcalloc(1, sizeof(*tr));
        size_t nt = (size_t)ref->n_provinces * (size_t)ref->n_procedures * 9;

        tr->ref = ref;
        tr->n_slots = ref->n_communes + ref->n_provinces;
        tr->counts = tp_xcalloc((size_t)tr->n_slots, sizeof(*tr->counts));
        tr->handled = tp_xcalloc((size_t)ref->n_communes, sizeof(*tr->handled));
        tr->prov = tp_xcalloc((size_t)ref->n_provinces, sizeof(*tr->prov));
        tr->transfers = tp_xcalloc(nt, sizeof(*tr->transfers));
        return tr;
}

void tp_sim_truth_destroy(struct tp_sim_truth *tr)
{
        if (!tr)
                return;
        free(tr->counts);
        free(tr->handled);
        free(tr->prov);
        free(tr->transfers);
        free(tr);
}

uint64_t tp_sim_truth_events(const struct tp_sim_truth *tr)
{
        return tr->events;
}

static int tp_sim_slot(const struct tp_sim_truth *tr,
                       const struct tp_sim_dossier *d)
{
        return d->commune >= 0 ? d->commune : tr->ref->n_communes + d->province;
}

/* Early, on time or late: Vietnam dates of the decision and of the
 * effective due date; no due date counts as on time. */
static int tp_sim_outcome(const struct tp_sim_dstate *st, int64_t t)
{
        int64_t a, b;

        if (!st->has_due)
                return TP_SIM_C_ON_TIME;
        a = tp_vn_day(t);
        b = tp_vn_day(st->eff_due);
        return a < b ? TP_SIM_C_EARLY
                     : (a == b ? TP_SIM_C_ON_TIME : TP_SIM_C_LATE);
}

static void tp_sim_count_transfer(struct tp_sim_truth *tr,
                                  const struct tp_sim_dossier *d,
                                  const struct tp_sim_event *e)
{
        size_t i = (((size_t)d->province * (size_t)tr->ref->n_procedures +
                     (size_t)d->procedure) *
                            3 +
                    e->level) *
                           3 +
                   (size_t)e->to_level;
        tr->transfers[i]++;
}

void tp_sim_truth_apply(struct tp_sim_truth *tr, struct tp_sim_dossier *d,
                        const struct tp_sim_event *e)
{
        struct tp_sim_pstats *ps = &tr->prov[d->province];
        struct tp_sim_dstate *st = &d->st;
        int64_t *c = tr->counts[tp_sim_slot(tr, d)];

        tr->events++;
        ps->events++;
        ps->by_type[e->type]++;
        if (e == &d->events[0])
                ps->dossiers++;
        if (ps->events == 1 || e->t < ps->first_t)
                ps->first_t = e->t;
        if (e->t > ps->last_t)
                ps->last_t = e->t;
        if (!st->has_due && e->due != TP_SIM_NO_DUE) {
                st->has_due = 1;
                st->eff_due = e->due;
        }
        st->handling_commune = e->handling_commune;
        switch (e->type) {
        case TP_SIM_SUBMITTED:
                st->status = TP_SIM_ST_SUBMITTED;
                break;
        case TP_SIM_RECEIVED:
                c[TP_SIM_C_RECEIVED]++;
                if (d->channel == TP_SIM_ONLINE)
                        c[TP_SIM_C_ONLINE_RECEIVED]++;
                st->status = TP_SIM_ST_PROCESSING;
                break;
        case TP_SIM_INTAKE_REFUSED:
                c[TP_SIM_C_INTAKE_REFUSED]++;
                st->status = TP_SIM_ST_CLOSED;
                break;
        case TP_SIM_TRANSFERRED:
                if (e->level == TP_SIM_COMMUNE)
                        c[TP_SIM_C_TRANSFERRED_OUT]++;
                tp_sim_count_transfer(tr, d, e);
                st->handling_commune =
                        e->to_level == TP_SIM_COMMUNE ? e->to_agency_idx : -1;
                break;
        case TP_SIM_SUPPLEMENT_REQUESTED:
                c[TP_SIM_C_SUPPLEMENT_REQUESTED]++;
                st->pauses++;
                break;
        case TP_SIM_SUSPENDED:
                st->pauses++;
                break;
        case TP_SIM_SUPPLEMENT_RECEIVED:
        case TP_SIM_RESUMED:
                if (st->pauses > 0)
                        st->pauses--;
                if (e->due != TP_SIM_NO_DUE)
                        st->eff_due = e->due;
                break;
        case TP_SIM_RESOLVED:
                c[tp_sim_outcome(st, e->t)]++;
                st->status = TP_SIM_ST_CLOSED;
                break;
        case TP_SIM_STOPPED:
                c[TP_SIM_C_STOPPED]++;
                st->status = TP_SIM_ST_CLOSED;
                break;
        case TP_SIM_WITHDRAWN:
                c[TP_SIM_C_WITHDRAWN]++;
                st->status = TP_SIM_ST_CLOSED;
                break;
        default:
                break;
        }
}

void tp_sim_truth_end_dossier(struct tp_sim_truth *tr,
                              const struct tp_sim_dossier *d)
{
        const struct tp_sim_dstate *st = &d->st;
        struct tp_sim_pstats *ps = &tr->prov[d->province];
        int64_t *c = tr->counts[tp_sim_slot(tr, d)];
        int64_t *h = st->handling_commune >= 0
                             ? tr->handled[st->handling_commune]
                             : NULL;
        int overdue;

        if (st->status == TP_SIM_ST_SUBMITTED) {
                c[TP_SIM_C_INTAKE_BACKLOG]++;
                ps->intake_backlog++;
                return;
        }
        if (st->status != TP_SIM_ST_PROCESSING)
                return;
        /* Overdue: processing, no pause open, due date before the Vietnam
         * date of the province's last event. */
        overdue = st->pauses == 0 && st->has_due &&
                  tp_vn_day(st->eff_due) < tp_vn_day(ps->last_t);
        c[TP_SIM_C_OPEN]++;
        ps->open++;
        if (h)
                h[0]++;
        if (st->pauses > 0) {
                c[TP_SIM_C_PAUSED]++;
                ps->paused++;
                if (h)
                        h[1]++;
        }
        if (overdue) {
                c[TP_SIM_C_OVERDUE]++;
                ps->overdue++;
                if (h)
                        h[2]++;
        }
}

static json_t *tp_sim_json_ts(int64_t t)
{
        char buf[32];
        tp_format_ts(t, buf, sizeof(buf));
        return json_string(buf);
}

static json_t *tp_sim_json_date(int64_t day)
{
        char buf[16];
        int y, m, d;
        tp_civil_from_days(day, &y, &m, &d);
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
        return json_string(buf);
}

static json_t *tp_sim_truth_provinces(const struct tp_sim_truth *tr)
{
        json_t *arr = json_array();

        for (int p = 0; p < tr->ref->n_provinces; p++) {
                const struct tp_sim_pstats *ps = &tr->prov[p];
                json_t *o, *bt;
                if (ps->events == 0)
                        continue;
                bt = json_object();
                for (int i = 0; i < TP_SIM_EVTYPE_COUNT; i++)
                        json_object_set_new(bt, tp_sim_evtype_names[i],
                                            json_integer(ps->by_type[i]));
                o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "province_code", tr->ref->provinces[p].code,
                              "events", (json_int_t)ps->events, "dossiers",
                              (json_int_t)ps->dossiers, "open",
                              (json_int_t)ps->open, "paused",
                              (json_int_t)ps->paused, "overdue",
                              (json_int_t)ps->overdue, "intake_backlog",
                              (json_int_t)ps->intake_backlog);
                json_object_set_new(o, "first_event_at",
                                    tp_sim_json_ts(ps->first_t));
                json_object_set_new(o, "last_event_at",
                                    tp_sim_json_ts(ps->last_t));
                json_object_set_new(o, "evaluation_date",
                                    tp_sim_json_date(tp_vn_day(ps->last_t)));
                json_object_set_new(o, "events_by_type", bt);
                json_array_append_new(arr, o);
        }
        return arr;
}

static json_t *tp_sim_truth_communes(const struct tp_sim_truth *tr)
{
        json_t *arr = json_array();
        const struct tp_sim_ref *ref = tr->ref;

        for (int s = 0; s < tr->n_slots; s++) {
                const int64_t *c = tr->counts[s];
                int any = 0, prov;
                json_t *o;
                for (int i = 0; i < TP_SIM_C_COUNT; i++)
                        any |= c[i] != 0;
                if (!any)
                        continue;
                prov = s < ref->n_communes ? ref->communes[s].province
                                           : s - ref->n_communes;
                o = json_object();
                json_object_set_new(o, "province_code",
                                    json_string(ref->provinces[prov].code));
                json_object_set_new(o, "commune_code",
                                    s < ref->n_communes
                                            ? json_string(ref->communes[s].code)
                                            : json_null());
                for (int i = 0; i < TP_SIM_C_COUNT; i++)
                        json_object_set_new(o, tp_sim_c_names[i],
                                            json_integer(c[i]));
                json_array_append_new(arr, o);
        }
        return arr;
}

static json_t *tp_sim_truth_handled(const struct tp_sim_truth *tr)
{
        json_t *arr = json_array();
        const struct tp_sim_ref *ref = tr->ref;

        for (int s = 0; s < ref->n_communes; s++) {
                const int64_t *h = tr->handled[s];
                if (!h[0])
                        continue;
                json_array_append_new(
                        arr,
                        json_pack(
                                "{s:s, s:s, s:I, s:I, s:I}", "province_code",
                                ref->provinces[ref->communes[s].province].code,
                                "handling_commune_code", ref->communes[s].code,
                                "open", (json_int_t)h[0], "paused",
                                (json_int_t)h[1], "overdue", (json_int_t)h[2]));
        }
        return arr;
}

static json_t *tp_sim_truth_transfers(const struct tp_sim_truth *tr)
{
        json_t *arr = json_array();
        const struct tp_sim_ref *ref = tr->ref;
        size_t i = 0;

        for (int p = 0; p < ref->n_provinces; p++)
                for (int q = 0; q < ref->n_procedures; q++)
                        for (int f = 0; f < 3; f++)
                                for (int t = 0; t < 3; t++, i++) {
                                        if (!tr->transfers[i])
                                                continue;
                                        json_array_append_new(
                                                arr,
                                                json_pack(
                                                        "{s:s, s:s, s:s, "
                                                        "s:s, s:s, s:I}",
                                                        "province_code",
                                                        ref->provinces[p].code,
                                                        "procedure_code",
                                                        ref->procedures[q].code,
                                                        "procedure_level",
                                                        tp_sim_level_names
                                                                [ref->procedures[q]
                                                                         .level],
                                                        "from_level",
                                                        tp_sim_level_names[f],
                                                        "to_level",
                                                        tp_sim_level_names[t],
                                                        "transfers",
                                                        (json_int_t)
                                                                tr->transfers
                                                                        [i]));
                                }
        return arr;
}

static json_t *tp_sim_truth_marked(const struct tp_sim_ref *ref, int silent)
{
        json_t *arr = json_array();
        for (int i = 0; i < ref->n_communes; i++)
                if (silent ? ref->communes[i].silent : ref->communes[i].laggard)
                        json_array_append_new(
                                arr, json_string(ref->communes[i].code));
        return arr;
}

int tp_sim_truth_write(struct tp_sim_truth *tr,
                       const struct tp_sim_truth_meta *meta, const char *path,
                       char *errstr, size_t errstr_size)
{
        json_t *root = json_object();
        int rc;

        json_object_set_new(root, "format", json_string("tthc-sim-truth/1"));
        json_object_set_new(root, "complete", json_boolean(meta->complete));
        json_object_set_new(root, "seed", json_integer((json_int_t)meta->seed));
        json_object_set_new(root, "from", tp_sim_json_date(meta->from_day));
        json_object_set_new(root, "days", json_integer(meta->days));
        json_object_set_new(root, "end", tp_sim_json_ts(meta->end_ms));
        json_object_set_new(root, "events",
                            json_integer((json_int_t)tr->events));
        json_object_set_new(root, "messages_sent",
                            json_integer((json_int_t)meta->events_sent));
        json_object_set_new(root, "duplicates_sent",
                            json_integer((json_int_t)meta->duplicates_sent));
        json_object_set_new(root, "laggards", tp_sim_truth_marked(tr->ref, 0));
        json_object_set_new(root, "silent", tp_sim_truth_marked(tr->ref, 1));
        json_object_set_new(root, "provinces", tp_sim_truth_provinces(tr));
        json_object_set_new(root, "communes", tp_sim_truth_communes(tr));
        json_object_set_new(root, "handling_communes",
                            tp_sim_truth_handled(tr));
        json_object_set_new(root, "transfers", tp_sim_truth_transfers(tr));
        rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (rc != 0) {
                tp_sim_terr(errstr, errstr_size, "could not write %s", path);
                return -1;
        }
        return 0;
}
