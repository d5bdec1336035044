/* Unit tests for tthc-alert's rules file (services/alert/rules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "eval.h"
#include "rules.h"
#include "util.h"

static void test_alert__rules_defaults_follow_design(void **state)
{
        struct tp_rules r;
        char err[256];
        const struct tp_rule_params *p;
        (void)state;
        tp_rules_defaults(&r);
        assert_int_equal(tp_rules_parse_text(&r, "", "x", err, sizeof(err)), 0);
        p = tp_rules_get(&r, "01", TP_RULE_OVERDUE_BACKLOG);
        assert_true(p->warning == 5 && p->critical == 20 && p->resolve == 3);
        p = tp_rules_get(&r, "01", TP_RULE_ON_TIME_RATE);
        assert_true(p->warning == 90 && p->critical == 75 && p->resolve == 92 &&
                    p->min_volume == 20 && p->window_days == 30);
        p = tp_rules_get(&r, "01", TP_RULE_BACKLOG_GROWTH);
        assert_true(p->warning == 2 && p->resolve == 1.5 &&
                    p->min_volume == 20 && p->window_days == 7);
        p = tp_rules_get(&r, "01", TP_RULE_COMMUNE_SILENT);
        assert_true(p->warning == 3 && p->min_volume == 5);
        p = tp_rules_get(&r, "01", TP_RULE_PROVINCE_FEED_STALE);
        assert_true(p->warning == 2);
        p = tp_rules_get(&r, "01", TP_RULE_INTAKE_BACKLOG);
        assert_true(p->warning == 10 && p->resolve == 5);
        assert_int_equal(r.lateness_ms, 5 * 60000);
        tp_rules_release(&r);
}

static void test_alert__rules_province_override(void **state)
{
        struct tp_rules r;
        char err[256];
        (void)state;
        tp_rules_defaults(&r);
        /* The override comes before the global change and still builds
         * on it: overrides apply on top of the final defaults. */
        assert_int_equal(
                tp_rules_parse_text(&r,
                                    "# comment\n"
                                    "province.79.overdue_backlog.warning = 8\n"
                                    "overdue_backlog.critical = 30\n"
                                    "watermark.lateness_minutes = 10\n",
                                    "r.conf", err, sizeof(err)),
                0);
        assert_true(tp_rules_get(&r, "79", TP_RULE_OVERDUE_BACKLOG)->warning ==
                    8);
        assert_true(tp_rules_get(&r, "79", TP_RULE_OVERDUE_BACKLOG)->critical ==
                    30);
        assert_true(tp_rules_get(&r, "01", TP_RULE_OVERDUE_BACKLOG)->warning ==
                    5);
        /* De-escalation keeps the warning margin: 30 - (8 - 3). */
        assert_true(
                tp_rules_get(&r, "79", TP_RULE_OVERDUE_BACKLOG)->deescalate ==
                25);
        assert_true(
                tp_rules_get(&r, "01", TP_RULE_OVERDUE_BACKLOG)->deescalate ==
                28);
        assert_int_equal(r.lateness_ms, 10 * 60000);
        tp_rules_release(&r);
}

static void expect_error(const char *text, const char *want)
{
        struct tp_rules r;
        char err[256];
        tp_rules_defaults(&r);
        assert_int_equal(
                tp_rules_parse_text(&r, text, "r.conf", err, sizeof(err)), -1);
        if (!strstr(err, want))
                fail_msg("error \"%s\" lacks \"%s\"", err, want);
        tp_rules_release(&r);
}

static void test_alert__rules_errors_name_file_and_line(void **state)
{
        (void)state;
        expect_error("\n\noverdue_backlog.warnin = 3\n",
                     "r.conf:3: unknown key");
        expect_error("on_time_rate.warning = high\n", "r.conf:1: \"high\" is "
                                                      "not a number");
        expect_error("bogus = 1\n", "r.conf:1: unknown key \"bogus\"");
        expect_error("no equals sign\n", "r.conf:1: expected");
        expect_error("on_time_rate.window_days = 0\n", "r.conf:1: window_days");
        expect_error("province.7.overdue_backlog.warning = 3\n",
                     "r.conf:1: unknown key");
        /* Resolve above warning breaks hysteresis (province: line). */
        expect_error("x = 1\n", "unknown key");
        expect_error("\nprovince.01.overdue_backlog.resolve = 9\n",
                     "r.conf:2: province 01: overdue_backlog: resolve");
        expect_error("on_time_rate.critical = 95\n",
                     "on_time_rate: critical (95) must be lower");
}

/* Trailing comments, round-the-clock office hours (for tests and 24/7
 * feeds) and copies that outlive the original (SIGHUP hands the sinks
 * thread a copy). */
static void test_alert__rules_office_and_copy(void **state)
{
        struct tp_rules r, c;
        char err[256];
        (void)state;
        tp_rules_defaults(&r);
        assert_int_equal(
                tp_rules_parse_text(&r,
                                    "province_feed_stale.warning = 0.002 # s\n"
                                    "office.start_hour = 0\n"
                                    "office.end_hour = 24\n"
                                    "office.every_day = 1\n"
                                    "province.79.overdue_backlog.warning = 8\n",
                                    "r.conf", err, sizeof(err)),
                0);
        assert_true(r.dflt[TP_RULE_PROVINCE_FEED_STALE].warning == 0.002);
        assert_int_equal(r.office_every_day, 1);
        tp_rules_copy(&c, &r);
        tp_rules_release(&r);
        assert_true(tp_rules_get(&c, "79", TP_RULE_OVERDUE_BACKLOG)->warning ==
                    8);
        assert_int_equal(c.office_end_hour, 24);
        tp_rules_release(&c);
        expect_error("office.every_day = 2\n", "r.conf:1: office.every_day");
        /* 2025-09-06 is a Saturday: no office hours unless every day. */
        {
                struct tp_workcal cal;
                int64_t sat = 1757116800000LL; /* 00:00 UTC */
                tp_workcal_init(&cal);
                tp_workcal_seal(&cal);
                assert_true(tp_workcal_office_ms(&cal, sat, sat + 3600000, 0,
                                                 24) == 0);
                assert_true(tp_workcal_office_ms(NULL, sat, sat + 3600000, 0,
                                                 24) == 3600000);
                tp_workcal_release(&cal);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alert__rules_defaults_follow_design),
                cmocka_unit_test(test_alert__rules_province_override),
                cmocka_unit_test(test_alert__rules_errors_name_file_and_line),
                cmocka_unit_test(test_alert__rules_office_and_copy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
