/* web_page_commune.c - "/communes/<code>": the commune's figures as of
 * its province's watermark (tthc.commune_health), daily received vs
 * resolved and the open/overdue backlog over the last 90 days (charts),
 * its open overdue dossiers (paginated), and its alert episodes. */
#include "web_int.h"
#include "pgutil.h"
#include "svg.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_COMMUNE_DAYS 90

/* The commune, its province, whether the role sees it, and the day the
 * page is as of: the Vietnam date of the province's watermark. */
static const char tp_commune_sql[] =
        "SELECT c.code AS commune_code, c.full_name AS commune_name,"
        "       c.full_name_en AS commune_name_en, c.province_code,"
        "       p.name AS province_name, p.name_en AS province_name_en,"
        "       c.province_code IN (SELECT tthc.visible_provinces())"
        "           AS visible,"
        "       f.watermark, f.stale,"
        "       coalesce(f.watermark::date,"
        "                (SELECT max(day) FROM tthc.commune_backlog_daily b"
        "                 WHERE b.province_code = c.province_code),"
        "                current_date) AS as_of_day,"
        "       h.open_dossiers, h.overdue_open, h.intake_backlog,"
        "       h.on_time_rate_30d, h.resolved_30d, h.received_7d,"
        "       h.resolved_7d "
        "FROM tthc.communes c"
        " JOIN tthc.provinces p ON p.code = c.province_code"
        " LEFT JOIN tthc.freshness f ON f.province_code = c.province_code"
        " LEFT JOIN tthc.commune_health h"
        "   ON h.province_code = c.province_code AND h.commune_code = c.code "
        "WHERE c.code = $1";

enum {
        H_CODE,
        H_NAME,
        H_NAME_EN,
        H_PROV,
        H_PNAME,
        H_PNAME_EN,
        H_VISIBLE,
        H_WM,
        H_STALE,
        H_DAY,
        H_OPEN,
        H_OVERDUE,
        H_INTAKE,
        H_RATE,
        H_RESOLVED30,
        H_RECEIVED7,
        H_RESOLVED7
};

/* 90 days: received and resolved by the commune's desk (receiving
 * commune), open and overdue of its agency (handling commune; null: no
 * backlog row that day). The hourly table is read by its index
 * (province, commune, hour). */
static const char tp_days_sql[] =
        "WITH d AS ("
        "  SELECT g::date AS day FROM generate_series($3::date - 89,"
        "         $3::date, interval '1 day') AS g"
        "), t AS ("
        "  SELECT (hour AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,"
        "         sum(received)::bigint AS received,"
        "         sum(resolved_early + resolved_on_time"
        "             + resolved_late)::bigint AS resolved"
        "  FROM tthc.commune_throughput_hourly"
        "  WHERE province_code = $1 AND commune_code = $2"
        "    AND hour >= ($3::date - 89)::timestamptz"
        "    AND hour < ($3::date + 1)::timestamptz"
        "  GROUP BY 1"
        ")"
        "SELECT d.day, coalesce(t.received, 0) AS received,"
        "       coalesce(t.resolved, 0) AS resolved, b.open, b.overdue,"
        "       b.intake_backlog "
        "FROM d LEFT JOIN t USING (day)"
        " LEFT JOIN tthc.commune_backlog_daily b"
        "   ON b.province_code = $1 AND b.commune_code = $2"
        "  AND b.day = d.day "
        "ORDER BY d.day";

/* The open overdue dossiers its agency handles, longest overdue first. */
static const char tp_overdue_sql[] =
        "SELECT o.dossier_id, o.procedure_code, o.procedure_name,"
        "       o.agency_code, o.received_at, o.original_due_at AS due_at,"
        "       $3::date - o.original_due_at::date AS days_overdue,"
        "       count(*) OVER () AS total "
        "FROM tthc.open_dossiers o "
        "WHERE o.province_code = $1 AND o.handling_commune_code = $2"
        "  AND o.overdue "
        "ORDER BY o.original_due_at, o.dossier_id LIMIT $4 OFFSET $5";

static const char tp_episodes_sql[] =
        "SELECT alert_id, rule, severity, status, value, threshold,"
        "       started_at, resolved_at, details->>'summary_vi' AS summary_vi,"
        "       details->>'summary_en' AS summary_en "
        "FROM tthc.alerts WHERE province_code = $1 AND commune_code = $2 "
        "ORDER BY status = 'firing' DESC, started_at DESC LIMIT 100";

static void tp_commune_kv(struct tp_web_req *r, const char *label,
                          const char *value, int pct)
{
        tp_buf_puts(r->b, "<div>");
        tp_web_text(r, label);
        tp_buf_puts(r->b, "<b>");
        if (pct)
                tp_web_pct(r, value);
        else
                tp_web_text(r, value);
        tp_buf_puts(r->b, "</b></div>");
}

static void tp_commune_figures(struct tp_web_req *r, const PGresult *c)
{
        tp_buf_puts(r->b, "<p>");
        tp_web_link(r, "/", NULL, tp_web_l(r, "Toàn quốc", "Nation"));
        tp_buf_puts(r->b, " › ");
        {
                char path[32];
                snprintf(path, sizeof(path), "/provinces/%s",
                         PQgetvalue(c, 0, H_PROV));
                tp_web_link(r, path, NULL, PQgetvalue(c, 0, H_PNAME));
        }
        tp_buf_printf(r->b, " · %s ", tp_web_l(r, "Dữ liệu đến", "Data up to"));
        tp_web_time(r, tp_pg_col_text(c, 0, H_WM));
        if (PQgetvalue(c, 0, H_STALE)[0] == 't')
                tp_buf_printf(r->b, " <span class=\"stale\">%s</span>",
                              tp_web_l(r, "(có thể trễ)", "(may be stale)"));
        tp_buf_puts(r->b, "</p><div class=\"kv\">");
        tp_commune_kv(r, tp_web_l(r, "Đang giải quyết", "Open"),
                      tp_pg_col_text(c, 0, H_OPEN), 0);
        tp_commune_kv(r, tp_web_l(r, "Quá hạn", "Overdue"),
                      tp_pg_col_text(c, 0, H_OVERDUE), 0);
        tp_commune_kv(r, tp_web_l(r, "Chờ tiếp nhận", "Intake backlog"),
                      tp_pg_col_text(c, 0, H_INTAKE), 0);
        tp_commune_kv(r, tp_web_l(r, "Đúng hạn 30 ngày", "On time, 30 days"),
                      tp_pg_col_text(c, 0, H_RATE), 1);
        tp_commune_kv(r, tp_web_l(r, "Giải quyết 30 ngày", "Resolved, 30 days"),
                      tp_pg_col_text(c, 0, H_RESOLVED30), 0);
        tp_buf_puts(r->b, "</div>");
}

static void tp_commune_charts(struct tp_web_req *r, const PGresult *days)
{
        size_t n = (size_t)PQntuples(days);
        double *v = tp_xcalloc(4 * n + 1, sizeof(*v));
        char first[16] = "", last[16] = "";
        struct tp_svg_series flow[2] = {
                {tp_web_l(r, "Tiếp nhận", "Received"), "#2563eb", v},
                {tp_web_l(r, "Giải quyết", "Resolved"), "#16a34a", v + n},
        };
        struct tp_svg_series backlog[2] = {
                {tp_web_l(r, "Đang giải quyết", "Open"), "#6b7280", v + 2 * n},
                {tp_web_l(r, "Quá hạn", "Overdue"), "#b91c1c", v + 3 * n},
        };

        for (size_t i = 0; i < n; i++) {
                v[i] = strtod(PQgetvalue(days, (int)i, 1), NULL);
                v[n + i] = strtod(PQgetvalue(days, (int)i, 2), NULL);
                v[2 * n + i] =
                        PQgetisnull(days, (int)i, 3)
                                ? -1
                                : strtod(PQgetvalue(days, (int)i, 3), NULL);
                v[3 * n + i] =
                        PQgetisnull(days, (int)i, 4)
                                ? -1
                                : strtod(PQgetvalue(days, (int)i, 4), NULL);
        }
        if (n > 0) {
                const char *a = PQgetvalue(days, 0, 0);
                const char *z = PQgetvalue(days, (int)n - 1, 0);
                snprintf(first, sizeof(first), "%.2s/%.2s", a + 8, a + 5);
                snprintf(last, sizeof(last), "%.2s/%.2s/%.4s", z + 8, z + 5, z);
        }
        tp_buf_printf(r->b, "<h2>%s</h2>",
                      tp_web_l(r, "Tiếp nhận và giải quyết mỗi ngày (90 ngày)",
                               "Received and resolved per day (90 days)"));
        tp_svg_lines(r->b,
                     tp_web_l(r, "Tiếp nhận và giải quyết mỗi ngày",
                              "Received and resolved per day"),
                     flow, 2, n, first, last);
        tp_buf_printf(r->b, "<h2>%s</h2>",
                      tp_web_l(r, "Hồ sơ tồn và quá hạn cuối ngày (90 ngày)",
                               "Open and overdue at each day's end "
                               "(90 days)"));
        tp_svg_lines(
                r->b,
                tp_web_l(r, "Hồ sơ tồn và quá hạn", "Open and overdue backlog"),
                backlog, 2, n, first, last);
        free(v);
}

static void tp_commune_overdue(struct tp_web_req *r, const char *code,
                               const PGresult *res)
{
        long total = PQntuples(res) ? atol(PQgetvalue(res, 0, 7)) : 0;
        char path[32];

        tp_buf_printf(r->b, "<h2>%s (%ld)</h2>",
                      tp_web_l(r, "Hồ sơ quá hạn đang giải quyết",
                               "Open overdue dossiers"),
                      total);
        if (total == 0) {
                tp_buf_printf(r->b, "<p>%s</p>",
                              tp_web_l(r, "Không có hồ sơ quá hạn.",
                                       "No overdue dossier."));
                return;
        }
        tp_buf_printf(r->b,
                      "<div class=\"box\"><table><thead><tr><th>%s</th>"
                      "<th class=\"n\">%s</th><th>%s</th><th>%s</th>"
                      "<th>%s</th></tr></thead><tbody>",
                      tp_web_l(r, "Mã hồ sơ", "Dossier id"),
                      tp_web_l(r, "Ngày quá hạn", "Days overdue"),
                      tp_web_l(r, "Thủ tục", "Procedure"),
                      tp_web_l(r, "Cơ quan xử lý", "Handling agency"),
                      tp_web_l(r, "Hạn xử lý", "Due"));
        for (int i = 0; i < PQntuples(res); i++) {
                tp_buf_puts(r->b, "<tr><td class=\"id\">");
                tp_web_text(r, PQgetvalue(res, i, 0));
                tp_buf_printf(r->b, "</td><td class=\"n\">%s</td><td>",
                              PQgetvalue(res, i, 6));
                tp_web_text(r, tp_pg_col_text(res, i, 2)
                                       ? tp_pg_col_text(res, i, 2)
                                       : PQgetvalue(res, i, 1));
                tp_buf_puts(r->b, "</td><td>");
                tp_web_text(r, tp_pg_col_text(res, i, 3));
                tp_buf_puts(r->b, "</td><td>");
                tp_web_time(r, tp_pg_col_text(res, i, 5));
                tp_buf_puts(r->b, "</td></tr>");
        }
        tp_buf_puts(r->b, "</tbody></table></div>");
        snprintf(path, sizeof(path), "/communes/%s", code);
        tp_web_pager(r, path, NULL, total);
}

static void tp_commune_episodes(struct tp_web_req *r, const PGresult *res)
{
        tp_buf_printf(r->b, "<h2>%s</h2>",
                      tp_web_l(r, "Các đợt cảnh báo", "Alert episodes"));
        if (PQntuples(res) == 0) {
                tp_buf_printf(
                        r->b, "<p>%s</p>",
                        tp_web_l(r, "Chưa có cảnh báo.", "No alert so far."));
                return;
        }
        tp_buf_printf(r->b,
                      "<div class=\"box\"><table><thead><tr><th>%s</th>"
                      "<th>%s</th><th class=\"n\">%s</th>"
                      "<th class=\"n\">%s</th><th>%s</th><th>%s</th>"
                      "</tr></thead><tbody>",
                      tp_web_l(r, "Quy tắc", "Rule"),
                      tp_web_l(r, "Mức độ", "Severity"),
                      tp_web_l(r, "Giá trị", "Value"),
                      tp_web_l(r, "Ngưỡng", "Threshold"),
                      tp_web_l(r, "Bắt đầu", "Started"),
                      tp_web_l(r, "Kết thúc", "Resolved"));
        for (int i = 0; i < PQntuples(res); i++) {
                char v1[TP_WEB_NUM], v2[TP_WEB_NUM];
                int firing = strcmp(PQgetvalue(res, i, 3), "firing") == 0;
                int crit = strcmp(PQgetvalue(res, i, 2), "critical") == 0;
                tp_buf_puts(r->b, "<tr><td>");
                tp_web_text(r, tp_web_rule(r, PQgetvalue(res, i, 1)));
                tp_buf_printf(r->b, "</td><td><span class=\"%s\">",
                              firing ? (crit ? "crit" : "warn") : "muted");
                tp_web_text(r, tp_web_severity(r, PQgetvalue(res, i, 2)));
                if (firing)
                        tp_buf_printf(r->b, " · %s",
                                      tp_web_l(r, "đang diễn ra", "firing"));
                tp_buf_printf(r->b,
                              "</span></td><td class=\"n\">%s</td>"
                              "<td class=\"n\">%s</td><td>",
                              tp_web_num(r, PQgetvalue(res, i, 4), v1),
                              tp_web_num(r, PQgetvalue(res, i, 5), v2));
                tp_web_time(r, PQgetvalue(res, i, 6));
                tp_buf_puts(r->b, "</td><td>");
                if (!firing)
                        tp_web_time(r, tp_pg_col_text(res, i, 7));
                tp_buf_puts(r->b, "</td></tr>");
                if (tp_pg_col_text(res, i, r->en ? 9 : 8)) {
                        tp_buf_puts(r->b, "<tr><td colspan=\"6\" "
                                          "class=\"muted sum\">");
                        tp_web_text(r, PQgetvalue(res, i, r->en ? 9 : 8));
                        tp_buf_puts(r->b, "</td></tr>");
                }
        }
        tp_buf_puts(r->b, "</tbody></table></div>");
}

static void tp_commune_json(struct tp_web_req *r, const PGresult *c,
                            const PGresult *days, const PGresult *overdue,
                            const PGresult *episodes)
{
        json_t *doc = json_object(), *h = tp_web_json_rows(c);
        json_object_set(doc, "commune", json_array_get(h, 0));
        json_decref(h);
        json_object_set_new(doc, "days", tp_web_json_rows(days));
        json_object_set_new(
                doc, "overdue_total",
                json_integer(PQntuples(overdue)
                                     ? atol(PQgetvalue(overdue, 0, 7))
                                     : 0));
        json_object_set_new(doc, "page", json_integer(r->page));
        json_object_set_new(doc, "page_size", json_integer(r->opts->page_size));
        json_object_set_new(doc, "overdue_dossiers", tp_web_json_rows(overdue));
        json_object_set_new(doc, "alerts", tp_web_json_rows(episodes));
        tp_web_json_send(r, doc);
}

void tp_web_page_commune(struct tp_web_req *r, const char *code)
{
        PGresult *c = NULL, *days = NULL, *overdue = NULL, *episodes = NULL;
        char err[512], limit[16], offset[24];
        const char *params[5] = {NULL, code, NULL, limit, offset};

        c = tp_pg_query(r->conn, tp_commune_sql, 1, &params[1], "commune page",
                        err, sizeof(err));
        if (!c)
                goto db_fail;
        if (PQntuples(c) == 0) {
                tp_web_error(r, 404, "Không có xã/phường mã này.",
                             "There is no commune with this code.");
                goto out;
        }
        if (PQgetvalue(c, 0, H_VISIBLE)[0] != 't') {
                tp_web_error(r, 403,
                             "Tài khoản của bạn không xem được tỉnh của xã "
                             "này.",
                             "Your account cannot see this commune's "
                             "province.");
                goto out;
        }
        params[0] = PQgetvalue(c, 0, H_PROV);
        params[2] = PQgetvalue(c, 0, H_DAY);
        snprintf(limit, sizeof(limit), "%d", r->opts->page_size);
        snprintf(offset, sizeof(offset), "%ld",
                 (r->page - 1) * r->opts->page_size);
        days = tp_pg_query(r->conn, tp_days_sql, 3, params, "commune days", err,
                           sizeof(err));
        if (!days)
                goto db_fail;
        overdue = tp_pg_query(r->conn, tp_overdue_sql, 5, params,
                              "overdue dossiers", err, sizeof(err));
        if (!overdue)
                goto db_fail;
        episodes = tp_pg_query(r->conn, tp_episodes_sql, 2, params,
                               "alert episodes", err, sizeof(err));
        if (!episodes)
                goto db_fail;
        if (r->json) {
                tp_commune_json(r, c, days, overdue, episodes);
                goto out;
        }
        tp_web_begin(r, PQgetvalue(c, 0, H_NAME));
        tp_commune_figures(r, c);
        tp_commune_episodes(r, episodes);
        tp_commune_overdue(r, code, overdue);
        tp_commune_charts(r, days);
        tp_web_end(r);
        goto out;
db_fail:
        tp_web_db_error(r, "a commune page", err);
out:
        PQclear(episodes);
        PQclear(overdue);
        PQclear(days);
        PQclear(c);
}
