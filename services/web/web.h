/* web.h - tthc-web: the pages an alert leads to (docs/web.md). An HTTP
 * server (common/httpd, a pool of threads) that renders the national,
 * province, commune and alert pages from the PostgreSQL views, as HTML
 * with inline SVG charts or as JSON, through a small pool of read-only
 * connections that SET ROLE to the role of the user a trusted reverse
 * proxy names, so that the province row-level security applies.
 */
#ifndef TP_WEB_H
#define TP_WEB_H

#include <stddef.h>

#include "cfg.h"

/* tthc-web's own options (cfg->own). */
struct tp_web_opts {
        char *address;     /* listen address */
        int port;          /* listen port */
        int threads;       /* request threads = PostgreSQL connections */
        int max_per_ip;    /* connections at once from one address */
        int timeout_s;     /* idle connection timeout */
        int page_size;     /* rows per page of a long list */
        int cache_s;       /* the national page's rows are kept this long */
        char *user_header; /* "": no user header */
        struct tp_cfg_list trusted_proxy; /* addresses sending it */
        struct tp_cfg_list user_role;     /* "user=role" */
        char *anonymous_role; /* "": requests without a user get 403 */
};

struct tp_web;

/* Checks the options, connects the pool's first connection (so that a
 * wrong --pg fails at start) and starts serving. Returns NULL with
 * errstr on failure. cfg is borrowed and must outlive the server. */
struct tp_web *tp_web_new(const struct tp_cfg *cfg, char *errstr,
                          size_t errstr_size);

/* The port bound. */
int tp_web_port(const struct tp_web *web);

/* Stops serving (waits for the requests under way) and frees everything.
 * Accepts NULL and a half-built server. */
void tp_web_destroy(struct tp_web *web);

#endif
