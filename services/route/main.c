/* tthc-route: procedure-level routing aggregates (transfers, per-level
 * counters, time at each level, anomalies) from the province topics,
 * exactly once, in its own consumer group. */
#include "cfg.h"
#include "consumer.h"
#include "log.h"
#include "migrate.h"
#include "pgutil.h"
#include "route.h"

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
                fprintf(stderr, "tthc-route: unknown log level \"%s\"\n",
                        cfg->log_level);
                return -1;
        }
        tp_log_set_service("tthc-route");
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

static void tp_report(const struct tp_route *rt)
{
        const struct tp_route_counts *n = tp_route_counts(rt);
        uint64_t skipped = 0;
        for (int r = 0; r < TP_REASON__COUNT; r++)
                skipped += n->skipped[r];
        tp_log_info("applied %llu event(s), %llu duplicate(s) skipped, "
                    "%llu invalid message(s) skipped",
                    (unsigned long long)n->applied,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)skipped);
        for (int r = 1; r < TP_REASON__COUNT; r++)
                if (n->skipped[r])
                        tp_log_info("skipped %s: %llu", tp_reason_name(r),
                                    (unsigned long long)n->skipped[r]);
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_consumer *c = NULL;
        struct tp_route *rt = NULL;
        struct tp_handler h = {0};
        char err[1024];
        int rc = 1;
        enum tp_cfg_result cr = tp_cfg_load(&cfg, "tthc-route", "tthc-route",
                                            argc, argv, err, sizeof(err));

        if (cr == TP_CFG_HELP)
                tp_cfg_print_help("tthc-route",
                                  "Computes procedure-level routing "
                                  "aggregates (transfers, time at each "
                                  "level, anomalies) from the province "
                                  "topics into PostgreSQL, exactly once.");
        if (cr != TP_CFG_OK) {
                if (cr == TP_CFG_ERROR)
                        fprintf(stderr, "tthc-route: %s\n", err);
                tp_cfg_release(&cfg);
                return cr == TP_CFG_ERROR ? 2 : 0;
        }
        if (tp_setup_logging(&cfg) != 0)
                goto out;
        signal(SIGTERM, tp_on_signal);
        signal(SIGINT, tp_on_signal);
        h.prepare = tp_route_prepare;
        h.write = tp_route_write;
        h.done = tp_route_done;
        c = tp_consumer_new(&cfg, "tthc-route", &h, err, sizeof(err));
        if (!c) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        if (cfg.http_port > 0 &&
            tp_consumer_serve_http(c, cfg.http_port, err, sizeof(err)) != 0) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        if (tp_maybe_migrate(&cfg, tp_consumer_pg(c)) != 0)
                goto out;
        rt = tp_route_new(&cfg, tp_consumer_pg(c), err, sizeof(err));
        if (!rt) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        h.ctx = rt;
        tp_consumer_set_handler(c, &h);
        tp_log_info("consuming %s as group %s", cfg.topics, cfg.group);
        rc = tp_consumer_run(c, &tp_stop) == 0 ? 0 : 1;
        tp_report(rt);
out:
        tp_consumer_destroy(c);
        tp_route_destroy(rt);
        tp_cfg_release(&cfg);
        return rc;
}
