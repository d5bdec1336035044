/* tthc-ingest: validate and store filing events, dossier state and hourly
 * commune throughput, exactly once, with dead letters for bad input. */
#include "cfg.h"
#include "consumer.h"
#include "ingest.h"
#include "log.h"
#include "migrate.h"
#include "pgutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t tp_stop;

static void tp_on_signal(int sig)
{
        (void)sig;
        tp_stop = 1;
}

static int tp_setup_logging(const struct tp_cfg *cfg)
{
        int level = tp_log_level_parse(cfg->log_level);
        if (level < 0) {
                fprintf(stderr, "tthc-ingest: unknown log level \"%s\"\n",
                        cfg->log_level);
                return -1;
        }
        tp_log_set_service("tthc-ingest");
        tp_log_set_level((enum tp_log_level)level);
        tp_log_set_json(strcmp(cfg->log_format, "json") == 0);
        return 0;
}

/* Applies migrations and reference data when asked (local runs). */
static int tp_maybe_migrate(const struct tp_cfg *cfg, PGconn *conn)
{
        char err[1024];
        int applied = 0;
        if (!cfg->migrate)
                return 0;
        if (tp_migrate_apply(conn, cfg->migrations, &applied, err,
                             sizeof(err)) != 0 ||
            tp_migrate_reference(conn, cfg->reference, err, sizeof(err)) != 0) {
                tp_log_error("could not migrate the database: %s", err);
                return -1;
        }
        tp_log_info("database ready (%d migration(s) applied)", applied);
        return 0;
}

static void tp_report(const struct tp_ingest *ig)
{
        const struct tp_ingest_counts *n = tp_ingest_counts(ig);
        uint64_t rejected = 0;
        for (int r = 0; r < TP_REASON__COUNT; r++)
                rejected += n->rejected[r];
        tp_log_info("stored %llu event(s), %llu duplicate(s) counted once, "
                    "%llu dead letter(s)",
                    (unsigned long long)n->accepted,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)rejected);
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_consumer *c = NULL;
        struct tp_ingest *ig = NULL;
        struct tp_handler h = {0};
        char err[1024];
        int rc = 1;
        enum tp_cfg_result cr = tp_cfg_load(&cfg, "tthc-ingest", "tthc-ingest",
                                            argc, argv, err, sizeof(err));

        if (cr == TP_CFG_HELP)
                tp_cfg_print_help("tthc-ingest",
                                  "Validates and stores TTHC filing events "
                                  "from the province topics into PostgreSQL, "
                                  "exactly once.");
        if (cr != TP_CFG_OK) {
                if (cr == TP_CFG_ERROR)
                        fprintf(stderr, "tthc-ingest: %s\n", err);
                tp_cfg_release(&cfg);
                return cr == TP_CFG_ERROR ? 2 : 0;
        }
        if (tp_setup_logging(&cfg) != 0)
                goto out;
        signal(SIGTERM, tp_on_signal);
        signal(SIGINT, tp_on_signal);
        h.prepare = tp_ingest_prepare;
        h.write = tp_ingest_write;
        h.done = tp_ingest_done;
        c = tp_consumer_new(&cfg, "tthc-ingest", &h, err, sizeof(err));
        if (!c) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        if (tp_maybe_migrate(&cfg, tp_consumer_pg(c)) != 0)
                goto out;
        ig = tp_ingest_new(&cfg, tp_consumer_pg(c), err, sizeof(err));
        if (!ig) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        h.ctx = ig;
        tp_consumer_set_handler(c, &h);
        tp_log_info("consuming %s as group %s", cfg.topics, cfg.group);
        rc = tp_consumer_run(c, &tp_stop) == 0 ? 0 : 1;
        tp_report(ig);
out:
        tp_consumer_destroy(c);
        tp_ingest_destroy(ig);
        tp_cfg_release(&cfg);
        return rc;
}
