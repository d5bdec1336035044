/* Unit tests for common/validate and common/refdata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "refdata.h"
#include "util.h"
#include "validate.h"

#define NOW 1764000000000LL /* 2025-11-24 */

static struct tp_refdata *ref;

static int setup(void **state)
{
        char err[256];
        (void)state;
        ref = tp_refdata_new();
        return tp_refdata_load_csv(ref, TTHC_SOURCE_DIR "/reference", err,
                                   sizeof(err));
}

static int teardown(void **state)
{
        (void)state;
        tp_refdata_destroy(ref);
        return 0;
}

static struct tp_event good(void)
{
        struct tp_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.event_id = (char *)"6f1c2a52-1b7e-4f7a-9a55-0c8d2d1e0001";
        ev.event_type = TP_EV_RECEIVED;
        ev.occurred_at = NOW - TP_DAY_MS;
        ev.dossier_id = (char *)"D1";
        ev.seq = 1;
        ev.province_code = (char *)"01";
        ev.commune_code = (char *)"00004";
        ev.procedure_code = (char *)"1.004227";
        ev.agency_code = (char *)"UBND";
        ev.source_system = (char *)"t";
        ev.to_level = TP_LEVEL_NONE;
        ev.due_at = TP_TS_NONE;
        return ev;
}

static enum tp_reason check(const struct tp_event *ev, const char *topic)
{
        char err[256];
        return tp_validate_event(ref, topic, ev, NOW, err, sizeof(err));
}

static void test_validate__reference_loaded(void **state)
{
        (void)state;
        assert_true(tp_refdata_has_province(ref, "79"));
        assert_false(tp_refdata_has_province(ref, "02"));
        assert_string_equal(tp_refdata_commune_province(ref, "00004"), "01");
        assert_int_equal(tp_refdata_commune_count(ref), 3314);
}

static void test_validate__each_reason(void **state)
{
        struct tp_event ev = good();
        (void)state;
        assert_int_equal(check(&ev, "tthc.filings.01"), TP_REASON_OK);
        assert_int_equal(check(&ev, "tthc.filings.79"),
                         TP_REASON_TOPIC_PROVINCE_MISMATCH);
        ev.province_code = (char *)"02";
        ev.commune_code = NULL;
        assert_int_equal(check(&ev, "tthc.filings.02"),
                         TP_REASON_UNKNOWN_PROVINCE);
        ev = good();
        ev.commune_code = (char *)"99999";
        assert_int_equal(check(&ev, NULL), TP_REASON_UNKNOWN_COMMUNE);
        ev = good();
        ev.handling_commune_code = (char *)"25747"; /* a commune of 79 */
        assert_int_equal(check(&ev, NULL), TP_REASON_UNKNOWN_COMMUNE);
        ev = good();
        ev.occurred_at = NOW + 2 * TP_DAY_MS;
        assert_int_equal(check(&ev, NULL), TP_REASON_TIME_OUT_OF_RANGE);
        ev.occurred_at = TP_VALID_FROM_MS - 1;
        assert_int_equal(check(&ev, NULL), TP_REASON_TIME_OUT_OF_RANGE);
        ev = good();
        ev.seq = 0;
        assert_int_equal(check(&ev, NULL), TP_REASON_BAD_SEQ);
        ev = good();
        ev.event_type = TP_EV_TRANSFERRED;
        assert_int_equal(check(&ev, NULL), TP_REASON_BAD_TRANSFER);
        ev = good();
        ev.dossier_id = (char *)"";
        assert_int_equal(check(&ev, NULL), TP_REASON_MISSING_FIELD);
        ev = good();
        ev.event_id = (char *)"not-a-uuid";
        assert_int_equal(check(&ev, NULL), TP_REASON_BAD_AVRO);
}

static void test_validate__names(void **state)
{
        (void)state;
        assert_string_equal(tp_reason_name(TP_REASON_UNKNOWN_SCHEMA),
                            "unknown_schema");
        assert_int_equal(tp_reason_parse("conflicting_duplicate"),
                         TP_REASON_CONFLICTING_DUPLICATE);
        assert_string_equal(tp_topic_province("tthc.filings.79"), "79");
        assert_null(tp_topic_province("other"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_validate__reference_loaded),
                cmocka_unit_test(test_validate__each_reason),
                cmocka_unit_test(test_validate__names),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
