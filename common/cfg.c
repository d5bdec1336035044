/* cfg.c - see cfg.h. */
#include "cfg.h"
#include "httpd.h"
#include "kv.h"
#include "util.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* POSIX: the application declares it. */
extern char **environ;

enum tp_opt_type { TP_OPT_STR, TP_OPT_INT, TP_OPT_BOOL };

/* Which services read an option (--help lists only those; a flag of
 * another service is an error, a file line or variable of another service
 * is ignored, so one file or one environment can serve them all). */
enum {
        TP_SVC_INGEST = 1,
        TP_SVC_ROUTE = 2,
        TP_SVC_ALERT = 4,
        TP_SVC_CHECK = 8,
        TP_SVC_ADMIN = 16,
        TP_SVC_CONSUMERS = TP_SVC_INGEST | TP_SVC_ROUTE | TP_SVC_ALERT,
        TP_SVC_READERS = TP_SVC_CONSUMERS | TP_SVC_CHECK, /* decode events */
        TP_SVC_ALL = 31
};

struct tp_opt {
        const char *name;
        enum tp_opt_type type;
        const char *dflt;
        size_t off;
        const char *help;
        unsigned svc;
};

#define OPT(n, t, d, f, h, svc)                                                \
        {                                                                      \
                n, t, d, offsetof(struct tp_cfg, f), h, svc                    \
        }

static const struct tp_opt tp_opts[] = {
        OPT("brokers", TP_OPT_STR, "localhost:9092", brokers,
            "Kafka bootstrap servers", TP_SVC_ALL),
        OPT("pg", TP_OPT_STR, "dbname=tthc", pg,
            "PostgreSQL conninfo (secret: use TTHC_PG_FILE)",
            TP_SVC_CONSUMERS | TP_SVC_ADMIN),
        OPT("group", TP_OPT_STR, NULL, group, "Kafka consumer group id",
            TP_SVC_CONSUMERS),
        OPT("topics", TP_OPT_STR, "^tthc\\.filings\\.[0-9]{2}$", topics,
            "topic regex (leading ^) or comma-separated topic list",
            TP_SVC_CONSUMERS | TP_SVC_CHECK),
        OPT("schemas", TP_OPT_STR, "schemas/avro", schemas,
            "schema catalog directory (<id>-*.avsc)", TP_SVC_READERS),
        OPT("reader-schema", TP_OPT_STR, NULL, reader_schema,
            "reader schema (default: <schemas>/1-filing_event.avsc)",
            TP_SVC_READERS),
        OPT("registry", TP_OPT_STR, "", registry,
            "Confluent schema registry URL (optional)", TP_SVC_READERS),
        OPT("registry-ca-file", TP_OPT_STR, "", registry_ca_file,
            "CA bundle to verify the schema registry's TLS certificate",
            TP_SVC_READERS),
        OPT("registry-user", TP_OPT_STR, "", registry_user,
            "schema registry basic-auth user", TP_SVC_READERS),
        OPT("registry-password", TP_OPT_STR, "", registry_password,
            "schema registry basic-auth password (secret: use "
            "TTHC_REGISTRY_PASSWORD_FILE)",
            TP_SVC_READERS),
        OPT("reference", TP_OPT_STR, "reference", reference,
            "reference data directory (provinces.csv, communes.csv)",
            TP_SVC_READERS | TP_SVC_ADMIN),
        OPT("migrations", TP_OPT_STR, "schemas/sql", migrations,
            "SQL migrations directory", TP_SVC_CONSUMERS | TP_SVC_ADMIN),
        OPT("migrate", TP_OPT_BOOL, "false", migrate,
            "apply migrations and reference data on start", TP_SVC_CONSUMERS),
        OPT("dlq-topic", TP_OPT_STR, "tthc.filings.dlq", dlq_topic,
            "dead-letter topic", TP_SVC_INGEST),
        OPT("exit-when-idle", TP_OPT_BOOL, "false", exit_when_idle,
            "drain the topics, commit and exit 0", TP_SVC_CONSUMERS),
        OPT("idle-exit-ms", TP_OPT_INT, "10000", idle_exit_ms,
            "with --exit-when-idle: exit after this long with nothing "
            "assigned",
            TP_SVC_CONSUMERS),
        OPT("batch-size", TP_OPT_INT, "50000", batch_size,
            "maximum messages per transaction (a caught-up consumer "
            "commits at once)",
            TP_SVC_CONSUMERS),
        OPT("batch-ms", TP_OPT_INT, "2000", batch_ms,
            "maximum time to fill a batch (ms)", TP_SVC_CONSUMERS),
        OPT("batch-bytes", TP_OPT_INT, "16777216", batch_bytes,
            "maximum message bytes per transaction (key + value)",
            TP_SVC_CONSUMERS),
        OPT("state-cap", TP_OPT_INT, "1000000", state_cap,
            "dossiers whose state is kept in memory between batches "
            "(least recently used evicted; 0: none kept)",
            TP_SVC_INGEST | TP_SVC_ROUTE),
        OPT("unready-after-ms", TP_OPT_INT, "60000", unready_after_ms,
            "/readyz fails once commits have failed for this long (ms)",
            TP_SVC_CONSUMERS),
        OPT("http-port", TP_OPT_INT, "0", http_port,
            "port for /metrics, /healthz, /readyz (0: off)", TP_SVC_CONSUMERS),
        OPT("http-address", TP_OPT_STR, "::", http_address,
            "address the HTTP endpoint listens on (:: every address, "
            "0.0.0.0 every IPv4 one, or e.g. 127.0.0.1)",
            TP_SVC_CONSUMERS),
        OPT("http-max-per-ip", TP_OPT_INT, "8", http_max_per_ip,
            "HTTP connections at once from one client address (1..64)",
            TP_SVC_CONSUMERS),
        OPT("http-timeout-s", TP_OPT_INT, "2", http_timeout_s,
            "HTTP connection idle timeout (s, 1..60; below the probes' "
            "timeout)",
            TP_SVC_CONSUMERS),
        OPT("log-level", TP_OPT_STR, "info", log_level,
            "debug, info, warn or error", TP_SVC_ALL),
        OPT("log-format", TP_OPT_STR, "logfmt", log_format, "logfmt or json",
            TP_SVC_ALL),
        OPT("rules", TP_OPT_STR, "", rules, "alert rules file (tthc-alert)",
            TP_SVC_ALERT),
        OPT("alertmanager", TP_OPT_STR, "", alertmanager,
            "Alertmanager base URL (tthc-alert)", TP_SVC_ALERT),
};

/* The options a service reads: by its binary's name; every option for a
 * name not listed (tests). */
static unsigned tp_service_mask(const char *service)
{
        static const struct {
                const char *name;
                unsigned mask;
        } svcs[] = {
                {"tthc-ingest", TP_SVC_INGEST}, {"tthc-route", TP_SVC_ROUTE},
                {"tthc-alert", TP_SVC_ALERT},   {"tthc-check", TP_SVC_CHECK},
                {"tthc-admin", TP_SVC_ADMIN},
        };
        for (size_t i = 0; service && i < TP_ARRAY_LEN(svcs); i++)
                if (strcmp(svcs[i].name, service) == 0)
                        return svcs[i].mask;
        return TP_SVC_ALL;
}

static int tp_opt_read_by(const struct tp_opt *o, unsigned mask)
{
        return mask == 0 || (o->svc & mask) != 0;
}

static const struct tp_opt *tp_opt_find(const char *name)
{
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_opts); i++)
                if (strcmp(tp_opts[i].name, name) == 0)
                        return &tp_opts[i];
        return NULL;
}

static int tp_parse_bool(const char *v, int *out)
{
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") ||
            !strcmp(v, "on"))
                *out = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ||
                 !strcmp(v, "off"))
                *out = 0;
        else
                return -1;
        return 0;
}

/* Options whose values are checked beyond their type, so that a bad value
 * is a configuration error naming the option (and the file line or the
 * variable) rather than a failure later. */
static int tp_opt_check(const struct tp_opt *o, const char *value, char *errstr,
                        size_t errstr_size)
{
        static const struct {
                const char *name;
                long min, max;
        } ranges[] = {
                {"http-port", 0, 65535},
                {"http-max-per-ip", 1, 64},
                {"http-timeout-s", 1, 60},
                {"state-cap", 0, 100000000},
        };
        char err[256], *end;
        long v;

        if (strcmp(o->name, "http-address") == 0) {
                struct sockaddr_storage sa;
                socklen_t len;
                int any;
                if (tp_httpd_parse_address(value, 0, &sa, &len, &any, err,
                                           sizeof(err)) == 0)
                        return 0;
                snprintf(errstr, errstr_size, "option \"%s\": %s", o->name,
                         err);
                return -1;
        }
        for (size_t i = 0; i < TP_ARRAY_LEN(ranges); i++) {
                if (strcmp(o->name, ranges[i].name) != 0)
                        continue;
                v = strtol(value, &end, 10);
                if (*value && !*end &&
                    (v < ranges[i].min || v > ranges[i].max)) {
                        snprintf(errstr, errstr_size,
                                 "option \"%s\" expects %ld..%ld, not %ld",
                                 o->name, ranges[i].min, ranges[i].max, v);
                        return -1;
                }
        }
        return 0;
}

static int tp_cfg_kafka(struct tp_cfg *cfg, const char *prop, const char *value)
{
        size_t n = cfg->n_kafka + 1;
        cfg->kafka_keys = tp_xrealloc(cfg->kafka_keys, n * sizeof(char *));
        cfg->kafka_values = tp_xrealloc(cfg->kafka_values, n * sizeof(char *));
        cfg->kafka_keys[cfg->n_kafka] = tp_xstrdup(prop);
        cfg->kafka_values[cfg->n_kafka] = tp_xstrdup(value);
        cfg->n_kafka = n;
        return 0;
}

int tp_cfg_set(struct tp_cfg *cfg, const char *name, const char *value,
               char *errstr, size_t errstr_size)
{
        const struct tp_opt *o;
        char *end;
        long v;

        if (strncmp(name, "kafka.", 6) == 0 && name[6])
                return tp_cfg_kafka(cfg, name + 6, value);
        o = tp_opt_find(name);
        if (!o) {
                snprintf(errstr, errstr_size, "unknown option \"%s\"", name);
                return -1;
        }
        if (!tp_opt_read_by(o, cfg->service_mask))
                return 0; /* another service's, in a shared file or env */
        if (tp_opt_check(o, value, errstr, errstr_size) != 0)
                return -1;
        if (o->type == TP_OPT_STR) {
                char **dst = (char **)((char *)cfg + o->off);
                free(*dst);
                *dst = tp_xstrdup(value);
                return 0;
        }
        if (o->type == TP_OPT_BOOL) {
                if (tp_parse_bool(value, (int *)((char *)cfg + o->off)) == 0)
                        return 0;
                snprintf(errstr, errstr_size,
                         "option \"%s\" expects true or false, not \"%s\"",
                         name, value);
                return -1;
        }
        v = strtol(value, &end, 10);
        if (!*value || *end || v < 0 || v > 1000000000) {
                snprintf(errstr, errstr_size,
                         "option \"%s\" expects a non-negative integer, not "
                         "\"%s\"",
                         name, value);
                return -1;
        }
        *(int *)((char *)cfg + o->off) = (int)v;
        return 0;
}

void tp_cfg_defaults(struct tp_cfg *cfg, const char *default_group)
{
        char err[128];
        memset(cfg, 0, sizeof(*cfg));
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_opts); i++)
                if (tp_opts[i].dflt)
                        tp_cfg_set(cfg, tp_opts[i].name, tp_opts[i].dflt, err,
                                   sizeof(err));
        if (default_group)
                tp_cfg_set(cfg, "group", default_group, err, sizeof(err));
}

void tp_cfg_release(struct tp_cfg *cfg)
{
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_opts); i++)
                if (tp_opts[i].type == TP_OPT_STR)
                        free(*(char **)((char *)cfg + tp_opts[i].off));
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                free(cfg->kafka_keys[i]);
                free(cfg->kafka_values[i]);
        }
        free(cfg->kafka_keys);
        free(cfg->kafka_values);
        memset(cfg, 0, sizeof(*cfg));
}

static int tp_cfg_pair(void *ud, char *key, const char *value, int line,
                       char *err, size_t err_size)
{
        (void)line;
        return tp_cfg_set(ud, key, value, err, err_size);
}

int tp_cfg_parse_text(struct tp_cfg *cfg, const char *text, const char *origin,
                      char *errstr, size_t errstr_size)
{
        return tp_kv_parse(text, origin, 0, tp_cfg_pair, cfg, errstr,
                           errstr_size);
}

/* "reader-schema" -> "TTHC_READER_SCHEMA". */
static void tp_env_name(const char *opt, char *buf, size_t size)
{
        size_t n = (size_t)snprintf(buf, size, "TTHC_");
        for (; *opt && n + 1 < size; opt++)
                buf[n++] =
                        *opt == '-' ? '_' : (char)toupper((unsigned char)*opt);
        buf[n] = '\0';
}

static int tp_cfg_env(struct tp_cfg *cfg, char *errstr, size_t errstr_size)
{
        char env[64], envf[72], err[512];
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_opts); i++) {
                const char *v, *path;
                char *file = NULL;
                int rc;
                tp_env_name(tp_opts[i].name, env, sizeof(env));
                snprintf(envf, sizeof(envf), "%s_FILE", env);
                v = getenv(env);
                path = getenv(envf);
                if (!v && path) {
                        file = tp_read_file(path, 65536, NULL, err,
                                            sizeof(err));
                        if (!file) {
                                snprintf(errstr, errstr_size, "%s: %s", envf,
                                         err);
                                return -1;
                        }
                        v = tp_chomp(file);
                }
                rc = v ? tp_cfg_set(cfg, tp_opts[i].name, v, err, sizeof(err))
                       : 0;
                free(file);
                if (rc != 0) {
                        snprintf(errstr, errstr_size, "%s: %s", env, err);
                        return -1;
                }
        }
        return 0;
}

/* "TTHC_KAFKA_SASL_PASSWORD" -> "kafka.sasl.password" (librdkafka's
 * property names have dots, never underscores). */
static void tp_env_kafka_prop(const char *rest, size_t len, char *buf,
                              size_t size)
{
        size_t n = (size_t)snprintf(buf, size, "kafka.");
        for (size_t i = 0; i < len && n + 1 < size; i++)
                buf[n++] = rest[i] == '_'
                                   ? '.'
                                   : (char)tolower((unsigned char)rest[i]);
        buf[n] = '\0';
}

/* One TTHC_KAFKA_<PROP>[_FILE]=value entry of the environment. A plain
 * variable wins over its _FILE twin, as for the other options. */
static int tp_cfg_env_kafka_one(struct tp_cfg *cfg, const char *entry,
                                char *errstr, size_t errstr_size)
{
        const char *eq = strchr(entry, '='), *rest = entry + 11;
        char name[160], err[512], *file = NULL;
        size_t len = eq ? (size_t)(eq - rest) : 0;
        int is_file = len > 5 && memcmp(rest + len - 5, "_FILE", 5) == 0;
        const char *v = eq ? eq + 1 : "";
        int rc;

        if (len == 0)
                return 0;
        if (is_file) {
                char plain[160];
                snprintf(plain, sizeof(plain), "%.*s", (int)(eq - entry - 5),
                         entry);
                if (getenv(plain))
                        return 0;
                len -= 5;
                file = tp_read_file(v, 65536, NULL, err, sizeof(err));
                if (!file) {
                        snprintf(errstr, errstr_size, "%.*s: %s",
                                 (int)(eq - entry), entry, err);
                        return -1;
                }
                v = tp_chomp(file);
        }
        tp_env_kafka_prop(rest, len, name, sizeof(name));
        rc = tp_cfg_set(cfg, name, v, err, sizeof(err));
        free(file);
        if (rc != 0)
                snprintf(errstr, errstr_size, "%.*s: %s", (int)(eq - entry),
                         entry, err);
        return rc;
}

/* TTHC_KAFKA_<PROP> and TTHC_KAFKA_<PROP>_FILE: librdkafka properties
 * (secrets such as sasl.password) from the environment or a file. */
static int tp_cfg_env_kafka(struct tp_cfg *cfg, char *errstr,
                            size_t errstr_size)
{
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "TTHC_KAFKA_", 11) == 0 &&
                    tp_cfg_env_kafka_one(cfg, *e, errstr, errstr_size) != 0)
                        return -1;
        return 0;
}

static const char *tp_find_config(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
                        return argv[i + 1];
                if (strncmp(argv[i], "--config=", 9) == 0)
                        return argv[i] + 9;
        }
        return getenv("TTHC_CONFIG");
}

static int tp_cfg_file(struct tp_cfg *cfg, const char *path, char *errstr,
                       size_t errstr_size)
{
        char *text = tp_read_file(path, 1 << 20, NULL, errstr, errstr_size);
        int rc;
        if (!text)
                return -1;
        rc = tp_cfg_parse_text(cfg, text, path, errstr, errstr_size);
        free(text);
        return rc;
}

/* Flags: --name value, --name=value, bare --bool-flag. */
static int tp_cfg_argv(struct tp_cfg *cfg, int argc, char **argv, char *errstr,
                       size_t errstr_size)
{
        for (int i = 1; i < argc; i++) {
                char name[128];
                const char *arg = argv[i], *eq, *val;
                const struct tp_opt *o;
                if (strncmp(arg, "--", 2) != 0) {
                        snprintf(errstr, errstr_size,
                                 "unexpected argument \"%s\"", arg);
                        return -1;
                }
                arg += 2;
                eq = strchr(arg, '=');
                tp_strlcpy(name, arg,
                           eq ? (size_t)(eq - arg) + 1 : sizeof(name));
                o = tp_opt_find(name);
                if ((!o || !tp_opt_read_by(o, cfg->service_mask)) &&
                    strncmp(name, "kafka.", 6) != 0 &&
                    strcmp(name, "config") != 0) {
                        snprintf(errstr, errstr_size,
                                 "%s option --%s (try --help)",
                                 o ? "not this service's" : "unknown", name);
                        return -1;
                }
                if (eq) {
                        val = eq + 1;
                } else if (o && o->type == TP_OPT_BOOL) {
                        val = "true";
                } else if (i + 1 < argc) {
                        val = argv[++i];
                } else {
                        snprintf(errstr, errstr_size,
                                 "option --%s needs a value", name);
                        return -1;
                }
                if (strcmp(name, "config") == 0)
                        continue;
                if (tp_cfg_set(cfg, name, val, errstr, errstr_size) != 0)
                        return -1;
        }
        return 0;
}

void tp_cfg_print_help(const char *service, const char *summary)
{
        char env[64];
        printf("Usage: %s [OPTIONS]\n%s\n\nOptions (flag, environment "
               "variable, default):\n",
               service, summary);
        printf("  --config FILE          TTHC_CONFIG   \"key = value\" "
               "lines; kafka.<prop> = v goes to librdkafka\n");
        unsigned mask = tp_service_mask(service);
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_opts); i++) {
                if (!tp_opt_read_by(&tp_opts[i], mask))
                        continue;
                tp_env_name(tp_opts[i].name, env, sizeof(env));
                printf("  --%-20s %-22s %s%s%s%s\n", tp_opts[i].name, env,
                       tp_opts[i].help, tp_opts[i].dflt ? " [" : "",
                       tp_opts[i].dflt ? tp_opts[i].dflt : "",
                       tp_opts[i].dflt ? "]" : "");
        }
        printf("  --kafka.<prop>=VALUE   any librdkafka property\n"
               "  --help, --version\n\nEvery variable X also reads X_FILE "
               "(a file holding the value) for secrets.\n"
               "TTHC_KAFKA_<PROP> (dots as underscores, e.g. "
               "TTHC_KAFKA_SASL_PASSWORD_FILE) sets kafka.<prop>.\n");
}

enum tp_cfg_result tp_cfg_load(struct tp_cfg *cfg, const char *service,
                               const char *default_group, int argc, char **argv,
                               char *errstr, size_t errstr_size)
{
        const char *file;
        /* First, so that the caller may release cfg on every result. */
        tp_cfg_defaults(cfg, default_group);
        cfg->service_mask = tp_service_mask(service);
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 ||
                    strcmp(argv[i], "-h") == 0)
                        return TP_CFG_HELP;
                if (strcmp(argv[i], "--version") == 0) {
                        printf("%s %s\n", service, TTHC_VERSION);
                        return TP_CFG_EXIT;
                }
        }
        file = tp_find_config(argc, argv);
        if (file && tp_cfg_file(cfg, file, errstr, errstr_size) != 0)
                return TP_CFG_ERROR;
        if (tp_cfg_env(cfg, errstr, errstr_size) != 0 ||
            tp_cfg_env_kafka(cfg, errstr, errstr_size) != 0)
                return TP_CFG_ERROR;
        if (tp_cfg_argv(cfg, argc, argv, errstr, errstr_size) != 0)
                return TP_CFG_ERROR;
        if (!cfg->reader_schema) {
                size_t n = strlen(cfg->schemas) + 32;
                cfg->reader_schema = tp_xmalloc(n);
                snprintf(cfg->reader_schema, n, "%s/1-filing_event.avsc",
                         cfg->schemas);
        }
        return TP_CFG_OK;
}
