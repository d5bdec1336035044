/* Unit tests for common/dossier: lifecycle, outcomes, pauses, deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dossier.h"
#include "util.h"

/* 2025-09-10 09:00 Vietnam time, in UTC ms. */
#define T0 (1757469600000LL)
#define DAY TP_DAY_MS

static struct tp_event ev_make(enum tp_event_type t, int seq, int64_t at,
                               int64_t due)
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
        ev.handling_level = TP_LEVEL_COMMUNE;
        ev.to_level = TP_LEVEL_NONE;
        ev.due_at = due;
        ev.source_system = (char *)"test";
        return ev;
}

static void apply(struct tp_dossier *d, enum tp_event_type t, int seq,
                  int64_t at, int64_t due, struct tp_effects *fx)
{
        struct tp_event ev = ev_make(t, seq, at, due);
        tp_dossier_apply(d, &ev, fx);
}

static void test_dossier__same_day_is_on_time(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        struct tp_event first = ev_make(TP_EV_RECEIVED, 1, T0, T0 + 2 * DAY);
        (void)state;
        tp_dossier_init(&d, &first);
        tp_dossier_apply(&d, &first, &fx);
        assert_int_equal(fx.received, 1);
        assert_int_equal(fx.online_received, 1);
        assert_int_equal(d.status, TP_DS_PROCESSING);
        /* Resolved at 23:00 Vietnam time on the due date: on time. */
        apply(&d, TP_EV_RESOLVED, 2, T0 + 2 * DAY + 14 * TP_HOUR_MS, TP_TS_NONE,
              &fx);
        assert_int_equal(fx.resolved_on_time, 1);
        assert_int_equal(d.outcome, TP_OUT_ON_TIME);
        assert_int_equal(d.status, TP_DS_RESOLVED);
        tp_dossier_release(&d);
}

/* The strings live in one block: a transfer's new agency, a handler
 * without a commune, and a commune-level handler that takes the
 * dossier's own commune (a span into the block being replaced) each make
 * a new block with the other strings intact (ASan checks the old one is
 * not read after it is freed). */
static void test_dossier__strings_survive_changes(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        struct tp_event ev = ev_make(TP_EV_RECEIVED, 1, T0, T0 + 2 * DAY);
        (void)state;
        tp_dossier_init(&d, &ev);
        assert_null(d.agency_code);
        tp_dossier_apply(&d, &ev, &fx);
        assert_string_equal(d.agency_code, "UBND-00004");
        assert_string_equal(d.handling_commune_code, "00004");

        ev = ev_make(TP_EV_TRANSFERRED, 2, T0 + 1000, TP_TS_NONE);
        ev.to_level = TP_LEVEL_PROVINCE;
        ev.to_agency_code = (char *)"SO-TU-PHAP-01";
        tp_dossier_apply(&d, &ev, &fx);
        assert_string_equal(d.agency_code, "SO-TU-PHAP-01");
        assert_null(d.handling_commune_code);

        ev = ev_make(TP_EV_TRANSFERRED, 3, T0 + 2000, TP_TS_NONE);
        ev.handling_level = TP_LEVEL_PROVINCE;
        ev.to_level = TP_LEVEL_COMMUNE;
        ev.to_agency_code = (char *)"UBND-00007";
        tp_dossier_apply(&d, &ev, &fx);
        ev = ev_make(TP_EV_RESOLVED, 4, T0 + 3000, TP_TS_NONE);
        ev.agency_code = (char *)"UBND-00007";
        tp_dossier_apply(&d, &ev, &fx);
        assert_string_equal(d.agency_code, "UBND-00007");
        /* no handling_commune_code given, commune level: its own commune */
        assert_string_equal(d.handling_commune_code, "00004");
        assert_string_equal(d.province_code, "01");
        assert_string_equal(d.dossier_id, "D1");
        assert_string_equal(d.commune_code, "00004");
        assert_string_equal(d.procedure_code, "1.004227");
        tp_dossier_release(&d);
}

static void test_dossier__vietnam_date_decides_late(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        /* Due 2025-09-12 09:00 VN; resolved 2025-09-13 00:30 VN, which is
         * still 2025-09-12 in UTC: late by the Vietnam calendar. */
        int64_t due = T0 + 2 * DAY;
        struct tp_event first = ev_make(TP_EV_RECEIVED, 1, T0, due);
        (void)state;
        tp_dossier_init(&d, &first);
        tp_dossier_apply(&d, &first, &fx);
        apply(&d, TP_EV_RESOLVED, 2, due + 15 * TP_HOUR_MS + 30 * 60000,
              TP_TS_NONE, &fx);
        assert_int_equal(fx.resolved_late, 1);
        tp_dossier_release(&d);
}

static void test_dossier__extension_does_not_make_on_time(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        int64_t due = T0 + 2 * DAY;
        struct tp_event first = ev_make(TP_EV_RECEIVED, 1, T0, due);
        (void)state;
        tp_dossier_init(&d, &first);
        tp_dossier_apply(&d, &first, &fx);
        /* An extension (not the end of a pause) moves due_at by 5 days. */
        apply(&d, TP_EV_TRANSFERRED, 2, T0 + DAY, due + 5 * DAY, &fx);
        assert_int_equal(d.extended, 1);
        assert_int_equal(d.original_due_at, due);
        assert_int_equal(d.due_at, due + 5 * DAY);
        /* A null due_at never clears it. */
        apply(&d, TP_EV_RESULT_RETURNED, 3, T0 + DAY, TP_TS_NONE, &fx);
        assert_int_equal(d.original_due_at, due);
        apply(&d, TP_EV_RESOLVED, 4, due + 3 * DAY, TP_TS_NONE, &fx);
        assert_int_equal(fx.resolved_late, 1);
        tp_dossier_release(&d);
}

static void test_dossier__pause_end_moves_due_date(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        int64_t due = T0 + 2 * DAY;
        struct tp_event first = ev_make(TP_EV_RECEIVED, 1, T0, due);
        (void)state;
        tp_dossier_init(&d, &first);
        tp_dossier_apply(&d, &first, &fx);
        apply(&d, TP_EV_SUPPLEMENT_REQUESTED, 2, T0 + DAY, due, &fx);
        assert_int_equal(fx.supplement_requested, 1);
        assert_int_equal(d.status, TP_DS_PAUSED);
        apply(&d, TP_EV_SUSPENDED, 3, T0 + DAY, due, &fx);
        apply(&d, TP_EV_SUPPLEMENT_RECEIVED, 4, T0 + 2 * DAY, due + 4 * DAY,
              &fx);
        /* Pauses nest: still paused while the suspension is open. */
        assert_int_equal(d.status, TP_DS_PAUSED);
        assert_false(tp_dossier_is_overdue(&d, tp_vn_day(due) + 10));
        apply(&d, TP_EV_RESUMED, 5, T0 + 3 * DAY, TP_TS_NONE, &fx);
        assert_int_equal(d.status, TP_DS_PROCESSING);
        assert_int_equal(d.original_due_at, due + 4 * DAY);
        assert_int_equal(d.extended, 0);
        assert_false(tp_dossier_is_overdue(&d, tp_vn_day(due + 4 * DAY)));
        assert_true(tp_dossier_is_overdue(&d, tp_vn_day(due + 4 * DAY) + 1));
        apply(&d, TP_EV_RESOLVED, 6, due + 3 * DAY, TP_TS_NONE, &fx);
        assert_int_equal(fx.resolved_early, 1);
        tp_dossier_release(&d);
}

static void test_dossier__seq_checks_and_gaps(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        struct tp_event first = ev_make(TP_EV_SUBMITTED, 1, T0, TP_TS_NONE);
        (void)state;
        tp_dossier_init(&d, &first);
        assert_int_equal(tp_dossier_check_seq(&d, 1), TP_SEQ_NEXT);
        tp_dossier_apply(&d, &first, &fx);
        assert_int_equal(d.status, TP_DS_SUBMITTED);
        assert_int_equal(tp_dossier_check_seq(&d, 1), TP_SEQ_DUPLICATE);
        assert_int_equal(tp_dossier_check_seq(&d, 4), TP_SEQ_GAP);
        apply(&d, TP_EV_INTAKE_REFUSED, 4, T0 + 1000, TP_TS_NONE, &fx);
        assert_int_equal(d.seq_gaps, 2);
        assert_int_equal(fx.intake_refused, 1);
        assert_int_equal(d.status, TP_DS_REFUSED);
        assert_false(tp_dossier_is_open(&d));
        tp_dossier_release(&d);
}

static void test_dossier__transfer_counts_out_and_moves_handler(void **state)
{
        struct tp_dossier d;
        struct tp_effects fx;
        struct tp_event first = ev_make(TP_EV_RECEIVED, 1, T0, T0 + DAY);
        struct tp_event tr = ev_make(TP_EV_TRANSFERRED, 2, T0 + 1, T0 + DAY);
        (void)state;
        tp_dossier_init(&d, &first);
        tp_dossier_apply(&d, &first, &fx);
        assert_string_equal(d.handling_commune_code, "00004");
        tr.to_level = TP_LEVEL_PROVINCE;
        tr.to_agency_code = (char *)"SO-TP-01";
        tp_dossier_apply(&d, &tr, &fx);
        assert_int_equal(fx.transferred_out, 1);
        assert_int_equal(d.handling_level, TP_LEVEL_PROVINCE);
        assert_string_equal(d.agency_code, "SO-TP-01");
        assert_null(d.handling_commune_code);
        tp_dossier_release(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dossier__same_day_is_on_time),
                cmocka_unit_test(test_dossier__strings_survive_changes),
                cmocka_unit_test(test_dossier__vietnam_date_decides_late),
                cmocka_unit_test(test_dossier__extension_does_not_make_on_time),
                cmocka_unit_test(test_dossier__pause_end_moves_due_date),
                cmocka_unit_test(test_dossier__seq_checks_and_gaps),
                cmocka_unit_test(
                        test_dossier__transfer_counts_out_and_moves_handler),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
