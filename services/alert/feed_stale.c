/* feed_stale.c - province_feed_stale, the one wall-clock rule (see
 * sinks_int.h and docs/alerts.md): reads each province's feed, lets the
 * evaluator decide (tp_alert_feed_step, eval.c, with wall time as its
 * clock) and records the changes. */
#include "sinks_int.h"

int tp_sinks_stale(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexec(
                s->conn, "SELECT p.province_code, "
                         "tthc.epoch_ms(max(p.last_message_at)), "
                         "bool_and(p.caught_up), a.alert_id, a.severity, "
                         "tthc.epoch_ms(a.started_at), "
                         "(a.details->>'last_message_ms')::bigint, "
                         "pr.full_name, pr.full_name_en "
                         "FROM tthc.alert_partition_state p "
                         "LEFT JOIN tthc.alerts a "
                         "ON a.province_code = p.province_code "
                         "AND a.rule = 'province_feed_stale' "
                         "AND a.status = 'firing' "
                         "LEFT JOIN tthc.provinces pr "
                         "ON pr.code = p.province_code "
                         "GROUP BY p.province_code, a.alert_id, a.severity, "
                         "a.started_at, a.details, pr.full_name, "
                         "pr.full_name_en");
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
                const char *id = tp_pg_col_text(res, r, 3);
                int cur = id ? tp_sev_parse(PQgetvalue(res, r, 4)) : 0;
                int64_t started = tp_pg_col_ts(res, r, 5);
                int64_t seen = tp_pg_col_ts(res, r, 6);
                struct tp_place_name name = {(char *)tp_pg_col_text(res, r, 7),
                                             (char *)tp_pg_col_text(res, r, 8)};
                double hours;
                enum tp_sev next, sev;
                enum tp_change ch;
                char nid[37], *details;
                json_t *j;

                if (last == TP_TS_NONE)
                        continue;
                hours = tp_alert_feed_hours(&s->cal, &s->rules, last, now);
                ch = tp_alert_feed_step(p, (enum tp_sev)cur, hours, caught_up,
                                        id && last > seen, &next);
                if (ch == TP_CHANGE_FIRED)
                        started = now;
                if (ch == TP_CHANGE_NONE)
                        continue;
                if (id)
                        tp_strlcpy(nid, id, sizeof(nid));
                else
                        tp_alert_episode_id(prov, NULL,
                                            TP_RULE_PROVINCE_FEED_STALE,
                                            started, nid);
                sev = next == TP_SEV_NONE ? (enum tp_sev)cur : next;
                details = tp_alert_details_json(
                        prov, NULL, name.vi && name.en ? &name : NULL,
                        TP_RULE_PROVINCE_FEED_STALE, sev, ch, hours,
                        tp_alert_threshold(p, next), now, NULL,
                        ch == TP_CHANGE_RESOLVED ? "cleared" : NULL);
                j = json_loads(details, 0, NULL);
                free(details);
                json_object_set_new(
                        j, "last_message_ms",
                        json_integer(ch == TP_CHANGE_RESOLVED ? seen : last));
                details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
                json_decref(j);
                if (tp_pg_exec(s->conn, "BEGIN", errstr, errstr_size) != 0 ||
                    tp_alert_record(s->conn, nid, prov, NULL,
                                    TP_RULE_PROVINCE_FEED_STALE, sev, ch, hours,
                                    tp_alert_threshold(p, next), now, started,
                                    ch == TP_CHANGE_RESOLVED ? "cleared" : NULL,
                                    details, errstr, errstr_size) != 0 ||
                    tp_pg_exec(s->conn, "COMMIT", errstr, errstr_size) != 0) {
                        char e2[64];
                        free(details);
                        tp_pg_exec(s->conn, "ROLLBACK", e2, sizeof(e2));
                        goto done;
                }
                free(details);
                tp_metric_inc(s->metrics.transitions,
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
