/* web_render.c - what every page shares (see web_int.h): the shell with
 * its one inline style, links that keep the language, Vietnamese
 * numbers and times, JSON rows, error pages. */
#include "web_int.h"
#include "html.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One style for every page: readable on a phone (tables scroll inside
 * their box, charts take the width). */
static const char tp_web_style[] =
        "body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:0;"
        "color:#1f2937;background:#f8fafc;font-size:15px}"
        "header{background:#7f1d1d;color:#fff;padding:8px 14px;display:flex;"
        "flex-wrap:wrap;gap:14px;align-items:center}"
        "header a{color:#fff}header .lang{margin-left:auto}"
        "main{padding:10px 14px;max-width:1200px}"
        "h1{font-size:1.35em;margin:8px 0}h2{font-size:1.1em;margin:18px 0 6px}"
        ".box{overflow-x:auto;background:#fff;border:1px solid #e5e7eb;"
        "border-radius:6px}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{padding:5px 8px;border-bottom:1px solid #e5e7eb;"
        "text-align:left;white-space:nowrap}"
        "td.n,th.n{text-align:right}th{background:#f1f5f9;font-weight:600}"
        "th a{color:inherit}"
        ".crit{color:#fff;background:#b91c1c;border-radius:3px;padding:0 5px;"
        "display:inline-block;margin:1px 0}"
        ".warn{color:#111;background:#fbbf24;border-radius:3px;padding:0 5px;"
        "display:inline-block;margin:1px 0}"
        ".stale{color:#b91c1c;font-weight:600}.muted{color:#6b7280}"
        "svg.chart{width:100%;max-width:760px;height:auto;background:#fff}"
        "svg.bars{width:100%;max-width:560px;height:auto;background:#fff}"
        "svg.spark{width:100px;height:20px}"
        "svg .grid{stroke:#e5e7eb}svg .ax,svg .lb{font-size:11px;"
        "fill:#374151}"
        ".kv{display:flex;flex-wrap:wrap;gap:8px}.kv div{background:#fff;"
        "border:1px solid #e5e7eb;border-radius:6px;padding:6px 10px}"
        ".kv b{display:block;font-size:1.3em}"
        "td.tags{white-space:normal;min-width:180px}"
        "form{margin:8px 0}nav.pg{margin:8px 0;display:flex;gap:12px}"
        "td.sum{white-space:normal}.ph{display:none}"
        "@media (max-width:640px){body{font-size:14px}main{padding:8px}"
        "th,td{padding:4px 5px}.ph{display:block;white-space:normal}"
        ".tags{display:none}}";

const char *tp_web_l(const struct tp_web_req *r, const char *vi, const char *en)
{
        return r->en ? en : vi;
}

void tp_web_text(struct tp_web_req *r, const char *s)
{
        if (!s)
                tp_buf_puts(r->b, "—");
        else
                tp_html_escape(r->b, s);
}

void tp_web_href(struct tp_web_req *r, const char *path, const char *query)
{
        struct tp_buf u = {0};
        int q = query && *query;
        tp_buf_puts(&u, path);
        if (q)
                tp_buf_printf(&u, "?%s", query);
        if (r->en)
                tp_buf_puts(&u, q ? "&lang=en" : "?lang=en");
        tp_html_escape(r->b, u.data);
        tp_buf_release(&u);
}

void tp_web_link(struct tp_web_req *r, const char *path, const char *query,
                 const char *text)
{
        tp_buf_puts(r->b, "<a href=\"");
        tp_web_href(r, path, query);
        tp_buf_puts(r->b, "\">");
        tp_web_text(r, text);
        tp_buf_puts(r->b, "</a>");
}

void tp_web_begin(struct tp_web_req *r, const char *title)
{
        const char *path = tp_httpd_req_path(r->http);
        r->resp->type = "text/html; charset=utf-8";
        tp_buf_printf(r->b,
                      "<!DOCTYPE html><html lang=\"%s\"><head>"
                      "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                      "content=\"width=device-width,initial-scale=1\">"
                      "<title>",
                      r->en ? "en" : "vi");
        tp_web_text(r, title);
        tp_buf_printf(r->b,
                      " · tthc-pulse</title><style>%s</style></head>"
                      "<body><header><strong>tthc-pulse</strong>",
                      tp_web_style);
        tp_web_link(r, "/", NULL, tp_web_l(r, "Toàn quốc", "Nation"));
        tp_web_link(r, "/alerts", NULL, tp_web_l(r, "Cảnh báo", "Alerts"));
        /* the same page in the other language */
        tp_buf_puts(r->b, "<span class=\"lang\"><a href=\"");
        tp_html_escape(r->b, path);
        tp_buf_puts(r->b, r->en ? "\">Tiếng Việt" : "?lang=en\">English");
        tp_buf_puts(r->b, "</a></span></header><main><h1>");
        tp_web_text(r, title);
        tp_buf_puts(r->b, "</h1>");
}

void tp_web_end(struct tp_web_req *r)
{
        tp_buf_printf(r->b, "<p class=\"muted\">%s</p></main></body></html>\n",
                      tp_web_l(r,
                               "Giờ Việt Nam (UTC+7). Số liệu theo thời "
                               "gian sự kiện; JSON: ?format=json.",
                               "Vietnam time (UTC+7). Figures in event "
                               "time; JSON: ?format=json."));
}

void tp_web_time(struct tp_web_req *r, const char *ts)
{
        /* "YYYY-MM-DD[ HH:MM...]" */
        if (!ts || strlen(ts) < 10 || ts[4] != '-' || ts[7] != '-') {
                tp_web_text(r, ts);
                return;
        }
        tp_buf_printf(r->b, "%.2s/%.2s/%.4s", ts + 8, ts + 5, ts);
        if (strlen(ts) >= 16 && ts[10] == ' ')
                tp_buf_printf(r->b, " %.5s", ts + 11);
}

void tp_web_number(const struct tp_web_req *r, double v, const char *unit,
                   char *buf, size_t size)
{
        char *dot;
        snprintf(buf, size, "%.4g%s%s", v, unit && !r->en ? " " : "",
                 unit ? unit : "");
        dot = strchr(buf, '.');
        if (dot && !r->en)
                *dot = ',';
}

const char *tp_web_num(const struct tp_web_req *r, const char *v, char *buf)
{
        tp_web_number(r, strtod(v, NULL), NULL, buf, TP_WEB_NUM);
        return buf;
}

void tp_web_pct(struct tp_web_req *r, const char *v)
{
        char num[48];
        if (!v || !*v) {
                tp_buf_puts(r->b, "—");
                return;
        }
        tp_web_number(r, strtod(v, NULL), "%", num, sizeof(num));
        tp_web_text(r, num);
}

void tp_web_age(struct tp_web_req *r, const char *hours)
{
        double h = hours ? strtod(hours, NULL) : 0;
        char num[48];
        if (h < 48) {
                tp_web_number(r, h, r->en ? "h" : "giờ", num, sizeof(num));
                tp_buf_printf(r->b, "%s %s", num, tp_web_l(r, "trước", "ago"));
        } else {
                tp_buf_printf(r->b, "%.0f %s", h / 24,
                              tp_web_l(r, "ngày trước", "days ago"));
        }
}

const char *tp_web_severity(const struct tp_web_req *r, const char *sev)
{
        if (sev && strcmp(sev, "critical") == 0)
                return tp_web_l(r, "nghiêm trọng", "critical");
        if (sev && strcmp(sev, "warning") == 0)
                return tp_web_l(r, "cảnh báo", "warning");
        return sev;
}

const char *tp_web_rule(const struct tp_web_req *r, const char *rule)
{
        static const char *const names[][3] = {
                {"overdue_backlog", "Hồ sơ quá hạn tồn đọng",
                 "Overdue backlog"},
                {"on_time_rate", "Tỷ lệ đúng hạn thấp", "Low on-time rate"},
                {"backlog_growth", "Hồ sơ tồn tăng nhanh", "Backlog growth"},
                {"commune_silent", "Xã không có sự kiện", "Commune silent"},
                {"province_feed_stale", "Dữ liệu tỉnh bị trễ",
                 "Province feed stale"},
                {"intake_backlog", "Hồ sơ trực tuyến chưa tiếp nhận",
                 "Intake backlog"},
        };
        for (size_t i = 0; rule && i < TP_ARRAY_LEN(names); i++)
                if (strcmp(names[i][0], rule) == 0)
                        return names[i][r->en ? 2 : 1];
        return rule;
}

void tp_web_pager(struct tp_web_req *r, const char *path, const char *query,
                  long total)
{
        long size = r->opts->page_size;
        long pages = (total + size - 1) / size;
        char q[512];
        const char *sep = query && *query ? "&" : "";

        if (pages <= 1)
                return;
        tp_buf_puts(r->b, "<nav class=\"pg\">");
        if (r->page > 1) {
                snprintf(q, sizeof(q), "%s%spage=%ld", query ? query : "", sep,
                         r->page - 1);
                tp_web_link(r, path, q,
                            tp_web_l(r, "« Trang trước", "« Previous"));
        }
        tp_buf_printf(r->b, "<span>%s %ld / %ld</span>",
                      tp_web_l(r, "Trang", "Page"), r->page, pages);
        if (r->page < pages) {
                snprintf(q, sizeof(q), "%s%spage=%ld", query ? query : "", sep,
                         r->page + 1);
                tp_web_link(r, path, q, tp_web_l(r, "Trang sau »", "Next »"));
        }
        tp_buf_puts(r->b, "</nav>");
}

/* PostgreSQL type oids (pg_type.h) */
enum {
        TP_OID_BOOL = 16,
        TP_OID_INT8 = 20,
        TP_OID_INT2 = 21,
        TP_OID_INT4 = 23,
        TP_OID_FLOAT4 = 700,
        TP_OID_FLOAT8 = 701,
        TP_OID_NUMERIC = 1700
};

static json_t *tp_web_json_value(const PGresult *res, int row, int col)
{
        const char *v = PQgetvalue(res, row, col);
        struct tp_buf s = {0};
        json_t *j;

        if (PQgetisnull(res, row, col))
                return json_null();
        switch (PQftype(res, col)) {
        case TP_OID_BOOL:
                return json_boolean(v[0] == 't');
        case TP_OID_INT2:
        case TP_OID_INT4:
        case TP_OID_INT8:
                return json_integer(strtoll(v, NULL, 10));
        case TP_OID_FLOAT4:
        case TP_OID_FLOAT8:
        case TP_OID_NUMERIC:
                return json_real(strtod(v, NULL));
        default:
                break;
        }
        tp_buf_puts(&s, "");
        tp_html_scrub(&s, v);
        j = json_stringn(s.data, s.len);
        tp_buf_release(&s);
        return j ? j : json_null();
}

json_t *tp_web_json_rows(const PGresult *res)
{
        json_t *rows = json_array();
        for (int i = 0; i < PQntuples(res); i++) {
                json_t *o = json_object();
                for (int c = 0; c < PQnfields(res); c++)
                        json_object_set_new(o, PQfname(res, c),
                                            tp_web_json_value(res, i, c));
                json_array_append_new(rows, o);
        }
        return rows;
}

void tp_web_json_send(struct tp_web_req *r, json_t *doc)
{
        char *text = json_dumps(doc, JSON_INDENT(1) | JSON_ENSURE_ASCII);
        r->resp->type = "application/json";
        tp_buf_reset(r->b);
        tp_buf_puts(r->b, text ? text : "null");
        tp_buf_putc(r->b, '\n');
        free(text);
        json_decref(doc);
}

void tp_web_error(struct tp_web_req *r, unsigned int status, const char *vi,
                  const char *en)
{
        r->resp->status = status;
        tp_buf_reset(r->b);
        if (r->json) {
                json_t *doc = json_object();
                struct tp_buf s = {0};
                tp_buf_puts(&s, "");
                tp_html_scrub(&s, r->en ? en : vi);
                json_object_set_new(doc, "status", json_integer(status));
                json_object_set_new(doc, "error", json_string(s.data));
                tp_buf_release(&s);
                tp_web_json_send(r, doc);
                return;
        }
        tp_web_begin(
                r, status == 404 ? tp_web_l(r, "Không tìm thấy", "Not found")
                   : status == 403 ? tp_web_l(r, "Không có quyền", "Forbidden")
                   : status == 400
                           ? tp_web_l(r, "Yêu cầu không hợp lệ", "Bad request")
                           : tp_web_l(r, "Lỗi", "Error"));
        tp_buf_puts(r->b, "<p>");
        tp_web_text(r, tp_web_l(r, vi, en));
        tp_buf_puts(r->b, "</p>");
        tp_web_end(r);
}

void tp_web_db_error(struct tp_web_req *r, const char *where, const char *err)
{
        tp_log_error("could not render %s: %s", where, err);
        tp_web_error(r, 503,
                     "Không đọc được số liệu lúc này; vui lòng thử lại sau.",
                     "The figures cannot be read right now; please try "
                     "again later.");
}
