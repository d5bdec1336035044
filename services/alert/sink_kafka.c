/* sink_kafka.c - the outbox relay to Kafka topic tthc.alerts: the
 * producer's delivery reports, the alert schema's registration, one
 * round of publishing (see sinks_int.h). */
#include "sinks_int.h"

void tp_sinks_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        struct tp_sinks *s = opaque;
        (void)rk;
        if (rkm->err) {
                s->dr_failures++;
                return;
        }
        if (s->n_delivered == s->cap_delivered) {
                s->cap_delivered = s->cap_delivered ? s->cap_delivered * 2 : 64;
                s->delivered = tp_xrealloc(
                        s->delivered, s->cap_delivered * sizeof(*s->delivered));
        }
        /* the message's opaque is its outbox id (tp_sinks_kafka) */
        s->delivered[s->n_delivered++] = (int64_t)(intptr_t)rkm->_private;
}

/* Marks the outbox rows whose delivery Kafka confirmed, and only those:
 * a row with a lower id that committed after the SELECT is not among
 * them, and is sent by a later round. */
static int tp_sinks_mark_sent(struct tp_sinks *s, char *errstr,
                              size_t errstr_size)
{
        struct tp_copybuf arr;
        char id[24];
        int rc;

        if (s->n_delivered == 0)
                return 0;
        tp_copybuf_init(&arr);
        for (size_t i = 0; i < s->n_delivered; i++) {
                snprintf(id, sizeof(id), "%lld", (long long)s->delivered[i]);
                tp_pgarray_add(&arr, id, i == 0);
        }
        rc = tp_pg_exec_array(s->conn,
                              "UPDATE tthc.alert_outbox SET kafka_sent_at = "
                              "now() WHERE kafka_sent_at IS NULL AND id = "
                              "ANY ($1::bigint[])",
                              &arr, "could not mark alerts as sent", errstr,
                              errstr_size);
        if (rc == 0)
                s->n_delivered = 0;
        return rc;
}

/* Sends pending outbox rows; returns how many, or -1. */
/* The episode's details with "url", its tthc-web page (--web-url): a
 * heap string the caller frees, or NULL to send the details as they are
 * (no --web-url, or details that are no JSON object). */
static char *tp_kafka_details(const struct tp_sinks *s,
                              const struct tp_alert_msg *amsg)
{
        char url[1024], *text = NULL;
        json_t *d;

        if (tp_sinks_page_url(s, amsg->province, amsg->commune, url,
                              sizeof(url)) != 0)
                return NULL;
        d = json_loads(amsg->details, 0, NULL);
        if (json_is_object(d)) {
                json_object_set_new(d, "url", json_string(url));
                text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        }
        json_decref(d);
        return text;
}

static int tp_sinks_kafka(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        char sql[1024];
        PGresult *res;
        int n = 0, rc = -1, failed = 0;

        _Static_assert(sizeof(intptr_t) >= sizeof(int64_t),
                       "outbox ids travel as message opaques");
        snprintf(sql, sizeof(sql),
                 "SELECT o.id, o.alert_id, o.change, a.rule, "
                 "a.province_code, a.commune_code, o.severity, o.status, "
                 "o.value, o.threshold, tthc.epoch_ms(a.started_at), "
                 "tthc.epoch_ms(o.changed_at), "
                 "CASE WHEN o.status = 'resolved' "
                 "THEN tthc.epoch_ms(o.changed_at) END, "
                 "o.details->>'resolution', o.details::text "
                 "FROM tthc.alert_outbox o "
                 "JOIN tthc.alerts a USING (alert_id) "
                 "WHERE o.kafka_sent_at IS NULL "
                 "ORDER BY o.id LIMIT %d",
                 TP_OUTBOX_BATCH);
        res = PQexec(s->conn, sql);
        if (tp_pg_check(s->conn, res, PGRES_TUPLES_OK,
                        "could not read the alert outbox", errstr,
                        errstr_size) != 0)
                goto done;
        n = PQntuples(res);
        if (n == 0) {
                rc = 0;
                goto done;
        }
        s->dr_failures = 0;
        for (int r = 0; r < n && !failed; r++) {
                struct tp_alert_msg amsg;
                char *details;
                unsigned char *val;
                size_t len;
                const char *key;
                rd_kafka_resp_err_t err;
                amsg.sequence = strtoll(PQgetvalue(res, r, 0), NULL, 10);
                amsg.alert_id = PQgetvalue(res, r, 1);
                amsg.change = PQgetvalue(res, r, 2);
                amsg.rule = PQgetvalue(res, r, 3);
                amsg.province = PQgetvalue(res, r, 4);
                amsg.commune = tp_pg_col_text(res, r, 5);
                amsg.severity = PQgetvalue(res, r, 6);
                amsg.status = PQgetvalue(res, r, 7);
                amsg.value = strtod(PQgetvalue(res, r, 8), NULL);
                amsg.threshold = strtod(PQgetvalue(res, r, 9), NULL);
                amsg.started_at = tp_pg_col_ts(res, r, 10);
                amsg.changed_at = tp_pg_col_ts(res, r, 11);
                amsg.resolved_at = tp_pg_col_ts(res, r, 12);
                amsg.resolution = tp_pg_col_text(res, r, 13);
                amsg.details = PQgetvalue(res, r, 14);
                details = tp_kafka_details(s, &amsg);
                if (details)
                        amsg.details = details;
                val = tp_alert_encode_id(&amsg, s->schema_id, &len);
                key = amsg.commune ? amsg.commune : amsg.province;
                do {
                        err = rd_kafka_producev(
                                s->producer, RD_KAFKA_V_TOPIC(TP_ALERT_TOPIC),
                                RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE(val, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE(
                                        (void *)(intptr_t)amsg.sequence),
                                RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(s->producer, 100);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                free(val);
                free(details);
                details = NULL;
                if (err) {
                        snprintf(errstr, errstr_size,
                                 "could not produce to %s: %s", TP_ALERT_TOPIC,
                                 rd_kafka_err2str(err));
                        failed = 1;
                }
        }
        /* Wait for what was handed over, then mark exactly what Kafka
         * confirmed, even when some of it failed. */
        if (rd_kafka_flush(s->producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            s->dr_failures > 0) {
                if (!failed)
                        snprintf(errstr, errstr_size,
                                 "could not deliver %d alert message(s) to %s",
                                 n, TP_ALERT_TOPIC);
                failed = 1;
        }
        if (failed) {
                char err[512];
                if (tp_sinks_mark_sent(s, err, sizeof(err)) != 0)
                        tp_log_warn("alert sinks: %s", err);
                goto done;
        }
        if (tp_sinks_mark_sent(s, errstr, errstr_size) != 0)
                goto done;
        rc = n;
done:
        tp_metric_add(s->metrics.deliveries, n,
                      (const char *[]){"kafka", rc < 0 ? "error" : "ok"});
        PQclear(res);
        return rc;
}

/* 0 once the alert schema has an id; -1 while the registry is down (the
 * Kafka sink waits: alerts stay in the outbox). */
static int tp_sinks_schema(struct tp_sinks *s, int64_t now, int final)
{
        char path[1024], err[1024];
        int32_t id = 0;
        if (s->schema_id > 0)
                return 0;
        if (!final && now < s->reg_retry_at)
                return -1;
        snprintf(path, sizeof(path), "%s/2-alert.avsc", s->cfg->schemas);
        if (tp_schema_register(s->cfg->registry, TP_ALERT_SUBJECT, path, &id,
                               err, sizeof(err)) == 0) {
                tp_log_info("registered the alert schema under %s: id %d",
                            TP_ALERT_SUBJECT, (int)id);
                tp_metric_inc(s->metrics.deliveries,
                              (const char *[]){"registry", "ok"});
                s->schema_id = id;
                s->reg_backoff = TP_SINK_BACKOFF_MIN_MS;
                return 0;
        }
        tp_log_warn("alert sinks: schema registration failed, alerts wait "
                    "in the outbox; retrying in %lld ms: %s",
                    (long long)s->reg_backoff, err);
        tp_metric_inc(s->metrics.deliveries,
                      (const char *[]){"registry", "error"});
        s->reg_retry_at = now + s->reg_backoff;
        s->reg_backoff = tp_backoff_next(s->reg_backoff);
        return -1;
}

void tp_sinks_kafka_round(struct tp_sinks *s, int64_t now, int final)
{
        char err[1024];
        int n;
        if (!final && now < s->kafka_retry_at)
                return;
        if (tp_sinks_schema(s, now, final) != 0)
                return;
        n = tp_sinks_kafka(s, err, sizeof(err));
        if (n < 0) {
                tp_log_warn("alert sinks: Kafka delivery failed, "
                            "retrying in %lld ms: %s",
                            (long long)s->kafka_backoff, err);
                s->kafka_retry_at = now + s->kafka_backoff;
                s->kafka_backoff = tp_backoff_next(s->kafka_backoff);
                return;
        }
        if (n > 0)
                tp_log_info("published %d alert change(s) to %s", n,
                            TP_ALERT_TOPIC);
        s->kafka_backoff = TP_SINK_BACKOFF_MIN_MS;
}

/* Looks the alert topic up before the first alert: otherwise the first
 * alert after a start waits for the topic's metadata (measured: up to
 * 0.75 s, bench/alert_latency.sh). A failure here only costs that wait. */
void tp_sinks_warm(struct tp_sinks *s)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err;
        s->alert_topic = rd_kafka_topic_new(s->producer, TP_ALERT_TOPIC, NULL);
        if (!s->alert_topic)
                return;
        err = rd_kafka_metadata(s->producer, 0, s->alert_topic, &md, 5000);
        if (err)
                tp_log_debug("alert sinks: no metadata for %s yet: %s",
                             TP_ALERT_TOPIC, rd_kafka_err2str(err));
        if (md)
                rd_kafka_metadata_destroy(md);
}
