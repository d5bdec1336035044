/* httpd.h - the services' small HTTP endpoint (libmicrohttpd, one
 * internal polling thread):
 *
 *   GET /metrics   Prometheus text format 0.0.4, rendered from a registry
 *   GET /healthz   200 "ok" while the process runs (liveness)
 *   GET /readyz    200 "ready" when ready_cb returns 1, else 503 (readiness)
 *
 * HEAD is answered like GET; other methods get 405, other paths 404.
 * The server listens on every address (IPv6 and IPv4 when the host has
 * IPv6, else IPv4) of the given port; it serves nothing secret, so bind it
 * to a port the network policy keeps internal.
 */
#ifndef TP_HTTPD_H
#define TP_HTTPD_H

#include <stddef.h>

#include "metrics.h"

struct tp_httpd;

/* Readiness probe. Called on the server's thread, so it must be
 * thread-safe (read an atomic flag the service's own thread maintains);
 * returns 1 when ready. */
typedef int (*tp_httpd_ready_fn)(void *ctx);

/* Starts serving on port (1..65535, or 0 for an ephemeral port, see
 * tp_httpd_port()). metrics (borrowed: it must outlive the server; NULL
 * serves an empty page) and ready_ctx are not copied. A NULL ready_cb
 * means always ready. Returns NULL and fills errstr when the port cannot
 * be bound. */
struct tp_httpd *tp_httpd_start(int port, struct tp_metrics *metrics,
                                tp_httpd_ready_fn ready_cb, void *ready_ctx,
                                char *errstr, size_t errstr_size);

/* The port actually bound. */
int tp_httpd_port(const struct tp_httpd *h);

/* Stops the server (waits for its thread) and frees it. Accepts NULL. */
void tp_httpd_stop(struct tp_httpd *h);

#endif
