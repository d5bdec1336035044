/* sinks.c - see sinks.h. */
#include "sinks.h"
#include "alert.h"
#include "event.h"
#include "framing.h"
#include "kafka.h"
#include "log.h"
#include "pgutil.h"
#include "redact.h"
#include "schema_reg.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TP_SINK_BACKOFF_MIN_MS 500
#define TP_SINK_BACKOFF_MAX_MS 60000
#define TP_OUTBOX_BATCH 1000

struct tp_sinks {
        const struct tp_cfg *cfg;
        struct tp_rules rules; /* the thread's own copy */
        struct tp_alert_metrics m;
        PGconn *conn;
        rd_kafka_t *producer;
        int dr_failures;
        /* outbox ids whose delivery Kafka confirmed, not yet marked */
        int64_t *delivered;
        size_t n_delivered, cap_delivered;
        struct tp_workcal cal;
        int cal_loaded;
        pthread_t thread;
        int started;
        pthread_mutex_t lock;
        pthread_cond_t wake;        /* under lock: kicked or stop */
        int stop;                   /* under lock */
        int final_ms;               /* under lock */
        int kicked;                 /* under lock */
        struct tp_rules next_rules; /* under lock: a reload to take */
        int has_next_rules;         /* under lock */
        int32_t schema_id;          /* 0: not registered yet */
        int64_t reg_retry_at, reg_backoff;
        int64_t gauges_at;
        int64_t kafka_retry_at, kafka_backoff;
        int64_t am_next_at, am_backoff;
        int64_t last_outbox_seen;
};

/* ---- Avro encoding of vn.tthc.Alert
 * -------------------------------------------- */

struct tp_buf {
        unsigned char *p;
        size_t len, cap;
};

static void tp_buf_put(struct tp_buf *b, const void *data, size_t n)
{
        if (b->len + n > b->cap) {
                b->cap = (b->len + n) * 2 + 64;
                b->p = tp_xrealloc(b->p, b->cap);
        }
        memcpy(b->p + b->len, data, n);
        b->len += n;
}

static void tp_avro_long(struct tp_buf *b, int64_t v)
{
        uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        unsigned char c;
        do {
                c = (unsigned char)(z & 0x7f);
                z >>= 7;
                if (z)
                        c |= 0x80;
                tp_buf_put(b, &c, 1);
        } while (z);
}

static void tp_avro_string(struct tp_buf *b, const char *s)
{
        size_t n = strlen(s);
        tp_avro_long(b, (int64_t)n);
        tp_buf_put(b, s, n);
}

static void tp_avro_double(struct tp_buf *b, double d)
{
        uint64_t u;
        unsigned char c[8];
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
                c[i] = (unsigned char)(u >> (8 * i));
        tp_buf_put(b, c, 8);
}

static void tp_avro_opt_string(struct tp_buf *b, const char *s)
{
        tp_avro_long(b, s ? 1 : 0);
        if (s)
                tp_avro_string(b, s);
}

static int tp_enum_index(const char *s, const char *const *names, int n)
{
        for (int i = 0; i < n; i++)
                if (s && strcasecmp(s, names[i]) == 0)
                        return i;
        return 0;
}

unsigned char *tp_alert_encode(const struct tp_alert_msg *m, size_t *len)
{
        return tp_alert_encode_id(m, TP_ALERT_SCHEMA_ID, len);
}

unsigned char *tp_alert_encode_id(const struct tp_alert_msg *m,
                                  int32_t schema_id, size_t *len)
{
        static const char *const changes[] = {"fired", "changed", "resolved"};
        static const char *const sevs[] = {"warning", "critical"};
        static const char *const statuses[] = {"firing", "resolved"};
        struct tp_buf b = {0};
        unsigned char hdr[TP_FRAMING_HEADER_LEN];

        tp_framing_write_header(hdr, schema_id);
        tp_buf_put(&b, hdr, sizeof(hdr));
        tp_avro_string(&b, m->alert_id);
        tp_avro_long(&b, tp_enum_index(m->change, changes, 3));
        tp_avro_string(&b, m->rule);
        tp_avro_string(&b, m->province);
        tp_avro_opt_string(&b, m->commune);
        tp_avro_long(&b, tp_enum_index(m->severity, sevs, 2));
        tp_avro_long(&b, tp_enum_index(m->status, statuses, 2));
        tp_avro_double(&b, m->value);
        tp_avro_double(&b, m->threshold);
        tp_avro_long(&b, m->started_at);
        tp_avro_long(&b, m->changed_at);
        tp_avro_long(&b, m->resolved_at != TP_TS_NONE ? 1 : 0);
        if (m->resolved_at != TP_TS_NONE)
                tp_avro_long(&b, m->resolved_at);
        tp_avro_opt_string(&b, m->resolution);
        tp_avro_string(&b, m->details ? m->details : "{}");
        tp_avro_long(&b, m->sequence);
        *len = b.len;
        return b.p;
}

/* ---- construction
 * ------------------------------------------------------------------- */

static void tp_sinks_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                           void *opaque)
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

static void tp_sinks_sync_init(struct tp_sinks *s)
{
        pthread_condattr_t ca;
        pthread_mutex_init(&s->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->wake, &ca);
        pthread_condattr_destroy(&ca);
}

struct tp_sinks *tp_sinks_new(const struct tp_cfg *cfg,
                              const struct tp_rules *rules, char *errstr,
                              size_t errstr_size)
{
        struct tp_sinks *s = tp_xcalloc(1, sizeof(*s));
        const char *const defaults[][2] = {
                {"enable.idempotence", "true"},
                {"message.timeout.ms", "30000"},
        };
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = cfg->brokers,
                .client_id = "tthc-alert-sinks",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .keys = cfg->kafka_keys,
                .values = cfg->kafka_values,
                .n = cfg->n_kafka,
                .opaque = s,
                .dr_msg_cb = tp_sinks_dr_cb,
        };

        s->cfg = cfg;
        tp_rules_copy(&s->rules, rules);
        tp_sinks_sync_init(s);
        tp_workcal_init(&s->cal);
        s->kafka_backoff = s->am_backoff = TP_SINK_BACKOFF_MIN_MS;
        s->reg_backoff = TP_SINK_BACKOFF_MIN_MS;
        s->schema_id = cfg->registry && *cfg->registry ? 0 : TP_ALERT_SCHEMA_ID;
        s->producer = tp_kafka_new(&o, errstr, errstr_size);
        if (!s->producer)
                goto fail;
        return s;
fail:
        tp_sinks_destroy(s);
        return NULL;
}

void tp_sinks_destroy(struct tp_sinks *s)
{
        if (!s)
                return;
        if (s->started)
                tp_sinks_stop(s, 0);
        if (s->producer) {
                rd_kafka_flush(s->producer, 5000);
                rd_kafka_destroy(s->producer);
        }
        PQfinish(s->conn);
        free(s->delivered);
        tp_workcal_release(&s->cal);
        tp_rules_release(&s->rules);
        tp_rules_release(&s->next_rules);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* ---- PostgreSQL
 * ---------------------------------------------------------------------- */

static int tp_sinks_pg(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        if (tp_pg_ok(s->conn))
                return 0;
        PQfinish(s->conn);
        s->conn = tp_pg_connect(s->cfg->pg, "tthc-alert-sinks", errstr,
                                errstr_size);
        if (!s->conn)
                return -1;
        if (!s->cal_loaded) {
                if (tp_alert_load_calendar(s->conn, &s->cal, errstr,
                                           errstr_size) != 0)
                        return -1;
                s->cal_loaded = 1;
        }
        return 0;
}

static const char *tp_col(PGresult *res, int r, int c)
{
        return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

/* ---- Kafka
 * ---------------------------------------------------------------------------
 */

/* Marks the outbox rows whose delivery Kafka confirmed, and only those:
 * a row with a lower id that committed after the SELECT is not among
 * them, and is sent by a later round. */
static int tp_sinks_mark_sent(struct tp_sinks *s, char *errstr,
                              size_t errstr_size)
{
        struct tp_copybuf arr;
        char id[24];
        const char *p[1];
        PGresult *res;
        int rc;

        if (s->n_delivered == 0)
                return 0;
        tp_copybuf_init(&arr);
        for (size_t i = 0; i < s->n_delivered; i++) {
                snprintf(id, sizeof(id), "%lld", (long long)s->delivered[i]);
                tp_pgarray_add(&arr, id, i == 0);
        }
        tp_pgarray_end(&arr);
        p[0] = arr.data;
        res = PQexecParams(s->conn,
                           "UPDATE tthc.alert_outbox SET kafka_sent_at = "
                           "now() WHERE kafka_sent_at IS NULL AND id = "
                           "ANY ($1::bigint[])",
                           1, NULL, p, NULL, NULL, 0);
        rc = tp_pg_check(s->conn, res, PGRES_COMMAND_OK,
                         "could not mark alerts as sent", errstr, errstr_size);
        PQclear(res);
        tp_copybuf_release(&arr);
        if (rc == 0)
                s->n_delivered = 0;
        return rc;
}

/* Sends pending outbox rows; returns how many, or -1. */
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
                struct tp_alert_msg m;
                unsigned char *val;
                size_t len;
                const char *key;
                rd_kafka_resp_err_t err;
                m.sequence = strtoll(PQgetvalue(res, r, 0), NULL, 10);
                m.alert_id = PQgetvalue(res, r, 1);
                m.change = PQgetvalue(res, r, 2);
                m.rule = PQgetvalue(res, r, 3);
                m.province = PQgetvalue(res, r, 4);
                m.commune = tp_col(res, r, 5);
                m.severity = PQgetvalue(res, r, 6);
                m.status = PQgetvalue(res, r, 7);
                m.value = strtod(PQgetvalue(res, r, 8), NULL);
                m.threshold = strtod(PQgetvalue(res, r, 9), NULL);
                m.started_at = tp_pg_col_ts(res, r, 10);
                m.changed_at = tp_pg_col_ts(res, r, 11);
                m.resolved_at = tp_pg_col_ts(res, r, 12);
                m.resolution = tp_col(res, r, 13);
                m.details = PQgetvalue(res, r, 14);
                val = tp_alert_encode_id(&m, s->schema_id, &len);
                key = m.commune ? m.commune : m.province;
                do {
                        err = rd_kafka_producev(
                                s->producer, RD_KAFKA_V_TOPIC(TP_ALERT_TOPIC),
                                RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE(val, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE((void *)(intptr_t)m.sequence),
                                RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(s->producer, 100);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                free(val);
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
        tp_metric_add(s->m.deliveries, n,
                      (const char *[]){"kafka", rc < 0 ? "error" : "ok"});
        PQclear(res);
        return rc;
}

/* ---- Alertmanager
 * ------------------------------------------------------------------------ */

static void tp_iso(int64_t ms, char *buf, size_t size)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char day[32];
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03dZ", day, (int)(ms % 1000));
}

static json_t *tp_am_alert(PGresult *res, int r, const char *severity,
                           int64_t ends_at)
{
        json_t *a = json_object(), *labels = json_object(),
               *ann = json_object();
        json_t *details = json_loads(PQgetvalue(res, r, 7), 0, NULL);
        char ts[64];
        const char *commune = tp_col(res, r, 2);

        json_object_set_new(labels, "alertname",
                            json_string(PQgetvalue(res, r, 3)));
        json_object_set_new(labels, "province",
                            json_string(PQgetvalue(res, r, 1)));
        json_object_set_new(labels, "commune",
                            json_string(commune ? commune : ""));
        json_object_set_new(labels, "severity", json_string(severity));
        json_object_set_new(labels, "service", json_string("tthc-pulse"));
        json_object_set_new(ann, "alert_id",
                            json_string(PQgetvalue(res, r, 0)));
        json_object_set_new(ann, "value", json_string(PQgetvalue(res, r, 5)));
        json_object_set_new(ann, "threshold",
                            json_string(PQgetvalue(res, r, 6)));
        if (details) {
                json_t *en = json_object_get(details, "summary_en");
                json_t *vi = json_object_get(details, "summary_vi");
                char *fig = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
                if (en)
                        json_object_set(ann, "summary", en);
                if (vi)
                        json_object_set(ann, "summary_vi", vi);
                if (fig) {
                        json_object_set_new(ann, "figures", json_string(fig));
                        free(fig);
                }
                json_decref(details);
        }
        json_object_set_new(a, "labels", labels);
        json_object_set_new(a, "annotations", ann);
        tp_iso(tp_pg_col_ts(res, r, 8), ts, sizeof(ts));
        json_object_set_new(a, "startsAt", json_string(ts));
        if (ends_at != TP_TS_NONE) {
                tp_iso(ends_at, ts, sizeof(ts));
                json_object_set_new(a, "endsAt", json_string(ts));
        }
        return a;
}

static size_t tp_curl_discard(char *p, size_t sz, size_t n, void *ud)
{
        (void)p;
        (void)ud;
        return sz * n;
}

static int tp_am_post(const char *base, const char *body, char *errstr,
                      size_t errstr_size)
{
        CURL *h = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        char url[1024], shown[1024];
        long code = 0;
        CURLcode cc;

        if (!h) {
                snprintf(errstr, errstr_size, "curl_easy_init failed");
                return -1;
        }
        snprintf(url, sizeof(url), "%s%s/api/v2/alerts", base,
                 base[0] && base[strlen(base) - 1] == '/' ? "." : "");
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tp_curl_discard);
        cc = curl_easy_perform(h);
        if (cc == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        /* The URL may carry user:password@: never put it in a message. */
        tp_redact_url(url, shown, sizeof(shown));
        if (cc != CURLE_OK) {
                snprintf(errstr, errstr_size, "POST %.200s: %s", shown,
                         curl_easy_strerror(cc));
                return -1;
        }
        if (code < 200 || code >= 300) {
                snprintf(errstr, errstr_size, "POST %.200s: HTTP %ld", shown,
                         code);
                return -1;
        }
        return 0;
}

/* Sends the active alerts of caught-up provinces, the resolutions of
 * alerts sent before, and ends superseded severities. */
static int tp_sinks_am(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexec(
                s->conn, "SELECT a.alert_id, a.province_code, a.commune_code, "
                         "a.rule, a.severity, a.value, a.threshold, "
                         "a.details::text, tthc.epoch_ms(a.started_at), "
                         "a.status, tthc.epoch_ms(a.resolved_at), "
                         "d.am_severity, d.am_first_sent_at IS NOT NULL "
                         "FROM tthc.alerts a "
                         "LEFT JOIN tthc.alert_delivery d USING (alert_id) "
                         "LEFT JOIN tthc.alert_provinces p "
                         "USING (province_code) "
                         "WHERE (a.status = 'firing' "
                         "AND (p.caught_up OR a.rule = 'province_feed_stale')) "
                         "OR (a.status = 'resolved' "
                         "AND d.am_first_sent_at IS NOT NULL "
                         "AND d.am_resolved_sent_at IS NULL)");
        json_t *arr = json_array();
        char *body = NULL;
        int n = 0, rc = -1;
        int64_t now = tp_now_ms();

        if (tp_pg_check(s->conn, res, PGRES_TUPLES_OK,
                        "could not read alerts for Alertmanager", errstr,
                        errstr_size) != 0)
                goto done;
        n = PQntuples(res);
        for (int r = 0; r < n; r++) {
                const char *sev = PQgetvalue(res, r, 4);
                const char *old = tp_col(res, r, 11);
                int resolved = strcmp(PQgetvalue(res, r, 9), "resolved") == 0;
                int64_t ends = TP_TS_NONE;
                if (resolved) {
                        ends = tp_pg_col_ts(res, r, 10);
                        if (ends == TP_TS_NONE || ends > now)
                                ends = now;
                }
                json_array_append_new(arr, tp_am_alert(res, r, sev, ends));
                if (old && strcmp(old, sev) != 0)
                        json_array_append_new(arr,
                                              tp_am_alert(res, r, old, now));
        }
        if (n == 0) {
                rc = 0;
                goto done;
        }
        body = json_dumps(arr, JSON_COMPACT);
        if (!body ||
            tp_am_post(s->cfg->alertmanager, body, errstr, errstr_size) != 0)
                goto done;
        for (int r = 0; r < n; r++) {
                const char *p[3] = {PQgetvalue(res, r, 0),
                                    PQgetvalue(res, r, 4),
                                    PQgetvalue(res, r, 9)};
                PGresult *u = PQexecParams(
                        s->conn,
                        "INSERT INTO tthc.alert_delivery AS d (alert_id, "
                        "am_first_sent_at, am_last_sent_at, "
                        "am_resolved_sent_at, am_severity) VALUES ($1, now(), "
                        "now(), CASE WHEN $3 = 'resolved' THEN now() END, $2) "
                        "ON CONFLICT (alert_id) DO UPDATE SET am_last_sent_at "
                        "= now(), am_resolved_sent_at = CASE WHEN $3 = "
                        "'resolved' THEN now() END, am_severity = $2",
                        3, NULL, p, NULL, NULL, 0);
                int bad = tp_pg_check(s->conn, u, PGRES_COMMAND_OK,
                                      "could not record a delivery", errstr,
                                      errstr_size);
                PQclear(u);
                if (bad)
                        goto done;
        }
        tp_log_debug("sent %d alert(s) to Alertmanager", n);
        rc = n;
done:
        if (body)
                tp_metric_add(s->m.deliveries, n,
                              (const char *[]){"alertmanager",
                                               rc < 0 ? "error" : "ok"});
        free(body);
        json_decref(arr);
        PQclear(res);
        return rc;
}

/* ---- province_feed_stale (wall clock)
 * --------------------------------------------------- */

static int tp_sinks_stale(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexec(
                s->conn, "SELECT p.province_code, "
                         "tthc.epoch_ms(max(p.last_message_at)), "
                         "bool_and(p.caught_up), a.alert_id, a.severity, "
                         "tthc.epoch_ms(a.started_at), "
                         "(a.details->>'last_message_ms')::bigint "
                         "FROM tthc.alert_partition_state p "
                         "LEFT JOIN tthc.alerts a "
                         "ON a.province_code = p.province_code "
                         "AND a.rule = 'province_feed_stale' "
                         "AND a.status = 'firing' "
                         "GROUP BY p.province_code, a.alert_id, a.severity, "
                         "a.started_at, a.details");
        int64_t now = tp_now_ms();
        int rc = -1;

        if (tp_pg_check(s->conn, res, PGRES_TUPLES_OK,
                        "could not read province feeds", errstr,
                        errstr_size) != 0)
                goto done;
        for (int r = 0; r < PQntuples(res); r++) {
                const char *prov = PQgetvalue(res, r, 0);
                const struct tp_rule_params *p = tp_rules_get(
                        &s->rules, prov, TP_RULE_PROVINCE_FEED_STALE);
                int64_t last = tp_pg_col_ts(res, r, 1);
                int caught_up = PQgetvalue(res, r, 2)[0] == 't';
                const char *id = tp_col(res, r, 3);
                int cur = id ? tp_sev_parse(PQgetvalue(res, r, 4)) : 0;
                int64_t started = tp_pg_col_ts(res, r, 5);
                int64_t seen = tp_pg_col_ts(res, r, 6);
                double hours;
                enum tp_sev next = TP_SEV_NONE;
                enum tp_change ch = TP_CHANGE_NONE;
                char nid[37], *details, buf[64];
                json_t *j;

                if (last == TP_TS_NONE)
                        continue;
                hours = (double)tp_workcal_office_ms(
                                s->rules.office_every_day ? NULL : &s->cal,
                                last, now, s->rules.office_start_hour,
                                s->rules.office_end_hour) /
                        (double)TP_HOUR_MS;
                if (id && (last > seen || !p->enabled)) {
                        ch = TP_CHANGE_RESOLVED;
                } else if (id && cur == TP_SEV_WARNING &&
                           hours >= p->critical) {
                        ch = TP_CHANGE_CHANGED;
                        next = TP_SEV_CRITICAL;
                } else if (!id && p->enabled && caught_up &&
                           hours >= p->warning) {
                        ch = TP_CHANGE_FIRED;
                        next = hours >= p->critical ? TP_SEV_CRITICAL
                                                    : TP_SEV_WARNING;
                        started = now;
                }
                if (ch == TP_CHANGE_NONE)
                        continue;
                if (id)
                        tp_strlcpy(nid, id, sizeof(nid));
                else
                        tp_alert_episode_id(prov, NULL,
                                            TP_RULE_PROVINCE_FEED_STALE,
                                            started, nid);
                details = tp_alert_details_json(
                        prov, NULL, TP_RULE_PROVINCE_FEED_STALE,
                        next == TP_SEV_NONE ? (enum tp_sev)cur : next, ch,
                        hours,
                        tp_alert_threshold(p, next == TP_SEV_NONE ? TP_SEV_NONE
                                                                  : next),
                        now, NULL, ch == TP_CHANGE_RESOLVED ? "cleared" : NULL);
                j = json_loads(details, 0, NULL);
                free(details);
                snprintf(buf, sizeof(buf), "%lld", (long long)last);
                json_object_set_new(
                        j, "last_message_ms",
                        json_integer(ch == TP_CHANGE_RESOLVED ? seen : last));
                details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
                json_decref(j);
                if (tp_pg_exec(s->conn, "BEGIN", errstr, errstr_size) != 0 ||
                    tp_alert_record(
                            s->conn, nid, prov, NULL,
                            TP_RULE_PROVINCE_FEED_STALE,
                            next == TP_SEV_NONE ? (enum tp_sev)cur : next, ch,
                            hours, tp_alert_threshold(p, next), now, started,
                            ch == TP_CHANGE_RESOLVED ? "cleared" : NULL,
                            details, errstr, errstr_size) != 0 ||
                    tp_pg_exec(s->conn, "COMMIT", errstr, errstr_size) != 0) {
                        char e2[64];
                        free(details);
                        tp_pg_exec(s->conn, "ROLLBACK", e2, sizeof(e2));
                        goto done;
                }
                free(details);
                tp_metric_inc(s->m.transitions,
                              (const char *[]){tp_change_name(ch)});
                tp_log_info("province %s feed %s (%.1f office hour(s) "
                            "without a message)",
                            prov, tp_change_name(ch), hours);
        }
        rc = 0;
done:
        PQclear(res);
        return rc;
}

static int64_t tp_backoff_next(int64_t cur)
{
        return cur * 2 > TP_SINK_BACKOFF_MAX_MS ? TP_SINK_BACKOFF_MAX_MS
                                                : cur * 2;
}

/* ---- gauges
 * ----------------------------------------------------------------------- */

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
                        tp_metric_set(s->m.active, n[rule][k],
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
                tp_metric_set(s->m.outbox_pending,
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
                        tp_metric_set(s->m.watermark_age,
                                      (double)(now - tp_pg_col_ts(res, r, 1)) /
                                              1000.0,
                                      (const char *[]){PQgetvalue(res, r, 0)});
        PQclear(res);
}

/* Refreshes the gauges, at most once a second. */
static void tp_sinks_gauges(struct tp_sinks *s)
{
        int64_t now = tp_mono_ms();
        if (!s->m.active || now < s->gauges_at)
                return;
        s->gauges_at = now + 1000;
        tp_gauge_active(s);
        tp_gauge_outbox(s);
        tp_gauge_watermarks(s);
}

int tp_alert_metrics_init(struct tp_alert_metrics *am, struct tp_metrics *m,
                          char *errstr, size_t errstr_size)
{
        memset(am, 0, sizeof(*am));
        if (!m)
                return 0;
        am->active = tp_metrics_gauge(m, "tthc_alerts_active",
                                      "Firing alert episodes.", "rule,severity",
                                      errstr, errstr_size);
        am->transitions = tp_metrics_counter(
                m, "tthc_alert_transitions_total",
                "Episode changes recorded (fired, changed, resolved).",
                "change", errstr, errstr_size);
        am->deliveries = tp_metrics_counter(
                m, "tthc_alert_deliveries_total",
                "Alert messages delivered or failed, by sink (kafka, "
                "alertmanager) and result; registry: registrations.",
                "sink,result", errstr, errstr_size);
        am->outbox_pending =
                tp_metrics_gauge(m, "tthc_alert_outbox_pending",
                                 "Alert changes not yet published to Kafka.",
                                 NULL, errstr, errstr_size);
        am->watermark_age =
                tp_metrics_gauge(m, "tthc_watermark_age_seconds",
                                 "Wall clock minus the province watermark.",
                                 "province", errstr, errstr_size);
        return am->active && am->transitions && am->deliveries &&
                               am->outbox_pending && am->watermark_age
                       ? 0
                       : -1;
}

void tp_sinks_set_metrics(struct tp_sinks *s, const struct tp_alert_metrics *am)
{
        s->m = *am;
}

/* ---- schema registration
 * ------------------------------------------------------------ */

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
                tp_metric_inc(s->m.deliveries,
                              (const char *[]){"registry", "ok"});
                s->schema_id = id;
                s->reg_backoff = TP_SINK_BACKOFF_MIN_MS;
                return 0;
        }
        tp_log_warn("alert sinks: schema registration failed, alerts wait "
                    "in the outbox; retrying in %lld ms: %s",
                    (long long)s->reg_backoff, err);
        tp_metric_inc(s->m.deliveries, (const char *[]){"registry", "error"});
        s->reg_retry_at = now + s->reg_backoff;
        s->reg_backoff = tp_backoff_next(s->reg_backoff);
        return -1;
}

/* ---- the thread
 * -------------------------------------------------------------------------- */

static int64_t tp_outbox_max(struct tp_sinks *s)
{
        PGresult *res = PQexec(s->conn, "SELECT coalesce(max(id), 0) "
                                        "FROM tthc.alert_outbox");
        int64_t v = -1;
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
                v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return v;
}

/* Takes rules handed over by tp_sinks_set_rules(). */
static void tp_sinks_take_rules(struct tp_sinks *s)
{
        struct tp_rules old;
        int took = 0;
        pthread_mutex_lock(&s->lock);
        if (s->has_next_rules) {
                old = s->rules;
                s->rules = s->next_rules;
                memset(&s->next_rules, 0, sizeof(s->next_rules));
                s->has_next_rules = 0;
                took = 1;
        }
        pthread_mutex_unlock(&s->lock);
        if (took)
                tp_rules_release(&old);
}

static void tp_sinks_kafka_round(struct tp_sinks *s, int64_t now, int final)
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

static void tp_sinks_am_round(struct tp_sinks *s, int64_t now, int final)
{
        char err[1024];
        int64_t max = tp_outbox_max(s);
        int n;
        if (max > s->last_outbox_seen &&
            s->am_backoff == TP_SINK_BACKOFF_MIN_MS)
                s->am_next_at = 0; /* something changed: send now */
        if (!final && now < s->am_next_at)
                return;
        n = tp_sinks_am(s, err, sizeof(err));
        if (n < 0) {
                tp_log_warn("alert sinks: Alertmanager unavailable, "
                            "retrying in %lld ms: %s",
                            (long long)s->am_backoff, err);
                s->am_next_at = now + s->am_backoff;
                s->am_backoff = tp_backoff_next(s->am_backoff);
                return;
        }
        s->am_backoff = TP_SINK_BACKOFF_MIN_MS;
        s->am_next_at = now + s->rules.resend_ms;
        if (max >= 0)
                s->last_outbox_seen = max;
}

/* One round of deliveries. final: ignore backoff timers. */
static void tp_sinks_round(struct tp_sinks *s, int final)
{
        char err[1024];
        int64_t now = tp_mono_ms();

        tp_sinks_take_rules(s);
        if (tp_sinks_pg(s, err, sizeof(err)) != 0) {
                tp_log_warn("alert sinks: PostgreSQL unavailable: %s", err);
                return;
        }
        if (!final && tp_sinks_stale(s, err, sizeof(err)) != 0)
                tp_log_warn("alert sinks: %s", err);
        tp_sinks_kafka_round(s, now, final);
        if (s->cfg->alertmanager && *s->cfg->alertmanager)
                tp_sinks_am_round(s, now, final);
        tp_sinks_gauges(s);
}

/* Waits up to ms for a kick or a stop; returns the stop flag. */
static int tp_sinks_wait(struct tp_sinks *s, int ms, int *final_ms)
{
        struct timespec ts;
        int stop;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&s->lock);
        while (!s->stop && !s->kicked && ms > 0)
                if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) != 0)
                        break;
        s->kicked = 0;
        stop = s->stop;
        *final_ms = s->final_ms;
        pthread_mutex_unlock(&s->lock);
        return stop;
}

static int tp_sinks_settled(const struct tp_sinks *s)
{
        return s->kafka_backoff == TP_SINK_BACKOFF_MIN_MS &&
               s->am_backoff == TP_SINK_BACKOFF_MIN_MS && s->schema_id > 0;
}

/* The last deliveries before leaving, for at most final_ms. */
static void tp_sinks_final(struct tp_sinks *s, int final_ms)
{
        int64_t until = tp_mono_ms() + final_ms;
        struct timespec half = {0, 500 * 1000000L};
        do {
                tp_sinks_round(s, 1);
                if (tp_sinks_settled(s))
                        break;
                nanosleep(&half, NULL);
        } while (tp_mono_ms() < until);
}

static void *tp_sinks_main(void *arg)
{
        struct tp_sinks *s = arg;
        int final_ms = 0;
        while (!tp_sinks_wait(s, 0, &final_ms)) {
                tp_sinks_round(s, 0);
                rd_kafka_poll(s->producer, 0);
                if (tp_sinks_wait(s, 500, &final_ms))
                        break;
        }
        tp_sinks_final(s, final_ms);
        return NULL;
}

int tp_sinks_start(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        if (pthread_create(&s->thread, NULL, tp_sinks_main, s) != 0) {
                snprintf(errstr, errstr_size,
                         "could not start the alert sink thread");
                return -1;
        }
        s->started = 1;
        return 0;
}

void tp_sinks_set_rules(struct tp_sinks *s, const struct tp_rules *rules)
{
        struct tp_rules copy, stale;
        tp_rules_copy(&copy, rules);
        pthread_mutex_lock(&s->lock);
        stale = s->next_rules;
        s->next_rules = copy;
        s->has_next_rules = 1;
        s->kicked = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        tp_rules_release(&stale);
}

void tp_sinks_kick(struct tp_sinks *s)
{
        pthread_mutex_lock(&s->lock);
        s->kicked = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
}

void tp_sinks_stop(struct tp_sinks *s, int final_ms)
{
        if (!s->started)
                return;
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        s->final_ms = final_ms;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        s->started = 0;
}
