/* tthc-alert: evaluate commune health from the province topics, open and
 * resolve alert episodes exactly once, and deliver them (PostgreSQL,
 * Kafka tthc.alerts, Alertmanager). */
#include "alert.h"
#include "cfg.h"
#include "consumer.h"
#include "log.h"
#include "replay.h"
#include "service.h"
#include "pgutil.h"
#include "rules.h"
#include "sinks.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_FINAL_DELIVERY_MS 20000

static const struct tp_opt tp_alert_own[] = {
        {"rules", TP_OPT_STR, "", offsetof(struct tp_alert_opts, rules),
         "alert rules file (docs/alerts.md; empty: the defaults)", 0, 0, NULL,
         0},
        {"alertmanager", TP_OPT_STR, "",
         offsetof(struct tp_alert_opts, alertmanager),
         "Alertmanager base URL (empty: none)", 0, 0, NULL, 0},
        {"web-url", TP_OPT_STR, "", offsetof(struct tp_alert_opts, web_url),
         "tthc-web's public base URL: alerts link to the commune's page "
         "(Alertmanager generatorURL, Kafka details.url; empty: none)",
         0, 0, NULL, 0},
        {"verify-snapshots", TP_OPT_BOOL, "false",
         offsetof(struct tp_alert_opts, verify_snapshots),
         "when the snapshots an evaluation needs are the ones this process "
         "wrote and kept, read them from PostgreSQL too and abort if they "
         "differ (slower; for tests)",
         0, 0, NULL, 0},
};

static const struct tp_cfg_spec tp_alert_spec = {
        .service = "tthc-alert",
        .summary = "Evaluates commune health from the province topics and "
                   "delivers alert episodes to PostgreSQL, Kafka and "
                   "Alertmanager.",
        .groups = TP_CFG_CONSUMERS,
        .own = tp_alert_own,
        .n_own = TP_ARRAY_LEN(tp_alert_own),
        .own_size = sizeof(struct tp_alert_opts),
};

/* The service around the handler: rules (swapped on SIGHUP), the sinks
 * and the metrics of the batches. */
struct tp_alert_app {
        struct tp_service svc;
        struct tp_rules *rules;
        struct tp_alert *al;
        struct tp_sinks *sinks;
        struct tp_alert_metrics metrics;
        struct tp_alert_counts last;
};

/* After a commit: count the episode changes and wake the sinks. */
static void tp_app_after(void *ctx, int committed)
{
        struct tp_alert_app *app = ctx;
        const struct tp_alert_counts *n;
        uint64_t fired, changed, resolved;

        (void)committed;
        n = tp_alert_counts(app->al);
        fired = n->fired - app->last.fired;
        changed = n->changed - app->last.changed;
        resolved = n->resolved - app->last.resolved;
        tp_metric_add(app->metrics.transitions, (double)fired,
                      (const char *[]){"fired"});
        tp_metric_add(app->metrics.transitions, (double)changed,
                      (const char *[]){"changed"});
        tp_metric_add(app->metrics.transitions, (double)resolved,
                      (const char *[]){"resolved"});
        if (fired + changed + resolved > 0 && app->sinks)
                tp_sinks_kick(app->sinks);
        app->last = *n;
}

/* SIGHUP, on the consumer's thread between batches: the log level and
 * format, then the rules file. Invalid rules are logged and the old
 * ones kept. */
static void tp_app_reload(void *ctx)
{
        struct tp_alert_app *app = ctx;
        struct tp_cfg fresh;
        struct tp_rules *next = tp_xcalloc(1, sizeof(*next));
        const struct tp_alert_opts *ao;
        char err[1024];

        tp_rules_defaults(next);
        if (tp_service_reload(&app->svc, &fresh) != 0) {
                tp_log_error("SIGHUP: rules not reloaded either");
                goto cleanup;
        }
        ao = fresh.own;
        if (tp_rules_load(next, ao->rules, err, sizeof(err)) != 0) {
                tp_log_error("SIGHUP: rules not reloaded, keeping the "
                             "previous rules: %s",
                             err);
                goto cleanup;
        }
        tp_alert_set_rules(app->al, next);
        tp_sinks_set_rules(app->sinks, next);
        tp_log_info("SIGHUP: rules reloaded%s%s",
                    *ao->rules ? " from " : " (defaults)", ao->rules);
        /* The evaluator only ran on this thread; the sinks have a copy. */
        tp_rules_release(app->rules);
        free(app->rules);
        app->rules = next;
        next = NULL;
cleanup:
        if (next) {
                tp_rules_release(next);
                free(next);
        }
        tp_cfg_release(&fresh);
}

static void tp_report(const struct tp_alert *al)
{
        const struct tp_alert_counts *n = tp_alert_counts(al);
        tp_log_info("applied %llu event(s) (%llu duplicate(s), %llu invalid "
                    "and %llu refused by PostgreSQL skipped), %llu province "
                    "tick(s) (snapshots from memory %llu time(s), from "
                    "PostgreSQL %llu): %llu alert(s) fired, %llu changed, "
                    "%llu resolved",
                    (unsigned long long)n->events,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)n->invalid,
                    (unsigned long long)n->db_rejected,
                    (unsigned long long)n->ticks,
                    (unsigned long long)n->snaps_memory,
                    (unsigned long long)n->snaps_table,
                    (unsigned long long)n->fired,
                    (unsigned long long)n->changed,
                    (unsigned long long)n->resolved);
}

/* tthc-alert's batch callbacks over al (NULL until it exists). */
static struct tp_handler tp_alert_handler(struct tp_alert *al)
{
        struct tp_handler h = {.ctx = al,
                               .prepare = tp_alert_prepare,
                               .stage = tp_alert_stage,
                               .flush = tp_alert_flush,
                               .done = tp_alert_done};
        return h;
}

/* Metrics of the alerts (with --http-port), the handler and the sinks. */
static int tp_app_setup(struct tp_alert_app *app, const struct tp_cfg *cfg,
                        struct tp_consumer *c, char *err, size_t err_size)
{
        struct tp_handler h;
        if (cfg->http_port > 0 &&
            tp_alert_metrics_init(&app->metrics, tp_consumer_metrics(c), err,
                                  err_size) != 0)
                return -1;
        app->al =
                tp_alert_new(cfg, app->rules, tp_consumer_pg(c), err, err_size);
        if (!app->al)
                return -1;
        tp_alert_set_rk(app->al, tp_consumer_rk(c));
        tp_alert_set_verify_snapshots(
                app->al,
                ((const struct tp_alert_opts *)cfg->own)->verify_snapshots);
        app->sinks = tp_sinks_new(cfg, app->rules, err, err_size);
        if (!app->sinks)
                return -1;
        tp_sinks_set_metrics(app->sinks, &app->metrics);
        h = tp_alert_handler(app->al);
        h.after_ctx = app;
        h.after = tp_app_after;
        tp_consumer_set_handler(c, &h);
        return tp_sinks_start(app->sinks, err, err_size);
}

/* --rebuild: the per-partition state, the episodes and the backlog
 * history come again from the stored events (common/replay.h), with the
 * partition counts the live evaluator registered. province_feed_stale
 * episodes (a fact of the wall clock, not of the events) stay. The
 * rebuilt changes are marked sent: subscribers are not told the past
 * again; Alertmanager hears of the episodes firing now (their ids are
 * derived from rule, place and start, so a kept episode keeps its
 * delivery record). */
static const struct tp_replay_def tp_alert_rebuild_def = {
        .service = "tthc-alert",
        .reset_sql =
                "DELETE FROM tthc.alert_outbox o WHERE NOT EXISTS (SELECT 1 "
                "FROM tthc.alerts a WHERE a.alert_id = o.alert_id AND a.rule = "
                "'province_feed_stale'); "
                "DELETE FROM tthc.alerts WHERE rule <> 'province_feed_stale'; "
                "DELETE FROM tthc.alert_dossiers; "
                "DELETE FROM tthc.alert_commune_days; "
                "DELETE FROM tthc.alert_commune_ticks; "
                "DELETE FROM tthc.alert_partition_state; "
                "DELETE FROM tthc.alert_provinces; "
                "DELETE FROM tthc.commune_backlog_daily",
        .finish_sql =
                "UPDATE tthc.alert_outbox o SET kafka_sent_at = now() FROM "
                "tthc.alerts a WHERE o.alert_id = a.alert_id AND "
                "o.kafka_sent_at IS NULL AND a.rule <> "
                "'province_feed_stale'; "
                "DELETE FROM tthc.alert_delivery d WHERE NOT EXISTS (SELECT 1 "
                "FROM tthc.alerts a WHERE a.alert_id = d.alert_id)",
        .needs_every_event = 1,
};

static int tp_alert_rebuild(const struct tp_cfg *cfg,
                            const struct tp_rules *rules)
{
        struct tp_handler h;
        struct tp_alert *al = NULL;
        char err[1024];
        PGconn *conn = tp_service_rebuild_conn(cfg, "tthc-alert");
        int rc = 1;

        if (!conn)
                return 1;
        al = tp_alert_new(cfg, rules, conn, err, sizeof(err));
        if (!al ||
            tp_alert_use_stored_partitions(al, conn, err, sizeof(err)) != 0) {
                tp_log_error("could not rebuild: %s", err);
                goto out;
        }
        tp_alert_set_verify_snapshots(
                al, ((const struct tp_alert_opts *)cfg->own)->verify_snapshots);
        h = tp_alert_handler(al);
        if (tp_service_replay(conn, &h, &tp_alert_rebuild_def, cfg) == 0) {
                tp_report(al);
                rc = 0;
        }
out:
        tp_alert_destroy(al);
        PQfinish(conn);
        return rc;
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_alert_app app;
        const struct tp_alert_opts *ao;
        struct tp_consumer *c = NULL;
        struct tp_handler h = {0};
        char err[1024];
        int rc = 1;

        if (!tp_service_start(&tp_alert_spec, argc, argv, &cfg, &rc)) {
                tp_cfg_release(&cfg);
                return rc;
        }
        memset(&app, 0, sizeof(app));
        app.svc.spec = &tp_alert_spec;
        app.svc.argc = argc;
        app.svc.argv = argv;
        app.rules = tp_xcalloc(1, sizeof(*app.rules));
        tp_rules_defaults(app.rules);
        rc = 1;
        ao = cfg.own;
        if (tp_rules_load(app.rules, ao->rules, err, sizeof(err)) != 0) {
                fprintf(stderr, "tthc-alert: %s\n", err);
                rc = 2;
                goto out;
        }
        if (cfg.rebuild) {
                rc = tp_alert_rebuild(&cfg, app.rules);
                goto out;
        }
        h = tp_alert_handler(NULL);
        c = tp_service_consumer(&cfg, "tthc-alert", &h);
        if (!c)
                goto out;
        if (tp_app_setup(&app, &cfg, c, err, sizeof(err)) != 0) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        rc = tp_service_run(c, &app.svc, tp_app_reload, &app,
                            *ao->alertmanager ? ", with Alertmanager" : "");
        tp_report(app.al);
out:
        /* Deliver what the last batches recorded before leaving. */
        if (app.sinks)
                tp_sinks_stop(app.sinks, TP_FINAL_DELIVERY_MS);
        tp_sinks_destroy(app.sinks);
        tp_consumer_destroy(c);
        tp_alert_destroy(app.al);
        tp_rules_release(app.rules);
        free(app.rules);
        tp_cfg_release(&cfg);
        return rc;
}
