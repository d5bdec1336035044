/* tthc-alert: evaluate commune health from the province topics, open and
 * resolve alert episodes exactly once, and deliver them (PostgreSQL,
 * Kafka tthc.alerts, Alertmanager). */
#include "alert.h"
#include "cfg.h"
#include "consumer.h"
#include "log.h"
#include "service.h"
#include "pgutil.h"
#include "rules.h"
#include "sinks.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define TP_FINAL_DELIVERY_MS 20000

static void tp_report(const struct tp_alert *al)
{
        const struct tp_alert_counts *n = tp_alert_counts(al);
        tp_log_info("applied %llu event(s) (%llu duplicate(s), %llu invalid "
                    "skipped), %llu province tick(s): %llu alert(s) fired, "
                    "%llu changed, %llu resolved",
                    (unsigned long long)n->events,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)n->invalid,
                    (unsigned long long)n->ticks, (unsigned long long)n->fired,
                    (unsigned long long)n->changed,
                    (unsigned long long)n->resolved);
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_rules rules;
        struct tp_consumer *c = NULL;
        struct tp_alert *al = NULL;
        struct tp_sinks *sinks = NULL;
        struct tp_handler h = {0};
        char err[1024];
        int rc = 1;

        tp_rules_defaults(&rules);
        if (!tp_service_start("tthc-alert",
                              "Evaluates commune health from the province "
                              "topics and delivers alert episodes to "
                              "PostgreSQL, Kafka and Alertmanager.",
                              argc, argv, &cfg, &rc)) {
                tp_cfg_release(&cfg);
                return rc;
        }
        rc = 1;
        if (tp_rules_load(&rules, cfg.rules, err, sizeof(err)) != 0) {
                fprintf(stderr, "tthc-alert: %s\n", err);
                tp_rules_release(&rules);
                tp_cfg_release(&cfg);
                return 2;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        h.prepare = tp_alert_prepare;
        h.write = tp_alert_write;
        h.done = tp_alert_done;
        c = tp_consumer_new(&cfg, "tthc-alert", &h, err, sizeof(err));
        if (!c) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        if (cfg.http_port > 0 &&
            tp_consumer_serve_http(c, cfg.http_port, err, sizeof(err)) != 0) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        if (tp_service_migrate(&cfg, tp_consumer_pg(c)) != 0)
                goto out;
        al = tp_alert_new(&cfg, &rules, tp_consumer_pg(c), err, sizeof(err));
        if (!al) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        tp_alert_set_rk(al, tp_consumer_rk(c));
        h.ctx = al;
        tp_consumer_set_handler(c, &h);
        sinks = tp_sinks_new(&cfg, &rules, err, sizeof(err));
        if (!sinks || tp_sinks_start(sinks, err, sizeof(err)) != 0) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        tp_log_info("consuming %s as group %s%s%s", cfg.topics, cfg.group,
                    *cfg.alertmanager ? ", Alertmanager at " : "",
                    cfg.alertmanager);
        rc = tp_consumer_run(c, &tp_service_stop) == 0 ? 0 : 1;
        tp_report(al);
out:
        /* Deliver what the last batches recorded before leaving. */
        if (sinks)
                tp_sinks_stop(sinks, TP_FINAL_DELIVERY_MS);
        tp_sinks_destroy(sinks);
        tp_consumer_destroy(c);
        tp_alert_destroy(al);
        curl_global_cleanup();
        tp_rules_release(&rules);
        tp_cfg_release(&cfg);
        return rc;
}
