/* gauges.c - tthc-alert's metrics: the families, and the gauges the
 * sink thread reads from PostgreSQL (active alerts, outbox, watermark
 * age). */
#include "sinks_int.h"

static void tp_gauge_active(struct tp_sinks *s)
{
        PGresult *res = PQexec(s->conn, "SELECT rule, severity, count(*) "
                                        "FROM tthc.alerts "
                                        "WHERE status = 'firing' "
                                        "GROUP BY rule, severity");
        double n[TP_RULE__COUNT][2] = {{0}};
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                PQclear(res);
                return;
        }
        for (int r = 0; r < PQntuples(res); r++) {
                const char *rn = PQgetvalue(res, r, 0);
                int rule = tp_rule_parse(rn, strlen(rn));
                int sev = tp_sev_parse(PQgetvalue(res, r, 1));
                if (rule >= 0 &&
                    (sev == TP_SEV_WARNING || sev == TP_SEV_CRITICAL))
                        n[rule][sev - TP_SEV_WARNING] =
                                strtod(PQgetvalue(res, r, 2), NULL);
        }
        PQclear(res);
        for (int rule = 0; rule < TP_RULE__COUNT; rule++)
                for (int k = 0; k < 2; k++)
                        tp_metric_set(s->metrics.active, n[rule][k],
                                      (const char *[]){
                                              tp_rule_name((enum tp_rule)rule),
                                              tp_sev_name((enum tp_sev)(
                                                      TP_SEV_WARNING + k))});
}

static void tp_gauge_outbox(struct tp_sinks *s)
{
        PGresult *res = PQexec(s->conn, "SELECT count(*) "
                                        "FROM tthc.alert_outbox "
                                        "WHERE kafka_sent_at IS NULL");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
                tp_metric_set(s->metrics.outbox_pending,
                              strtod(PQgetvalue(res, 0, 0), NULL), NULL);
        PQclear(res);
}

static void tp_gauge_watermarks(struct tp_sinks *s)
{
        PGresult *res = PQexec(s->conn, "SELECT province_code, "
                                        "tthc.epoch_ms(watermark) "
                                        "FROM tthc.alert_provinces "
                                        "WHERE watermark IS NOT NULL");
        int64_t now = tp_now_ms();
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
                for (int r = 0; r < PQntuples(res); r++)
                        tp_metric_set(s->metrics.watermark_age,
                                      (double)(now - tp_pg_col_ts(res, r, 1)) /
                                              1000.0,
                                      (const char *[]){PQgetvalue(res, r, 0)});
        PQclear(res);
}

/* Refreshes the gauges, at most once a second. */
void tp_sinks_gauges(struct tp_sinks *s)
{
        int64_t now = tp_mono_ms();
        if (!s->metrics.active || now < s->gauges_at)
                return;
        s->gauges_at = now + 1000;
        tp_gauge_active(s);
        tp_gauge_outbox(s);
        tp_gauge_watermarks(s);
}

int tp_alert_metrics_init(struct tp_alert_metrics *am,
                          struct tp_metrics *metrics, char *errstr,
                          size_t errstr_size)
{
        const struct tp_metric_def defs[] = {
                {&am->active, TP_METRIC_GAUGE, "tthc_alerts_active",
                 "Firing alert episodes.", "rule,severity", NULL, 0},
                {&am->transitions, TP_METRIC_COUNTER,
                 "tthc_alert_transitions_total",
                 "Episode changes recorded (fired, changed, resolved).",
                 "change", NULL, 0},
                {&am->deliveries, TP_METRIC_COUNTER,
                 "tthc_alert_deliveries_total",
                 "Alert messages delivered or failed, by sink (kafka, "
                 "alertmanager) and result; registry: registrations.",
                 "sink,result", NULL, 0},
                {&am->outbox_pending, TP_METRIC_GAUGE,
                 "tthc_alert_outbox_pending",
                 "Alert changes not yet published to Kafka.", NULL, NULL, 0},
                {&am->watermark_age, TP_METRIC_GAUGE,
                 "tthc_watermark_age_seconds",
                 "Wall clock minus the province watermark.", "province", NULL,
                 0},
        };
        return tp_metrics_declare_all(metrics, defs, TP_ARRAY_LEN(defs), errstr,
                                      errstr_size);
}

void tp_sinks_set_metrics(struct tp_sinks *s, const struct tp_alert_metrics *am)
{
        s->metrics = *am;
}
