/* sink_am.c - Alertmanager (API v2): firing episodes of caught-up
 * provinces, re-sent every resend interval, endsAt once resolved (see
 * sinks_int.h). */
#include "sinks_int.h"

static void tp_iso(int64_t ms, char *buf, size_t size)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char day[32];
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03dZ", day, (int)(ms % 1000));
}

static json_t *tp_am_alert(const struct tp_sinks *s, PGresult *res, int r,
                           const char *severity, int64_t ends_at)
{
        json_t *a = json_object(), *labels = json_object(),
               *ann = json_object();
        json_t *details = json_loads(PQgetvalue(res, r, 7), 0, NULL);
        char ts[1024];
        const char *commune = tp_pg_col_text(res, r, 2);

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
        if (tp_sinks_page_url(s, PQgetvalue(res, r, 1), commune, ts,
                              sizeof(ts)) == 0)
                json_object_set_new(a, "generatorURL", json_string(ts));
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

static int tp_am_post(const char *base, const char *body, char *errstr,
                      size_t errstr_size)
{
        char url[1024], shown[1024], err[512];
        struct tp_http_reply reply;
        struct tp_http_req req = {
                .url = url,
                .body = body,
                .content_type = "application/json",
                .connect_timeout_ms = 3000,
                .timeout_ms = 10000,
        };
        int rc;

        snprintf(url, sizeof(url), "%s%s/api/v2/alerts", base,
                 base[0] && base[strlen(base) - 1] == '/' ? "." : "");
        /* The URL may carry user:password@: only redacted in a message. */
        tp_redact_url(url, shown, sizeof(shown));
        rc = tp_http_send(&req, &reply, err, sizeof(err));
        if (rc != 0)
                snprintf(errstr, errstr_size, "POST %.200s: %s", shown, err);
        else if (reply.code < 200 || reply.code >= 300) {
                snprintf(errstr, errstr_size, "POST %.200s: HTTP %ld", shown,
                         reply.code);
                rc = -1;
        }
        tp_http_reply_release(&reply);
        return rc;
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
                const char *old = tp_pg_col_text(res, r, 11);
                int resolved = strcmp(PQgetvalue(res, r, 9), "resolved") == 0;
                int64_t ends = TP_TS_NONE;
                if (resolved) {
                        ends = tp_pg_col_ts(res, r, 10);
                        if (ends == TP_TS_NONE || ends > now)
                                ends = now;
                }
                json_array_append_new(arr, tp_am_alert(s, res, r, sev, ends));
                if (old && strcmp(old, sev) != 0)
                        json_array_append_new(arr,
                                              tp_am_alert(s, res, r, old, now));
        }
        if (n == 0) {
                rc = 0;
                goto done;
        }
        body = json_dumps(arr, JSON_COMPACT);
        if (!body || tp_am_post(s->am_url, body, errstr, errstr_size) != 0)
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
                tp_metric_add(s->metrics.deliveries, n,
                              (const char *[]){"alertmanager",
                                               rc < 0 ? "error" : "ok"});
        free(body);
        json_decref(arr);
        PQclear(res);
        return rc;
}

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

void tp_sinks_am_round(struct tp_sinks *s, int64_t now, int final)
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
