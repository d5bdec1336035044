/* Unit tests for common/avrodec: resolution into the reader's shape. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/avro_encode.h"
#include "avrodec.h"
#include "framing.h"
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

/* An event's strings live in one block it owns: spans need no NUL, a
 * null span is a NULL field, a copy has its own block. */
static void test_event__strings_in_one_block(void **state)
{
        struct tp_strspan sp[TP_ES__COUNT] = {{0}};
        struct tp_event ev = {0}, copy;
        const char body[] = "79|D-1xyz";
        (void)state;
        sp[TP_ES_EVENT_ID] = (struct tp_strspan){"e-1", 3};
        sp[TP_ES_PROVINCE] = (struct tp_strspan){body, 2};       /* "79" */
        sp[TP_ES_DOSSIER_ID] = (struct tp_strspan){body + 3, 3}; /* "D-1" */
        sp[TP_ES_COMMUNE] = (struct tp_strspan){"", 0}; /* empty, not null */
        sp[TP_ES_HANDLING_COMMUNE] = (struct tp_strspan){"26734", 5};
        ev.seq = 4;
        tp_event_set_strings(&ev, sp, NULL);
        assert_string_equal(ev.event_id, "e-1");
        assert_string_equal(ev.province_code, "79");
        assert_string_equal(ev.dossier_id, "D-1");
        assert_non_null(ev.commune_code);
        assert_string_equal(ev.commune_code, "");
        assert_null(ev.procedure_code);
        assert_null(ev.agency_code);
        assert_null(ev.to_agency_code);
        assert_null(ev.source_system);
        assert_string_equal(ev.handling_commune_code, "26734");
        assert_ptr_equal(ev.event_id, ev.strings);

        tp_event_copy(&copy, &ev);
        assert_true(tp_event_equal(&copy, &ev));
        assert_ptr_not_equal(copy.strings, ev.strings);
        assert_ptr_not_equal(copy.dossier_id, ev.dossier_id);
        assert_null(copy.procedure_code);
        assert_int_equal(copy.seq, 4);
        tp_event_release(&ev);
        assert_null(ev.strings);
        assert_string_equal(copy.dossier_id, "D-1"); /* still its own */
        tp_event_release(&copy);
        tp_event_release(&copy); /* a zeroed event: nothing to free */

        /* in an arena: the event owns nothing, the arena everything */
        {
                struct tp_arena arena = {0};
                tp_event_set_strings(&ev, sp, &arena);
                assert_null(ev.strings);
                assert_string_equal(ev.dossier_id, "D-1");
                assert_null(ev.procedure_code);
                tp_event_copy(&copy, &ev); /* a copy owns its block */
                assert_non_null(copy.strings);
                tp_event_release(&ev); /* frees nothing (ASan) */
                assert_string_equal(copy.dossier_id, "D-1");
                tp_event_release(&copy);
                tp_arena_reset(&arena);
        }
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

/* ---- the direct decoder against the generic path ---------------------- */

#define CORPUS TTHC_SOURCE_DIR "/tests/fuzz/corpus"

struct diff_stats {
        size_t inputs;  /* corpus files decoded through both paths */
        size_t decodes; /* bodies (whole, cut, mutated) compared */
        size_t ok;      /* of which both accepted */
};

/* Decodes body with both paths of dec; asserts the same reason, text and
 * event, and that a refused body leaves the event untouched. */
static void diff_one(struct tp_avrodec *dec, const unsigned char *body,
                     size_t len, struct diff_stats *st)
{
        static const struct tp_event zero;
        char err_fast[256], err_gen[256];
        struct tp_event ev_fast, ev_gen;
        struct tp_arena arena = {0};
        enum tp_reason r_fast, r_gen;

        memset(&ev_fast, 0, sizeof(ev_fast));
        memset(&ev_gen, 0, sizeof(ev_gen));
        strcpy(err_fast, "untouched");
        strcpy(err_gen, "untouched");
        assert_int_equal(tp_avrodec_set_generic(dec, 0), 0);
        r_fast = tp_avrodec_decode(dec, body, len, &ev_fast, err_fast,
                                   sizeof(err_fast));
        assert_int_equal(tp_avrodec_set_generic(dec, 1), 1);
        /* the generic path with the strings in an arena, as tthc-route
         * decodes */
        r_gen = tp_avrodec_decode_in(dec, &arena, body, len, &ev_gen, err_gen,
                                     sizeof(err_gen));
        if (r_fast != r_gen || strcmp(err_fast, err_gen) != 0)
                fail_msg("direct: %d \"%s\", generic: %d \"%s\"", r_fast,
                         err_fast, r_gen, err_gen);
        assert_true(tp_event_equal(&ev_fast, &ev_gen));
        assert_int_equal(ev_fast.handling_commune_given,
                         ev_gen.handling_commune_given);
        if (r_fast == TP_REASON_OK) {
                st->ok++;
        } else {
                assert_memory_equal(&ev_fast, &zero, sizeof(zero));
                assert_memory_equal(&ev_gen, &zero, sizeof(zero));
        }
        st->decodes++;
        tp_event_release(&ev_fast);
        tp_event_release(&ev_gen);
        tp_arena_reset(&arena);
}

/* The body, every prefix of it, and each byte set to 0x00, 0x7f, 0xff and
 * flipped in its low bit: the corpus's accepted messages and, around them,
 * the errors of every check. */
static void diff_body(struct tp_avrodec *dec, const unsigned char *body,
                      size_t len, struct diff_stats *st)
{
        static const int set[] = {0x00, 0x7f, 0xff, -1};
        unsigned char *copy = malloc(len ? len : 1);

        assert_non_null(copy);
        if (len)
                memcpy(copy, body, len);
        diff_one(dec, copy, len, st);
        for (size_t cut = 0; cut < len; cut++)
                diff_one(dec, copy, cut, st);
        for (size_t at = 0; at < len; at++) {
                unsigned char was = copy[at];
                for (size_t k = 0; k < sizeof(set) / sizeof(set[0]); k++) {
                        copy[at] = set[k] < 0 ? (unsigned char)(was ^ 1)
                                              : (unsigned char)set[k];
                        diff_one(dec, copy, len, st);
                }
                copy[at] = was;
        }
        free(copy);
}

/* The writer schema of a framed message: the catalog's "<id>-*.avsc" of
 * schemas/avro or tests/fuzz/schemas, as fuzz_decode.c's catalog has. */
static char *schema_of_id(int32_t id, size_t *len)
{
        static const char *const dirs[] = {TTHC_SOURCE_DIR "/schemas/avro",
                                           TTHC_SOURCE_DIR
                                           "/tests/fuzz/schemas"};
        char prefix[32], path[1024], err[256];

        snprintf(prefix, sizeof(prefix), "%d-", (int)id);
        for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
                DIR *dir = opendir(dirs[d]);
                struct dirent *de;
                assert_non_null(dir);
                while ((de = readdir(dir)) != NULL) {
                        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", dirs[d],
                                 de->d_name);
                        closedir(dir);
                        return tp_read_file(path, 1 << 20, len, err,
                                            sizeof(err));
                }
                closedir(dir);
        }
        return NULL;
}

static void diff_input(const unsigned char *data, size_t size,
                       struct diff_stats *st)
{
        char err[256];
        const unsigned char *body;
        size_t body_len, json_len;
        struct tp_avrodec *dec;
        char *json;

        if (size > 0 && data[0] == '{') {
                /* '{' WRITER-SCHEMA-JSON '\0' AVRO-BODY */
                const unsigned char *nul = memchr(data, 0, size);
                json_len = nul ? (size_t)(nul - data) : size;
                body = nul ? nul + 1 : data + size;
                body_len = nul ? size - json_len - 1 : 0;
                json = malloc(json_len + 1);
                assert_non_null(json);
                memcpy(json, data, json_len);
                json[json_len] = '\0';
        } else {
                int32_t id;
                if (tp_framing_parse(data, size, &id, &body, &body_len, err,
                                     sizeof(err)) != 0)
                        return;
                json = schema_of_id(id, &json_len);
                if (!json)
                        return;
        }
        dec = tp_avrodec_new(reader, json, json_len, err, sizeof(err));
        free(json);
        if (!dec)
                return;
        /* a writer schema the direct decoder leaves to the generic path
         * has nothing to compare */
        if (tp_avrodec_set_generic(dec, 0) == 0) {
                diff_body(dec, body, body_len, st);
                st->inputs++;
        }
        tp_avrodec_destroy(dec);
}

static void test_avrodec__direct_equals_generic_on_corpus(void **state)
{
        struct diff_stats st = {0, 0, 0};
        DIR *dir = opendir(CORPUS);
        struct dirent *de;
        char path[1024], err[256];
        (void)state;

        assert_non_null(dir);
        while ((de = readdir(dir)) != NULL) {
                unsigned char *data;
                size_t size = 0;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
                data = (unsigned char *)tp_read_file(path, 1 << 20, &size, err,
                                                     sizeof(err));
                assert_non_null(data);
                diff_input(data, size, &st);
                free(data);
        }
        closedir(dir);
        print_message("direct vs generic: %zu inputs, %zu bodies, %zu "
                      "accepted\n",
                      st.inputs, st.decodes, st.ok);
        /* the comparison must have covered the corpus, accepted bodies
         * included */
        assert_true(st.inputs >= 100);
        assert_true(st.ok >= 50);
}

/* A writer schema with the odd shapes the corpus hardly holds: unions of
 * every readable type and some that are not, enums given as strings, a
 * writer enum with a symbol the reader lacks, an unmapped array/map field,
 * a long seq, and a reader field left to its default. */
static const char odd_writer[] =
        "{\"type\":\"record\",\"name\":\"FilingEvent\",\"namespace\":"
        "\"vn.tthc.odd\",\"fields\":["
        "{\"name\":\"event_id\",\"type\":\"string\"},"
        "{\"name\":\"event_type\",\"type\":[\"null\",\"string\",{\"type\":"
        "\"enum\",\"name\":\"EventType\",\"symbols\":[\"BOGUS\","
        "\"RECEIVED\",\"SUBMITTED\"]},\"int\"]},"
        "{\"name\":\"occurred_at\",\"type\":[\"long\",\"int\",\"null\","
        "\"string\"]},"
        "{\"name\":\"dossier_id\",\"type\":[\"string\",\"bytes\"]},"
        "{\"name\":\"seq\",\"type\":[\"long\",\"int\"]},"
        "{\"name\":\"province_code\",\"type\":\"string\"},"
        "{\"name\":\"skipme\",\"type\":[\"null\",{\"type\":\"array\","
        "\"items\":\"string\"},{\"type\":\"map\",\"values\":\"double\"}]},"
        "{\"name\":\"commune_code\",\"type\":[\"null\",\"string\",\"int\","
        "\"boolean\"]},"
        "{\"name\":\"procedure_code\",\"type\":\"string\"},"
        "{\"name\":\"procedure_level\",\"type\":[\"string\",{\"type\":"
        "\"enum\",\"name\":\"Level\",\"symbols\":[\"CENTRAL\",\"WEIRD\","
        "\"PROVINCE\",\"COMMUNE\"]}]},"
        "{\"name\":\"channel\",\"type\":\"string\"},"
        "{\"name\":\"agency_code\",\"type\":\"string\"},"
        "{\"name\":\"handling_level\",\"type\":\"Level\"},"
        "{\"name\":\"to_level\",\"type\":[\"null\",\"Level\",\"string\"]},"
        "{\"name\":\"to_agency_code\",\"type\":[\"null\",\"string\",{"
        "\"type\":\"fixed\",\"name\":\"F4\",\"size\":4}]},"
        "{\"name\":\"due_at\",\"type\":[\"null\",\"int\",\"long\","
        "\"float\"]},"
        "{\"name\":\"source_system\",\"type\":\"string\"}"
        "]}";

struct wbuf {
        unsigned char b[2048];
        size_t n;
};

static void put_long(struct wbuf *w, int64_t v)
{
        uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        while (z & ~(uint64_t)0x7f) {
                w->b[w->n++] = (unsigned char)((z & 0x7f) | 0x80);
                z >>= 7;
        }
        w->b[w->n++] = (unsigned char)z;
}

static void put_bytes(struct wbuf *w, const char *p, size_t len)
{
        put_long(w, (int64_t)len);
        memcpy(w->b + w->n, p, len);
        w->n += len;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (unsigned)(rng_state % n);
}

/* How often a value of the current body is odd: 1 in odd_rate. */
static unsigned odd_rate;

/* good, or now and then any of 0..n-1 */
static unsigned pick(unsigned n, unsigned good)
{
        return rnd(odd_rate) == 0 ? rnd(n) : good;
}

/* A string of the data: mostly fine, sometimes each way of being wrong. */
static void put_odd_string(struct wbuf *w, const char *good)
{
        static char long_ok[TP_EVENT_MAX_STR], long_bad[TP_EVENT_MAX_STR + 1];
        memset(long_ok, 'a', sizeof(long_ok));
        memset(long_bad, 'b', sizeof(long_bad));
        switch (pick(12, 11)) {
        case 0:
                put_bytes(w, "", 0);
                break;
        case 1:
                put_bytes(w, long_ok, sizeof(long_ok));
                break;
        case 2:
                put_bytes(w, long_bad, sizeof(long_bad));
                break;
        case 3:
                put_bytes(w, "ab\xc3", 3);
                break;
        case 4:
                put_bytes(w, "RECEIVED\0x", 10);
                break;
        case 5:
                put_bytes(w, "PROVINCE", 8);
                break;
        case 6:
                put_bytes(w, "H\xc3\xa0 N\xe1\xbb\x99i", 9);
                break;
        default:
                put_bytes(w, good, strlen(good));
        }
}

static void put_odd_long(struct wbuf *w)
{
        static const int64_t v[] = {0,
                                    -1,
                                    3,
                                    INT32_MAX,
                                    (int64_t)INT32_MAX + 1,
                                    INT32_MIN,
                                    (int64_t)INT32_MIN - 1,
                                    INT64_MIN,
                                    INT64_MAX,
                                    1757469600000LL};
        put_long(w, v[pick(sizeof(v) / sizeof(v[0]), 9)]);
}

/* An int branch: in range, except now and then (the walk's error). */
static void put_odd_int(struct wbuf *w)
{
        if (pick(10, 1) == 0)
                put_long(w, (int64_t)INT32_MAX + 1);
        else
                put_long(w, (int64_t)rnd(1000) - 500);
}

/* A body of odd_writer; every union branch and value at random. */
static void put_odd_body(struct wbuf *w)
{
        unsigned b;
        w->n = 0;
        put_odd_string(w, "6f1c2a52-1b7e-4f7a-9a55-0c8d2d1e0001");
        b = pick(4, 2); /* event_type */
        put_long(w, b);
        if (b == 1)
                put_odd_string(w, "RECEIVED");
        else if (b == 2)
                put_long(w, pick(3, 1));
        else if (b == 3)
                put_odd_int(w);
        b = pick(4, 0); /* occurred_at */
        put_long(w, b);
        if (b == 0)
                put_odd_long(w);
        else if (b == 1)
                put_odd_int(w);
        else if (b == 3)
                put_odd_string(w, "x");
        b = pick(2, 0); /* dossier_id */
        put_long(w, b);
        put_odd_string(w, "H01.1-250910-0001");
        b = pick(2, 1); /* seq */
        put_long(w, b);
        if (b == 0)
                put_odd_long(w);
        else
                put_odd_int(w);
        put_odd_string(w, "01");
        b = rnd(3); /* skipme */
        put_long(w, b);
        if (b == 1) {
                put_long(w, 2);
                put_bytes(w, "t1", 2);
                put_bytes(w, "t2", 2);
                put_long(w, 0);
        } else if (b == 2) {
                put_long(w, -1);
                put_long(w, 11);
                put_bytes(w, "k", 1);
                memcpy(w->b + w->n, "\0\0\0\0\0\0\xf0\x3f", 8);
                w->n += 8;
                put_long(w, 0);
        }
        b = pick(4, 1); /* commune_code */
        put_long(w, b);
        if (b == 1)
                put_odd_string(w, "00004");
        else if (b == 2)
                put_odd_int(w);
        else if (b == 3)
                w->b[w->n++] = 1;
        put_odd_string(w, "1.004227");
        b = pick(2, 1); /* procedure_level */
        put_long(w, b);
        if (b == 0)
                put_odd_string(w, "COMMUNE");
        else
                put_long(w, pick(4, 2));
        put_odd_string(w, "ONLINE");
        put_odd_string(w, "UBND-00004");
        put_long(w, pick(5, 3)); /* handling_level, 4 out of range */
        b = rnd(3);              /* to_level */
        put_long(w, b);
        if (b == 1)
                put_long(w, pick(4, 0));
        else if (b == 2)
                put_odd_string(w, "CENTRAL");
        b = pick(3, 1); /* to_agency_code */
        put_long(w, b);
        if (b == 1)
                put_odd_string(w, "SO-TP-01");
        else if (b == 2) {
                memcpy(w->b + w->n, "abcd", 4);
                w->n += 4;
        }
        b = pick(4, 2); /* due_at */
        put_long(w, b);
        if (b == 1)
                put_odd_int(w);
        else if (b == 2)
                put_odd_long(w);
        else if (b == 3) {
                memcpy(w->b + w->n, "\0\0\x80\x3f", 4);
                w->n += 4;
        }
        put_odd_string(w, "hn-dvc");
        if (pick(20, 1) == 0)
                w->b[w->n++] = 0; /* a trailing byte */
}

static void test_avrodec__direct_equals_generic_on_odd_shapes(void **state)
{
        struct diff_stats st = {0, 0, 0};
        char err[256];
        struct wbuf w;
        struct tp_avrodec *dec = tp_avrodec_new(
                reader, odd_writer, strlen(odd_writer), err, sizeof(err));
        (void)state;

        if (!dec)
                fail_msg("odd writer: %s", err);
        assert_int_equal(tp_avrodec_set_generic(dec, 0), 0);
        for (int k = 0; k < 20000; k++) {
                static const unsigned rates[] = {1u << 30, 40, 10, 3, 1};
                odd_rate = rates[k % 5];
                put_odd_body(&w);
                if (k < 300)
                        diff_body(dec, w.b, w.n, &st);
                else
                        diff_one(dec, w.b, w.n, &st);
        }
        print_message("direct vs generic, odd shapes: %zu bodies, %zu "
                      "accepted\n",
                      st.decodes, st.ok);
        assert_true(st.ok >= 1000);
        tp_avrodec_destroy(dec);
}

/* A union right inside a union is no valid Avro: if avro-c parses it, the
 * decoder keeps the generic path. */
static void test_avrodec__union_in_union_falls_back(void **state)
{
        char err[256];
        char *w = without_field("commune_code");
        json_t *root = json_loads(w, 0, NULL);
        json_t *f = json_pack("{s:s, s:[s, [s, s]]}", "name", "commune_code",
                              "type", "null", "string", "int");
        struct tp_avrodec *dec;
        char *json;
        (void)state;

        json_array_append_new(json_object_get(root, "fields"), f);
        json = json_dumps(root, 0);
        dec = tp_avrodec_new(reader, json, strlen(json), err, sizeof(err));
        if (dec)
                assert_int_equal(tp_avrodec_set_generic(dec, 0), 1);
        tp_avrodec_destroy(dec);
        free(json);
        json_decref(root);
        free(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_event__strings_in_one_block),
                cmocka_unit_test(test_avrodec__reads_contract_schema),
                cmocka_unit_test(test_avrodec__resolves_evolved_writer),
                cmocka_unit_test(
                        test_avrodec__fills_missing_field_from_default),
                cmocka_unit_test(
                        test_avrodec__rejects_writer_without_required_field),
                cmocka_unit_test(test_avrodec__hostile_lengths_are_rejected),
                cmocka_unit_test(test_avrodec__truncated_and_trailing_bytes),
                cmocka_unit_test(test_avrodec__utf8),
                cmocka_unit_test(test_avrodec__direct_equals_generic_on_corpus),
                cmocka_unit_test(
                        test_avrodec__direct_equals_generic_on_odd_shapes),
                cmocka_unit_test(test_avrodec__union_in_union_falls_back),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
