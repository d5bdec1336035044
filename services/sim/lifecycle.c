/* lifecycle.c - arrivals per desk and day, and the life of each dossier.
 *
 * Every desk-day and every dossier draws from its own generator seeded
 * from (seed, day, desk) or (seed, dossier id), so a run restricted to some
 * provinces produces exactly the dossiers a national run produces there.
 */
#include "sim.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_SIM_MAX_EVENTS 16
#define TP_SIM_MIN 60000LL
#define TP_SIM_OFFICE_DAY 450.0 /* office minutes in a working day */

/* Online filings by hour of day (Vietnam time): evenings are busy too. */
static const double tp_sim_online_hours[24] = {
        0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 1.5, 2.5, 3.0, 3.0, 2.5,
        1.5, 1.5, 2.5, 3.0, 2.8, 2.0, 1.5, 1.8, 2.2, 2.0, 1.2, 0.5};

/* The dossier being built and who handles it now. */
struct tp_sim_builder {
        const struct tp_sim_ref *ref;
        struct tp_sim_rng *r;
        struct tp_sim_event ev[TP_SIM_MAX_EVENTS];
        int n;
        int64_t t;   /* time of the last event */
        int64_t due; /* current due_at, TP_SIM_NO_DUE before receipt */
        int level;
        int32_t agency;
        int is_centre;
        int hc; /* handling commune, -1 above commune level */
};

/* One step of work planned along the processing, in office minutes. */
enum tp_sim_step_kind {
        TP_SIM_STEP_COMMUNE_TRANSFER,
        TP_SIM_STEP_UP_TRANSFER,
        TP_SIM_STEP_UP_TRANSFER2,
        TP_SIM_STEP_SUPPLEMENT,
        TP_SIM_STEP_SUSPEND,
        TP_SIM_STEP_END
};

struct tp_sim_step {
        double at; /* office minutes after receipt */
        enum tp_sim_step_kind kind;
};

double tp_sim_centre_weight(const struct tp_sim_province *p)
{
        return 0.08 * p->weight;
}

static struct tp_sim_event *tp_sim_emit(struct tp_sim_builder *b, int type,
                                        int64_t t)
{
        struct tp_sim_event *e = &b->ev[b->n++];
        int64_t min =
                b->n > 1 ? b->t + TP_SIM_MIN +
                                   (int64_t)(tp_sim_rng_unit(b->r) * 60000.0)
                         : t;

        memset(e, 0, sizeof(*e));
        e->t = t > min ? t : min;
        e->due = b->due;
        e->type = (unsigned char)type;
        e->level = (unsigned char)b->level;
        e->agency_idx = b->agency;
        e->is_centre = (unsigned char)b->is_centre;
        e->to_level = -1;
        e->to_agency_idx = -1;
        e->handling_commune = b->level == TP_SIM_COMMUNE ? b->hc : -1;
        b->t = e->t;
        return e;
}

static void tp_sim_transfer(struct tp_sim_builder *b, int64_t t, int to_level,
                            int32_t to_agency, int to_centre)
{
        struct tp_sim_event *e = tp_sim_emit(b, TP_SIM_TRANSFERRED, t);

        e->to_level = (signed char)to_level;
        e->to_agency_idx = to_agency;
        e->to_centre = (unsigned char)to_centre;
        b->level = to_level;
        b->agency = to_agency;
        b->is_centre = to_centre;
        if (to_level == TP_SIM_COMMUNE)
                b->hc = to_agency;
        else
                b->hc = -1;
}

/* Intake: SUBMITTED (online) then RECEIVED or INTAKE_REFUSED; in person
 * and by post the dossier starts at RECEIVED. Returns 0 when refused. */
static int tp_sim_intake(struct tp_sim_builder *b,
                         const struct tp_sim_dossier *d, int64_t t0,
                         int slow_desk, int deadline)
{
        int64_t t = t0;

        if (d->channel == TP_SIM_ONLINE) {
                double delay;
                tp_sim_emit(b, TP_SIM_SUBMITTED, t0);
                delay = slow_desk ? tp_sim_rng_range(b->r, 240, 1800)
                                  : tp_sim_rng_range(b->r, 5, 480);
                t = tp_sim_cal_advance(b->ref, t0, delay);
                if (tp_sim_rng_unit(b->r) < 0.04) {
                        tp_sim_emit(b, TP_SIM_INTAKE_REFUSED, t);
                        return 0;
                }
        }
        tp_sim_emit(b, TP_SIM_RECEIVED, t);
        /* The due date counts from the receipt as emitted. */
        b->due = tp_sim_cal_due(b->ref, b->t, deadline);
        b->ev[b->n - 1].due = b->due;
        return 1;
}

/* Office minutes of work to the decision, as a share of the deadline. */
static double tp_sim_work_minutes(struct tp_sim_rng *r, int deadline, int slow)
{
        double u = tp_sim_rng_unit(r), f;
        double span = deadline > 0 ? deadline * TP_SIM_OFFICE_DAY : 200.0;

        if (slow)
                f = u < 0.15 ? tp_sim_rng_range(r, 0.3, 1.0)
                             : tp_sim_rng_range(r, 1.3, 4.0);
        else if (u < 0.89)
                f = tp_sim_rng_range(r, 0.03, 0.9);
        else if (u < 0.975)
                f = tp_sim_rng_range(r, 0.9, 1.0);
        else
                f = tp_sim_rng_range(r, 1.05, 2.0);
        return f * span;
}

static int tp_sim_step_cmp(const void *a, const void *b)
{
        const struct tp_sim_step *x = a, *y = b;
        if (x->at != y->at)
                return x->at < y->at ? -1 : 1;
        return (int)x->kind - (int)y->kind;
}

/* A pause: SUPPLEMENT_REQUESTED/RECEIVED or SUSPENDED/RESUMED. The clock
 * stops: due_at moves by the paused time when it ends. Returns 0 when the
 * citizen never supplied and the dossier was stopped. */
static int tp_sim_pause(struct tp_sim_builder *b, int64_t t, int supplement)
{
        double days = supplement ? tp_sim_rng_range(b->r, 0.5, 10)
                                 : tp_sim_rng_range(b->r, 1, 5);
        int64_t start, end;

        tp_sim_emit(b,
                    supplement ? TP_SIM_SUPPLEMENT_REQUESTED : TP_SIM_SUSPENDED,
                    t);
        start = b->t;
        if (supplement && tp_sim_rng_unit(b->r) < 0.1) {
                tp_sim_emit(b, TP_SIM_STOPPED,
                            tp_sim_cal_advance(b->ref, start,
                                               15 * TP_SIM_OFFICE_DAY));
                return 0;
        }
        end = tp_sim_cal_advance(b->ref, start, days * TP_SIM_OFFICE_DAY);
        if (end <= start)
                end = start + TP_SIM_MIN;
        b->due += end - start;
        tp_sim_emit(b, supplement ? TP_SIM_SUPPLEMENT_RECEIVED : TP_SIM_RESUMED,
                    end);
        return 1;
}

/* Decision and the return of the result. A late decision is sometimes
 * "extended" (apology letter): a later due_at that must not count. */
static void tp_sim_finish(struct tp_sim_builder *b,
                          const struct tp_sim_dossier *d, int64_t t,
                          int deadline)
{
        struct tp_sim_event *e;
        int64_t ret;

        if (deadline == 0 && b->n <= 2) {
                /* Same-day procedures: done before closing time. */
                int64_t close = tp_sim_day_start(tp_vn_day(b->t)) +
                                17 * TP_HOUR_MS - TP_SIM_MIN;
                if (t > close && tp_sim_rng_unit(b->r) < 0.9)
                        t = close > b->t + 2 * TP_SIM_MIN ? close : t;
        }
        e = tp_sim_emit(b, TP_SIM_RESOLVED, t);
        if (tp_vn_day(e->t) > tp_vn_day(b->due) &&
            tp_sim_rng_unit(b->r) < 0.25) {
                b->due = e->t + TP_DAY_MS;
                e->due = b->due;
        }
        if (d->channel == TP_SIM_ONLINE)
                ret = e->t +
                      (int64_t)(tp_sim_rng_range(b->r, 5, 120) * TP_SIM_MIN);
        else
                ret = tp_sim_cal_advance(b->ref, e->t,
                                         tp_sim_rng_range(b->r, 30, 1350));
        tp_sim_emit(b, TP_SIM_RESULT_RETURNED, ret);
}

/* Plans the steps of the processing; returns how many. */
static int tp_sim_plan(struct tp_sim_builder *b, const struct tp_sim_dossier *d,
                       const struct tp_sim_procedure *p, double work,
                       struct tp_sim_step *steps, int *inter_commune)
{
        struct tp_sim_rng *r = b->r;
        int n = 0;

        *inter_commune = -1;
        if (p->level == TP_SIM_COMMUNE && d->commune >= 0 &&
            tp_sim_rng_unit(r) < 0.04) {
                const struct tp_sim_province *pr =
                        &b->ref->provinces[d->province];
                int other = pr->first_commune +
                            (int)(tp_sim_rng_unit(r) * pr->n_communes);
                if (other != d->commune) {
                        *inter_commune = other;
                        steps[n++] = (struct tp_sim_step){
                                tp_sim_rng_range(r, 0.01, 0.05) * work,
                                TP_SIM_STEP_COMMUNE_TRANSFER};
                }
        }
        if (p->level != TP_SIM_COMMUNE) {
                steps[n++] = (struct tp_sim_step){
                        tp_sim_rng_range(r, 0.01, 0.05) * work,
                        TP_SIM_STEP_UP_TRANSFER};
                if (p->level == TP_SIM_CENTRAL && d->commune >= 0 &&
                    tp_sim_rng_unit(r) < 0.5)
                        steps[n++] = (struct tp_sim_step){
                                tp_sim_rng_range(r, 0.06, 0.12) * work,
                                TP_SIM_STEP_UP_TRANSFER2};
        }
        if (tp_sim_rng_unit(r) < 0.12)
                steps[n++] = (struct tp_sim_step){
                        tp_sim_rng_range(r, 0.2, 0.7) * work,
                        TP_SIM_STEP_SUPPLEMENT};
        if (p->deadline_days >= 5 && tp_sim_rng_unit(r) < 0.04)
                steps[n++] = (struct tp_sim_step){
                        tp_sim_rng_range(r, 0.3, 0.8) * work,
                        TP_SIM_STEP_SUSPEND};
        steps[n++] = (struct tp_sim_step){work, TP_SIM_STEP_END};
        qsort(steps, (size_t)n, sizeof(*steps), tp_sim_step_cmp);
        return n;
}

/* Sends the dossier up: to the department or the ministry, through the
 * provincial centre for some central procedures. */
static void tp_sim_up_transfer(struct tp_sim_builder *b,
                               const struct tp_sim_dossier *d,
                               const struct tp_sim_procedure *p, int64_t t,
                               int via_centre)
{
        if (p->level == TP_SIM_PROVINCE)
                tp_sim_transfer(b, t, TP_SIM_PROVINCE,
                                d->province * b->ref->n_depts + p->dept, 0);
        else if (via_centre)
                tp_sim_transfer(b, t, TP_SIM_PROVINCE, d->province, 1);
        else
                tp_sim_transfer(b, t, TP_SIM_CENTRAL, p->dept, 0);
}

/* Ends the dossier early (withdrawn, stopped) at a share of its work. */
static void tp_sim_plan_end(struct tp_sim_rng *r, double *work, int *end_type)
{
        double u = tp_sim_rng_unit(r);

        *end_type = TP_SIM_RESOLVED;
        if (u < 0.025) {
                *end_type = TP_SIM_WITHDRAWN;
                *work *= tp_sim_rng_range(r, 0.1, 0.9);
        } else if (u < 0.05) {
                *end_type = TP_SIM_STOPPED;
                *work *= tp_sim_rng_range(r, 0.2, 1.0);
        }
}

static void tp_sim_process(struct tp_sim_builder *b, struct tp_sim_dossier *d)
{
        const struct tp_sim_procedure *p = &b->ref->procedures[d->procedure];
        struct tp_sim_step steps[8];
        double pos = 0, work;
        int n, inter, slow, end_type, two_hops = 0;
        int64_t t = b->t;

        work = tp_sim_work_minutes(b->r, p->deadline_days, 0);
        n = tp_sim_plan(b, d, p, work, steps, &inter);
        slow = p->level == TP_SIM_COMMUNE &&
               b->ref->communes[inter >= 0 ? inter : d->commune].laggard;
        if (slow) {
                /* Re-plan the end with a slow desk, keeping the steps. */
                work = tp_sim_work_minutes(b->r, p->deadline_days, 1);
                steps[n - 1].at = work;
                qsort(steps, (size_t)n, sizeof(*steps), tp_sim_step_cmp);
        }
        tp_sim_plan_end(b->r, &work, &end_type);
        for (int i = 0; i < n; i++) {
                if (steps[i].kind == TP_SIM_STEP_UP_TRANSFER2)
                        two_hops = 1;
        }
        for (int i = 0; i < n; i++) {
                double at =
                        steps[i].kind == TP_SIM_STEP_END ? work : steps[i].at;
                if (at > work)
                        continue;
                t = tp_sim_cal_advance(b->ref, t, at - pos);
                pos = at;
                switch (steps[i].kind) {
                case TP_SIM_STEP_COMMUNE_TRANSFER:
                        tp_sim_transfer(b, t, TP_SIM_COMMUNE, inter, 0);
                        break;
                case TP_SIM_STEP_UP_TRANSFER:
                        tp_sim_up_transfer(b, d, p, t, two_hops);
                        break;
                case TP_SIM_STEP_UP_TRANSFER2:
                        tp_sim_transfer(b, t, TP_SIM_CENTRAL, p->dept, 0);
                        break;
                case TP_SIM_STEP_SUPPLEMENT:
                case TP_SIM_STEP_SUSPEND:
                        if (!tp_sim_pause(b, t,
                                          steps[i].kind ==
                                                  TP_SIM_STEP_SUPPLEMENT))
                                return;
                        break;
                case TP_SIM_STEP_END:
                        if (end_type == TP_SIM_RESOLVED)
                                tp_sim_finish(b, d, t, p->deadline_days);
                        else
                                tp_sim_emit(b, end_type, t);
                        return;
                }
                t = b->t;
        }
}

/* Builds the whole life of d, received (or filed online) at t0. */
static void tp_sim_gen_dossier(const struct tp_sim_ref *ref,
                               struct tp_sim_dossier *d, int64_t t0,
                               uint64_t seed)
{
        struct tp_sim_rng r;
        struct tp_sim_builder b;
        const struct tp_sim_procedure *p = &ref->procedures[d->procedure];
        int slow_desk;

        tp_sim_rng_seed(&r, seed ^ d->id_hash);
        memset(&b, 0, sizeof(b));
        b.ref = ref;
        b.r = &r;
        b.due = TP_SIM_NO_DUE;
        if (d->commune >= 0) {
                b.level = TP_SIM_COMMUNE;
                b.agency = d->commune;
                b.hc = d->commune;
        } else {
                b.level = TP_SIM_PROVINCE;
                b.agency = d->province;
                b.is_centre = 1;
                b.hc = -1;
        }
        slow_desk = d->commune >= 0 && ref->communes[d->commune].laggard &&
                    tp_sim_rng_unit(&r) < 0.5;
        if (tp_sim_intake(&b, d, t0, slow_desk, p->deadline_days))
                tp_sim_process(&b, d);
        d->n_events = b.n;
        d->events = tp_xmalloc((size_t)b.n * sizeof(*d->events));
        memcpy(d->events, b.ev, (size_t)b.n * sizeof(*d->events));
}

static int64_t tp_sim_arrival_time(struct tp_sim_rng *r, int64_t day,
                                   enum tp_sim_channel ch)
{
        double u, acc = 0, total = 0;
        int h;

        if (ch != TP_SIM_ONLINE) {
                /* Mornings are busier than afternoons. */
                u = tp_sim_rng_unit(r);
                u = u < 0.6 ? u / 0.6 * (240.0 / 450.0)
                            : (240.0 + (u - 0.6) / 0.4 * 210.0) / 450.0;
                return tp_sim_cal_office_time(day, u * 0.999);
        }
        for (h = 0; h < 24; h++)
                total += tp_sim_online_hours[h];
        u = tp_sim_rng_unit(r) * total;
        for (h = 0; h < 23; h++) {
                acc += tp_sim_online_hours[h];
                if (u < acc)
                        break;
        }
        return tp_sim_day_start(day) + h * TP_HOUR_MS +
               (int64_t)(tp_sim_rng_unit(r) * (double)TP_HOUR_MS);
}

static enum tp_sim_channel tp_sim_pick_channel(struct tp_sim_rng *r,
                                               int working)
{
        double u = tp_sim_rng_unit(r);

        if (!working || u < 0.42)
                return TP_SIM_ONLINE;
        return u < 0.95 ? TP_SIM_IN_PERSON : TP_SIM_POSTAL;
}

static struct tp_sim_dossier *tp_sim_new_dossier(const struct tp_sim_ref *ref,
                                                 int province, int commune,
                                                 int64_t day, int n,
                                                 uint64_t seed)
{
        struct tp_sim_dossier *d = tp_xcalloc(1, sizeof(*d));
        int y, m, dd;

        tp_civil_from_days(day, &y, &m, &dd);
        snprintf(d->id, sizeof(d->id), "%s.%s-%02d%02d%02d-%05d",
                 ref->provinces[province].code,
                 commune >= 0 ? ref->communes[commune].code : "TTHCC", y % 100,
                 m, dd, n % 100000);
        d->id_hash = tp_hash64(d->id, strlen(d->id), seed);
        d->province = province;
        d->commune = commune;
        return d;
}

int tp_sim_gen_desk_day(const struct tp_sim_ref *ref,
                        const struct tp_sim_gen_params *gp, int province,
                        int commune, int64_t day, uint64_t *serial,
                        struct tp_sim_dossier ***out, size_t *out_n,
                        size_t *out_cap)
{
        struct tp_sim_rng r;
        uint64_t key[3] = {
                gp->seed, (uint64_t)day,
                (uint64_t)(commune >= 0 ? commune : 1000000 + province)};
        double w = commune >= 0
                           ? ref->communes[commune].weight
                           : tp_sim_centre_weight(&ref->provinces[province]);
        double lambda = gp->dossiers_per_day * w / gp->total_weight;
        int working = tp_sim_cal_is_working(ref, day), n;

        tp_sim_rng_seed(&r, tp_hash64(key, sizeof(key), 0x6172));
        /* Days off: online filings only, a quarter of a weekday's. */
        n = tp_sim_rng_poisson(&r, working ? lambda : lambda * 0.42 * 0.25);
        for (int i = 0; i < n; i++) {
                struct tp_sim_dossier *d = tp_sim_new_dossier(
                        ref, province, commune, day, i + 1, gp->seed);
                int64_t t0;
                d->serial = (*serial)++;
                d->channel = tp_sim_pick_channel(&r, working);
                d->procedure = tp_sim_ref_pick_procedure(
                        ref, tp_sim_rng_unit(&r), commune < 0);
                t0 = tp_sim_arrival_time(&r, day, d->channel);
                tp_sim_gen_dossier(ref, d, t0, gp->seed);
                if (*out_n == *out_cap) {
                        *out_cap = *out_cap ? *out_cap * 2 : 256;
                        *out = tp_xrealloc(*out, *out_cap * sizeof(**out));
                }
                (*out)[(*out_n)++] = d;
        }
        return n;
}

void tp_sim_dossier_free(struct tp_sim_dossier *d)
{
        if (!d)
                return;
        free(d->events);
        free(d);
}
