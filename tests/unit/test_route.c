/* Unit tests for services/route: histogram buckets, stints at a level,
 * pauses, transfers and anomalies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"

/* 2025-09-10 09:00 Vietnam time, in UTC ms. */
#define T0 (1757469600000LL)
#define H TP_HOUR_MS
#define DAY TP_DAY_MS

struct fixture {
        struct tp_route_state st;
        int seq;
        int initialised;
};

static struct tp_event ev_make(enum tp_event_type t, int seq, int64_t at,
                               enum tp_level level)
{
        struct tp_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.event_id = (char *)"00000000-0000-0000-0000-000000000001";
        ev.event_type = t;
        ev.occurred_at = at;
        ev.dossier_id = (char *)"D1";
        ev.seq = seq;
        ev.province_code = (char *)"01";
        ev.commune_code = (char *)"00004";
        ev.procedure_code = (char *)"1.004227";
        ev.procedure_level = TP_LEVEL_COMMUNE;
        ev.channel = TP_CH_ONLINE;
        ev.agency_code = (char *)"UBND-00004";
        ev.handling_level = level;
        ev.to_level = TP_LEVEL_NONE;
        ev.due_at = T0 + 5 * DAY;
        ev.source_system = (char *)"test";
        return ev;
}

static void step_ev(struct fixture *f, struct tp_event *ev,
                    struct tp_route_fx *fx)
{
        if (!f->initialised) {
                tp_route_state_init(&f->st, ev);
                f->initialised = 1;
        }
        assert_int_not_equal(tp_dossier_check_seq(&f->st.d, ev->seq),
                             TP_SEQ_DUPLICATE);
        tp_route_apply(&f->st, ev, fx);
}

static void step(struct fixture *f, enum tp_event_type t, int64_t at,
                 enum tp_level level, struct tp_route_fx *fx)
{
        struct tp_event ev = ev_make(t, ++f->seq, at, level);
        step_ev(f, &ev, fx);
}

static void transfer(struct fixture *f, int64_t at, enum tp_level from,
                     enum tp_level to, struct tp_route_fx *fx)
{
        struct tp_event ev = ev_make(TP_EV_TRANSFERRED, ++f->seq, at, from);
        ev.to_level = to;
        ev.to_agency_code = (char *)"SO-TP-01";
        step_ev(f, &ev, fx);
}

static int setup(void **state)
{
        *state = tp_xcalloc(1, sizeof(struct fixture));
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (f->initialised)
                tp_route_state_release(&f->st);
        free(f);
        return 0;
}

static void test_route__buckets_are_fixed(void **state)
{
        (void)state;
        assert_int_equal(tp_route_bucket(-5), 0);
        assert_int_equal(tp_route_bucket(0), 0);
        assert_int_equal(tp_route_bucket(29 * 60 * 1000LL), 0);
        assert_int_equal(tp_route_bucket(30 * 60 * 1000LL), 1);
        assert_int_equal(tp_route_bucket(H), 2);
        assert_int_equal(tp_route_bucket(24 * H - 1), 9);
        assert_int_equal(tp_route_bucket(24 * H), 10);
        assert_int_equal(tp_route_bucket(8760 * H), TP_ROUTE_BUCKETS - 1);
        assert_int_equal(tp_route_bucket(INT64_MAX), TP_ROUTE_BUCKETS - 1);
        for (int i = 1; i < TP_ROUTE_BUCKETS; i++) {
                assert_true(tp_route_bucket_lower_ms(i) >
                            tp_route_bucket_lower_ms(i - 1));
                assert_int_equal(tp_route_bucket(tp_route_bucket_lower_ms(i)),
                                 i);
        }
}

static void test_route__receipt_to_resolution_is_one_stint(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        step(f, TP_EV_SUBMITTED, T0 - H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.received, 0);
        step(f, TP_EV_RECEIVED, T0, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.received, 1);
        assert_int_equal(fx.level, TP_LEVEL_COMMUNE);
        assert_int_equal(fx.stint_ended, 0);
        step(f, TP_EV_RESOLVED, T0 + 10 * H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.resolved_early, 1);
        assert_int_equal(fx.stint_ended, 1);
        assert_int_equal(fx.stint_level, TP_LEVEL_COMMUNE);
        assert_int_equal(fx.stint_ms, 10 * H);
        assert_int_equal(fx.resolved_off_level, 0);
        assert_int_equal(fx.day, tp_vn_day(T0));
        /* A result returned later ends nothing. */
        step(f, TP_EV_RESULT_RETURNED, T0 + 30 * H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.stint_ended, 0);
}

static void test_route__pauses_are_subtracted_and_nest(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        step(f, TP_EV_RECEIVED, T0, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_SUPPLEMENT_REQUESTED, T0 + 1 * H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.supplement_requested, 1);
        step(f, TP_EV_SUSPENDED, T0 + 2 * H, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_SUPPLEMENT_RECEIVED, T0 + 3 * H, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_RESUMED, T0 + 5 * H, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_RESOLVED, T0 + 10 * H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.stint_ms, 6 * H); /* 10 h minus 1..5 */
}

static void test_route__transfer_ends_and_starts_a_stint(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        step(f, TP_EV_RECEIVED, T0, TP_LEVEL_COMMUNE, &fx);
        transfer(f, T0 + 4 * H, TP_LEVEL_COMMUNE, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.transfer, 1);
        assert_int_equal(fx.from_level, TP_LEVEL_COMMUNE);
        assert_int_equal(fx.to_level, TP_LEVEL_PROVINCE);
        assert_string_equal(fx.to_agency, "SO-TP-01");
        assert_int_equal(fx.down_transfer, 0);
        assert_int_equal(fx.multi_transfer, 0);
        assert_int_equal(fx.stint_ended, 1);
        assert_int_equal(fx.stint_level, TP_LEVEL_COMMUNE);
        assert_int_equal(fx.stint_ms, 4 * H);
        step(f, TP_EV_RESOLVED, T0 + 20 * H, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.stint_level, TP_LEVEL_PROVINCE);
        assert_int_equal(fx.stint_ms, 16 * H);
        assert_int_equal(fx.level, TP_LEVEL_PROVINCE);
        /* A commune procedure resolved by a province agency. */
        assert_int_equal(fx.resolved_off_level, 1);
        assert_int_equal(f->st.transfers, 1);
        assert_int_equal(f->st.stints, 2);
}

static void test_route__pause_carries_across_a_transfer(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        step(f, TP_EV_RECEIVED, T0, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_SUPPLEMENT_REQUESTED, T0 + 1 * H, TP_LEVEL_COMMUNE, &fx);
        transfer(f, T0 + 3 * H, TP_LEVEL_COMMUNE, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.stint_ms, 1 * H);
        step(f, TP_EV_SUPPLEMENT_RECEIVED, T0 + 5 * H, TP_LEVEL_PROVINCE, &fx);
        step(f, TP_EV_RESOLVED, T0 + 9 * H, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.stint_ms, 4 * H); /* 6 h minus 3..5 */
}

static void test_route__closing_while_paused(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        step(f, TP_EV_RECEIVED, T0, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_SUPPLEMENT_REQUESTED, T0 + 2 * H, TP_LEVEL_COMMUNE, &fx);
        step(f, TP_EV_WITHDRAWN, T0 + 50 * H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.withdrawn, 1);
        assert_int_equal(fx.stint_ended, 1);
        assert_int_equal(fx.stint_ms, 2 * H);
        assert_int_equal(fx.resolved_off_level, 0);
}

static void test_route__down_and_repeated_transfers(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        step(f, TP_EV_RECEIVED, T0, TP_LEVEL_PROVINCE, &fx);
        transfer(f, T0 + H, TP_LEVEL_PROVINCE, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.down_transfer, 1);
        assert_int_equal(fx.multi_transfer, 0);
        transfer(f, T0 + 2 * H, TP_LEVEL_COMMUNE, TP_LEVEL_CENTRAL, &fx);
        assert_int_equal(fx.down_transfer, 0);
        assert_int_equal(fx.multi_transfer, 1);
        transfer(f, T0 + 3 * H, TP_LEVEL_CENTRAL, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.down_transfer, 1);
        assert_int_equal(fx.multi_transfer, 0); /* counted once a dossier */
        assert_int_equal(f->st.transfers, 3);
        assert_int_equal(f->st.down_transfers, 2);
}

static void test_route__first_seen_mid_life(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        f->seq = 4; /* its opening events were lost */
        transfer(f, T0, TP_LEVEL_COMMUNE, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.stint_ended, 0);
        assert_int_equal(fx.transfer, 1);
        step(f, TP_EV_STOPPED, T0 + 7 * H, TP_LEVEL_PROVINCE, &fx);
        assert_int_equal(fx.stopped, 1);
        assert_int_equal(fx.stint_ms, 7 * H);
        assert_int_equal(fx.stint_level, TP_LEVEL_PROVINCE);
}

static void test_route__day_is_the_vietnam_date(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        /* 23:30 and 00:30 Vietnam time fall on different days. */
        int64_t late = T0 + 14 * H + 30 * 60 * 1000LL;
        step(f, TP_EV_RECEIVED, late, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.day, tp_vn_day(T0));
        step(f, TP_EV_RESOLVED, late + H, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.day, tp_vn_day(T0) + 1);
}

static void test_route__late_outcome_uses_the_effective_due_date(void **state)
{
        struct fixture *f = *state;
        struct tp_route_fx fx;
        struct tp_event ev =
                ev_make(TP_EV_RECEIVED, ++f->seq, T0, TP_LEVEL_COMMUNE);
        ev.due_at = T0 + DAY;
        step_ev(f, &ev, &fx);
        /* An extension (apology letter) does not make late on time. */
        ev = ev_make(TP_EV_TRANSFERRED, ++f->seq, T0 + H, TP_LEVEL_COMMUNE);
        ev.to_level = TP_LEVEL_COMMUNE;
        ev.due_at = T0 + 10 * DAY;
        step_ev(f, &ev, &fx);
        step(f, TP_EV_RESOLVED, T0 + 3 * DAY, TP_LEVEL_COMMUNE, &fx);
        assert_int_equal(fx.resolved_late, 1);
        assert_int_equal(fx.resolved_off_level, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_route__buckets_are_fixed),
                cmocka_unit_test_setup_teardown(
                        test_route__receipt_to_resolution_is_one_stint, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__pauses_are_subtracted_and_nest, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__transfer_ends_and_starts_a_stint, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__pause_carries_across_a_transfer, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__closing_while_paused, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__down_and_repeated_transfers, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(test_route__first_seen_mid_life,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__day_is_the_vietnam_date, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_route__late_outcome_uses_the_effective_due_date,
                        setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
