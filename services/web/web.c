/* web.c - the server: routing, the request's language, format and role,
 * the answer's headers (see web.h, web_int.h). */
#include "web_int.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_web {
        const struct tp_web_opts *opts; /* borrowed from the cfg */
        struct tp_web_auth *auth;
        struct tp_web_pool *pool;
        struct tp_web_cache *cache;
        struct tp_httpd *httpd;
};

/* Nothing from elsewhere: no script at all, the inline style, inline
 * SVG, forms that submit here only. */
static const char tp_web_csp[] =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/* 1 when s is exactly n ASCII digits. */
static int tp_web_digits(const char *s, size_t n)
{
        size_t i;
        for (i = 0; s[i]; i++)
                if (!isdigit((unsigned char)s[i]))
                        return 0;
        return i == n;
}

/* The code after prefix in path ("/provinces/79" -> "79"), or NULL. */
static const char *tp_web_tail(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

static int tp_web_wants_json(const struct tp_httpd_req *http)
{
        const char *f = tp_httpd_req_arg(http, "format");
        const char *accept = tp_httpd_req_header(http, "Accept");
        if (f)
                return strcmp(f, "json") == 0;
        /* an integrator's Accept; a browser's lists text/html first */
        return accept && strstr(accept, "application/json") &&
               !strstr(accept, "text/html");
}

/* Runs the page the path names on r (a connection as the request's role). */
static void tp_web_route(struct tp_web_req *r, const char *path)
{
        const char *code;

        if (strcmp(path, "/") == 0) {
                tp_web_page_nation(r);
        } else if (strcmp(path, "/alerts") == 0) {
                tp_web_page_alerts(r);
        } else if ((code = tp_web_tail(path, "/provinces/"))) {
                if (!tp_web_digits(code, 2))
                        tp_web_error(r, 400,
                                     "Mã tỉnh gồm đúng 2 chữ số (ví dụ "
                                     "/provinces/01).",
                                     "A province code is exactly 2 digits "
                                     "(e.g. /provinces/01).");
                else
                        tp_web_page_province(r, code);
        } else if ((code = tp_web_tail(path, "/communes/"))) {
                if (!tp_web_digits(code, 5))
                        tp_web_error(r, 400,
                                     "Mã xã gồm đúng 5 chữ số (ví dụ "
                                     "/communes/00004).",
                                     "A commune code is exactly 5 digits "
                                     "(e.g. /communes/00004).");
                else
                        tp_web_page_commune(r, code);
        }
}

static int tp_web_known_path(const char *path)
{
        return strcmp(path, "/") == 0 || strcmp(path, "/alerts") == 0 ||
               tp_web_tail(path, "/provinces/") ||
               tp_web_tail(path, "/communes/");
}

static void tp_web_handle(void *ctx, const struct tp_httpd_req *http,
                          struct tp_httpd_resp *resp)
{
        struct tp_web *web = ctx;
        const char *path = tp_httpd_req_path(http);
        const char *lang = tp_httpd_req_arg(http, "lang");
        const char *page = tp_httpd_req_arg(http, "page");
        const char *role;
        const struct tp_web_opts *o = web->opts;
        char peer[64], why[256], err[512];
        struct tp_web_req r = {
                .http = http,
                .resp = resp,
                .b = &resp->body,
                .opts = o,
                .en = lang && strcmp(lang, "en") == 0,
                .json = tp_web_wants_json(http),
                .page = 1,
        };

        tp_httpd_resp_header(resp, "Content-Security-Policy", tp_web_csp);
        tp_httpd_resp_header(resp, "Content-Language", r.en ? "en" : "vi");
        tp_httpd_resp_header(resp, "Vary", "Accept");
        tp_httpd_resp_header(resp, "Referrer-Policy", "same-origin");
        if (page) {
                char *end;
                long p = strtol(page, &end, 10);
                if (!*page || *end || p < 1 || p > 1000000) {
                        tp_web_error(&r, 400,
                                     "Số trang phải là số nguyên dương.",
                                     "page must be a positive integer.");
                        return;
                }
                r.page = p;
        }
        if (!tp_web_known_path(path)) {
                tp_web_error(&r, 404, "Không có trang này.",
                             "There is no such page.");
                return;
        }
        tp_httpd_req_peer(http, peer, sizeof(peer));
        role = tp_web_auth_role(
                web->auth, peer,
                o->user_header && *o->user_header
                        ? tp_httpd_req_header(http, o->user_header)
                        : NULL,
                why, sizeof(why));
        if (!role) {
                tp_web_error(&r, 403, why, why);
                return;
        }
        r.role = role;
        r.cache = web->cache;
        r.conn = tp_web_pool_get(web->pool, role, err, sizeof(err));
        if (!r.conn) {
                tp_web_db_error(&r, path, err);
                return;
        }
        tp_web_route(&r, path);
        tp_web_pool_put(web->pool, r.conn);
}

struct tp_web *tp_web_new(const struct tp_cfg *cfg, char *errstr,
                          size_t errstr_size)
{
        const struct tp_web_opts *o = cfg->own;
        struct tp_web *web = tp_xcalloc(1, sizeof(*web));
        struct tp_httpd_opts ho = {
                .address = o->address,
                .port = o->port,
                .max_per_ip = o->max_per_ip,
                .timeout_s = o->timeout_s,
                .handler = tp_web_handle,
                .handler_ctx = web,
                .threads = o->threads,
        };

        web->opts = o;
        web->auth = tp_web_auth_new(o, errstr, errstr_size);
        if (!web->auth)
                goto fail;
        web->cache = tp_web_cache_new(o->cache_s);
        web->pool = tp_web_pool_new(cfg->pg, o->threads, errstr, errstr_size);
        if (!web->pool)
                goto fail;
        web->httpd = tp_httpd_start(&ho, NULL, NULL, NULL, errstr, errstr_size);
        if (!web->httpd)
                goto fail;
        return web;
fail:
        tp_web_destroy(web);
        return NULL;
}

int tp_web_port(const struct tp_web *web)
{
        return tp_httpd_port(web->httpd);
}

void tp_web_destroy(struct tp_web *web)
{
        if (!web)
                return;
        tp_httpd_stop(web->httpd); /* no request under way after this */
        tp_web_pool_destroy(web->pool);
        tp_web_cache_destroy(web->cache);
        tp_web_auth_destroy(web->auth);
        free(web);
}
