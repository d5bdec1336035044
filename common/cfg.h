/* cfg.h - service configuration: one static table drives parsing of
 * flags, environment variables and "key = value" config files, --help and
 * the docs. Precedence: flags > environment > file > defaults.
 *
 * Every option NAME has the flag --NAME and the variable TTHC_NAME
 * (uppercase, '-' -> '_'); TTHC_NAME_FILE reads the value from a file (for
 * secrets). "kafka.<property> = value" lines (or --kafka.<property>=value)
 * go to librdkafka unchanged; so do TTHC_KAFKA_<PROP> variables (dots as
 * underscores: TTHC_KAFKA_SASL_PASSWORD) and their _FILE twins.
 */
#ifndef TP_CFG_H
#define TP_CFG_H

#include <stddef.h>

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
        char *dlq_topic;
        char *log_level;
        char *log_format;
        char *rules;
        char *alertmanager;
        char *http_address;
        char *registry_ca_file;
        char *registry_user;
        char *registry_password;
        int exit_when_idle;
        int migrate;
        int batch_size;
        int batch_ms;
        int http_port;
        int idle_exit_ms;
        int batch_bytes;
        int state_cap;
        int unready_after_ms;
        int http_max_per_ip;
        int http_timeout_s;
        /* the options of the loading service (tp_cfg_load; 0: every
         * option, as tp_cfg_defaults leaves it) */
        unsigned service_mask;
        /* kafka.* pass-through, in order of appearance */
        char **kafka_keys;
        char **kafka_values;
        size_t n_kafka;
};

enum tp_cfg_result {
        TP_CFG_OK = 0,
        TP_CFG_EXIT = 1, /* --version printed */
        TP_CFG_HELP = 2, /* --help asked: the caller prints it */
        TP_CFG_ERROR = -1
};

/* Fills cfg from defaults, --config FILE / TTHC_CONFIG, the environment
 * and argv. service names the binary in --help; default_group is the
 * group's default. Returns TP_CFG_HELP when --help was asked (the caller
 * prints it: tp_cfg_print_help), TP_CFG_EXIT after printing --version. On error
 * fills errstr ("file:line: message" for files). */
enum tp_cfg_result tp_cfg_load(struct tp_cfg *cfg, const char *service,
                               const char *default_group, int argc, char **argv,
                               char *errstr, size_t errstr_size);

/* Parses config text (the file format) into cfg; origin names it in
 * errors. Exposed for tests. */
int tp_cfg_parse_text(struct tp_cfg *cfg, const char *text, const char *origin,
                      char *errstr, size_t errstr_size);

/* Sets one option by name ("brokers", "kafka.x"). */
int tp_cfg_set(struct tp_cfg *cfg, const char *name, const char *value,
               char *errstr, size_t errstr_size);

void tp_cfg_defaults(struct tp_cfg *cfg, const char *default_group);
void tp_cfg_release(struct tp_cfg *cfg);
/* Writes the option table as help text. */
void tp_cfg_print_help(const char *service, const char *summary);

#endif
