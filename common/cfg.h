/* cfg.h - the one option machinery of every binary: a service declares
 * which groups of common options it reads and a table of its own
 * (struct tp_cfg_spec); flags, environment variables, "key = value"
 * config files and --help all follow from the tables. Precedence:
 * flags > environment > file > defaults.
 *
 * Every option NAME has the flag --NAME and the variable TTHC_NAME
 * (uppercase, '-' -> '_'); TTHC_NAME_FILE reads the value from a file (for
 * secrets). With the kafka group, "kafka.<property> = value" lines (or
 * --kafka.<property>=value) go to librdkafka unchanged; so do
 * TTHC_KAFKA_<PROP> variables (dots as underscores:
 * TTHC_KAFKA_SASL_PASSWORD) and their _FILE twins.
 *
 * One file or one environment can serve every service: a variable, or a
 * file line, naming a common option the service does not read is
 * ignored, and a file line "<service>.<option> = value" (e.g.
 * "tthc-alert.rules = /etc/tthc/rules.conf") is read by that service only.
 * Any other name the service does not know is an error (a typo), as is
 * a flag of an option the service does not read.
 */
#ifndef TP_CFG_H
#define TP_CFG_H

#include <stddef.h>

/* The groups of common options (struct tp_cfg's fields). */
enum {
        TP_CFG_LOG = 1 << 0,       /* log-level, log-format */
        TP_CFG_KAFKA = 1 << 1,     /* brokers, kafka.* */
        TP_CFG_PG = 1 << 2,        /* pg, migrations */
        TP_CFG_REFERENCE = 1 << 3, /* reference */
        TP_CFG_DECODE = 1 << 4,    /* schemas, reader-schema, registry* */
        TP_CFG_TOPICS = 1 << 5,    /* topics */
        TP_CFG_CONSUMER = 1 << 6,  /* group, batches, idle exit, HTTP */
        TP_CFG_STORE = 1 << 7,     /* state-cap */
        TP_CFG_CONSUMERS = TP_CFG_LOG | TP_CFG_KAFKA | TP_CFG_PG |
                           TP_CFG_REFERENCE | TP_CFG_DECODE | TP_CFG_TOPICS |
                           TP_CFG_CONSUMER,
        TP_CFG_ALL = (1 << 8) - 1
};

enum tp_opt_type {
        TP_OPT_STR,  /* char *, owned by the cfg */
        TP_OPT_INT,  /* int */
        TP_OPT_BOOL, /* int, 0 or 1; a bare flag means true */
        TP_OPT_NUM,  /* double */
        TP_OPT_LIST  /* struct tp_cfg_list: repeatable */
};

/* A repeatable option's values, in order. A source of higher precedence
 * replaces the values of a lower one (flags replace a file's list). */
struct tp_cfg_list {
        char **v;
        size_t n;
        int phase; /* internal: the source the values came from */
};

/* One option. off is the field's offset in the struct the table fills:
 * struct tp_cfg for the common table, the service's own struct (spec
 * own_size bytes, reached as cfg->own) for its own table. */
struct tp_opt {
        const char *name;
        enum tp_opt_type type;
        const char *dflt; /* NULL: none (strings stay NULL, numbers 0) */
        size_t off;
        const char *help;
        double min, max; /* INT, NUM: accepted range; both 0: 0..1e9 */
        /* optional check of a value beyond its type: 0, or -1 with err */
        int (*check)(const char *value, char *err, size_t err_size);
        unsigned group; /* common table only: its TP_CFG_* group */
};

/* What a binary reads. */
struct tp_cfg_spec {
        const char *service; /* binary name: --help, --version, groups */
        const char *summary; /* --help's paragraph */
        const char *args;    /* positional arguments in --help ("COMMAND");
                                NULL: none accepted */
        unsigned groups;     /* TP_CFG_* common groups read */
        const struct tp_opt *own;
        size_t n_own;
        size_t own_size; /* sizeof the struct own's offsets point into */
};

struct tp_cfg {
        char *brokers;
        char *pg;
        char *group;
        char *topics;
        char *schemas;
        char *reader_schema;
        char *registry;
        char *reference;
        char *migrations;
        char *log_level;
        char *log_format;
        char *http_address;
        char *registry_ca_file;
        char *registry_user;
        char *registry_password;
        int exit_when_idle;
        int rebuild, rebuild_force;
        int migrate;
        int batch_size;
        int batch_ms;
        int http_port;
        int idle_exit_ms;
        int batch_bytes;
        int pipeline;
        int state_cap;
        int unready_after_ms;
        int http_max_per_ip;
        int http_timeout_s;
        /* the loading service (NULL after tp_cfg_defaults: every common
         * option, no own ones); owned by the caller, outlives the cfg */
        const struct tp_cfg_spec *spec;
        /* the service's own options (spec->own_size bytes, owned by the
         * cfg); NULL without a spec */
        void *own;
        /* positional arguments (spec->args), pointers into argv */
        char **args;
        int n_args;
        /* kafka.* pass-through, in order of appearance */
        char **kafka_keys;
        char **kafka_values;
        size_t n_kafka;
        int phase; /* internal: the source being read */
};

enum tp_cfg_result {
        TP_CFG_OK = 0,
        TP_CFG_EXIT = 1, /* --version printed */
        TP_CFG_HELP = 2, /* --help asked: the caller prints it */
        TP_CFG_ERROR = -1
};

/* Fills cfg for spec from defaults, --config FILE / TTHC_CONFIG, the
 * environment and argv (the consumer group defaults to the service's
 * name). Returns TP_CFG_HELP when --help was asked (the caller prints it:
 * tp_cfg_print_help), TP_CFG_EXIT after printing --version. On error
 * fills errstr ("file:line: message" for files). cfg is initialised in
 * every case: release it. */
enum tp_cfg_result tp_cfg_load(struct tp_cfg *cfg,
                               const struct tp_cfg_spec *spec, int argc,
                               char **argv, char *errstr, size_t errstr_size);

/* The configuration file of a command line: --config FILE, else
 * TTHC_CONFIG, else NULL (borrowed from argv or the environment). */
const char *tp_cfg_file_path(int argc, char **argv);

/* Parses config text (the file format) into cfg; origin names it in
 * errors. Exposed for tests. */
int tp_cfg_parse_text(struct tp_cfg *cfg, const char *text, const char *origin,
                      char *errstr, size_t errstr_size);

/* Sets one option by name ("brokers", "kafka.x", an own option). */
int tp_cfg_set(struct tp_cfg *cfg, const char *name, const char *value,
               char *errstr, size_t errstr_size);

/* Defaults of every common option, without a spec (tests). */
void tp_cfg_defaults(struct tp_cfg *cfg, const char *default_group);
void tp_cfg_release(struct tp_cfg *cfg);
/* Writes spec's options as help text. */
void tp_cfg_print_help(const struct tp_cfg_spec *spec);

#endif
