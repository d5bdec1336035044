/* httpd.h - the services' small HTTP endpoint (libmicrohttpd, one
 * internal polling thread):
 *
 *   GET /metrics   Prometheus text format 0.0.4, rendered from a registry
 *   GET /healthz   200 "ok" while the process runs (liveness)
 *   GET /readyz    200 "ready" when ready_cb returns 1, else 503 (readiness)
 *
 * HEAD is answered like GET; other methods get 405, other paths 404, or
 * go to the handler a service gives (struct tp_httpd_opts.handler: tthc-web
 * renders its pages there). Every answer has "Cache-Control: no-store" and
 * "X-Content-Type-Options: nosniff".
 * Without a handler it serves nothing secret, so bind it to an address or a
 * port the network policy keeps internal.
 *
 * Limits, so that idle or slow clients cannot starve the probes: at most
 * max_per_ip connections at once from one client address (more are
 * accepted and closed at once), at most TP_HTTPD_MAX_CONNECTIONS in all
 * (more wait in the listen backlog), and a connection idle for timeout_s
 * is closed. A client holding many idle sockets thus blocks only itself:
 * the kubelet's probe, from another address, is answered at once.
 */
#ifndef TP_HTTPD_H
#define TP_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"
#include "metrics.h"

/* Connections at once, all clients together. */
#define TP_HTTPD_MAX_CONNECTIONS 128
/* Defaults of struct tp_httpd_opts' zero fields. */
#define TP_HTTPD_DEFAULT_MAX_PER_IP 8
#define TP_HTTPD_DEFAULT_TIMEOUT_S 2

struct tp_httpd;

/* A request, as the handler sees it. Opaque; valid during the handler
 * call only, like every string its accessors return. */
struct tp_httpd_req;

/* The path, percent-decoded, without the query string ("/communes/00004"). */
const char *tp_httpd_req_path(const struct tp_httpd_req *req);
/* The query argument name ("?lang=en": "en", percent-decoded; "" for a bare
 * "?x"), or NULL when absent. */
const char *tp_httpd_req_arg(const struct tp_httpd_req *req, const char *name);
/* The request header name (case-insensitive), or NULL when absent. */
const char *tp_httpd_req_header(const struct tp_httpd_req *req,
                                const char *name);
/* The client's address (the peer of the TCP connection, not a header) as
 * inet_ntop writes it, an IPv4-mapped IPv6 address as plain IPv4
 * ("127.0.0.1", "::1"); "" when unknown. */
void tp_httpd_req_peer(const struct tp_httpd_req *req, char *buf, size_t size);

/* Extra response headers at most. */
#define TP_HTTPD_MAX_HEADERS 4

/* The handler's answer. The server zeroes it and sets status 200 before
 * the call; the handler fills body (the server frees it after sending)
 * and may set type (default text/plain), and up to TP_HTTPD_MAX_HEADERS
 * extra headers with tp_httpd_resp_header. */
struct tp_httpd_resp {
        unsigned int status;
        const char *type; /* static or owned by the handler's ctx */
        struct tp_buf body;
        const char *header_names[TP_HTTPD_MAX_HEADERS]; /* static */
        char *header_values[TP_HTTPD_MAX_HEADERS];      /* owned by resp */
        size_t n_headers;
};

/* Adds a header (name static, value copied); extra ones are dropped. */
void tp_httpd_resp_header(struct tp_httpd_resp *resp, const char *name,
                          const char *value);

/* Answers GET and HEAD requests for paths the server does not serve
 * itself. Called on one of the server's threads (struct tp_httpd_opts
 * threads): with more than one, at the same time, so ctx must be
 * thread-safe. */
typedef void (*tp_httpd_handler_fn)(void *ctx, const struct tp_httpd_req *req,
                                    struct tp_httpd_resp *resp);

/* Where and how to listen. Read by tp_httpd_start only (not kept). */
struct tp_httpd_opts {
        /* An IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"); "::",
         * NULL or "" mean every address, IPv6 and IPv4 (IPv4 only when
         * the host has no IPv6); "0.0.0.0" every IPv4 address. */
        const char *address;
        int port;       /* 1..65535, or 0 for an ephemeral port */
        int max_per_ip; /* 0: TP_HTTPD_DEFAULT_MAX_PER_IP */
        int timeout_s;  /* idle timeout; 0: TP_HTTPD_DEFAULT_TIMEOUT_S */
        /* NULL: other paths get 404; handler_ctx is borrowed and must
         * outlive the server */
        tp_httpd_handler_fn handler;
        void *handler_ctx;
        /* threads answering requests (a pool); 0 or 1: one thread */
        int threads;
};

/* Parses address (see struct tp_httpd_opts) with port into *sa (*len
 * bytes of it used); *any is set to 1 for "::", NULL or "" (listen on both
 * families). Returns 0, or -1 with errstr when address is no IPv4 or IPv6
 * literal or port is out of range. */
int tp_httpd_parse_address(const char *address, int port,
                           struct sockaddr_storage *sa, socklen_t *len,
                           int *any, char *errstr, size_t errstr_size);

/* Readiness probe. Called on the server's thread, so it must be
 * thread-safe (read an atomic flag the service's own thread maintains);
 * returns 1 when ready. */
typedef int (*tp_httpd_ready_fn)(void *ctx);

/* Starts serving as opts says (an ephemeral port: see tp_httpd_port()).
 * metrics (borrowed: it must outlive the server; NULL serves an empty
 * page) and ready_ctx are not copied. A NULL ready_cb means always ready.
 * Returns NULL and fills errstr when the address is invalid or cannot be
 * bound. */
struct tp_httpd *tp_httpd_start(const struct tp_httpd_opts *opts,
                                struct tp_metrics *metrics,
                                tp_httpd_ready_fn ready_cb, void *ready_ctx,
                                char *errstr, size_t errstr_size);

/* The port actually bound. */
int tp_httpd_port(const struct tp_httpd *h);

/* Stops the server (waits for its thread) and frees it. Accepts NULL. */
void tp_httpd_stop(struct tp_httpd *h);

#endif
