/* Unit tests for common/avrodec: resolution into the reader's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/avro_encode.h"
#include "avrodec.h"
#include "utf8.h"
#include "util.h"

#define READER TTHC_SOURCE_DIR "/schemas/avro/1-filing_event.avsc"

static char *reader_json;
static struct tp_avro_reader *reader;

static int setup(void **state)
{
        char err[256];
        size_t len;
        (void)state;
        reader_json = tp_read_file(READER, 1 << 20, &len, err, sizeof(err));
        if (!reader_json)
                return -1;
        reader = tp_avro_reader_new(reader_json, len, err, sizeof(err));
        return reader ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        tp_avro_reader_destroy(reader);
        free(reader_json);
        return 0;
}

static json_t *sample(void)
{
        return json_pack(
                "{s:s, s:s, s:I, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                " s:s, s:s, s:I, s:s, s:s}",
                "event_id", "6f1c2a52-1b7e-4f7a-9a55-0c8d2d1e0001",
                "event_type", "TRANSFERRED", "occurred_at",
                (json_int_t)1757469600000LL, "dossier_id", "H01.1-250910-0001",
                "seq", 3, "province_code", "01", "commune_code", "00004",
                "procedure_code", "1.004227", "procedure_level", "PROVINCE",
                "channel", "ONLINE", "agency_code", "UBND-00004",
                "handling_level", "COMMUNE", "to_level", "PROVINCE",
                "to_agency_code", "SO-TP-01", "due_at",
                (json_int_t)1757901600000LL, "source_system", "hn-dvc",
                "handling_commune_code", "00004");
}

/* Encodes sample() with writer JSON, decodes with a fresh decoder. */
static enum tp_reason roundtrip(const char *writer, struct tp_event *ev)
{
        char err[256];
        size_t len = 0;
        json_t *obj = sample();
        unsigned char *msg =
                tp_test_encode(writer, 9, obj, &len, err, sizeof(err));
        struct tp_avrodec *dec;
        enum tp_reason r;
        assert_non_null(msg);
        dec = tp_avrodec_new(reader, writer, strlen(writer), err, sizeof(err));
        assert_non_null(dec);
        r = tp_avrodec_decode(dec, msg + 5, len - 5, ev, err, sizeof(err));
        tp_avrodec_destroy(dec);
        free(msg);
        json_decref(obj);
        return r;
}

static void test_avrodec__reads_contract_schema(void **state)
{
        struct tp_event ev;
        (void)state;
        memset(&ev, 0, sizeof(ev));
        assert_int_equal(roundtrip(reader_json, &ev), TP_REASON_OK);
        assert_string_equal(ev.dossier_id, "H01.1-250910-0001");
        assert_int_equal(ev.event_type, TP_EV_TRANSFERRED);
        assert_int_equal(ev.occurred_at, 1757469600000LL);
        assert_int_equal(ev.seq, 3);
        assert_int_equal(ev.to_level, TP_LEVEL_PROVINCE);
        assert_int_equal(ev.procedure_level, TP_LEVEL_PROVINCE);
        assert_int_equal(ev.due_at, 1757901600000LL);
        assert_string_equal(ev.handling_commune_code, "00004");
        assert_true(ev.handling_commune_given);
        tp_event_release(&ev);
}

/* Reordered fields, an extra field, and reordered enum symbols. */
static const char evolved[] =
        "{\"type\":\"record\",\"name\":\"FilingEvent\",\"namespace\":"
        "\"vn.tthc\",\"fields\":["
        "{\"name\":\"seq\",\"type\":\"int\"},"
        "{\"name\":\"dossier_id\",\"type\":\"string\"},"
        "{\"name\":\"event_id\",\"type\":\"string\"},"
        "{\"name\":\"priority\",\"type\":[\"null\",\"string\"],"
        "\"default\":null},"
        "{\"name\":\"event_type\",\"type\":{\"type\":\"enum\",\"name\":"
        "\"EventType\",\"symbols\":[\"WITHDRAWN\",\"TRANSFERRED\","
        "\"SUBMITTED\",\"RECEIVED\",\"INTAKE_REFUSED\","
        "\"SUPPLEMENT_REQUESTED\",\"SUPPLEMENT_RECEIVED\",\"SUSPENDED\","
        "\"RESUMED\",\"RESOLVED\",\"RESULT_RETURNED\",\"STOPPED\"]}},"
        "{\"name\":\"occurred_at\",\"type\":\"long\"},"
        "{\"name\":\"province_code\",\"type\":\"string\"},"
        "{\"name\":\"commune_code\",\"type\":[\"null\",\"string\"]},"
        "{\"name\":\"procedure_code\",\"type\":\"string\"},"
        "{\"name\":\"procedure_level\",\"type\":{\"type\":\"enum\",\"name\":"
        "\"Level\",\"symbols\":[\"CENTRAL\",\"PROVINCE\",\"COMMUNE\"]}},"
        "{\"name\":\"channel\",\"type\":{\"type\":\"enum\",\"name\":"
        "\"Channel\",\"symbols\":[\"IN_PERSON\",\"ONLINE\",\"POSTAL\"]}},"
        "{\"name\":\"agency_code\",\"type\":\"string\"},"
        "{\"name\":\"handling_level\",\"type\":\"Level\"},"
        "{\"name\":\"to_level\",\"type\":[\"null\",\"Level\"]},"
        "{\"name\":\"to_agency_code\",\"type\":[\"null\",\"string\"]},"
        "{\"name\":\"due_at\",\"type\":[\"null\",\"long\"]},"
        "{\"name\":\"source_system\",\"type\":\"string\"},"
        "{\"name\":\"handling_commune_code\",\"type\":[\"null\",\"string\"]}"
        "]}";

static void test_avrodec__resolves_evolved_writer(void **state)
{
        struct tp_event ev;
        (void)state;
        memset(&ev, 0, sizeof(ev));
        assert_int_equal(roundtrip(evolved, &ev), TP_REASON_OK);
        assert_int_equal(ev.event_type, TP_EV_TRANSFERRED);
        assert_int_equal(ev.procedure_level, TP_LEVEL_PROVINCE);
        assert_int_equal(ev.handling_level, TP_LEVEL_COMMUNE);
        assert_int_equal(ev.to_level, TP_LEVEL_PROVINCE);
        assert_string_equal(ev.event_id,
                            "6f1c2a52-1b7e-4f7a-9a55-0c8d2d1e0001");
        tp_event_release(&ev);
}

static char *without_field(const char *name)
{
        json_t *root = json_loads(reader_json, 0, NULL);
        json_t *fields = json_object_get(root, "fields"), *f;
        size_t i;
        char *out;
        json_array_foreach(fields, i, f)
        {
                if (strcmp(json_string_value(json_object_get(f, "name")),
                           name) == 0) {
                        json_array_remove(fields, i);
                        break;
                }
        }
        out = json_dumps(root, 0);
        json_decref(root);
        return out;
}

static void test_avrodec__fills_missing_field_from_default(void **state)
{
        struct tp_event ev;
        char *old = without_field("handling_commune_code");
        (void)state;
        memset(&ev, 0, sizeof(ev));
        assert_int_equal(roundtrip(old, &ev), TP_REASON_OK);
        assert_null(ev.handling_commune_code);
        assert_false(ev.handling_commune_given);
        assert_string_equal(ev.to_agency_code, "SO-TP-01");
        tp_event_release(&ev);
        free(old);
}

static void test_avrodec__rejects_writer_without_required_field(void **state)
{
        char err[256];
        char *bad = without_field("dossier_id");
        (void)state;
        assert_null(tp_avrodec_new(reader, bad, strlen(bad), err, sizeof(err)));
        assert_non_null(strstr(err, "dossier_id"));
        free(bad);
}

static void test_avrodec__hostile_lengths_are_rejected(void **state)
{
        char err[256];
        struct tp_event ev;
        /* A string length of 2^40 at the first field. */
        const unsigned char huge[] = {0x80, 0x80, 0x80, 0x80,
                                      0x80, 0x80, 0x40, 'a'};
        const unsigned char neg[] = {0x01, 'a'};
        struct tp_avrodec *dec = tp_avrodec_new(
                reader, reader_json, strlen(reader_json), err, sizeof(err));
        (void)state;
        memset(&ev, 0, sizeof(ev));
        assert_non_null(dec);
        assert_int_equal(tp_avrodec_decode(dec, huge, sizeof(huge), &ev, err,
                                           sizeof(err)),
                         TP_REASON_BAD_AVRO);
        assert_int_equal(
                tp_avrodec_decode(dec, neg, sizeof(neg), &ev, err, sizeof(err)),
                TP_REASON_BAD_AVRO);
        assert_int_equal(tp_avrodec_decode(dec, NULL, 0, &ev, err, sizeof(err)),
                         TP_REASON_BAD_AVRO);
        assert_null(ev.event_id);
        tp_avrodec_destroy(dec);
}

static void test_avrodec__truncated_and_trailing_bytes(void **state)
{
        char err[256];
        size_t len = 0;
        json_t *obj = sample();
        unsigned char *msg =
                tp_test_encode(reader_json, 1, obj, &len, err, sizeof(err));
        unsigned char *longer = malloc(len + 1);
        struct tp_avrodec *dec = tp_avrodec_new(
                reader, reader_json, strlen(reader_json), err, sizeof(err));
        struct tp_event ev;
        (void)state;
        memset(&ev, 0, sizeof(ev));
        for (size_t cut = 5; cut < len; cut += 7)
                assert_int_equal(tp_avrodec_decode(dec, msg + 5, cut - 5, &ev,
                                                   err, sizeof(err)),
                                 TP_REASON_BAD_AVRO);
        memcpy(longer, msg, len);
        longer[len] = 0;
        assert_int_equal(tp_avrodec_decode(dec, longer + 5, len - 4, &ev, err,
                                           sizeof(err)),
                         TP_REASON_BAD_AVRO);
        assert_non_null(strstr(err, "trailing"));
        tp_avrodec_destroy(dec);
        free(msg);
        free(longer);
        json_decref(obj);
}

static void test_avrodec__utf8(void **state)
{
        (void)state;
        assert_true(tp_utf8_valid("Hà Nội", strlen("Hà Nội")));
        assert_false(tp_utf8_valid("\xc3", 1));
        assert_false(tp_utf8_valid("a\0b", 3));
        assert_false(tp_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
        assert_false(tp_utf8_valid("\xc0\xaf", 2));     /* overlong */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_avrodec__reads_contract_schema),
                cmocka_unit_test(test_avrodec__resolves_evolved_writer),
                cmocka_unit_test(
                        test_avrodec__fills_missing_field_from_default),
                cmocka_unit_test(
                        test_avrodec__rejects_writer_without_required_field),
                cmocka_unit_test(test_avrodec__hostile_lengths_are_rejected),
                cmocka_unit_test(test_avrodec__truncated_and_trailing_bytes),
                cmocka_unit_test(test_avrodec__utf8),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
