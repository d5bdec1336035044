/* httpd.c - see httpd.h. */
#include "httpd.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_httpd {
        struct MHD_Daemon *daemon;
        struct tp_metrics *metrics;
        tp_httpd_ready_fn ready_cb;
        void *ready_ctx;
        tp_httpd_handler_fn handler;
        void *handler_ctx;
        int port;
        /* libmicrohttpd's last message; only read while starting */
        char last_error[256];
};

static const char tp_metrics_type[] = "text/plain; version=0.0.4; "
                                      "charset=utf-8";

/* libmicrohttpd's logger: keep the message, so a failed start can say
 * why (e.g. the port is in use). common/ never logs. */
static void tp_httpd_logger(void *cls, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

static void tp_httpd_logger(void *cls, const char *fmt, va_list ap)
{
        struct tp_httpd *h = cls;
        vsnprintf(h->last_error, sizeof(h->last_error), fmt, ap);
        tp_chomp(h->last_error);
}

struct tp_httpd_req {
        struct MHD_Connection *conn;
        const char *path;
};

const char *tp_httpd_req_path(const struct tp_httpd_req *req)
{
        return req->path;
}

const char *tp_httpd_req_arg(const struct tp_httpd_req *req, const char *name)
{
        const char *v = MHD_lookup_connection_value(
                req->conn, MHD_GET_ARGUMENT_KIND, name);
        if (v)
                return v;
        /* a bare "?x" has a NULL value: tell it from an absent one */
        return MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND,
                                             name, strlen(name), NULL,
                                             NULL) == MHD_YES
                       ? ""
                       : NULL;
}

const char *tp_httpd_req_header(const struct tp_httpd_req *req,
                                const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void tp_httpd_req_peer(const struct tp_httpd_req *req, char *buf, size_t size)
{
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(
                req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = info ? info->client_addr : NULL;
        char tmp[INET6_ADDRSTRLEN];

        if (size)
                buf[0] = '\0';
        if (!sa)
                return;
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in4 = (const void *)sa;
                if (inet_ntop(AF_INET, &in4->sin_addr, tmp, sizeof(tmp)))
                        tp_strlcpy(buf, tmp, size);
        } else if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const void *)sa;
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
                        if (inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], tmp,
                                      sizeof(tmp)))
                                tp_strlcpy(buf, tmp, size);
                } else if (inet_ntop(AF_INET6, &in6->sin6_addr, tmp,
                                     sizeof(tmp))) {
                        tp_strlcpy(buf, tmp, size);
                }
        }
}

void tp_httpd_resp_header(struct tp_httpd_resp *resp, const char *name,
                          const char *value)
{
        if (resp->n_headers >= TP_HTTPD_MAX_HEADERS)
                return;
        resp->header_names[resp->n_headers] = name;
        resp->header_values[resp->n_headers] = tp_xstrdup(value);
        resp->n_headers++;
}

static void tp_httpd_resp_release(struct tp_httpd_resp *resp)
{
        for (size_t i = 0; i < resp->n_headers; i++)
                free(resp->header_values[i]);
        tp_buf_release(&resp->body);
}

/* Queues body (owned: freed by libmicrohttpd, or here on failure) with
 * the headers every answer has and resp's extra ones (may be NULL). */
static enum MHD_Result tp_httpd_send(struct MHD_Connection *conn,
                                     unsigned int status, const char *type,
                                     char *body, size_t len, int owned,
                                     const struct tp_httpd_resp *extra)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(len, body,
                                               owned ? MHD_RESPMEM_MUST_FREE
                                                     : MHD_RESPMEM_PERSISTENT);
        if (!resp) {
                if (owned)
                        free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        for (size_t i = 0; extra && i < extra->n_headers; i++)
                MHD_add_response_header(resp, extra->header_names[i],
                                        extra->header_values[i]);
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result tp_httpd_reply(struct MHD_Connection *conn,
                                      unsigned int status, const char *type,
                                      char *body, size_t len, int owned)
{
        return tp_httpd_send(conn, status, type, body, len, owned, NULL);
}

/* Hands the request to the service's handler. */
static enum MHD_Result tp_httpd_dispatch(struct tp_httpd *h,
                                         struct MHD_Connection *conn,
                                         const char *url)
{
        struct tp_httpd_req req = {conn, url};
        struct tp_httpd_resp resp;
        enum MHD_Result ret;
        char *body;
        size_t len;

        memset(&resp, 0, sizeof(resp));
        resp.status = MHD_HTTP_OK;
        h->handler(h->handler_ctx, &req, &resp);
        len = resp.body.len;
        body = resp.body.data ? resp.body.data : tp_xstrdup("");
        resp.body.data = NULL; /* handed to libmicrohttpd */
        ret = tp_httpd_send(conn, resp.status,
                            resp.type ? resp.type : "text/plain; charset=utf-8",
                            body, len, 1, &resp);
        tp_httpd_resp_release(&resp);
        return ret;
}

static enum MHD_Result tp_httpd_text(struct MHD_Connection *conn,
                                     unsigned int status, const char *text)
{
        return tp_httpd_reply(conn, status, "text/plain; charset=utf-8",
                              (char *)text, strlen(text), 0);
}

static enum MHD_Result tp_httpd_handle(void *cls, struct MHD_Connection *conn,
                                       const char *url, const char *method,
                                       const char *version,
                                       const char *upload_data,
                                       size_t *upload_data_size, void **state)
{
        struct tp_httpd *h = cls;
        (void)version;
        (void)upload_data;
        (void)state;

        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
            strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
                *upload_data_size = 0; /* ignore any body */
                return tp_httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                     "method not allowed\n");
        }
        if (strcmp(url, "/metrics") == 0) {
                size_t len = 0;
                char *body = tp_metrics_render(h->metrics, &len);
                return tp_httpd_reply(conn, MHD_HTTP_OK, tp_metrics_type, body,
                                      len, 1);
        }
        if (strcmp(url, "/healthz") == 0)
                return tp_httpd_text(conn, MHD_HTTP_OK, "ok\n");
        if (strcmp(url, "/readyz") == 0) {
                if (!h->ready_cb || h->ready_cb(h->ready_ctx) == 1)
                        return tp_httpd_text(conn, MHD_HTTP_OK, "ready\n");
                return tp_httpd_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "not ready\n");
        }
        if (h->handler)
                return tp_httpd_dispatch(h, conn, url);
        return tp_httpd_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

int tp_httpd_parse_address(const char *address, int port,
                           struct sockaddr_storage *sa, socklen_t *len,
                           int *any, char *errstr, size_t errstr_size)
{
        struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
        char buf[INET6_ADDRSTRLEN + 2];
        size_t n;

        memset(sa, 0, sizeof(*sa));
        *any = 0;
        if (port < 0 || port > 65535) {
                snprintf(errstr, errstr_size, "invalid HTTP port %d", port);
                return -1;
        }
        if (!address || !*address || strcmp(address, "::") == 0 ||
            strcmp(address, "[::]") == 0) {
                *any = 1;
                address = "::";
        }
        n = strlen(address);
        /* "[::1]", as in URLs */
        if (n >= 2 && address[0] == '[' && address[n - 1] == ']' &&
            n - 2 < sizeof(buf)) {
                memcpy(buf, address + 1, n - 2);
                buf[n - 2] = '\0';
                if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1)
                        goto v6;
        } else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
                goto v6;
        } else if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t)port);
                *len = sizeof(*in4);
                return 0;
        }
        memset(sa, 0, sizeof(*sa));
        snprintf(errstr, errstr_size,
                 "\"%.64s\" is not an IPv4 or IPv6 address (e.g. 127.0.0.1, "
                 "::1, 0.0.0.0 or :: for every address)",
                 address);
        return -1;
v6:
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
}

static struct MHD_Daemon *
tp_httpd_daemon(struct tp_httpd *h, const struct sockaddr *sa, int port,
                unsigned int max_per_ip, unsigned int timeout_s,
                unsigned int threads, unsigned int extra_flags)
{
        return MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                        MHD_USE_ERROR_LOG | extra_flags,
                (uint16_t)port, NULL, NULL, tp_httpd_handle, h,
                MHD_OPTION_EXTERNAL_LOGGER, tp_httpd_logger, h,
                MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned int)TP_HTTPD_MAX_CONNECTIONS,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, max_per_ip,
                MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_END);
}

struct tp_httpd *tp_httpd_start(const struct tp_httpd_opts *opts,
                                struct tp_metrics *metrics,
                                tp_httpd_ready_fn ready_cb, void *ready_ctx,
                                char *errstr, size_t errstr_size)
{
        struct tp_httpd *h = NULL;
        const union MHD_DaemonInfo *info;
        struct sockaddr_storage sa;
        socklen_t len;
        int any;
        unsigned int per_ip, timeout_s, threads;

        if (tp_httpd_parse_address(opts->address, opts->port, &sa, &len, &any,
                                   errstr, errstr_size) != 0)
                goto fail;
        per_ip = opts->max_per_ip > 0 ? (unsigned int)opts->max_per_ip
                                      : TP_HTTPD_DEFAULT_MAX_PER_IP;
        timeout_s = opts->timeout_s > 0 ? (unsigned int)opts->timeout_s
                                        : TP_HTTPD_DEFAULT_TIMEOUT_S;
        threads = opts->threads > 1 ? (unsigned int)opts->threads : 1;
        h = tp_xcalloc(1, sizeof(*h));
        h->handler = opts->handler;
        h->handler_ctx = opts->handler_ctx;
        h->metrics = metrics;
        h->ready_cb = ready_cb;
        h->ready_ctx = ready_ctx;
        if (sa.ss_family == AF_INET6)
                /* "::": both address families where the host has IPv6 */
                h->daemon = tp_httpd_daemon(
                        h, (const struct sockaddr *)&sa, opts->port, per_ip,
                        timeout_s, threads,
                        any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6);
        else
                h->daemon = tp_httpd_daemon(h, (const struct sockaddr *)&sa,
                                            opts->port, per_ip, timeout_s,
                                            threads, 0);
        if (!h->daemon && any) {
                /* no IPv6 on this host: every IPv4 address */
                struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
                memset(&sa, 0, sizeof(sa));
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t)opts->port);
                in4->sin_addr.s_addr = htonl(INADDR_ANY);
                h->daemon = tp_httpd_daemon(h, (const struct sockaddr *)&sa,
                                            opts->port, per_ip, timeout_s,
                                            threads, 0);
        }
        if (!h->daemon) {
                snprintf(errstr, errstr_size,
                         "could not serve HTTP on %s port %d: %s",
                         opts->address && *opts->address ? opts->address : "::",
                         opts->port,
                         h->last_error[0] ? h->last_error : "unknown error");
                goto fail;
        }
        info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info && info->port ? info->port : opts->port;
        return h;
fail:
        free(h);
        return NULL;
}

int tp_httpd_port(const struct tp_httpd *h)
{
        return h->port;
}

void tp_httpd_stop(struct tp_httpd *h)
{
        if (!h)
                return;
        if (h->daemon)
                MHD_stop_daemon(h->daemon);
        free(h);
}
