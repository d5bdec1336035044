/* web_page_province.c - "/provinces/<code>": its communes with open,
 * overdue and intake backlog, the 30-day on-time rate and firing alerts
 * (tthc.commune_health: the handling commune, docs/analysts.md), a
 * 30-day open backlog sparkline (tthc.commune_backlog_daily); sortable
 * with ?sort=, paginated with ?page=. */
#include "web_int.h"
#include "pgutil.h"
#include "svg.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char tp_province_sql[] =
        "SELECT p.code AS province_code, p.name AS province_name,"
        "       p.name_en AS province_name_en,"
        "       p.code IN (SELECT tthc.visible_provinces()) AS visible,"
        "       f.watermark, f.stale,"
        "       (SELECT count(*) FROM tthc.communes c"
        "        WHERE c.province_code = p.code) AS communes "
        "FROM tthc.provinces p"
        " LEFT JOIN tthc.freshness f ON f.province_code = p.code "
        "WHERE p.code = $1";

/* ?sort= -> ORDER BY (a fixed list: nothing from the request reaches
 * the SQL text). Worst first by default. */
static const char *const tp_province_sorts[][2] = {
        {"alerts", "cardinality(h.firing_rules) DESC, h.overdue_open DESC"},
        {"name", "c.name"},
        {"open", "h.open_dossiers DESC"},
        {"overdue", "h.overdue_open DESC"},
        {"intake", "h.intake_backlog DESC"},
        {"rate", "h.on_time_rate_30d ASC NULLS LAST"},
};

static const char tp_communes_sql[] =
        "WITH last AS ("
        "  SELECT max(day) AS day FROM tthc.commune_backlog_daily"
        "  WHERE province_code = $1"
        ")"
        "SELECT c.code AS commune_code, c.full_name AS commune_name,"
        "       c.full_name_en AS commune_name_en,"
        "       coalesce(h.open_dossiers, 0) AS open_dossiers,"
        "       coalesce(h.overdue_open, 0) AS overdue_open,"
        "       coalesce(h.intake_backlog, 0) AS intake_backlog,"
        "       h.on_time_rate_30d, coalesce(h.resolved_30d, 0)"
        "           AS resolved_30d,"
        "       array_to_string(h.firing_rules, ',') AS firing,"
        "       (SELECT string_agg(b.open::text, ',' ORDER BY b.day)"
        "        FROM tthc.commune_backlog_daily b, last"
        "        WHERE b.province_code = c.province_code"
        "          AND b.commune_code = c.code"
        "          AND b.day > last.day - 30) AS open_30d "
        "FROM tthc.communes c"
        " LEFT JOIN tthc.commune_health h"
        "   ON h.province_code = c.province_code AND h.commune_code = c.code "
        "WHERE c.province_code = $1 "
        "ORDER BY %s, c.code LIMIT $2 OFFSET $3";

enum {
        K_CODE,
        K_NAME,
        K_NAME_EN,
        K_OPEN,
        K_OVERDUE,
        K_INTAKE,
        K_RATE,
        K_RESOLVED,
        K_FIRING,
        K_SPARK
};

/* The firing rules ("overdue_backlog:critical,...") as badges. */
static void tp_province_firing(struct tp_web_req *r, const char *firing)
{
        char *copy = tp_xstrdup(firing), *save = NULL, *tok;
        for (tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(tok, ':');
                int crit = colon && strcmp(colon + 1, "critical") == 0;
                if (colon)
                        *colon = '\0';
                tp_buf_printf(r->b, "<span class=\"%s\">",
                              crit ? "crit" : "warn");
                tp_web_text(r, tp_web_rule(r, tok));
                tp_buf_puts(r->b, "</span> ");
        }
        free(copy);
}

static void tp_province_spark(struct tp_web_req *r, const char *csv)
{
        double v[64];
        size_t n = 0;
        const char *p = csv;
        while (p && *p && n < TP_ARRAY_LEN(v)) {
                char *end;
                v[n++] = strtod(p, &end);
                p = *end == ',' ? end + 1 : NULL;
        }
        if (n > 1)
                tp_svg_sparkline(r->b,
                                 tp_web_l(r, "Hồ sơ tồn 30 ngày",
                                          "Open backlog, 30 days"),
                                 v, n);
}

static void tp_province_head(struct tp_web_req *r, const char *code,
                             const char *sort)
{
        static const char *const cols[][3] = {
                {"name", "Xã/phường", "Commune"},
                {"open", "Đang giải quyết", "Open"},
                {"overdue", "Quá hạn", "Overdue"},
                {"intake", "Chờ tiếp nhận", "Intake backlog"},
                {"rate", "Đúng hạn 30 ngày", "On time, 30 days"},
        };
        char path[32], q[32];
        snprintf(path, sizeof(path), "/provinces/%s", code);
        tp_buf_puts(r->b, "<div class=\"box\"><table><thead><tr>");
        for (size_t i = 0; i < TP_ARRAY_LEN(cols); i++) {
                snprintf(q, sizeof(q), "sort=%s", cols[i][0]);
                tp_buf_printf(r->b, "<th%s>",
                              i >= 1 && i <= 4 ? " class=\"n\"" : "");
                if (strcmp(sort, cols[i][0]) == 0)
                        tp_buf_puts(r->b, "▾ ");
                tp_web_link(r, path, q, cols[i][r->en ? 2 : 1]);
                tp_buf_puts(r->b, "</th>");
        }
        tp_buf_printf(r->b, "<th>%s</th><th class=\"tags\">",
                      tp_web_l(r, "Tồn 30 ngày", "Backlog, 30 days"));
        if (strcmp(sort, "alerts") == 0)
                tp_buf_puts(r->b, "▾ ");
        snprintf(q, sizeof(q), "sort=alerts");
        tp_web_link(r, path, q, tp_web_l(r, "Cảnh báo", "Alerts"));
        tp_buf_puts(r->b, "</th></tr></thead><tbody>");
}

static void tp_province_rows(struct tp_web_req *r, const PGresult *res)
{
        for (int i = 0; i < PQntuples(res); i++) {
                char path[32];
                snprintf(path, sizeof(path), "/communes/%s",
                         PQgetvalue(res, i, K_CODE));
                tp_buf_puts(r->b, "<tr><td>");
                tp_web_link(r, path, NULL, PQgetvalue(res, i, K_NAME));
                /* on a phone, the alerts under the name (see the style) */
                tp_buf_puts(r->b, "<div class=\"ph\">");
                tp_province_firing(r, PQgetvalue(res, i, K_FIRING));
                tp_buf_puts(r->b, "</div>");
                tp_buf_printf(r->b,
                              "</td><td class=\"n\">%s</td>"
                              "<td class=\"n\">%s</td>"
                              "<td class=\"n\">%s</td><td class=\"n\">",
                              PQgetvalue(res, i, K_OPEN),
                              PQgetvalue(res, i, K_OVERDUE),
                              PQgetvalue(res, i, K_INTAKE));
                tp_web_pct(r, tp_pg_col_text(res, i, K_RATE));
                tp_buf_puts(r->b, "</td><td>");
                tp_province_spark(r, tp_pg_col_text(res, i, K_SPARK));
                tp_buf_puts(r->b, "</td><td class=\"tags\">");
                tp_province_firing(r, PQgetvalue(res, i, K_FIRING));
                tp_buf_puts(r->b, "</td></tr>");
        }
        tp_buf_puts(r->b, "</tbody></table></div>");
}

void tp_web_page_province(struct tp_web_req *r, const char *code)
{
        const char *sort = tp_httpd_req_arg(r->http, "sort");
        const char *order = NULL;
        char err[512], sql[sizeof(tp_communes_sql) + 128], limit[16],
                offset[24], q[32];
        const char *params[3] = {code, limit, offset};
        PGresult *prov = NULL, *res = NULL;

        if (!sort)
                sort = "alerts";
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_province_sorts); i++)
                if (strcmp(sort, tp_province_sorts[i][0]) == 0)
                        order = tp_province_sorts[i][1];
        if (!order) {
                tp_web_error(r, 400,
                             "sort phải là name, open, overdue, intake, "
                             "rate hoặc alerts.",
                             "sort must be name, open, overdue, intake, "
                             "rate or alerts.");
                return;
        }
        prov = tp_pg_query(r->conn, tp_province_sql, 1, params, "province page",
                           err, sizeof(err));
        if (!prov)
                goto db_fail;
        if (PQntuples(prov) == 0) {
                tp_web_error(r, 404, "Không có tỉnh/thành phố mã này.",
                             "There is no province with this code.");
                goto out;
        }
        if (PQgetvalue(prov, 0, 3)[0] != 't') {
                tp_web_error(r, 403,
                             "Tài khoản của bạn không xem được tỉnh này.",
                             "Your account cannot see this province.");
                goto out;
        }
        snprintf(limit, sizeof(limit), "%d", r->opts->page_size);
        snprintf(offset, sizeof(offset), "%ld",
                 (r->page - 1) * r->opts->page_size);
        snprintf(sql, sizeof(sql), tp_communes_sql, order);
        res = tp_pg_query(r->conn, sql, 3, params, "province communes", err,
                          sizeof(err));
        if (!res)
                goto db_fail;
        if (r->json) {
                json_t *doc = json_object(), *p = tp_web_json_rows(prov);
                json_object_set(doc, "province", json_array_get(p, 0));
                json_decref(p);
                json_object_set_new(doc, "page", json_integer(r->page));
                json_object_set_new(doc, "page_size",
                                    json_integer(r->opts->page_size));
                json_object_set_new(doc, "communes", tp_web_json_rows(res));
                tp_web_json_send(r, doc);
                goto out;
        }
        tp_web_begin(r, PQgetvalue(prov, 0, 1));
        tp_buf_printf(r->b, "<p>%s ", tp_web_l(r, "Dữ liệu đến", "Data up to"));
        tp_web_time(r, tp_pg_col_text(prov, 0, 4));
        tp_buf_printf(r->b, " · %s %s · %s</p>", PQgetvalue(prov, 0, 6),
                      tp_web_l(r, "xã", "communes"),
                      tp_web_l(r,
                               "Theo xã xử lý hồ sơ; đúng hạn 30 ngày trước "
                               "mốc dữ liệu.",
                               "By handling commune; on time over the 30 "
                               "days before the watermark."));
        tp_province_head(r, code, sort);
        tp_province_rows(r, res);
        snprintf(q, sizeof(q), "sort=%s", sort);
        {
                char path[32];
                snprintf(path, sizeof(path), "/provinces/%s", code);
                tp_web_pager(r, path, q, atol(PQgetvalue(prov, 0, 6)));
        }
        tp_web_end(r);
        goto out;
db_fail:
        tp_web_db_error(r, "a province page", err);
out:
        PQclear(res);
        PQclear(prov);
}
