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

/* The sources, in order of precedence (a list option set by a later
 * source replaces the values of an earlier one). */
enum { TP_PHASE_DEFAULT, TP_PHASE_FILE, TP_PHASE_ENV, TP_PHASE_FLAGS };

static int tp_check_address(const char *value, char *err, size_t err_size)
{
        struct sockaddr_storage sa;
        socklen_t len;
        int any;
        return tp_httpd_parse_address(value, 0, &sa, &len, &any, err, err_size);
}

#define OPT(n, t, d, f, h, g)                                                  \
        {                                                                      \
                n, t, d, offsetof(struct tp_cfg, f), h, 0, 0, NULL, g          \
        }
#define OPT_RANGE(n, d, f, lo, hi, h, g)                                       \
        {                                                                      \
                n, TP_OPT_INT, d, offsetof(struct tp_cfg, f), h, lo, hi, NULL, \
                        g                                                      \
        }

static const struct tp_opt tp_common_opts[] = {
        OPT("brokers", TP_OPT_STR, "localhost:9092", brokers,
            "Kafka bootstrap servers", TP_CFG_KAFKA),
        OPT("pg", TP_OPT_STR, "dbname=tthc", pg,
            "PostgreSQL conninfo (secret: use TTHC_PG_FILE)", TP_CFG_PG),
        OPT("group", TP_OPT_STR, NULL, group, "Kafka consumer group id",
            TP_CFG_CONSUMER),
        OPT("topics", TP_OPT_STR, "^tthc\\.filings\\.[0-9]{2}$", topics,
            "topic regex (leading ^) or comma-separated topic list",
            TP_CFG_TOPICS),
        OPT("schemas", TP_OPT_STR, "schemas/avro", schemas,
            "schema catalog directory (<id>-*.avsc)", TP_CFG_DECODE),
        OPT("reader-schema", TP_OPT_STR, NULL, reader_schema,
            "reader schema (default: <schemas>/1-filing_event.avsc)",
            TP_CFG_DECODE),
        OPT("registry", TP_OPT_STR, "", registry,
            "Confluent schema registry URL (optional)", TP_CFG_DECODE),
        OPT("registry-ca-file", TP_OPT_STR, "", registry_ca_file,
            "CA bundle to verify the schema registry's TLS certificate",
            TP_CFG_DECODE),
        OPT("registry-user", TP_OPT_STR, "", registry_user,
            "schema registry basic-auth user", TP_CFG_DECODE),
        OPT("registry-password", TP_OPT_STR, "", registry_password,
            "schema registry basic-auth password (secret: use "
            "TTHC_REGISTRY_PASSWORD_FILE)",
            TP_CFG_DECODE),
        OPT("reference", TP_OPT_STR, "reference", reference,
            "reference data directory (provinces.csv, communes.csv)",
            TP_CFG_REFERENCE),
        OPT("migrations", TP_OPT_STR, "schemas/sql", migrations,
            "SQL migrations directory", TP_CFG_PG),
        OPT("migrate", TP_OPT_BOOL, "false", migrate,
            "apply migrations and reference data on start", TP_CFG_CONSUMER),
        OPT("exit-when-idle", TP_OPT_BOOL, "false", exit_when_idle,
            "drain the topics, commit and exit 0", TP_CFG_CONSUMER),
        OPT("rebuild", TP_OPT_BOOL, "false", rebuild,
            "recompute this service's tables from tthc.filing_events "
            "instead of consuming, then exit (the service must be stopped; "
            "tthc-admin rebuild runs this)",
            TP_CFG_CONSUMER),
        OPT("rebuild-force", TP_OPT_BOOL, "false", rebuild_force,
            "with --rebuild: run although retention dropped the opening "
            "events of some dossiers (they keep their rows)",
            TP_CFG_CONSUMER),
        OPT("idle-exit-ms", TP_OPT_INT, "10000", idle_exit_ms,
            "with --exit-when-idle: exit after this long with nothing "
            "assigned",
            TP_CFG_CONSUMER),
        OPT("batch-size", TP_OPT_INT, "50000", batch_size,
            "maximum messages per transaction (a caught-up consumer "
            "commits at once)",
            TP_CFG_CONSUMER),
        OPT("batch-ms", TP_OPT_INT, "2000", batch_ms,
            "maximum time to fill a batch (ms)", TP_CFG_CONSUMER),
        OPT("batch-bytes", TP_OPT_INT, "16777216", batch_bytes,
            "maximum message bytes per transaction (key + value)",
            TP_CFG_CONSUMER),
        OPT("pipeline", TP_OPT_BOOL, "true", pipeline,
            "in a backlog, apply the next batch while one commits (the "
            "services that can; a second PostgreSQL connection)",
            TP_CFG_CONSUMER),
        OPT_RANGE("state-cap", "1000000", state_cap, 0, 100000000,
                  "dossiers whose state is kept in memory between batches "
                  "(least recently used evicted; 0: none kept)",
                  TP_CFG_STORE),
        OPT("unready-after-ms", TP_OPT_INT, "60000", unready_after_ms,
            "/readyz fails once commits have failed for this long (ms)",
            TP_CFG_CONSUMER),
        OPT_RANGE("http-port", "0", http_port, 0, 65535,
                  "port for /metrics, /healthz, /readyz (0: off)",
                  TP_CFG_CONSUMER),
        {"http-address", TP_OPT_STR,
         "::", offsetof(struct tp_cfg, http_address),
         "address the HTTP endpoint listens on (:: every address, "
         "0.0.0.0 every IPv4 one, or e.g. 127.0.0.1)",
         0, 0, tp_check_address, TP_CFG_CONSUMER},
        OPT_RANGE("http-max-per-ip", "8", http_max_per_ip, 1, 64,
                  "HTTP connections at once from one client address",
                  TP_CFG_CONSUMER),
        OPT_RANGE("http-timeout-s", "2", http_timeout_s, 1, 60,
                  "HTTP connection idle timeout (s; below the probes' "
                  "timeout)",
                  TP_CFG_CONSUMER),
        OPT("log-level", TP_OPT_STR, "info", log_level,
            "debug, info, warn or error", TP_CFG_LOG),
        OPT("log-format", TP_OPT_STR, "logfmt", log_format, "logfmt or json",
            TP_CFG_LOG),
};

static unsigned tp_cfg_groups(const struct tp_cfg *cfg)
{
        return cfg->spec ? cfg->spec->groups : TP_CFG_ALL;
}

/* The option called name, the struct its offset points into, and whether
 * this service reads it. NULL when no table has it. */
static const struct tp_opt *tp_opt_lookup(struct tp_cfg *cfg, const char *name,
                                          char **base, int *read)
{
        const struct tp_cfg_spec *spec = cfg->spec;
        for (size_t i = 0; spec && i < spec->n_own; i++)
                if (strcmp(spec->own[i].name, name) == 0) {
                        *base = cfg->own;
                        *read = 1;
                        return &spec->own[i];
                }
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_common_opts); i++)
                if (strcmp(tp_common_opts[i].name, name) == 0) {
                        *base = (char *)cfg;
                        *read = (tp_common_opts[i].group &
                                 tp_cfg_groups(cfg)) != 0;
                        return &tp_common_opts[i];
                }
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

static void tp_list_clear(struct tp_cfg_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

/* A number in the option's range. */
static int tp_opt_number(const struct tp_opt *o, const char *value, double *out,
                         char *errstr, size_t errstr_size)
{
        double lo = o->min, hi = o->max, v;
        char *end;
        if (lo == 0 && hi == 0)
                hi = o->type == TP_OPT_INT ? 1e9 : 1e12;
        if (o->type == TP_OPT_INT) {
                long l = strtol(value, &end, 10);
                v = (double)l;
        } else {
                v = strtod(value, &end);
        }
        if (!*value || *end) {
                snprintf(errstr, errstr_size,
                         "option \"%s\" expects a %s%s, not \"%s\"", o->name,
                         lo >= 0 ? "non-negative " : "",
                         o->type == TP_OPT_INT ? "integer" : "number", value);
                return -1;
        }
        if (v < lo || v > hi) {
                snprintf(errstr, errstr_size,
                         "option \"%s\" expects %g..%g, not %s", o->name, lo,
                         hi, value);
                return -1;
        }
        *out = v;
        return 0;
}

/* Stores value in o's field of base. */
static int tp_opt_assign(struct tp_cfg *cfg, const struct tp_opt *o, char *base,
                         const char *value, char *errstr, size_t errstr_size)
{
        void *field = base + o->off;
        double v;
        char err[256];

        if (o->check && o->check(value, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "option \"%s\": %s", o->name,
                         err);
                return -1;
        }
        switch (o->type) {
        case TP_OPT_STR:
                free(*(char **)field);
                *(char **)field = tp_xstrdup(value);
                return 0;
        case TP_OPT_LIST: {
                struct tp_cfg_list *l = field;
                if (l->phase != cfg->phase)
                        tp_list_clear(l);
                l->phase = cfg->phase;
                l->v = tp_xrealloc(l->v, (l->n + 1) * sizeof(char *));
                l->v[l->n++] = tp_xstrdup(value);
                return 0;
        }
        case TP_OPT_BOOL:
                if (tp_parse_bool(value, field) == 0)
                        return 0;
                snprintf(errstr, errstr_size,
                         "option \"%s\" expects true or false, not \"%s\"",
                         o->name, value);
                return -1;
        case TP_OPT_INT:
        case TP_OPT_NUM:
                if (tp_opt_number(o, value, &v, errstr, errstr_size) != 0)
                        return -1;
                if (o->type == TP_OPT_INT)
                        *(int *)field = (int)v;
                else
                        *(double *)field = v;
                return 0;
        }
        return -1;
}

static void tp_cfg_kafka(struct tp_cfg *cfg, const char *prop,
                         const char *value)
{
        size_t n = cfg->n_kafka + 1;
        cfg->kafka_keys = tp_xrealloc(cfg->kafka_keys, n * sizeof(char *));
        cfg->kafka_values = tp_xrealloc(cfg->kafka_values, n * sizeof(char *));
        cfg->kafka_keys[cfg->n_kafka] = tp_xstrdup(prop);
        cfg->kafka_values[cfg->n_kafka] = tp_xstrdup(value);
        cfg->n_kafka = n;
}

int tp_cfg_set(struct tp_cfg *cfg, const char *name, const char *value,
               char *errstr, size_t errstr_size)
{
        const struct tp_opt *o;
        char *base;
        int read;

        if (strncmp(name, "kafka.", 6) == 0 && name[6]) {
                if (tp_cfg_groups(cfg) & TP_CFG_KAFKA)
                        tp_cfg_kafka(cfg, name + 6, value);
                return 0;
        }
        o = tp_opt_lookup(cfg, name, &base, &read);
        if (!o) {
                snprintf(errstr, errstr_size, "unknown option \"%s\"", name);
                return -1;
        }
        if (!read)
                return 0; /* another service's, in a shared file or env */
        return tp_opt_assign(cfg, o, base, value, errstr, errstr_size);
}

/* The defaults of a table, whether or not the service reads them (every
 * string of struct tp_cfg is set). */
static void tp_opts_defaults(struct tp_cfg *cfg, const struct tp_opt *opts,
                             size_t n, char *base)
{
        char err[256];
        for (size_t i = 0; i < n; i++)
                if (opts[i].dflt)
                        tp_opt_assign(cfg, &opts[i], base, opts[i].dflt, err,
                                      sizeof(err));
}

static void tp_cfg_init(struct tp_cfg *cfg, const struct tp_cfg_spec *spec,
                        const char *default_group)
{
        memset(cfg, 0, sizeof(*cfg));
        cfg->spec = spec;
        cfg->phase = TP_PHASE_DEFAULT;
        tp_opts_defaults(cfg, tp_common_opts, TP_ARRAY_LEN(tp_common_opts),
                         (char *)cfg);
        if (spec && spec->own_size) {
                cfg->own = tp_xcalloc(1, spec->own_size);
                tp_opts_defaults(cfg, spec->own, spec->n_own, cfg->own);
        }
        if (default_group) {
                free(cfg->group);
                cfg->group = tp_xstrdup(default_group);
        }
}

void tp_cfg_defaults(struct tp_cfg *cfg, const char *default_group)
{
        tp_cfg_init(cfg, NULL, default_group);
}

static void tp_opts_release(const struct tp_opt *opts, size_t n, char *base)
{
        for (size_t i = 0; base && i < n; i++) {
                if (opts[i].type == TP_OPT_STR)
                        free(*(char **)(base + opts[i].off));
                else if (opts[i].type == TP_OPT_LIST)
                        tp_list_clear(
                                (struct tp_cfg_list *)(base + opts[i].off));
        }
}

void tp_cfg_release(struct tp_cfg *cfg)
{
        tp_opts_release(tp_common_opts, TP_ARRAY_LEN(tp_common_opts),
                        (char *)cfg);
        if (cfg->spec)
                tp_opts_release(cfg->spec->own, cfg->spec->n_own, cfg->own);
        free(cfg->own);
        free(cfg->args);
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                free(cfg->kafka_keys[i]);
                free(cfg->kafka_values[i]);
        }
        free(cfg->kafka_keys);
        free(cfg->kafka_values);
        memset(cfg, 0, sizeof(*cfg));
}

/* A file line; "<service>.<option>" is read by that service only. */
static int tp_cfg_pair(void *ud, char *key, const char *value, int line,
                       char *err, size_t err_size)
{
        struct tp_cfg *cfg = ud;
        char *dot = strchr(key, '.');
        (void)line;
        if (strncmp(key, "tthc-", 5) == 0 && dot) {
                *dot = '\0';
                if (!cfg->spec || strcmp(key, cfg->spec->service) != 0)
                        return 0;
                key = dot + 1;
        }
        return tp_cfg_set(cfg, key, value, err, err_size);
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

/* TTHC_NAME or, without it, the file TTHC_NAME_FILE names. */
static int tp_cfg_env_one(struct tp_cfg *cfg, const struct tp_opt *o,
                          char *base, char *errstr, size_t errstr_size)
{
        char env[64], envf[72], err[512];
        const char *v, *path;
        char *file = NULL;
        int rc;

        tp_env_name(o->name, env, sizeof(env));
        snprintf(envf, sizeof(envf), "%s_FILE", env);
        v = getenv(env);
        path = getenv(envf);
        if (!v && path) {
                file = tp_read_file(path, 65536, NULL, err, sizeof(err));
                if (!file) {
                        snprintf(errstr, errstr_size, "%s: %s", envf, err);
                        return -1;
                }
                v = tp_chomp(file);
        }
        rc = v ? tp_opt_assign(cfg, o, base, v, err, sizeof(err)) : 0;
        free(file);
        if (rc != 0)
                snprintf(errstr, errstr_size, "%s: %s", env, err);
        return rc;
}

static int tp_cfg_env(struct tp_cfg *cfg, char *errstr, size_t errstr_size)
{
        const struct tp_cfg_spec *spec = cfg->spec;
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_common_opts); i++)
                if ((tp_common_opts[i].group & tp_cfg_groups(cfg)) &&
                    tp_cfg_env_one(cfg, &tp_common_opts[i], (char *)cfg, errstr,
                                   errstr_size) != 0)
                        return -1;
        for (size_t i = 0; spec && i < spec->n_own; i++)
                if (tp_cfg_env_one(cfg, &spec->own[i], cfg->own, errstr,
                                   errstr_size) != 0)
                        return -1;
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

const char *tp_cfg_file_path(int argc, char **argv)
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

/* Flags: --name value, --name=value, bare --bool-flag; positional
 * arguments when the service takes them. */
static int tp_cfg_argv(struct tp_cfg *cfg, int argc, char **argv, char *errstr,
                       size_t errstr_size)
{
        const struct tp_cfg_spec *spec = cfg->spec;
        cfg->args = tp_xcalloc((size_t)argc + 1, sizeof(char *));
        for (int i = 1; i < argc; i++) {
                char name[128], *base = NULL;
                const char *arg = argv[i], *eq, *val;
                const struct tp_opt *o;
                int read = 0, is_kafka;
                if (strncmp(arg, "--", 2) != 0) {
                        if (spec && spec->args) {
                                cfg->args[cfg->n_args++] = argv[i];
                                continue;
                        }
                        snprintf(errstr, errstr_size,
                                 "unexpected argument \"%s\"", arg);
                        return -1;
                }
                arg += 2;
                eq = strchr(arg, '=');
                tp_strlcpy(name, arg,
                           eq ? (size_t)(eq - arg) + 1 : sizeof(name));
                o = tp_opt_lookup(cfg, name, &base, &read);
                is_kafka = strncmp(name, "kafka.", 6) == 0 && name[6];
                if (is_kafka)
                        read = (tp_cfg_groups(cfg) & TP_CFG_KAFKA) != 0;
                if (!read && strcmp(name, "config") != 0) {
                        snprintf(errstr, errstr_size,
                                 "%s option --%s (try --help)",
                                 o || is_kafka ? "not this service's"
                                               : "unknown",
                                 name);
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
                if (is_kafka)
                        tp_cfg_kafka(cfg, name + 6, val);
                else if (tp_opt_assign(cfg, o, base, val, errstr,
                                       errstr_size) != 0)
                        return -1;
        }
        return 0;
}

static void tp_help_opt(const struct tp_opt *o)
{
        char env[64], flag[64];
        tp_env_name(o->name, env, sizeof(env));
        snprintf(flag, sizeof(flag), "%s%s", o->name,
                 o->type == TP_OPT_LIST ? " ..." : "");
        printf("  --%-20s %-22s %s%s%s%s%s\n", flag, env, o->help,
               o->type == TP_OPT_LIST ? " (repeatable)" : "",
               o->dflt ? " [" : "", o->dflt ? o->dflt : "", o->dflt ? "]" : "");
}

void tp_cfg_print_help(const struct tp_cfg_spec *spec)
{
        printf("Usage: %s [OPTIONS]%s%s\n%s\n\nOptions (flag, environment "
               "variable, default):\n",
               spec->service, spec->args ? " " : "",
               spec->args ? spec->args : "", spec->summary);
        printf("  --config FILE          TTHC_CONFIG            \"key = "
               "value\" lines (\"%s.<option>\" read by it alone)\n",
               spec->service);
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_common_opts); i++)
                if (tp_common_opts[i].group & spec->groups)
                        tp_help_opt(&tp_common_opts[i]);
        for (size_t i = 0; i < spec->n_own; i++)
                tp_help_opt(&spec->own[i]);
        if (spec->groups & TP_CFG_KAFKA)
                printf("  --kafka.<prop>=VALUE   any librdkafka property; "
                       "TTHC_KAFKA_<PROP> (dots as underscores)\n");
        printf("  --help, --version\n\nEvery variable X also reads X_FILE "
               "(a file holding the value) for secrets.\n");
}

enum tp_cfg_result tp_cfg_load(struct tp_cfg *cfg,
                               const struct tp_cfg_spec *spec, int argc,
                               char **argv, char *errstr, size_t errstr_size)
{
        const char *file;
        /* First, so that the caller may release cfg on every result. */
        tp_cfg_init(cfg, spec, spec->service);
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 ||
                    strcmp(argv[i], "-h") == 0)
                        return TP_CFG_HELP;
                if (strcmp(argv[i], "--version") == 0) {
                        printf("%s %s\n", spec->service, TTHC_VERSION);
                        return TP_CFG_EXIT;
                }
        }
        cfg->phase = TP_PHASE_FILE;
        file = tp_cfg_file_path(argc, argv);
        if (file && tp_cfg_file(cfg, file, errstr, errstr_size) != 0)
                return TP_CFG_ERROR;
        cfg->phase = TP_PHASE_ENV;
        if (tp_cfg_env(cfg, errstr, errstr_size) != 0 ||
            tp_cfg_env_kafka(cfg, errstr, errstr_size) != 0)
                return TP_CFG_ERROR;
        cfg->phase = TP_PHASE_FLAGS;
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
