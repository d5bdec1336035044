/* route.c - routing state and histogram buckets; see route.h. */
#include "route.h"
#include "util.h"

#include <string.h>

/* Lower bounds of the buckets, in minutes (so half an hour is exact).
 * Documented in docs/route.md and mirrored by tthc.route_hist_bounds(). */
static const int32_t tp_route_bounds_min[TP_ROUTE_BUCKETS] = {
        0,         30,        60,       2 * 60,    3 * 60,    4 * 60,
        6 * 60,    8 * 60,    12 * 60,  16 * 60,   24 * 60,   36 * 60,
        48 * 60,   72 * 60,   96 * 60,  120 * 60,  168 * 60,  240 * 60,
        336 * 60,  480 * 60,  720 * 60, 1080 * 60, 1440 * 60, 2160 * 60,
        2880 * 60, 4320 * 60, 8760 * 60};

int64_t tp_route_bucket_lower_ms(int i)
{
        if (i < 0)
                i = 0;
        if (i >= TP_ROUTE_BUCKETS)
                i = TP_ROUTE_BUCKETS - 1;
        return (int64_t)tp_route_bounds_min[i] * 60 * 1000;
}

int tp_route_bucket(int64_t ms)
{
        int i = 0;
        while (i + 1 < TP_ROUTE_BUCKETS &&
               ms >= tp_route_bucket_lower_ms(i + 1))
                i++;
        return i;
}

void tp_route_state_init(struct tp_route_state *st, const struct tp_event *ev)
{
        memset(st, 0, sizeof(*st));
        tp_dossier_init(&st->d, ev);
        st->stint_level = TP_LEVEL_NONE;
        st->stint_since = TP_TS_NONE;
        st->pause_since = TP_TS_NONE;
}

void tp_route_state_release(struct tp_route_state *st)
{
        tp_dossier_release(&st->d);
        memset(st, 0, sizeof(*st));
}

static int tp_route_in_stint(const struct tp_route_state *st)
{
        return st->stint_since != TP_TS_NONE;
}

static void tp_route_stint_start(struct tp_route_state *st, int level,
                                 int64_t at)
{
        st->stint_level = level;
        st->stint_since = at;
        st->stint_paused = 0;
        /* A pause still open carries into the new stint from its start. */
        if (st->pause_since != TP_TS_NONE)
                st->pause_since = at;
}

static void tp_route_stint_end(struct tp_route_state *st, int64_t at,
                               struct tp_route_fx *fx)
{
        int64_t ms;
        if (!tp_route_in_stint(st))
                return;
        if (st->pause_since != TP_TS_NONE) {
                st->stint_paused += at - st->pause_since;
                st->pause_since = at;
        }
        ms = at - st->stint_since - st->stint_paused;
        fx->stint_ended = 1;
        fx->stint_level = st->stint_level;
        fx->stint_ms = ms > 0 ? ms : 0;
        st->stints++;
        st->stint_level = TP_LEVEL_NONE;
        st->stint_since = TP_TS_NONE;
        st->stint_paused = 0;
}

/* Pauses nest: the clock stops when the first opens and runs again when
 * the last closes (the dossier's open_pauses before and after ev). */
static void tp_route_pauses(struct tp_route_state *st, int before, int64_t at)
{
        int after = st->d.open_pauses;
        if (before == 0 && after > 0) {
                st->pause_since = at;
        } else if (before > 0 && after == 0 && st->pause_since != TP_TS_NONE) {
                if (tp_route_in_stint(st))
                        st->stint_paused += at - st->pause_since;
                st->pause_since = TP_TS_NONE;
        }
}

static void tp_route_transfer(struct tp_route_state *st,
                              const struct tp_event *ev, struct tp_route_fx *fx)
{
        tp_route_stint_end(st, ev->occurred_at, fx);
        if (tp_dossier_is_open(&st->d))
                tp_route_stint_start(st, ev->to_level, ev->occurred_at);
        fx->transfer = 1;
        fx->from_level = ev->handling_level;
        fx->to_level = ev->to_level;
        fx->to_agency = ev->to_agency_code;
        st->transfers++;
        fx->multi_transfer = st->transfers == 2;
        if (ev->to_level != TP_LEVEL_NONE &&
            ev->to_level < (int)ev->handling_level) {
                fx->down_transfer = 1;
                st->down_transfers++;
        }
}

static void tp_route_closing(struct tp_route_state *st,
                             const struct tp_event *ev,
                             const struct tp_effects *dfx,
                             struct tp_route_fx *fx)
{
        fx->resolved_early = dfx->resolved_early;
        fx->resolved_on_time = dfx->resolved_on_time;
        fx->resolved_late = dfx->resolved_late;
        fx->stopped = dfx->stopped;
        fx->withdrawn = dfx->withdrawn;
        if (ev->event_type == TP_EV_RESOLVED)
                fx->resolved_off_level =
                        ev->handling_level != ev->procedure_level;
        tp_route_stint_end(st, ev->occurred_at, fx);
}

void tp_route_apply(struct tp_route_state *st, const struct tp_event *ev,
                    struct tp_route_fx *fx)
{
        struct tp_effects dfx;
        int pauses_before = st->d.open_pauses;

        memset(fx, 0, sizeof(*fx));
        fx->day = tp_vn_day(ev->occurred_at);
        fx->level = ev->handling_level;
        fx->from_level = fx->to_level = fx->stint_level = TP_LEVEL_NONE;
        tp_dossier_apply(&st->d, ev, &dfx);
        tp_route_pauses(st, pauses_before, ev->occurred_at);
        fx->supplement_requested = dfx.supplement_requested;
        switch (ev->event_type) {
        case TP_EV_RECEIVED:
                fx->received = dfx.received;
                if (!tp_route_in_stint(st) && tp_dossier_is_open(&st->d))
                        tp_route_stint_start(st, ev->handling_level,
                                             ev->occurred_at);
                break;
        case TP_EV_TRANSFERRED:
                tp_route_transfer(st, ev, fx);
                break;
        case TP_EV_RESOLVED:
        case TP_EV_STOPPED:
        case TP_EV_WITHDRAWN:
        case TP_EV_INTAKE_REFUSED:
                tp_route_closing(st, ev, &dfx, fx);
                break;
        default:
                break;
        }
}
