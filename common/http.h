/* http.h - the one HTTP client of tthc-pulse (libcurl), for the schema
 * registry (tthc-ingest, tthc-alert) and Alertmanager (tthc-alert).
 *
 * What every request gets: libcurl initialised once per process (first
 * use, thread-safe), http and https only, connect and total timeouts, a
 * cap on the size of the answer kept, no signals. Errors never hold the
 * URL (it may carry "user:password@"; a caller that names it passes it
 * through tp_redact_url) nor the basic-auth credentials. */
#ifndef TP_HTTP_H
#define TP_HTTP_H

#include <stddef.h>

#include "buf.h"

struct tp_http_req {
        const char *url;
        const char *body;         /* POST this when not NULL, else GET */
        const char *content_type; /* of body */
        const char *user;         /* basic auth when not NULL or empty */
        const char *password;
        const char *ca_file; /* CA bundle for the server's certificate */
        long connect_timeout_ms, timeout_ms; /* 0: 2,000 and 5,000 */
        size_t max_reply; /* bytes of the answer kept; 0: discarded */
};

struct tp_http_reply {
        long code;          /* HTTP status */
        struct tp_buf body; /* the answer (data NULL when empty or not
                               kept), owned by the reply */
        int too_big;        /* the answer was longer than max_reply */
};

/* Sends req. Returns 0 when the server answered (any status: see
 * reply->code; reply->too_big when the answer was cut off, then
 * reply->body is empty), or -1 when it could not be reached, with libcurl's
 * reason in errstr ("Timeout was reached"). Release the reply in both
 * cases. */
int tp_http_send(const struct tp_http_req *req, struct tp_http_reply *reply,
                 char *errstr, size_t errstr_size);

void tp_http_reply_release(struct tp_http_reply *reply);

#endif
