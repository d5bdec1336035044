/* Unit tests for common/cfg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "kv.h"

/* A service with every common option and none of its own. */
static const struct tp_cfg_spec svc_spec = {
        .service = "svc", .summary = "test", .groups = TP_CFG_ALL};

/* Two services with their own options, as tthc-ingest and tthc-alert. */
struct alert_opts {
        char *rules;
        struct tp_cfg_list files;
        double ratio;
};

static const struct tp_opt alert_own[] = {
        {"rules", TP_OPT_STR, "", offsetof(struct alert_opts, rules), "rules",
         0, 0, NULL, 0},
        {"file", TP_OPT_LIST, NULL, offsetof(struct alert_opts, files), "files",
         0, 0, NULL, 0},
        {"ratio", TP_OPT_NUM, "0.5", offsetof(struct alert_opts, ratio),
         "ratio", 0, 1, NULL, 0},
};

static const struct tp_cfg_spec ingest_spec = {.service = "tthc-ingest",
                                               .summary = "ingest",
                                               .groups = TP_CFG_CONSUMERS |
                                                         TP_CFG_STORE};

static const struct tp_cfg_spec alert_spec = {
        .service = "tthc-alert",
        .summary = "alert",
        .args = "COMMAND",
        .groups = TP_CFG_LOG | TP_CFG_PG,
        .own = alert_own,
        .n_own = sizeof(alert_own) / sizeof(alert_own[0]),
        .own_size = sizeof(struct alert_opts)};

static void test_cfg__file_text(void **state)
{
        struct tp_cfg cfg;
        char err[256];
        (void)state;
        tp_cfg_defaults(&cfg, "tthc-ingest");
        assert_string_equal(cfg.group, "tthc-ingest");
        assert_int_equal(tp_cfg_parse_text(&cfg,
                                           "# comment\n"
                                           "brokers = k1:9092, k2:9092\n"
                                           "\n  batch-size=100  \n"
                                           "exit-when-idle = yes\n"
                                           "kafka.session.timeout.ms = 6000\n",
                                           "x.conf", err, sizeof(err)),
                         0);
        assert_string_equal(cfg.brokers, "k1:9092, k2:9092");
        assert_int_equal(cfg.batch_size, 100);
        assert_int_equal(cfg.exit_when_idle, 1);
        assert_int_equal(cfg.n_kafka, 1);
        assert_string_equal(cfg.kafka_keys[0], "session.timeout.ms");
        assert_string_equal(cfg.kafka_values[0], "6000");
        tp_cfg_release(&cfg);
}

static void test_cfg__errors_name_file_and_line(void **state)
{
        struct tp_cfg cfg;
        char err[256];
        (void)state;
        tp_cfg_defaults(&cfg, NULL);
        assert_int_equal(tp_cfg_parse_text(&cfg, "brokers = a\nnonsense\n",
                                           "x.conf", err, sizeof(err)),
                         -1);
        assert_string_equal(err, "x.conf:2: expected \"key = value\"");
        assert_int_equal(tp_cfg_parse_text(&cfg, "batch-size = -3\n", "y.conf",
                                           err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "y.conf:1:"));
        assert_int_equal(tp_cfg_parse_text(&cfg, "colour = red\n", "z.conf",
                                           err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "unknown option \"colour\""));
        tp_cfg_release(&cfg);
}

static void test_cfg__http_options_checked(void **state)
{
        struct tp_cfg cfg;
        char err[256];
        (void)state;
        tp_cfg_defaults(&cfg, NULL);
        /* every address, both families; a few connections per client; an
         * idle timeout below the Kubernetes probes' 3 s */
        assert_string_equal(cfg.http_address, "::");
        assert_int_equal(cfg.http_max_per_ip, 8);
        assert_int_equal(cfg.http_timeout_s, 2);
        assert_int_equal(tp_cfg_parse_text(&cfg,
                                           "http-address = 127.0.0.1\n"
                                           "http-max-per-ip = 4\n"
                                           "http-timeout-s = 1\n",
                                           "x.conf", err, sizeof(err)),
                         0);
        assert_string_equal(cfg.http_address, "127.0.0.1");
        assert_int_equal(cfg.http_max_per_ip, 4);
        assert_int_equal(cfg.http_timeout_s, 1);
        assert_int_equal(
                tp_cfg_set(&cfg, "http-address", "[::1]", err, sizeof(err)), 0);
        assert_int_equal(tp_cfg_parse_text(&cfg, "\nhttp-address = pod-ip\n",
                                           "x.conf", err, sizeof(err)),
                         -1);
        assert_string_equal(err, "x.conf:2: option \"http-address\": "
                                 "\"pod-ip\" is not an IPv4 or IPv6 address "
                                 "(e.g. 127.0.0.1, ::1, 0.0.0.0 or :: for "
                                 "every address)");
        assert_string_equal(cfg.http_address, "[::1]"); /* unchanged */
        assert_int_equal(
                tp_cfg_set(&cfg, "http-max-per-ip", "0", err, sizeof(err)), -1);
        assert_string_equal(err,
                            "option \"http-max-per-ip\" expects 1..64, not 0");
        assert_int_equal(
                tp_cfg_set(&cfg, "http-timeout-s", "61", err, sizeof(err)), -1);
        assert_non_null(strstr(err, "\"http-timeout-s\" expects 1..60"));
        assert_int_equal(
                tp_cfg_set(&cfg, "http-port", "65536", err, sizeof(err)), -1);
        assert_non_null(strstr(err, "\"http-port\" expects 0..65535"));
        assert_int_equal(
                tp_cfg_set(&cfg, "http-timeout-s", "x", err, sizeof(err)), -1);
        assert_non_null(strstr(err, "expects a non-negative integer"));
        tp_cfg_release(&cfg);
}

static void test_cfg__precedence_flags_over_env(void **state)
{
        struct tp_cfg cfg;
        char err[256];
        char *argv[] = {(char *)"svc", (char *)"--brokers", (char *)"flag:1",
                        (char *)"--exit-when-idle", NULL};
        (void)state;
        setenv("TTHC_BROKERS", "env:1", 1);
        setenv("TTHC_GROUP", "g-env", 1);
        assert_int_equal(
                tp_cfg_load(&cfg, &svc_spec, 4, argv, err, sizeof(err)),
                TP_CFG_OK);
        assert_string_equal(cfg.brokers, "flag:1");
        assert_string_equal(cfg.group, "g-env");
        assert_int_equal(cfg.exit_when_idle, 1);
        assert_string_equal(cfg.reader_schema,
                            "schemas/avro/1-filing_event.avsc");
        unsetenv("TTHC_BROKERS");
        unsetenv("TTHC_GROUP");
        tp_cfg_release(&cfg);
}

/* The value librdkafka would get for key (the last one set wins). */
static const char *kafka_value(const struct tp_cfg *cfg, const char *key)
{
        const char *v = NULL;
        for (size_t i = 0; i < cfg->n_kafka; i++)
                if (strcmp(cfg->kafka_keys[i], key) == 0)
                        v = cfg->kafka_values[i];
        return v;
}

static void test_cfg__kafka_from_env_and_file(void **state)
{
        struct tp_cfg cfg;
        char err[256], path[] = "/tmp/tthc-test-cfg-XXXXXX";
        char *argv[] = {(char *)"svc", (char *)"--kafka.client.id=flag", NULL};
        int fd = mkstemp(path);
        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "s3cret\n", 7), 7);
        close(fd);
        setenv("TTHC_KAFKA_SASL_PASSWORD_FILE", path, 1);
        setenv("TTHC_KAFKA_SASL_USERNAME", "ingest", 1);
        setenv("TTHC_KAFKA_CLIENT_ID", "env", 1);
        assert_int_equal(
                tp_cfg_load(&cfg, &svc_spec, 2, argv, err, sizeof(err)),
                TP_CFG_OK);
        assert_string_equal(kafka_value(&cfg, "sasl.password"), "s3cret");
        assert_string_equal(kafka_value(&cfg, "sasl.username"), "ingest");
        assert_string_equal(kafka_value(&cfg, "client.id"), "flag");
        tp_cfg_release(&cfg);

        /* The plain variable wins over its _FILE twin. */
        setenv("TTHC_KAFKA_SASL_PASSWORD", "plain", 1);
        assert_int_equal(
                tp_cfg_load(&cfg, &svc_spec, 1, argv, err, sizeof(err)),
                TP_CFG_OK);
        assert_string_equal(kafka_value(&cfg, "sasl.password"), "plain");
        tp_cfg_release(&cfg);
        unsetenv("TTHC_KAFKA_SASL_PASSWORD");

        /* An unreadable file names the variable, never the value. */
        unlink(path);
        assert_int_equal(
                tp_cfg_load(&cfg, &svc_spec, 1, argv, err, sizeof(err)),
                TP_CFG_ERROR);
        assert_non_null(strstr(err, "TTHC_KAFKA_SASL_PASSWORD_FILE: "));
        tp_cfg_release(&cfg);
        unsetenv("TTHC_KAFKA_SASL_PASSWORD_FILE");
        unsetenv("TTHC_KAFKA_SASL_USERNAME");
        unsetenv("TTHC_KAFKA_CLIENT_ID");
}

static void test_cfg__help_leaves_cfg_releasable(void **state)
{
        struct tp_cfg cfg;
        char err[256];
        char *argv[] = {(char *)"svc", (char *)"--help", NULL};
        (void)state;
        memset(&cfg, 0xa5, sizeof(cfg)); /* garbage, as on a stack */
        assert_int_equal(
                tp_cfg_load(&cfg, &svc_spec, 2, argv, err, sizeof(err)),
                TP_CFG_HELP);
        tp_cfg_release(&cfg);
}

/* A service reads its own options: another service's flag is an error,
 * its variable (a shared ConfigMap) or file line is ignored. */
static void test_cfg__options_per_service(void **state)
{
        struct tp_cfg cfg;
        char err[256];
        char *flag[] = {(char *)"tthc-ingest", (char *)"--rules", (char *)"x",
                        NULL};
        char *kflag[] = {(char *)"tthc-alert", (char *)"--kafka.acks=all",
                         NULL};
        char *none[] = {(char *)"tthc-ingest", NULL};
        const struct alert_opts *ao;
        (void)state;
        assert_int_equal(
                tp_cfg_load(&cfg, &ingest_spec, 3, flag, err, sizeof(err)),
                TP_CFG_ERROR);
        assert_non_null(strstr(err, "unknown option --rules"));
        tp_cfg_release(&cfg);
        /* a common group the service does not read */
        assert_int_equal(
                tp_cfg_load(&cfg, &alert_spec, 2, kflag, err, sizeof(err)),
                TP_CFG_ERROR);
        assert_non_null(strstr(err, "not this service's option --kafka.acks"));
        tp_cfg_release(&cfg);

        setenv("TTHC_RULES", "/etc/rules.conf", 1);
        setenv("TTHC_BATCH_SIZE", "77", 1);
        assert_int_equal(
                tp_cfg_load(&cfg, &ingest_spec, 1, none, err, sizeof(err)),
                TP_CFG_OK);
        assert_null(cfg.own);
        assert_int_equal(cfg.batch_size, 77);
        assert_string_equal(cfg.group, "tthc-ingest");
        /* a shared file: another service's scoped line is skipped */
        assert_int_equal(tp_cfg_parse_text(&cfg,
                                           "tthc-alert.rules = /r.conf\n"
                                           "tthc-ingest.batch-size = 5\n",
                                           "shared.conf", err, sizeof(err)),
                         0);
        assert_int_equal(cfg.batch_size, 5);
        tp_cfg_release(&cfg);
        assert_int_equal(
                tp_cfg_load(&cfg, &alert_spec, 1, none, err, sizeof(err)),
                TP_CFG_OK);
        ao = cfg.own;
        assert_string_equal(ao->rules, "/etc/rules.conf");
        assert_int_equal(cfg.batch_size, 50000); /* not its group: default */
        assert_true(ao->ratio == 0.5);
        assert_int_equal(tp_cfg_parse_text(&cfg,
                                           "tthc-alert.rules = /r.conf\n"
                                           "batch-size = 9\n",
                                           "shared.conf", err, sizeof(err)),
                         0);
        assert_string_equal(ao->rules, "/r.conf");
        assert_int_equal(cfg.batch_size, 50000);
        assert_int_equal(tp_cfg_parse_text(&cfg, "tthc-alert.rulez = x\n",
                                           "a.conf", err, sizeof(err)),
                         -1);
        assert_string_equal(err, "a.conf:1: unknown option \"rulez\"");
        tp_cfg_release(&cfg);
        unsetenv("TTHC_RULES");
        unsetenv("TTHC_BATCH_SIZE");
}

/* Repeatable options: flags replace the values of a file; positional
 * arguments where the service takes them; numbers in their range. */
static void test_cfg__lists_args_numbers(void **state)
{
        struct tp_cfg cfg;
        char err[256], path[] = "/tmp/tthc-test-cfg-XXXXXX";
        const char *text = "file = a\nfile = b\n";
        char *argv[] = {(char *)"tthc-alert",
                        (char *)"--config",
                        path,
                        (char *)"run",
                        (char *)"--file",
                        (char *)"c",
                        (char *)"--file=d",
                        (char *)"--ratio",
                        (char *)"0.25",
                        NULL};
        char *bad[] = {(char *)"tthc-alert", (char *)"--ratio=1.5", NULL};
        char *stray[] = {(char *)"tthc-ingest", (char *)"run", NULL};
        const struct alert_opts *ao;
        int fd = mkstemp(path);
        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
        close(fd);
        assert_int_equal(
                tp_cfg_load(&cfg, &alert_spec, 9, argv, err, sizeof(err)),
                TP_CFG_OK);
        ao = cfg.own;
        assert_int_equal(ao->files.n, 2);
        assert_string_equal(ao->files.v[0], "c");
        assert_string_equal(ao->files.v[1], "d");
        assert_true(ao->ratio == 0.25);
        assert_int_equal(cfg.n_args, 1);
        assert_string_equal(cfg.args[0], "run");
        tp_cfg_release(&cfg);
        /* without flags, the file's list */
        argv[3] = NULL;
        assert_int_equal(
                tp_cfg_load(&cfg, &alert_spec, 3, argv, err, sizeof(err)),
                TP_CFG_OK);
        ao = cfg.own;
        assert_int_equal(ao->files.n, 2);
        assert_string_equal(ao->files.v[0], "a");
        tp_cfg_release(&cfg);
        unlink(path);
        assert_int_equal(
                tp_cfg_load(&cfg, &alert_spec, 2, bad, err, sizeof(err)),
                TP_CFG_ERROR);
        assert_string_equal(err, "option \"ratio\" expects 0..1, not 1.5");
        tp_cfg_release(&cfg);
        assert_int_equal(
                tp_cfg_load(&cfg, &ingest_spec, 2, stray, err, sizeof(err)),
                TP_CFG_ERROR);
        assert_string_equal(err, "unexpected argument \"run\"");
        tp_cfg_release(&cfg);
}

struct kv_seen {
        char out[256];
};

static int kv_collect(void *ud, char *key, const char *value, int line,
                      char *err, size_t err_size)
{
        struct kv_seen *k = ud;
        size_t n = strlen(k->out);
        if (strcmp(key, "bad") == 0) {
                snprintf(err, err_size, "no such key");
                return -1;
        }
        snprintf(k->out + n, sizeof(k->out) - n, "%d:%s=%s;", line, key, value);
        return 0;
}

/* The one key = value lexer of config and rules files: the same lines,
 * trailing comments only where asked, errors with origin and line. */
static void test_kv__one_lexer_two_comment_rules(void **state)
{
        const char *text = "# head\n\n  a = x#1  \nb=  y \n";
        struct kv_seen k = {""};
        char err[256];
        (void)state;
        assert_int_equal(
                tp_kv_parse(text, "f", 0, kv_collect, &k, err, sizeof(err)), 0);
        assert_string_equal(k.out, "3:a=x#1;4:b=y;");
        memset(&k, 0, sizeof(k));
        assert_int_equal(tp_kv_parse(text, "f", TP_KV_VALUE_COMMENTS,
                                     kv_collect, &k, err, sizeof(err)),
                         0);
        assert_string_equal(k.out, "3:a=x;4:b=y;");
        assert_int_equal(tp_kv_parse("a = 1\nno pair\n", "rules.conf", 0,
                                     kv_collect, &k, err, sizeof(err)),
                         -1);
        assert_string_equal(err, "rules.conf:2: expected \"key = value\"");
        assert_int_equal(tp_kv_parse("\nbad = 1\n", "x.conf", 0, kv_collect, &k,
                                     err, sizeof(err)),
                         -1);
        assert_string_equal(err, "x.conf:2: no such key");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cfg__file_text),
                cmocka_unit_test(test_cfg__errors_name_file_and_line),
                cmocka_unit_test(test_cfg__http_options_checked),
                cmocka_unit_test(test_cfg__precedence_flags_over_env),
                cmocka_unit_test(test_cfg__help_leaves_cfg_releasable),
                cmocka_unit_test(test_cfg__kafka_from_env_and_file),
                cmocka_unit_test(test_cfg__options_per_service),
                cmocka_unit_test(test_cfg__lists_args_numbers),
                cmocka_unit_test(test_kv__one_lexer_two_comment_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
