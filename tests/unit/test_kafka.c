/* Unit tests for common/kafka: which properties reach which role. No
 * broker is needed: a client is built, not connected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kafka.h"
#include "util.h"

/* The client's value of prop, or "" when unset. */
static const char *conf_of(rd_kafka_t *rk, const char *prop)
{
        static char buf[256];
        size_t size = sizeof(buf);
        if (rd_kafka_conf_get(rd_kafka_conf(rk), prop, buf, &size) !=
            RD_KAFKA_CONF_OK)
                return "";
        return buf;
}

static void test_kafka__role_filter(void **state)
{
        (void)state;
        assert_true(tp_kafka_skipped(TP_KAFKA_PRODUCER, "session.timeout.ms"));
        assert_true(
                tp_kafka_skipped(TP_KAFKA_PRODUCER, "heartbeat.interval.ms"));
        assert_true(tp_kafka_skipped(TP_KAFKA_PRODUCER, "group.id"));
        assert_true(tp_kafka_skipped(TP_KAFKA_CONSUMER, "linger.ms"));
        assert_true(tp_kafka_skipped(TP_KAFKA_CONSUMER, "enable.idempotence"));
        assert_false(tp_kafka_skipped(TP_KAFKA_CONSUMER, "security.protocol"));
        assert_false(tp_kafka_skipped(TP_KAFKA_PRODUCER, "sasl.username"));
        assert_false(tp_kafka_skipped(TP_KAFKA_PRODUCER, "client.id"));
}

static void test_kafka__properties_per_role(void **state)
{
        /* writable copies: the options hold struct tp_cfg's char * */
        char k[][32] = {"session.timeout.ms",         "linger.ms",
                        "socket.timeout.ms",          "producer.linger.ms",
                        "consumer.fetch.wait.max.ms", "enable.auto.commit"};
        char v[][8] = {"7000", "5", "12345", "50", "77", "true"};
        char *keys[] = {k[0], k[1], k[2], k[3], k[4], k[5]};
        char *values[] = {v[0], v[1], v[2], v[3], v[4], v[5]};
        const char *const fixed[][2] = {{"enable.auto.commit", "false"}};
        char err[512];
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = "127.0.0.1:1",
                .client_id = "unit",
                .keys = keys,
                .values = values,
                .n = TP_ARRAY_LEN(keys) - 1,
        };
        rd_kafka_t *rk;
        (void)state;

        rk = tp_kafka_new(&o, err, sizeof(err));
        assert_non_null(rk);
        assert_string_equal(conf_of(rk, "linger.ms"), "50"); /* override */
        assert_string_equal(conf_of(rk, "socket.timeout.ms"), "12345");
        assert_string_equal(conf_of(rk, "client.id"), "unit");
        rd_kafka_destroy(rk);

        o.role = TP_KAFKA_CONSUMER;
        o.n = TP_ARRAY_LEN(keys);
        o.fixed = fixed;
        o.n_fixed = 1;
        rk = tp_kafka_new(&o, err, sizeof(err));
        assert_non_null(rk);
        assert_string_equal(conf_of(rk, "session.timeout.ms"), "7000");
        assert_string_equal(conf_of(rk, "fetch.wait.max.ms"), "77");
        assert_string_equal(conf_of(rk, "socket.timeout.ms"), "12345");
        /* a guarantee is not the operator's to change */
        assert_string_equal(conf_of(rk, "enable.auto.commit"), "false");
        rd_kafka_destroy(rk);
}

static void test_kafka__bad_property_named(void **state)
{
        char k[] = "no.such.property", v[] = "1";
        char *keys[] = {k};
        char *values[] = {v};
        char err[512];
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = "127.0.0.1:1",
                .keys = keys,
                .values = values,
                .n = 1,
        };
        (void)state;
        assert_null(tp_kafka_new(&o, err, sizeof(err)));
        assert_non_null(strstr(err, "\"no.such.property\""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kafka__role_filter),
                cmocka_unit_test(test_kafka__properties_per_role),
                cmocka_unit_test(test_kafka__bad_property_named),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
