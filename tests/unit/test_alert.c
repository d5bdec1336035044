/* Unit tests for tthc-alert's pure logic (services/alert/eval.c): working
 * days, watermarks, rule values, hysteresis, episode ids, Avro encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "event.h"
#include "rules.h"
#include "sinks.h"
#include "util.h"

static int64_t day_of(const char *s)
{
        int64_t d;
        assert_int_equal(tp_parse_date(s, &d), 0);
        return d;
}

/* UTC ms of a Vietnam local time on a date. */
static int64_t vn_at(const char *date, int hour, int min)
{
        return day_of(date) * TP_DAY_MS - TP_VN_OFFSET_MS + hour * TP_HOUR_MS +
               min * 60000LL;
}

static void test_alert__sha1_matches_fips_vector(void **state)
{
        unsigned char d[20];
        char hex[41];
        (void)state;
        tp_sha1("abc", 3, d);
        for (int i = 0; i < 20; i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
        assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
        /* Two-block padding path (56 bytes). */
        tp_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                d);
        for (int i = 0; i < 20; i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
        assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_alert__uuid5_matches_rfc_example(void **state)
{
        static const unsigned char dns[16] = {
                0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
        char out[37];
        (void)state;
        tp_uuid5(dns, "python.org", out);
        assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

static void test_alert__episode_id_is_stable_and_distinct(void **state)
{
        char a[37], b[37], c[37];
        int64_t t = vn_at("2025-09-10", 9, 0);
        (void)state;
        tp_alert_episode_id("79", "26734", TP_RULE_OVERDUE_BACKLOG, t, a);
        tp_alert_episode_id("79", "26734", TP_RULE_OVERDUE_BACKLOG, t, b);
        tp_alert_episode_id("79", "26734", TP_RULE_OVERDUE_BACKLOG,
                            t + TP_HOUR_MS, c);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(a[14], '5'); /* version 5 */
}

static void load_cal(struct tp_workcal *cal)
{
        tp_workcal_init(cal);
        tp_workcal_add(cal, day_of("2025-09-01"), "day_off");
        tp_workcal_add(cal, day_of("2025-09-02"), "day_off");
        tp_workcal_add(cal, day_of("2026-01-02"), "day_off");
        tp_workcal_add(cal, day_of("2026-01-10"), "worked_saturday");
        tp_workcal_seal(cal);
}

static void
test_alert__working_days_skip_holidays_count_worked_saturdays(void **state)
{
        struct tp_workcal cal;
        (void)state;
        load_cal(&cal);
        assert_true(tp_workcal_is_working(&cal, day_of("2025-09-03"))); /* We */
        assert_false(tp_workcal_is_working(&cal, day_of("2025-09-01")));
        assert_false(
                tp_workcal_is_working(&cal, day_of("2025-09-06"))); /* Sa */
        assert_false(
                tp_workcal_is_working(&cal, day_of("2025-09-07"))); /* Su */
        assert_true(tp_workcal_is_working(&cal, day_of("2026-01-10")));
        /* Mon 2025-09-01 .. Mon 2025-09-08 exclusive: We, Th, Fr. */
        assert_int_equal(tp_workcal_between(&cal, day_of("2025-09-01"),
                                            day_of("2025-09-08")),
                         3);
        /* 2026-01-01 (Th) .. 2026-01-12: Th 1, Mo-Fr 5-9, Sa 10 = 7. */
        assert_int_equal(tp_workcal_between(&cal, day_of("2026-01-01"),
                                            day_of("2026-01-12")),
                         7);
        assert_int_equal(tp_workcal_between(&cal, 10, 5), 0);
        /* the next working day: itself, past a weekend, past 1-2 Sep */
        assert_int_equal(tp_workcal_next(&cal, day_of("2025-09-03")),
                         day_of("2025-09-03"));
        assert_int_equal(tp_workcal_next(&cal, day_of("2025-09-06")),
                         day_of("2025-09-08"));
        assert_int_equal(tp_workcal_next(&cal, day_of("2025-08-30")),
                         day_of("2025-09-03"));
        tp_workcal_release(&cal);
}

static void test_alert__office_hours_count_only_working_daytime(void **state)
{
        struct tp_workcal cal;
        (void)state;
        load_cal(&cal);
        /* Fri 16:00 -> Mon 08:00: 1 h Friday + 1 h Monday. */
        assert_int_equal(tp_workcal_office_ms(&cal, vn_at("2025-09-12", 16, 0),
                                              vn_at("2025-09-15", 8, 0), 7, 17),
                         2 * TP_HOUR_MS);
        /* Over the national holiday: Fri 29 Aug 17:00 -> Wed 3 Sep 09:00. */
        assert_int_equal(tp_workcal_office_ms(&cal, vn_at("2025-08-29", 17, 0),
                                              vn_at("2025-09-03", 9, 0), 7, 17),
                         2 * TP_HOUR_MS);
        tp_workcal_release(&cal);
}

static void
test_alert__watermark_is_min_over_partitions_minus_lateness(void **state)
{
        struct tp_part_wm p[3] = {
                {1, 1000000, 0}, {1, 900000, 0}, {1, 950000, 0}};
        int64_t wm;
        (void)state;
        assert_int_equal(tp_alert_province_wm(p, 3, 1000, 6 * TP_HOUR_MS, &wm),
                         0);
        assert_int_equal(wm, 899000);
}

static void test_alert__watermark_waits_for_unseen_partitions(void **state)
{
        struct tp_part_wm p[2] = {{1, 1000000, 0}, {0, TP_TS_NONE, 0}};
        int64_t wm = 0;
        (void)state;
        assert_int_equal(tp_alert_province_wm(p, 2, 0, TP_HOUR_MS, &wm), -1);
        /* A partition seen without events that is not drained also holds. */
        p[1].present = 1;
        assert_int_equal(tp_alert_province_wm(p, 2, 0, TP_HOUR_MS, &wm), -1);
        /* Drained and empty: skipped. */
        p[1].caught_up = 1;
        assert_int_equal(tp_alert_province_wm(p, 2, 0, TP_HOUR_MS, &wm), 0);
        assert_int_equal(wm, 1000000);
}

static void test_alert__idle_partition_skipped_only_when_caught_up(void **state)
{
        int64_t t = vn_at("2025-09-10", 12, 0);
        struct tp_part_wm p[2] = {{1, t, 0}, {1, t - 7 * TP_HOUR_MS, 0}};
        int64_t wm;
        (void)state;
        /* Lagging while replaying: it holds the province back. */
        assert_int_equal(tp_alert_province_wm(p, 2, 0, 6 * TP_HOUR_MS, &wm), 0);
        assert_int_equal(wm, t - 7 * TP_HOUR_MS);
        /* Drained and idle for longer than the timeout: skipped. */
        p[1].caught_up = 1;
        assert_int_equal(tp_alert_province_wm(p, 2, 0, 6 * TP_HOUR_MS, &wm), 0);
        assert_int_equal(wm, t);
        /* Drained but within the timeout: still counts. */
        p[1].max_occurred_at = t - 5 * TP_HOUR_MS;
        assert_int_equal(tp_alert_province_wm(p, 2, 0, 6 * TP_HOUR_MS, &wm), 0);
        assert_int_equal(wm, t - 5 * TP_HOUR_MS);
}

static void test_alert__hour_ceil(void **state)
{
        int64_t h = vn_at("2025-09-10", 9, 0);
        (void)state;
        assert_int_equal(tp_hour_ceil(h), h);
        assert_int_equal(tp_hour_ceil(h + 1), h + TP_HOUR_MS);
}

static struct tp_rules rules_default(void)
{
        struct tp_rules r;
        char err[256];
        tp_rules_defaults(&r);
        assert_int_equal(tp_rules_parse_text(&r, "", "t", err, sizeof(err)), 0);
        return r;
}

/* Runs the state machine over values; returns the final severity and
 * writes the change sequence as letters (F fired, C changed, R resolved,
 * . none). */
static enum tp_sev run(enum tp_rule rule, const struct tp_rule_params *p,
                       const double *v, size_t n, char *trace)
{
        enum tp_sev sev = TP_SEV_NONE, next;
        for (size_t i = 0; i < n; i++) {
                enum tp_change ch =
                        tp_alert_step(rule, p, sev, v[i], 1, 1, &next);
                trace[i] = ".FCR"[ch];
                sev = next;
        }
        trace[n] = '\0';
        return sev;
}

static void test_alert__overdue_backlog_hysteresis(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, "79", TP_RULE_OVERDUE_BACKLOG);
        /* 4 nothing, 5 fire warning, 4 hold, 20 escalate, 19 hold, 18
         * hold (de-escalate below 18), 17 de-escalate, 3 hold, 2
         * resolve, 4 nothing. */
        const double v[] = {4, 5, 4, 20, 19, 18, 17, 3, 2, 4};
        char trace[16];
        (void)state;
        assert_int_equal(p->deescalate, 18);
        assert_int_equal(run(TP_RULE_OVERDUE_BACKLOG, p, v, 10, trace),
                         TP_SEV_NONE);
        assert_string_equal(trace, ".F.C..C.R.");
        tp_rules_release(&r);
}

/* province_feed_stale through the evaluator, with the clock as input:
 * office hours (07:00-17:00 Vietnam, working days) since the last
 * message; fires only when caught up; a message resolves it. */
static void test_alert__feed_stale_clock(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, "79", TP_RULE_PROVINCE_FEED_STALE);
        struct tp_workcal cal;
        /* Monday 2025-09-08 09:00 Vietnam */
        const int64_t last = 1757296800000LL;
        const int64_t noon = 1757307600000LL;    /* Monday 12:00 */
        const int64_t evening = 1757372400000LL; /* Tuesday 06:00 */
        const int64_t tue_10 = 1757386800000LL;  /* Tuesday 10:00 */
        const int64_t mon_18 = 1757329200000LL;  /* Monday 18:00 */
        enum tp_sev next;
        (void)state;
        tp_workcal_init(&cal);
        tp_workcal_seal(&cal);
        assert_true(tp_alert_feed_hours(&cal, &r, last, noon) == 3.0);
        /* 8 hours on Monday (09:00-17:00), none at night */
        assert_true(tp_alert_feed_hours(&cal, &r, last, evening) == 8.0);
        assert_true(tp_alert_feed_hours(&cal, &r, mon_18, evening) == 0.0);
        assert_true(tp_alert_feed_hours(&cal, &r, last, tue_10) == 11.0);
        /* 3 h: warning, but only once the partitions are caught up */
        assert_int_equal(tp_alert_feed_step(p, TP_SEV_NONE, 3, 0, 0, &next),
                         TP_CHANGE_NONE);
        assert_int_equal(tp_alert_feed_step(p, TP_SEV_NONE, 3, 1, 0, &next),
                         TP_CHANGE_FIRED);
        assert_int_equal(next, TP_SEV_WARNING);
        /* 11 h: escalates; hours only grow until a message clears it */
        assert_int_equal(tp_alert_feed_step(p, TP_SEV_WARNING, 11, 1, 0, &next),
                         TP_CHANGE_CHANGED);
        assert_int_equal(next, TP_SEV_CRITICAL);
        assert_int_equal(
                tp_alert_feed_step(p, TP_SEV_CRITICAL, 12, 1, 0, &next),
                TP_CHANGE_NONE);
        assert_int_equal(
                tp_alert_feed_step(p, TP_SEV_CRITICAL, 11, 1, 1, &next),
                TP_CHANGE_RESOLVED);
        assert_int_equal(next, TP_SEV_NONE);
        tp_workcal_release(&cal);
        tp_rules_release(&r);
}

static void test_alert__fires_straight_at_critical(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, NULL, TP_RULE_OVERDUE_BACKLOG);
        enum tp_sev next;
        (void)state;
        assert_int_equal(tp_alert_step(TP_RULE_OVERDUE_BACKLOG, p, TP_SEV_NONE,
                                       25, 1, 1, &next),
                         TP_CHANGE_FIRED);
        assert_int_equal(next, TP_SEV_CRITICAL);
        tp_rules_release(&r);
}

static void test_alert__on_time_rate_lower_is_worse(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, NULL, TP_RULE_ON_TIME_RATE);
        /* 90 fine, 89 warning, 74 critical, 76 hold (de-escalate at 77),
         * 80 de-escalate, 91 hold, 92 resolve. */
        const double v[] = {90, 89, 74, 76, 80, 91, 92};
        char trace[16];
        (void)state;
        assert_int_equal(p->deescalate, 77);
        run(TP_RULE_ON_TIME_RATE, p, v, 7, trace);
        assert_string_equal(trace, ".FC.C.R");
        tp_rules_release(&r);
}

static void
test_alert__min_volume_gates_firing_and_holds_open_episode(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, NULL, TP_RULE_ON_TIME_RATE);
        struct tp_commune_fig f;
        enum tp_sev next;
        int can_fire, can_judge;
        double v;
        (void)state;
        memset(&f, 0, sizeof(f));
        f.resolved_w = 10; /* below the minimum of 20 */
        f.resolved_ok_w = 5;
        v = tp_alert_rule_value(TP_RULE_ON_TIME_RATE, p, &f, &can_fire,
                                &can_judge);
        assert_true(v == 50.0);
        assert_false(can_fire);
        assert_false(can_judge);
        assert_int_equal(tp_alert_step(TP_RULE_ON_TIME_RATE, p, TP_SEV_NONE, v,
                                       can_fire, can_judge, &next),
                         TP_CHANGE_NONE);
        /* Open: would resolve at 100 %, but cannot be judged: holds. */
        assert_int_equal(tp_alert_step(TP_RULE_ON_TIME_RATE, p, TP_SEV_WARNING,
                                       100, 0, 0, &next),
                         TP_CHANGE_NONE);
        assert_int_equal(next, TP_SEV_WARNING);
        tp_rules_release(&r);
}

static void test_alert__backlog_growth_value(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, NULL, TP_RULE_BACKLOG_GROWTH);
        struct tp_commune_fig f;
        int can_fire, can_judge;
        double v;
        (void)state;
        memset(&f, 0, sizeof(f));
        f.open = 30;
        f.resolved_g = 10;
        f.history_days = 6; /* less than the 7-day window: wait */
        v = tp_alert_rule_value(TP_RULE_BACKLOG_GROWTH, p, &f, &can_fire,
                                &can_judge);
        assert_true(v == 3.0);
        assert_false(can_fire);
        f.history_days = 7;
        v = tp_alert_rule_value(TP_RULE_BACKLOG_GROWTH, p, &f, &can_fire,
                                &can_judge);
        assert_true(can_fire);
        f.open = 19; /* below 20 open: may not fire */
        v = tp_alert_rule_value(TP_RULE_BACKLOG_GROWTH, p, &f, &can_fire,
                                &can_judge);
        assert_false(can_fire);
        assert_true(can_judge);
        tp_rules_release(&r);
}

static void
test_alert__commune_silent_needs_baseline_resolves_on_event(void **state)
{
        struct tp_rules r = rules_default();
        const struct tp_rule_params *p =
                tp_rules_get(&r, NULL, TP_RULE_COMMUNE_SILENT);
        struct tp_commune_fig f;
        enum tp_sev next;
        int can_fire, can_judge;
        double v;
        (void)state;
        memset(&f, 0, sizeof(f));
        f.silent_days = 3;
        f.baseline = 4.9;
        v = tp_alert_rule_value(TP_RULE_COMMUNE_SILENT, p, &f, &can_fire,
                                &can_judge);
        assert_false(can_fire);
        f.baseline = 6;
        v = tp_alert_rule_value(TP_RULE_COMMUNE_SILENT, p, &f, &can_fire,
                                &can_judge);
        assert_int_equal(tp_alert_step(TP_RULE_COMMUNE_SILENT, p, TP_SEV_NONE,
                                       v, can_fire, can_judge, &next),
                         TP_CHANGE_FIRED);
        /* Any event: zero silent days resolves. */
        assert_int_equal(tp_alert_step(TP_RULE_COMMUNE_SILENT, p,
                                       TP_SEV_WARNING, 0, 1, 1, &next),
                         TP_CHANGE_RESOLVED);
        tp_rules_release(&r);
}

static void test_alert__disabled_rule_resolves_open_episode(void **state)
{
        struct tp_rule_params p;
        enum tp_sev next;
        struct tp_rules r = rules_default();
        (void)state;
        p = *tp_rules_get(&r, NULL, TP_RULE_INTAKE_BACKLOG);
        p.enabled = 0;
        assert_int_equal(tp_alert_step(TP_RULE_INTAKE_BACKLOG, &p, TP_SEV_NONE,
                                       100, 1, 1, &next),
                         TP_CHANGE_NONE);
        assert_int_equal(tp_alert_step(TP_RULE_INTAKE_BACKLOG, &p,
                                       TP_SEV_WARNING, 100, 1, 1, &next),
                         TP_CHANGE_RESOLVED);
        tp_rules_release(&r);
}

static void test_alert__avro_encoding_reads_with_shipped_schema(void **state)
{
        char path[1024], *json;
        size_t len, n;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t rec, field, branch;
        avro_reader_t rd;
        const char *s;
        /* avro-c's call macros leave these unset for an iface without
         * the method (clang's -Wsometimes-uninitialized) */
        double d = 0;
        int64_t l = 0;
        int e = 0;
        struct tp_alert_msg amsg = {"886313e1-3b8a-5372-9b90-0c9aee199e5d",
                                    "changed",
                                    "overdue_backlog",
                                    "79",
                                    "26734",
                                    "critical",
                                    "firing",
                                    NULL,
                                    "{\"overdue_open\":21}",
                                    21,
                                    20,
                                    1757469600000LL,
                                    1757473200000LL,
                                    TP_TS_NONE,
                                    42};
        unsigned char *buf = tp_alert_encode(&amsg, &len);
        char err[256];
        (void)state;
        snprintf(path, sizeof(path), "%s/schemas/avro/2-alert.avsc",
                 TTHC_SOURCE_DIR);
        json = tp_read_file(path, 1 << 20, &n, err, sizeof(err));
        assert_non_null(json);
        assert_int_equal(avro_schema_from_json_length(json, n, &schema), 0);
        assert_int_equal(buf[0], 0);
        assert_int_equal(buf[4], 2);
        {
                /* The registry's id frames the same body. */
                size_t len2;
                unsigned char *b2 =
                        tp_alert_encode_id(&amsg, 0x01020304, &len2);
                assert_int_equal(len2, len);
                assert_memory_equal(b2, "\0\x01\x02\x03\x04", 5);
                assert_memory_equal(b2 + 5, buf + 5, len - 5);
                free(b2);
        }
        iface = avro_generic_class_from_schema(schema);
        avro_generic_value_new(iface, &rec);
        rd = avro_reader_memory((const char *)buf + 5, (int64_t)len - 5);
        assert_int_equal(avro_value_read(rd, &rec), 0);
        avro_value_get_by_name(&rec, "alert_id", &field, NULL);
        avro_value_get_string(&field, &s, &n);
        assert_string_equal(s, amsg.alert_id);
        avro_value_get_by_name(&rec, "change", &field, NULL);
        avro_value_get_enum(&field, &e);
        assert_int_equal(e, 1);
        avro_value_get_by_name(&rec, "severity", &field, NULL);
        avro_value_get_enum(&field, &e);
        assert_int_equal(e, 1);
        avro_value_get_by_name(&rec, "commune_code", &field, NULL);
        avro_value_get_current_branch(&field, &branch);
        avro_value_get_string(&branch, &s, &n);
        assert_string_equal(s, "26734");
        avro_value_get_by_name(&rec, "value", &field, NULL);
        avro_value_get_double(&field, &d);
        assert_true(d == 21.0);
        avro_value_get_by_name(&rec, "changed_at", &field, NULL);
        avro_value_get_long(&field, &l);
        assert_int_equal(l, amsg.changed_at);
        avro_value_get_by_name(&rec, "resolved_at", &field, NULL);
        avro_value_get_discriminant(&field, &e);
        assert_int_equal(e, 0);
        avro_value_get_by_name(&rec, "sequence", &field, NULL);
        avro_value_get_long(&field, &l);
        assert_int_equal(l, 42);
        avro_reader_free(rd);
        avro_value_decref(&rec);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
        free(json);
        free(buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alert__sha1_matches_fips_vector),
                cmocka_unit_test(test_alert__uuid5_matches_rfc_example),
                cmocka_unit_test(test_alert__episode_id_is_stable_and_distinct),
                cmocka_unit_test(
                        test_alert__working_days_skip_holidays_count_worked_saturdays),
                cmocka_unit_test(
                        test_alert__office_hours_count_only_working_daytime),
                cmocka_unit_test(
                        test_alert__watermark_is_min_over_partitions_minus_lateness),
                cmocka_unit_test(
                        test_alert__watermark_waits_for_unseen_partitions),
                cmocka_unit_test(
                        test_alert__idle_partition_skipped_only_when_caught_up),
                cmocka_unit_test(test_alert__hour_ceil),
                cmocka_unit_test(test_alert__overdue_backlog_hysteresis),
                cmocka_unit_test(test_alert__fires_straight_at_critical),
                cmocka_unit_test(test_alert__on_time_rate_lower_is_worse),
                cmocka_unit_test(
                        test_alert__min_volume_gates_firing_and_holds_open_episode),
                cmocka_unit_test(test_alert__backlog_growth_value),
                cmocka_unit_test(test_alert__feed_stale_clock),
                cmocka_unit_test(
                        test_alert__commune_silent_needs_baseline_resolves_on_event),
                cmocka_unit_test(
                        test_alert__disabled_rule_resolves_open_episode),
                cmocka_unit_test(
                        test_alert__avro_encoding_reads_with_shipped_schema),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
