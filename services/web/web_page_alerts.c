/* web_page_alerts.c - "/alerts": the firing alerts, newest first,
 * filtered by ?province= and ?severity= (a plain GET form), paginated. */
#include "web_int.h"
#include "pgutil.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char tp_alerts_sql[] =
        "SELECT a.alert_id, a.province_code, p.name AS province_name,"
        "       p.name_en AS province_name_en, a.commune_code,"
        "       c.full_name AS commune_name,"
        "       c.full_name_en AS commune_name_en, a.rule, a.severity,"
        "       a.value, a.threshold, a.started_at,"
        "       a.details->>'summary_vi' AS summary_vi,"
        "       a.details->>'summary_en' AS summary_en,"
        "       count(*) OVER () AS total "
        "FROM tthc.alerts a"
        " JOIN tthc.provinces p ON p.code = a.province_code"
        " LEFT JOIN tthc.communes c ON c.code = a.commune_code "
        "WHERE a.status = 'firing'"
        "  AND ($1::text IS NULL OR a.province_code = $1)"
        "  AND ($2::text IS NULL OR a.severity = $2) "
        "ORDER BY a.started_at DESC, a.alert_id LIMIT $3 OFFSET $4";

static const char tp_alerts_provinces_sql[] =
        "SELECT code, name, name_en FROM tthc.provinces"
        " WHERE code IN (SELECT tthc.visible_provinces()) ORDER BY name";

enum {
        A_ID,
        A_PROV,
        A_PNAME,
        A_PNAME_EN,
        A_COMMUNE,
        A_CNAME,
        A_CNAME_EN,
        A_RULE,
        A_SEV,
        A_VALUE,
        A_THRESHOLD,
        A_STARTED,
        A_SUM_VI,
        A_SUM_EN,
        A_TOTAL
};

static void tp_alerts_form(struct tp_web_req *r, const PGresult *provs,
                           const char *province, const char *severity)
{
        static const char *const sevs[][3] = {
                {"", "Mọi mức độ", "Any severity"},
                {"critical", "Nghiêm trọng", "Critical"},
                {"warning", "Cảnh báo", "Warning"},
        };
        tp_buf_printf(r->b,
                      "<form method=\"get\" action=\"/alerts\">"
                      "<select name=\"province\" aria-label=\"%s\">"
                      "<option value=\"\">%s</option>",
                      tp_web_l(r, "Tỉnh", "Province"),
                      tp_web_l(r, "Mọi tỉnh", "Every province"));
        for (int i = 0; i < PQntuples(provs); i++) {
                const char *code = PQgetvalue(provs, i, 0);
                tp_buf_printf(r->b, "<option value=\"%s\"%s>", code,
                              province && strcmp(province, code) == 0
                                      ? " selected"
                                      : "");
                tp_web_text(r, PQgetvalue(provs, i, 1));
                tp_buf_puts(r->b, "</option>");
        }
        tp_buf_printf(r->b,
                      "</select> <select name=\"severity\" "
                      "aria-label=\"%s\">",
                      tp_web_l(r, "Mức độ", "Severity"));
        for (size_t i = 0; i < TP_ARRAY_LEN(sevs); i++)
                tp_buf_printf(r->b, "<option value=\"%s\"%s>%s</option>",
                              sevs[i][0],
                              severity && strcmp(severity, sevs[i][0]) == 0
                                      ? " selected"
                                      : "",
                              sevs[i][r->en ? 2 : 1]);
        tp_buf_printf(r->b, "</select>%s <button>%s</button></form>",
                      r->en ? "<input type=\"hidden\" name=\"lang\" "
                              "value=\"en\">"
                            : "",
                      tp_web_l(r, "Lọc", "Filter"));
}

static void tp_alerts_table(struct tp_web_req *r, const PGresult *res)
{
        tp_buf_printf(r->b,
                      "<div class=\"box\"><table><thead><tr><th>%s</th>"
                      "<th>%s</th><th>%s</th>"
                      "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
                      "<th>%s</th><th>%s</th></tr></thead><tbody>",
                      tp_web_l(r, "Bắt đầu", "Started"),
                      tp_web_l(r, "Xã/phường", "Commune"),
                      tp_web_l(r, "Quy tắc", "Rule"),
                      tp_web_l(r, "Giá trị", "Value"),
                      tp_web_l(r, "Ngưỡng", "Threshold"),
                      tp_web_l(r, "Mức độ", "Severity"),
                      tp_web_l(r, "Tỉnh", "Province"));
        for (int i = 0; i < PQntuples(res); i++) {
                char path[32], v1[TP_WEB_NUM], v2[TP_WEB_NUM];
                int crit = strcmp(PQgetvalue(res, i, A_SEV), "critical") == 0;
                tp_buf_puts(r->b, "<tr><td>");
                tp_web_time(r, PQgetvalue(res, i, A_STARTED));
                tp_buf_puts(r->b, "</td><td>");
                if (!PQgetisnull(res, i, A_COMMUNE)) {
                        snprintf(path, sizeof(path), "/communes/%s",
                                 PQgetvalue(res, i, A_COMMUNE));
                        tp_web_link(r, path, NULL, PQgetvalue(res, i, A_CNAME));
                }
                tp_buf_printf(r->b, "</td><td><span class=\"%s\">",
                              crit ? "crit" : "warn");
                tp_web_text(r, tp_web_rule(r, PQgetvalue(res, i, A_RULE)));
                tp_buf_puts(r->b, "</span>");
                tp_buf_printf(
                        r->b,
                        "</td><td class=\"n\">%s</td>"
                        "<td class=\"n\">%s</td>"
                        "<td>",
                        tp_web_num(r, PQgetvalue(res, i, A_VALUE), v1),
                        tp_web_num(r, PQgetvalue(res, i, A_THRESHOLD), v2));
                tp_web_text(r, tp_web_severity(r, PQgetvalue(res, i, A_SEV)));
                tp_buf_puts(r->b, "</td><td>");
                snprintf(path, sizeof(path), "/provinces/%s",
                         PQgetvalue(res, i, A_PROV));
                tp_web_link(r, path, NULL, PQgetvalue(res, i, A_PNAME));
                tp_buf_puts(r->b, "</td></tr>");
        }
        tp_buf_puts(r->b, "</tbody></table></div>");
}

void tp_web_page_alerts(struct tp_web_req *r)
{
        const char *province = tp_httpd_req_arg(r->http, "province");
        const char *severity = tp_httpd_req_arg(r->http, "severity");
        char err[512], limit[16], offset[24], query[64];
        const char *params[4] = {NULL, NULL, limit, offset};
        PGresult *res = NULL, *provs = NULL;
        long total;

        if (province && *province &&
            (strlen(province) != 2 || !isdigit((unsigned char)province[0]) ||
             !isdigit((unsigned char)province[1]))) {
                tp_web_error(r, 400, "Mã tỉnh gồm đúng 2 chữ số.",
                             "A province code is exactly 2 digits.");
                return;
        }
        if (severity && *severity && strcmp(severity, "warning") != 0 &&
            strcmp(severity, "critical") != 0) {
                tp_web_error(r, 400, "severity phải là warning hoặc critical.",
                             "severity must be warning or critical.");
                return;
        }
        params[0] = province && *province ? province : NULL;
        params[1] = severity && *severity ? severity : NULL;
        snprintf(limit, sizeof(limit), "%d", r->opts->page_size);
        snprintf(offset, sizeof(offset), "%ld",
                 (r->page - 1) * r->opts->page_size);
        res = tp_pg_query(r->conn, tp_alerts_sql, 4, params, "alerts page", err,
                          sizeof(err));
        if (!res)
                goto db_fail;
        total = PQntuples(res) ? atol(PQgetvalue(res, 0, A_TOTAL)) : 0;
        if (r->json) {
                json_t *doc = json_object();
                json_object_set_new(doc, "total", json_integer(total));
                json_object_set_new(doc, "page", json_integer(r->page));
                json_object_set_new(doc, "page_size",
                                    json_integer(r->opts->page_size));
                json_object_set_new(doc, "alerts", tp_web_json_rows(res));
                tp_web_json_send(r, doc);
                goto out;
        }
        provs = tp_pg_query(r->conn, tp_alerts_provinces_sql, 0, NULL,
                            "alerts page provinces", err, sizeof(err));
        if (!provs)
                goto db_fail;
        tp_web_begin(r, tp_web_l(r, "Cảnh báo đang diễn ra", "Firing alerts"));
        tp_alerts_form(r, provs, params[0], params[1] ? params[1] : "");
        tp_buf_printf(r->b, "<p>%ld %s</p>", total,
                      tp_web_l(r, "cảnh báo, mới nhất trước",
                               "alerts, newest first"));
        tp_alerts_table(r, res);
        snprintf(query, sizeof(query), "%s%s%s%s", params[0] ? "province=" : "",
                 params[0] ? params[0] : "", params[0] && params[1] ? "&" : "",
                 "");
        if (params[1])
                snprintf(query + strlen(query), sizeof(query) - strlen(query),
                         "severity=%s", params[1]);
        tp_web_pager(r, "/alerts", query, total);
        tp_web_end(r);
        goto out;
db_fail:
        tp_web_db_error(r, "the alerts page", err);
out:
        PQclear(provs);
        PQclear(res);
}
