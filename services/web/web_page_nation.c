/* web_page_nation.c - "/": every province the role sees, worst first:
 * feed freshness, this month's received and resolved dossiers and
 * on-time rate, communes with a firing alert by severity, and a bar chart
 * of the share of each province's communes alerting. */
#include "web_int.h"
#include "pgutil.h"
#include "svg.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "This month" is the Vietnam days from the first of the Vietnam month
 * of the province's watermark up to the watermark's Vietnam day, that day
 * whole (event time, as every figure here: a replayed or late stream
 * shows its own month, never an empty one). Whole days, not the hours up
 * to the watermark: the figures come from tthc.province_throughput_daily
 * (migration 020), at most 31 rows per province, where the hourly rows
 * cost a row per commune and hour (about 1M by the end of a month on a
 * national year, 100-500 ms a page). Received and resolved count the
 * receiving desks; the on-time rate is theirs: resolved early or on time
 * / resolved (docs/analysts.md, "Which commune a figure counts"). The
 * session is in Vietnam time, so date_trunc cuts Vietnam months; the
 * days are cut explicitly all the same, as the table's are. */
static const char tp_nation_sql[] =
        "WITH f AS ("
        "  SELECT province_code, watermark, stale,"
        "         date_trunc('month', watermark) AS month_start,"
        "         (watermark AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS wm_day"
        "  FROM tthc.freshness"
        "), m AS ("
        "  SELECT t.province_code, sum(t.received)::bigint AS received,"
        "         sum(t.resolved_early + t.resolved_on_time"
        "             + t.resolved_late)::bigint AS resolved,"
        "         sum(t.resolved_early + t.resolved_on_time)::bigint AS ok"
        "  FROM tthc.province_throughput_daily t JOIN f USING (province_code)"
        "  WHERE t.day >= date_trunc('month', f.wm_day::timestamp)::date"
        "    AND t.day <= f.wm_day"
        "  GROUP BY t.province_code"
        "), a AS ("
        "  SELECT province_code,"
        "         count(DISTINCT commune_code) AS alerting,"
        "         count(DISTINCT commune_code) FILTER"
        "             (WHERE severity = 'critical') AS critical"
        "  FROM tthc.alerts"
        "  WHERE status = 'firing' AND commune_code IS NOT NULL"
        "  GROUP BY province_code"
        "), c AS ("
        "  SELECT province_code, count(*) AS communes FROM tthc.communes"
        "  GROUP BY province_code"
        ")"
        "SELECT p.code AS province_code, p.name AS province_name,"
        "       p.name_en AS province_name_en, c.communes,"
        "       f.watermark,"
        "       round((extract(epoch FROM now() - f.watermark) / 3600)"
        "             ::numeric, 1) AS watermark_age_hours,"
        "       f.stale, to_char(f.month_start, 'YYYY-MM') AS month,"
        "       coalesce(m.received, 0) AS received_month,"
        "       coalesce(m.resolved, 0) AS resolved_month,"
        "       round(100.0 * m.ok / nullif(m.resolved, 0), 1)"
        "           AS on_time_rate_month,"
        "       coalesce(a.critical, 0) AS communes_critical,"
        "       coalesce(a.alerting, 0) - coalesce(a.critical, 0)"
        "           AS communes_warning,"
        "       round(100.0 * coalesce(a.alerting, 0)"
        "             / nullif(c.communes, 0), 1) AS communes_alerting_pct "
        "FROM tthc.provinces p"
        " LEFT JOIN f ON f.province_code = p.code"
        " LEFT JOIN m ON m.province_code = p.code"
        " LEFT JOIN a ON a.province_code = p.code"
        " LEFT JOIN c ON c.province_code = p.code "
        "WHERE p.code IN (SELECT tthc.visible_provinces()) "
        "ORDER BY communes_critical DESC, coalesce(a.alerting, 0) DESC,"
        "         on_time_rate_month ASC NULLS LAST, p.code";

enum {
        C_CODE,
        C_NAME,
        C_NAME_EN,
        C_COMMUNES,
        C_WM,
        C_AGE,
        C_STALE,
        C_MONTH,
        C_RECEIVED,
        C_RESOLVED,
        C_RATE,
        C_CRIT,
        C_WARN,
        C_PCT
};

static void tp_nation_chart(struct tp_web_req *r, const PGresult *res)
{
        int n = PQntuples(res), k = 0;
        struct tp_svg_bar *bars = tp_xcalloc((size_t)n + 1, sizeof(*bars));
        char(*text)[64] = tp_xcalloc((size_t)n + 1, sizeof(*text));
        char pct[32];
        char(*href)[32] = tp_xcalloc((size_t)n + 1, sizeof(*href));

        for (int i = 0; i < n; i++) {
                int crit = tp_pg_col_int(res, i, C_CRIT);
                int warn = tp_pg_col_int(res, i, C_WARN);
                if (crit + warn == 0)
                        continue;
                tp_web_number(r, strtod(PQgetvalue(res, i, C_PCT), NULL), "%",
                              pct, sizeof(pct));
                snprintf(text[k], sizeof(text[k]), "%s (%d/%s)", pct,
                         crit + warn, PQgetvalue(res, i, C_COMMUNES));
                snprintf(href[k], sizeof(href[k]), "/provinces/%s%s",
                         PQgetvalue(res, i, C_CODE), r->en ? "?lang=en" : "");
                bars[k].label = PQgetvalue(res, i, C_NAME);
                bars[k].href = href[k];
                bars[k].share = strtod(PQgetvalue(res, i, C_PCT), NULL) / 100;
                bars[k].text = text[k];
                bars[k].color = crit ? "#b91c1c" : "#d97706";
                k++;
        }
        tp_buf_printf(r->b, "<h2>%s</h2>",
                      tp_web_l(r, "Tỉnh có xã đang bị cảnh báo (tỷ lệ xã)",
                               "Provinces with communes alerting (share of "
                               "communes)"));
        if (k == 0)
                tp_buf_printf(r->b, "<p>%s</p>",
                              tp_web_l(r, "Không tỉnh nào có xã bị cảnh báo.",
                                       "No province has a commune alerting."));
        else
                tp_svg_hbars(r->b,
                             tp_web_l(r, "Tỷ lệ xã đang bị cảnh báo",
                                      "Share of communes alerting"),
                             bars, (size_t)k);
        free(bars);
        free(text);
        free(href);
}

/* A count cell, as a badge of class cls when not 0. */
static void tp_nation_count(struct tp_web_req *r, const PGresult *res, int i,
                            int col, const char *cls)
{
        if (tp_pg_col_int(res, i, col))
                tp_buf_printf(r->b,
                              "<td class=\"n\"><span class=\"%s\">%s</span>"
                              "</td>",
                              cls, PQgetvalue(res, i, col));
        else
                tp_buf_puts(r->b, "<td class=\"n\">0</td>");
}

/* The feed's freshness: the watermark and its age, red when stale. */
static void tp_nation_fresh(struct tp_web_req *r, const PGresult *res, int i)
{
        int stale = PQgetvalue(res, i, C_STALE)[0] == 't';
        if (PQgetisnull(res, i, C_WM)) {
                tp_buf_printf(r->b, "<span class=\"muted\">%s</span>",
                              tp_web_l(r, "chưa có dữ liệu", "no data yet"));
                return;
        }
        if (stale)
                tp_buf_puts(r->b, "<span class=\"stale\">");
        tp_web_time(r, PQgetvalue(res, i, C_WM));
        tp_buf_puts(r->b, " (");
        tp_web_age(r, PQgetvalue(res, i, C_AGE));
        tp_buf_puts(r->b, ")");
        if (stale)
                tp_buf_printf(r->b, " %s</span>", tp_web_l(r, "trễ", "stale"));
}

/* Worst first, and the columns that say who is behind first (a phone
 * shows those without scrolling). */
static void tp_nation_table(struct tp_web_req *r, const PGresult *res)
{
        tp_buf_printf(
                r->b,
                "<h2>%s</h2><div class=\"box\"><table><thead><tr>"
                "<th>%s</th><th class=\"n\">%s</th><th class=\"n\">%s</th>"
                "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
                "<th class=\"n\">%s</th><th>%s</th>"
                "</tr></thead><tbody>",
                tp_web_l(r, "Các tỉnh, thành phố", "Provinces"),
                tp_web_l(r, "Tỉnh/thành", "Province"),
                tp_web_l(r, "Xã nghiêm trọng", "Communes critical"),
                tp_web_l(r, "Xã cảnh báo", "Communes warning"),
                tp_web_l(r, "Đúng hạn", "On time"),
                tp_web_l(r, "Tiếp nhận trong tháng", "Received this month"),
                tp_web_l(r, "Giải quyết trong tháng", "Resolved this month"),
                tp_web_l(r, "Dữ liệu đến (độ trễ)", "Data up to (age)"));
        for (int i = 0; i < PQntuples(res); i++) {
                char path[32];
                snprintf(path, sizeof(path), "/provinces/%s",
                         PQgetvalue(res, i, C_CODE));
                tp_buf_puts(r->b, "<tr><td>");
                tp_web_link(r, path, NULL, PQgetvalue(res, i, C_NAME));
                tp_buf_puts(r->b, "</td>");
                tp_nation_count(r, res, i, C_CRIT, "crit");
                tp_nation_count(r, res, i, C_WARN, "warn");
                tp_buf_puts(r->b, "<td class=\"n\">");
                tp_web_pct(r, tp_pg_col_text(res, i, C_RATE));
                tp_buf_printf(r->b,
                              "</td><td class=\"n\">%s</td>"
                              "<td class=\"n\">%s</td><td>",
                              PQgetvalue(res, i, C_RECEIVED),
                              PQgetvalue(res, i, C_RESOLVED));
                tp_nation_fresh(r, res, i);
                tp_buf_puts(r->b, "</td></tr>");
        }
        tp_buf_puts(r->b, "</tbody></table></div>");
}

void tp_web_page_nation(struct tp_web_req *r)
{
        char err[512];
        struct tp_web_shared *sh = tp_web_cache_get(r->cache, r->role);
        const PGresult *res;

        if (!sh) {
                PGresult *fresh =
                        tp_pg_query(r->conn, tp_nation_sql, 0, NULL,
                                    "national page", err, sizeof(err));
                if (!fresh) {
                        tp_web_db_error(r, "/", err);
                        return;
                }
                sh = tp_web_cache_put(r->cache, r->role, fresh);
        }
        res = tp_web_shared_res(sh);
        if (r->json) {
                json_t *doc = json_object();
                json_object_set_new(doc, "provinces", tp_web_json_rows(res));
                tp_web_json_send(r, doc);
        } else {
                tp_web_begin(r, PQntuples(res) == 1 ? PQgetvalue(res, 0, C_NAME)
                                                    : tp_web_l(r, "Toàn quốc",
                                                               "The nation"));
                tp_buf_printf(r->b, "<p class=\"muted\">%s</p>",
                              tp_web_l(r,
                                       "Tháng: tháng của mốc dữ liệu từng "
                                       "tỉnh. Đúng hạn: hồ sơ giải quyết "
                                       "sớm hoặc đúng hạn / hồ sơ đã giải "
                                       "quyết, theo xã tiếp nhận.",
                                       "Month: the month of each province's "
                                       "watermark. On time: resolved early "
                                       "or on time / resolved, by receiving "
                                       "commune."));
                tp_nation_chart(r, res);
                tp_nation_table(r, res);
                tp_web_end(r);
        }
        tp_web_cache_release(r->cache, sh);
}
