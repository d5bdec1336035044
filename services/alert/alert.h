/* alert.h - tthc-alert's batch handler: per-partition state (open
 * dossiers, commune day counters, hourly snapshots, watermarks) written
 * with the offsets, and the province evaluator that opens, changes and
 * resolves episodes in tthc.alerts. The sinks (Kafka tthc.alerts,
 * Alertmanager, province_feed_stale) run on their own thread: sinks.h. */
#ifndef TP_ALERT_H
#define TP_ALERT_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "consumer.h"
#include "eval.h"
#include "rules.h"

/* tthc-alert's own options (cfg->own; the table is in main.c). */
struct tp_alert_opts {
        char *rules;          /* rules file ("": the defaults) */
        char *alertmanager;   /* base URL ("": no Alertmanager) */
        char *web_url;        /* tthc-web's base URL ("": no page links) */
        int verify_snapshots; /* tp_alert_set_verify_snapshots */
};

struct tp_alert_counts {
        uint64_t events;      /* applied */
        uint64_t duplicates;  /* skipped: seq already applied */
        uint64_t invalid;     /* failed decoding or validation: skipped */
        uint64_t db_rejected; /* refused by PostgreSQL as data: skipped */
        uint64_t fired, changed, resolved;
        uint64_t ticks; /* province ticks evaluated */
        /* evaluations whose snapshots came from memory (the rows this
         * process wrote), and from tthc.alert_commune_ticks */
        uint64_t snaps_memory, snaps_table;
};

struct tp_alert;

/* Builds the handler: schema catalog, reference data and the holiday
 * calendar from PostgreSQL (conn). cfg and rules must outlive it. rk is
 * the consumer's handle (metadata, watermarks); set it before running. */
struct tp_alert *tp_alert_new(const struct tp_cfg *cfg,
                              const struct tp_rules *rules, PGconn *conn,
                              char *errstr, size_t errstr_size);
void tp_alert_set_rk(struct tp_alert *al, rd_kafka_t *rk);
/* Evaluates with rules from now on (a reload between batches; rules
 * must outlive it). */
void tp_alert_set_rules(struct tp_alert *al, const struct tp_rules *rules);
/* With on, an evaluation that takes its snapshots from memory reads them
 * from PostgreSQL too, and the process aborts if they differ (the tests
 * run so; services/alert/snapfeed.h). */
void tp_alert_set_verify_snapshots(struct tp_alert *al, int on);
void tp_alert_destroy(struct tp_alert *al);
/* Reads the topics' partition counts from tthc.alert_provinces (what the
 * live evaluator registered) instead of the broker: a rebuild from
 * tthc.filing_events has no broker. Returns 0 or -1 with errstr. */
int tp_alert_use_stored_partitions(struct tp_alert *al, PGconn *conn,
                                   char *errstr, size_t errstr_size);

int tp_alert_prepare(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size);
/* The write in two halves (common/consumer.h, stage and flush): stage
 * applies the batch to the partitions' state in memory and keeps the
 * rows; flush sends them and evaluates the batch's provinces from what
 * is stored, in the transaction. */
int tp_alert_stage(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size);
int tp_alert_flush(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                   size_t errstr_size);
void tp_alert_done(void *ctx, struct tp_batch *b, int committed);

const struct tp_alert_counts *tp_alert_counts(const struct tp_alert *al);

/* Loads tthc.holidays into cal (sealed). */
int tp_alert_load_calendar(PGconn *conn, struct tp_workcal *cal, char *errstr,
                           size_t errstr_size);

/* A place's full names (tthc.communes, tthc.provinces). */
struct tp_place_name {
        char *vi; /* "Phường Ba Đình" */
        char *en; /* "Ba Dinh Ward" */
};

/* Builds the details JSON (heap string) of an episode change. name is
 * the place's (the commune's, or the province's for a province rule;
 * NULL: unknown), shown in the summaries with its code. */
char *tp_alert_details_json(const char *province, const char *commune,
                            const struct tp_place_name *name, enum tp_rule rule,
                            enum tp_sev sev, enum tp_change change,
                            double value, double threshold, int64_t tick,
                            const struct tp_commune_fig *fig,
                            const char *resolution);

/* Records a change of an episode inside the caller's transaction:
 * tthc.alerts (insert on FIRED, update otherwise), a row in
 * tthc.alert_outbox and NOTIFY tthc_alerts with the id. commune may be
 * NULL (province rules); resolution NULL unless resolved. */
int tp_alert_record(PGconn *conn, const char *id, const char *province,
                    const char *commune, enum tp_rule rule, enum tp_sev sev,
                    enum tp_change change, double value, double threshold,
                    int64_t at, int64_t started, const char *resolution,
                    const char *details, char *errstr, size_t errstr_size);

#endif
