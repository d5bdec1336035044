/* web_int.h - tthc-web's parts, shared between its files:
 *
 *   web.c          the server: options, routing, the request's language,
 *                  format and role, response headers
 *   web_auth.c     who is asking: the user header, trusted proxies, the
 *                  user -> role map, the anonymous role
 *   web_pool.c     the PostgreSQL connections, SET ROLE / RESET ROLE
 *   web_render.c   the page shell, links, numbers and times, JSON rows
 *   web_cache.c    the national page's rows, a few seconds per role
 *   web_page_*.c   one page each
 *
 * Threading: libmicrohttpd calls the handler on its pool of threads
 * (--threads); each request takes one connection of the pool (as many
 * connections as threads, so it never waits long) and everything else it
 * touches is its own (struct tp_web_req) or read-only after start.
 */
#ifndef TP_WEB_INT_H
#define TP_WEB_INT_H

#include <jansson.h>
#include <libpq-fe.h>

#include "buf.h"
#include "cfg.h"
#include "httpd.h"
#include "web.h"

/* ---- web_auth.c ---------------------------------------------------- */
struct tp_web_auth;

/* Builds the map from the options; NULL with errstr when a trusted proxy
 * is no address or a "user=role" entry is malformed. */
struct tp_web_auth *tp_web_auth_new(const struct tp_web_opts *o, char *errstr,
                                    size_t errstr_size);
void tp_web_auth_destroy(struct tp_web_auth *auth);

/* The PostgreSQL role a request from peer (tp_httpd_req_peer) with the
 * user header value user (NULL: none) runs as: the mapped role of the
 * user when peer is a trusted proxy, else the anonymous role. Returns the
 * role (owned by auth, valid until tp_web_auth_destroy), or NULL with a
 * reason for the 403 page in why. */
const char *tp_web_auth_role(const struct tp_web_auth *auth, const char *peer,
                             const char *user, char *why, size_t why_size);

/* ---- web_pool.c ---------------------------------------------------- */
struct tp_web_pool;

/* n connections to conninfo, made when first needed (the first one at
 * once: NULL with errstr when it fails). Each session is read-only, in
 * Vietnam time, with a statement timeout. */
struct tp_web_pool *tp_web_pool_new(const char *conninfo, int n, char *errstr,
                                    size_t errstr_size);
void tp_web_pool_destroy(struct tp_web_pool *pool);

/* Takes a free connection (waits for one) and SET ROLE role on it.
 * Returns it (owned by the pool: give it back with tp_web_pool_put), or
 * NULL with errstr. */
PGconn *tp_web_pool_get(struct tp_web_pool *pool, const char *role,
                        char *errstr, size_t errstr_size);
/* RESET ROLE and gives conn back (a broken one is closed and made again
 * by the next get). */
void tp_web_pool_put(struct tp_web_pool *pool, PGconn *conn);

/* ---- web_cache.c ---------------------------------------------------- */
/* The national page sums a month of every province's hourly rows: too
 * slow to do on each request at national scale. Its rows are kept
 * max_age_s seconds per role (the figures move with the consumers'
 * batches anyway); 0 turns the cache off. */
struct tp_web_cache;
struct tp_web_shared; /* a result shared by the requests rendering it */

struct tp_web_cache *tp_web_cache_new(int max_age_s);
void tp_web_cache_destroy(struct tp_web_cache *cache);
/* The role's rows if younger than max_age_s (a reference: give it back
 * with tp_web_cache_release), else NULL. */
struct tp_web_shared *tp_web_cache_get(struct tp_web_cache *cache,
                                       const char *role);
/* Takes res, keeps it for role (replacing older rows) and returns a
 * reference to it for the caller. */
struct tp_web_shared *tp_web_cache_put(struct tp_web_cache *cache,
                                       const char *role, PGresult *res);
/* The rows; owned by sh, valid until the caller's release. */
const PGresult *tp_web_shared_res(const struct tp_web_shared *sh);
void tp_web_cache_release(struct tp_web_cache *cache, struct tp_web_shared *sh);

/* ---- a request ------------------------------------------------------- */
struct tp_web_req {
        const struct tp_httpd_req *http;
        struct tp_httpd_resp *resp;
        struct tp_buf *b; /* the HTML body (resp->body) */
        PGconn *conn;     /* as the request's role */
        const char *role; /* that role; owned by the auth map */
        struct tp_web_cache *cache;
        const struct tp_web_opts *opts;
        int en;    /* ?lang=en: English labels */
        int json;  /* Accept: application/json or ?format=json */
        long page; /* ?page=, from 1 */
};

/* ---- web_render.c -------------------------------------------------- */
/* vi or en, as the request asks. */
const char *tp_web_l(const struct tp_web_req *r, const char *vi,
                     const char *en);
/* The page's start (doctype, inline style, navigation) and end. */
void tp_web_begin(struct tp_web_req *r, const char *title);
void tp_web_end(struct tp_web_req *r);
/* Escaped text (NULL: "—"). */
void tp_web_text(struct tp_web_req *r, const char *s);
/* A link: <a href="path?query&lang=en">text</a>, everything escaped;
 * query may be NULL. */
void tp_web_link(struct tp_web_req *r, const char *path, const char *query,
                 const char *text);
/* href value (escaped) of path?query with the language kept. */
void tp_web_href(struct tp_web_req *r, const char *path, const char *query);
/* A timestamptz as PostgreSQL prints it in ISO style
 * ("2025-09-21 10:00:00+07") shown as "21/09/2025 10:00" (the session is
 * in Vietnam time); a date ("2025-09-21") as "21/09/2025". */
void tp_web_time(struct tp_web_req *r, const char *ts);
/* A number with 4 significant digits and unit (NULL: none) into buf, a
 * decimal comma in Vietnamese ("92,3 %"). */
void tp_web_number(const struct tp_web_req *r, double v, const char *unit,
                   char *buf, size_t size);
/* A number as text ("59.0909") shown as tp_web_number does ("59,09"),
 * in buf (TP_WEB_NUM bytes); returns buf. */
#define TP_WEB_NUM 48
const char *tp_web_num(const struct tp_web_req *r, const char *v, char *buf);
/* A percentage ("92.3" -> "92,3 %" in Vietnamese); NULL: "—". */
void tp_web_pct(struct tp_web_req *r, const char *v);
/* An age in hours ("5.2" -> "5,2 giờ trước"; 48 and more in days). */
void tp_web_age(struct tp_web_req *r, const char *hours);
/* A severity or rule name in the request's language. */
const char *tp_web_severity(const struct tp_web_req *r, const char *sev);
const char *tp_web_rule(const struct tp_web_req *r, const char *rule);
/* Previous / next links of a list of total rows (page size from opts). */
void tp_web_pager(struct tp_web_req *r, const char *path, const char *query,
                  long total);

/* The rows of res as a JSON array of objects (column name -> value:
 * integers, numbers and booleans as such, NULL as null, the rest as
 * strings, made valid UTF-8). New reference. */
json_t *tp_web_json_rows(const PGresult *res);
/* Sends doc as the answer (steals the reference). */
void tp_web_json_send(struct tp_web_req *r, json_t *doc);
/* An error page (HTML or JSON) with status and a message in each
 * language; the message is escaped. */
void tp_web_error(struct tp_web_req *r, unsigned int status, const char *vi,
                  const char *en);
/* The same, for a query that failed: 503, error logged (where, why). */
void tp_web_db_error(struct tp_web_req *r, const char *where, const char *err);

/* ---- pages: each fills r->resp ----------------------------------------- */
void tp_web_page_nation(struct tp_web_req *r);
void tp_web_page_province(struct tp_web_req *r, const char *code);
void tp_web_page_commune(struct tp_web_req *r, const char *code);
void tp_web_page_alerts(struct tp_web_req *r);

#endif
