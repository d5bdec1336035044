/* Unit tests for common/avroschema: each kind of writer schema refused
 * before avro-c sees it, and the legitimate shapes next to each limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avroschema.h"
#include "util.h"

#ifndef TTHC_SOURCE_DIR
#define TTHC_SOURCE_DIR "."
#endif

/* Checks json; returns the refusal ("" when accepted). */
static const char *check(const char *json)
{
        static char err[256];
        err[0] = '\0';
        if (tp_avroschema_check(json, strlen(json), err, sizeof(err)) == 0)
                return "";
        assert_true(err[0] != '\0');
        return err;
}

/* A growing JSON text. */
struct text {
        char *s;
        size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
        va_list ap;
        int n;
        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
                va_end(ap);
                if ((size_t)n < t->cap - t->len)
                        break;
                t->cap = (t->cap + (size_t)n) * 2;
                t->s = realloc(t->s, t->cap);
                assert_non_null(t->s);
        }
        t->len += (size_t)n;
}

/* A record of n null fields named R, as one field of a wrapping record. */
static char *wide(size_t n)
{
        struct text t = {calloc(1, 64), 0, 64};
        add(&t, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[");
        for (size_t i = 0; i < n; i++)
                add(&t, "%s{\"name\":\"f%zu\",\"type\":\"null\"}", i ? "," : "",
                    i);
        add(&t, "]}");
        return t.s;
}

/* Arrays nested depth deep around "null". */
static char *deep(int depth)
{
        struct text t = {calloc(1, 64), 0, 64};
        add(&t, "{\"type\":\"record\",\"name\":\"D\",\"fields\":[{\"name\":"
                "\"d\",\"type\":");
        for (int i = 0; i < depth; i++)
                add(&t, "{\"type\":\"array\",\"items\":");
        add(&t, "\"null\"");
        for (int i = 0; i < depth; i++)
                add(&t, "}");
        add(&t, "}]}");
        return t.s;
}

static void test_avroschema__contract_accepted(void **state)
{
        char err[256];
        size_t len;
        char *json = tp_read_file(TTHC_SOURCE_DIR
                                  "/schemas/avro/1-filing_event.avsc",
                                  1 << 20, &len, err, sizeof(err));
        (void)state;
        assert_non_null(json);
        assert_string_equal(check(json), "");
        free(json);
}

static void test_avroschema__recursion(void **state)
{
        (void)state;
        /* contains itself without a way to end */
        assert_non_null(
                strstr(check("{\"type\":\"record\",\"name\":\"R\",\"fields\":"
                             "[{\"name\":\"r\",\"type\":\"R\"}]}"),
                       "contains itself"));
        /* through another record, and with a namespace */
        assert_non_null(strstr(
                check("{\"type\":\"record\",\"name\":\"A\",\"namespace\":"
                      "\"x\",\"fields\":[{\"name\":\"b\",\"type\":{\"type\":"
                      "\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"a\","
                      "\"type\":\"x.A\"}]}}]}"),
                "contains itself"));
        /* a linked list ends through a union, a tree through an array */
        assert_string_equal(
                check("{\"type\":\"record\",\"name\":\"L\",\"fields\":["
                      "{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}"),
                "");
        assert_string_equal(
                check("{\"type\":\"record\",\"name\":\"T\",\"fields\":["
                      "{\"name\":\"kids\",\"type\":{\"type\":\"array\","
                      "\"items\":\"T\"}}]}"),
                "");
}

static void test_avroschema__fields_and_named(void **state)
{
        char *ok = wide(TP_AVROSCHEMA_MAX_FIELDS - 1);
        char *over = wide(TP_AVROSCHEMA_MAX_FIELDS + 1);
        struct text t = {calloc(1, 64), 0, 64};
        (void)state;
        assert_string_equal(check(ok), "");
        assert_non_null(strstr(check(over), "too many fields"));
        /* named types: many enums */
        add(&t, "{\"type\":\"record\",\"name\":\"N\",\"fields\":[");
        for (int i = 0; i <= TP_AVROSCHEMA_MAX_NAMED; i++)
                add(&t,
                    "%s{\"name\":\"f%d\",\"type\":{\"type\":\"enum\","
                    "\"name\":\"E%d\",\"symbols\":[\"A\"]}}",
                    i ? "," : "", i, i);
        add(&t, "]}");
        assert_non_null(strstr(check(t.s), "too many named types"));
        free(ok);
        free(over);
        free(t.s);
}

static void test_avroschema__depth_and_nodes(void **state)
{
        char *ok = deep(TP_AVROSCHEMA_MAX_DEPTH - 2);
        char *over = deep(TP_AVROSCHEMA_MAX_DEPTH + 1);
        struct text t = {calloc(1, 64), 0, 64};
        (void)state;
        assert_string_equal(check(ok), "");
        assert_non_null(strstr(check(over), "too deeply"));
        /* many type nodes in few fields: one wide union */
        add(&t, "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":"
                "\"u\",\"type\":[\"null\"");
        for (int i = 0; i < TP_AVROSCHEMA_MAX_NODES; i++)
                add(&t, ",{\"type\":\"array\",\"items\":\"int\"}");
        add(&t, "]}]}");
        assert_non_null(strstr(check(t.s), "too many types"));
        free(ok);
        free(over);
        free(t.s);
}

/* Each level is a record of two fields of the level below: few fields,
 * few nodes, but a value of 2^levels nodes. */
static void test_avroschema__expanded_size(void **state)
{
        struct text t = {calloc(1, 64), 0, 64};
        (void)state;
        add(&t, "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":"
                "\"x0\",\"type\":{\"type\":\"record\",\"name\":\"L0\","
                "\"fields\":[{\"name\":\"v\",\"type\":\"int\"}]}}");
        for (int i = 1; i <= 20; i++)
                add(&t,
                    ",{\"name\":\"x%d\",\"type\":{\"type\":\"record\","
                    "\"name\":\"L%d\",\"fields\":[{\"name\":\"a\",\"type\":"
                    "\"L%d\"},{\"name\":\"b\",\"type\":\"L%d\"}]}}",
                    i, i, i - 1, i - 1);
        add(&t, "]}");
        assert_string_not_equal(check(t.s), "");
        free(t.s);
}

/* avro-c refuses a named type defined twice, but leaks what it built */
static void test_avroschema__named_twice(void **state)
{
        (void)state;
        assert_non_null(strstr(
                check("{\"type\":\"record\",\"name\":\"N\",\"fields\":["
                      "{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":"
                      "\"E\",\"symbols\":[\"A\"]}},{\"name\":\"b\",\"type\":"
                      "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"B\"]}}]"
                      "}"),
                "defines a named type twice"));
        /* the same name in two namespaces is two types */
        assert_string_equal(
                check("{\"type\":\"record\",\"name\":\"N\",\"fields\":["
                      "{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":"
                      "\"E\",\"namespace\":\"x\",\"symbols\":[\"A\"]}},"
                      "{\"name\":\"b\",\"type\":{\"type\":\"enum\",\"name\":"
                      "\"E\",\"namespace\":\"y\",\"symbols\":[\"B\"]}}]}"),
                "");
}

static void test_avroschema__fixed_size(void **state)
{
        char json[256];
        (void)state;
        snprintf(json, sizeof(json),
                 "{\"type\":\"record\",\"name\":\"F\",\"fields\":[{\"name\":"
                 "\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"X\","
                 "\"size\":%d}}]}",
                 TP_AVROSCHEMA_MAX_FIXED);
        assert_string_equal(check(json), "");
        snprintf(json, sizeof(json),
                 "{\"type\":\"record\",\"name\":\"F\",\"fields\":[{\"name\":"
                 "\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"X\","
                 "\"size\":1073741824}}]}");
        assert_non_null(strstr(check(json), "fixed type that is too large"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_avroschema__contract_accepted),
                cmocka_unit_test(test_avroschema__recursion),
                cmocka_unit_test(test_avroschema__fields_and_named),
                cmocka_unit_test(test_avroschema__depth_and_nodes),
                cmocka_unit_test(test_avroschema__expanded_size),
                cmocka_unit_test(test_avroschema__named_twice),
                cmocka_unit_test(test_avroschema__fixed_size),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
