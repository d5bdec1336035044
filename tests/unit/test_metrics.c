/* Unit tests for common/metrics and common/httpd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "httpd.h"
#include "metrics.h"

static void test_metrics__counter_with_labels_renders(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256];
        struct tp_metric *rej = tp_metrics_counter(
                metrics, "tthc_rejected_total", "Dead letters by reason.",
                "topic,reason", err, sizeof(err));
        char *out;
        (void)state;
        assert_non_null(rej);
        tp_metric_inc(rej, (const char *[]){"tthc.filings.01", "bad_avro"});
        tp_metric_add(rej, 2, (const char *[]){"tthc.filings.01", "bad_avro"});
        tp_metric_add(rej, -5, (const char *[]){"tthc.filings.01", "bad_avro"});
        tp_metric_inc(rej, (const char *[]){"t\"q\\\n", "bad_seq"});
        assert_true(tp_metric_value(rej, (const char *[]){"tthc.filings.01",
                                                          "bad_avro"}) == 3);
        out = tp_metrics_render(metrics, NULL);
        assert_non_null(strstr(out, "# HELP tthc_rejected_total Dead letters "
                                    "by reason.\n# TYPE tthc_rejected_total "
                                    "counter\n"));
        assert_non_null(strstr(out, "tthc_rejected_total{topic=\"tthc.filings."
                                    "01\",reason=\"bad_avro\"} 3\n"));
        assert_non_null(strstr(out, "tthc_rejected_total{topic=\"t\\\"q\\\\\\n"
                                    "\",reason=\"bad_seq\"} 1\n"));
        assert_non_null(
                strstr(out, "\ntthc_metrics_dropped_updates_total 0\n"));
        free(out);
        tp_metrics_destroy(metrics);
}

static void test_metrics__unlabelled_family_starts_at_zero(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256];
        struct tp_metric *up = tp_metrics_gauge(metrics, "tthc_ready", "Ready.",
                                                NULL, err, sizeof(err));
        char *out;
        (void)state;
        assert_non_null(up);
        out = tp_metrics_render(metrics, NULL);
        assert_non_null(strstr(out, "# TYPE tthc_ready gauge\ntthc_ready 0\n"));
        free(out);
        tp_metric_set(up, 1, NULL);
        tp_metric_add(up, 0.5, NULL);
        out = tp_metrics_render(metrics, NULL);
        assert_non_null(strstr(out, "\ntthc_ready 1.5\n"));
        free(out);
        tp_metrics_destroy(metrics);
}

static void test_metrics__gauge_remove_hides_and_resets(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256];
        struct tp_metric *lag =
                tp_metrics_gauge(metrics, "tthc_consumer_lag", "Lag.",
                                 "topic,partition", err, sizeof(err));
        const char *p0[] = {"tthc.filings.01", "0"};
        const char *p1[] = {"tthc.filings.01", "1"};
        char *out;
        (void)state;
        tp_metric_set(lag, 42, p0);
        tp_metric_set(lag, 7, p1);
        tp_metric_remove(lag, p0);
        out = tp_metrics_render(metrics, NULL);
        assert_null(strstr(out, "partition=\"0\""));
        assert_non_null(strstr(out, "partition=\"1\"} 7\n"));
        free(out);
        tp_metric_add(lag, 1, p0);
        assert_true(tp_metric_value(lag, p0) == 1);
        tp_metrics_destroy(metrics);
}

static void test_metrics__histogram_is_cumulative(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256];
        const double bounds[] = {0.1, 1, 10};
        struct tp_metric *h = tp_metrics_histogram(
                metrics, "tthc_commit_seconds", "Commit latency.", "group",
                bounds, 3, err, sizeof(err));
        const char *g[] = {"tthc-ingest"};
        char *out;
        (void)state;
        assert_non_null(h);
        tp_metric_observe(h, 0.05, g);
        tp_metric_observe(h, 0.1, g); /* le is inclusive */
        tp_metric_observe(h, 5, g);
        tp_metric_observe(h, 100, g);
        out = tp_metrics_render(metrics, NULL);
        assert_non_null(strstr(
                out, "tthc_commit_seconds_bucket{group=\"tthc-ingest\","
                     "le=\"0.1\"} 2\n"
                     "tthc_commit_seconds_bucket{group=\"tthc-ingest\","
                     "le=\"1\"} 2\n"
                     "tthc_commit_seconds_bucket{group=\"tthc-ingest\","
                     "le=\"10\"} 3\n"
                     "tthc_commit_seconds_bucket{group=\"tthc-ingest\","
                     "le=\"+Inf\"} 4\n"
                     "tthc_commit_seconds_sum{group=\"tthc-ingest\"} 105.15\n"
                     "tthc_commit_seconds_count{group=\"tthc-ingest\"} 4\n"));
        free(out);
        assert_true(tp_metric_value(h, g) == 4);
        tp_metrics_destroy(metrics);
}

static void test_metrics__declaration_errors(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256];
        const double bad[] = {1, 1};
        (void)state;
        assert_null(tp_metrics_counter(metrics, "9lives", "", NULL, err,
                                       sizeof(err)));
        assert_string_equal(err, "invalid metric name \"9lives\"");
        assert_non_null(tp_metrics_counter(metrics, "a_total", "", NULL, err,
                                           sizeof(err)));
        assert_null(tp_metrics_counter(metrics, "a_total", "", NULL, err,
                                       sizeof(err)));
        assert_string_equal(err, "metric \"a_total\" is already registered");
        assert_null(tp_metrics_gauge(metrics, "b", "", "x,y,z,w,v", err,
                                     sizeof(err)));
        assert_non_null(strstr(err, "more than 4 labels"));
        assert_null(tp_metrics_gauge(metrics, "c", "", "ok,bad-name", err,
                                     sizeof(err)));
        assert_non_null(strstr(err, "invalid label name \"bad-name\""));
        assert_null(tp_metrics_histogram(metrics, "d", "", "le", bad, 1, err,
                                         sizeof(err)));
        assert_null(tp_metrics_histogram(metrics, "e", "", NULL, bad, 2, err,
                                         sizeof(err)));
        assert_non_null(strstr(err, "must increase"));
        tp_metrics_destroy(metrics);
}

static void test_metrics__null_registry_is_a_no_op(void **state)
{
        char err[16] = "";
        struct tp_metric *c =
                tp_metrics_counter(NULL, "x_total", "", NULL, err, sizeof(err));
        char *out;
        (void)state;
        assert_null(c);
        assert_string_equal(err, "");
        tp_metric_inc(c, NULL);
        tp_metric_observe(c, 1, NULL);
        tp_metric_remove(c, NULL);
        assert_true(tp_metric_value(c, NULL) == 0);
        out = tp_metrics_render(NULL, NULL);
        assert_string_equal(out, "");
        free(out);
        tp_metrics_destroy(NULL);
}

static void test_metrics__series_limit_drops_updates(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256], v[32];
        struct tp_metric *c = tp_metrics_counter(metrics, "many_total", "", "k",
                                                 err, sizeof(err));
        char *out;
        (void)state;
        for (int i = 0; i < TP_METRICS_MAX_SERIES + 10; i++) {
                snprintf(v, sizeof(v), "%d", i);
                tp_metric_inc(c, (const char *[]){v});
        }
        /* Existing series still count. */
        tp_metric_inc(c, (const char *[]){"0"});
        assert_true(tp_metric_value(c, (const char *[]){"0"}) == 2);
        out = tp_metrics_render(metrics, NULL);
        assert_non_null(
                strstr(out, "\ntthc_metrics_dropped_updates_total 10\n"));
        free(out);
        tp_metrics_destroy(metrics);
}

struct tp_writer {
        struct tp_metric *c;
        struct tp_metric *h;
};

static void *tp_writer_run(void *arg)
{
        struct tp_writer *w = arg;
        for (int i = 0; i < 20000; i++) {
                tp_metric_inc(w->c, (const char *[]){i % 2 ? "a" : "b"});
                tp_metric_observe(w->h, 0.001 * (i % 100), NULL);
        }
        return NULL;
}

static void test_metrics__concurrent_updates_and_renders(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256];
        struct tp_writer w;
        pthread_t t[2];
        (void)state;
        w.c = tp_metrics_counter(metrics, "n_total", "", "k", err, sizeof(err));
        w.h = tp_metrics_histogram(
                metrics, "lat_seconds", "", NULL, tp_metrics_latency_buckets,
                tp_metrics_latency_buckets_n, err, sizeof(err));
        assert_non_null(w.h);
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&t[i], NULL, tp_writer_run, &w),
                                 0);
        for (int i = 0; i < 50; i++)
                free(tp_metrics_render(metrics, NULL));
        for (int i = 0; i < 2; i++)
                pthread_join(t[i], NULL);
        assert_true(tp_metric_value(w.c, (const char *[]){"a"}) == 20000);
        assert_true(tp_metric_value(w.c, (const char *[]){"b"}) == 20000);
        assert_true(tp_metric_value(w.h, NULL) == 40000);
        tp_metrics_destroy(metrics);
}

/* ---- httpd ------------------------------------------------------------------
 */

/* Sends one HTTP/1.0 request to 127.0.0.1:port; returns the status code
 * and copies the body into body. */
static int tp_http_get(int port, const char *method, const char *path,
                       char *body, size_t body_size)
{
        struct sockaddr_in sa;
        char req[256], resp[65536];
        size_t len = 0;
        ssize_t n;
        int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
        const char *sep;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                goto done;
        snprintf(req, sizeof(req),
                 "%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Length: "
                 "0\r\n\r\n",
                 method, path);
        if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
                goto done;
        while (len + 1 < sizeof(resp) &&
               (n = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0)
                len += (size_t)n;
        resp[len] = '\0';
        if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
                status = -1;
        sep = strstr(resp, "\r\n\r\n");
        snprintf(body, body_size, "%s", sep ? sep + 4 : "");
done:
        if (fd >= 0)
                close(fd);
        return status;
}

static int tp_flag_ready(void *ctx)
{
        return atomic_load((atomic_int *)ctx);
}

static void test_httpd__serves_probes_and_metrics(void **state)
{
        struct tp_metrics *metrics = tp_metrics_new();
        char err[256], body[65536];
        atomic_int ready = 0;
        struct tp_metric *c =
                tp_metrics_counter(metrics, "tthc_events_consumed_total",
                                   "Consumed.", "topic", err, sizeof(err));
        struct tp_httpd_opts opts = {.address = "127.0.0.1"};
        struct tp_httpd *h = tp_httpd_start(&opts, metrics, tp_flag_ready,
                                            &ready, err, sizeof(err));
        struct tp_httpd *h2;
        int port;
        (void)state;
        assert_non_null(h);
        port = tp_httpd_port(h);
        assert_true(port > 0);

        assert_int_equal(
                tp_http_get(port, "GET", "/healthz", body, sizeof(body)), 200);
        assert_string_equal(body, "ok\n");
        assert_int_equal(
                tp_http_get(port, "GET", "/readyz", body, sizeof(body)), 503);
        atomic_store(&ready, 1);
        assert_int_equal(
                tp_http_get(port, "GET", "/readyz", body, sizeof(body)), 200);

        tp_metric_add(c, 12, (const char *[]){"tthc.filings.79"});
        assert_int_equal(
                tp_http_get(port, "GET", "/metrics", body, sizeof(body)), 200);
        assert_non_null(strstr(body, "tthc_events_consumed_total{topic=\"tthc."
                                     "filings.79\"} 12\n"));
        tp_metric_inc(c, (const char *[]){"tthc.filings.79"});
        assert_int_equal(
                tp_http_get(port, "GET", "/metrics", body, sizeof(body)), 200);
        assert_non_null(strstr(body, "filings.79\"} 13\n"));

        assert_int_equal(
                tp_http_get(port, "POST", "/metrics", body, sizeof(body)), 405);
        assert_int_equal(tp_http_get(port, "GET", "/nope", body, sizeof(body)),
                         404);

        /* The port is taken: a second server says so. */
        opts.port = port;
        h2 = tp_httpd_start(&opts, metrics, NULL, NULL, err, sizeof(err));
        assert_null(h2);
        assert_non_null(strstr(err, "could not serve HTTP on 127.0.0.1 port"));

        tp_httpd_stop(h);
        tp_httpd_stop(NULL);
        tp_metrics_destroy(metrics);
}

/* A handler that echoes what reaches it. */
static void tp_echo_handler(void *ctx, const struct tp_httpd_req *req,
                            struct tp_httpd_resp *resp)
{
        const char *lang = tp_httpd_req_arg(req, "lang");
        const char *flag = tp_httpd_req_arg(req, "flag");
        const char *host = tp_httpd_req_header(req, "host");
        char peer[64];
        (*(int *)ctx)++;
        tp_httpd_req_peer(req, peer, sizeof(peer));
        resp->status = 201;
        resp->type = "text/x-echo";
        tp_httpd_resp_header(resp, "X-Echo", "1");
        tp_buf_printf(&resp->body,
                      "path=%s lang=%s flag=%s none=%s host=%s "
                      "peer=%s",
                      tp_httpd_req_path(req), lang ? lang : "(null)",
                      flag ? flag : "(null)",
                      tp_httpd_req_arg(req, "none") ? "set" : "(null)",
                      host ? host : "(null)", peer);
}

static void test_httpd__handler_gets_other_paths(void **state)
{
        char err[256], body[4096];
        int calls = 0;
        struct tp_httpd_opts opts = {.address = "127.0.0.1",
                                     .handler = tp_echo_handler,
                                     .handler_ctx = &calls,
                                     .threads = 2};
        struct tp_httpd *h =
                tp_httpd_start(&opts, NULL, NULL, NULL, err, sizeof(err));
        int port;
        (void)state;
        assert_non_null(h);
        port = tp_httpd_port(h);
        assert_int_equal(tp_http_get(port, "GET",
                                     "/communes/00%34?lang=en&flag", body,
                                     sizeof(body)),
                         201);
        assert_string_equal(body, "path=/communes/004 lang=en flag= "
                                  "none=(null) host=localhost "
                                  "peer=127.0.0.1");
        /* the server's own paths and methods stay its own */
        assert_int_equal(
                tp_http_get(port, "GET", "/healthz", body, sizeof(body)), 200);
        assert_string_equal(body, "ok\n");
        assert_int_equal(tp_http_get(port, "POST", "/", body, sizeof(body)),
                         405);
        assert_int_equal(calls, 1);
        tp_httpd_stop(h);
}

static void test_httpd__rejects_bad_port_and_address(void **state)
{
        char err[256];
        struct tp_httpd_opts opts = {.port = 70000};
        (void)state;
        assert_null(tp_httpd_start(&opts, NULL, NULL, NULL, err, sizeof(err)));
        assert_string_equal(err, "invalid HTTP port 70000");
        opts.port = 0;
        opts.address = "localhost";
        assert_null(tp_httpd_start(&opts, NULL, NULL, NULL, err, sizeof(err)));
        assert_non_null(
                strstr(err, "\"localhost\" is not an IPv4 or IPv6 address"));
}

static void test_httpd__parses_addresses(void **state)
{
        struct sockaddr_storage sa;
        struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
        socklen_t len;
        int any;
        char err[256], txt[INET6_ADDRSTRLEN];
        static const char *const bad[] = {"localhost", "1.2.3",  "1.2.3.4.5",
                                          "256.1.1.1", "::g",    "[1.2.3.4]",
                                          "[::1",      "::1]",   " ::1",
                                          "1.2.3.4 ",  "::1%lo", "1.2.3.4:80"};
        (void)state;

        assert_int_equal(tp_httpd_parse_address("127.0.0.1", 9464, &sa, &len,
                                                &any, err, sizeof(err)),
                         0);
        assert_int_equal(sa.ss_family, AF_INET);
        assert_int_equal(len, sizeof(struct sockaddr_in));
        assert_int_equal(ntohs(in4->sin_port), 9464);
        assert_int_equal(ntohl(in4->sin_addr.s_addr), INADDR_LOOPBACK);
        assert_int_equal(any, 0);

        assert_int_equal(tp_httpd_parse_address("0.0.0.0", 0, &sa, &len, &any,
                                                err, sizeof(err)),
                         0);
        assert_int_equal(sa.ss_family, AF_INET);
        assert_int_equal(in4->sin_addr.s_addr, htonl(INADDR_ANY));
        assert_int_equal(any, 0); /* IPv4 only, as asked */

        for (int i = 0; i < 4; i++) {
                const char *a[] = {"::", "[::]", "", NULL};
                assert_int_equal(tp_httpd_parse_address(a[i], 1, &sa, &len,
                                                        &any, err, sizeof(err)),
                                 0);
                assert_int_equal(sa.ss_family, AF_INET6);
                assert_int_equal(len, sizeof(struct sockaddr_in6));
                assert_memory_equal(&in6->sin6_addr, &in6addr_any,
                                    sizeof(in6addr_any));
                assert_int_equal(any, 1);
        }

        for (int i = 0; i < 2; i++) {
                const char *a[] = {"fd00::1:2", "[fd00::1:2]"};
                assert_int_equal(tp_httpd_parse_address(a[i], 65535, &sa, &len,
                                                        &any, err, sizeof(err)),
                                 0);
                assert_int_equal(sa.ss_family, AF_INET6);
                assert_int_equal(ntohs(in6->sin6_port), 65535);
                assert_non_null(
                        inet_ntop(AF_INET6, &in6->sin6_addr, txt, sizeof(txt)));
                assert_string_equal(txt, "fd00::1:2");
                assert_int_equal(any, 0);
        }

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_int_equal(tp_httpd_parse_address(bad[i], 80, &sa, &len,
                                                        &any, err, sizeof(err)),
                                 -1);
                assert_non_null(strstr(err, "is not an IPv4 or IPv6 address"));
        }
        assert_int_equal(tp_httpd_parse_address("::1", -1, &sa, &len, &any, err,
                                                sizeof(err)),
                         -1);
        assert_string_equal(err, "invalid HTTP port -1");
        assert_int_equal(tp_httpd_parse_address("::1", 65536, &sa, &len, &any,
                                                err, sizeof(err)),
                         -1);
}

/* Connects to 127.0.0.1:port from the source address src (host order). */
static int tp_connect_from(uint32_t src, int port)
{
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return -1;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(src);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                goto fail;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                goto fail;
        return fd;
fail:
        close(fd);
        return -1;
}

/* 1 when the server closed fd (EOF) within ms milliseconds. */
static int tp_closed_within(int fd, int ms)
{
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        char c;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return read(fd, &c, 1) == 0;
}

/* The per-IP limit: the client over it gets its extra connections closed
 * at once, while other clients are served; idle connections are closed
 * after the timeout. */
static void test_httpd__per_ip_limit_and_timeout(void **state)
{
        struct tp_httpd_opts opts = {
                .address = "127.0.0.1", .max_per_ip = 3, .timeout_s = 1};
        char err[256], body[256];
        struct tp_httpd *h =
                tp_httpd_start(&opts, NULL, NULL, NULL, err, sizeof(err));
        int fds[6], port, closed = 0;
        (void)state;
        assert_non_null(h);
        port = tp_httpd_port(h);
        for (int i = 0; i < 6; i++) {
                /* 127.0.0.2 to 127.0.0.1: the loopback takes any 127/8 */
                fds[i] = tp_connect_from(0x7f000002, port);
                assert_true(fds[i] >= 0);
        }
        for (int i = 3; i < 6; i++)
                closed += tp_closed_within(fds[i], 2000);
        assert_int_equal(closed, 3);
        /* 127.0.0.1 is another client: served while .2 holds its three */
        assert_int_equal(
                tp_http_get(port, "GET", "/healthz", body, sizeof(body)), 200);
        /* the three held are closed by the idle timeout (1 s) */
        for (int i = 0; i < 3; i++)
                assert_true(tp_closed_within(fds[i], 5000));
        for (int i = 0; i < 6; i++)
                close(fds[i]);
        tp_httpd_stop(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_metrics__counter_with_labels_renders),
                cmocka_unit_test(
                        test_metrics__unlabelled_family_starts_at_zero),
                cmocka_unit_test(test_metrics__gauge_remove_hides_and_resets),
                cmocka_unit_test(test_metrics__histogram_is_cumulative),
                cmocka_unit_test(test_metrics__declaration_errors),
                cmocka_unit_test(test_metrics__null_registry_is_a_no_op),
                cmocka_unit_test(test_metrics__series_limit_drops_updates),
                cmocka_unit_test(test_metrics__concurrent_updates_and_renders),
                cmocka_unit_test(test_httpd__serves_probes_and_metrics),
                cmocka_unit_test(test_httpd__handler_gets_other_paths),
                cmocka_unit_test(test_httpd__rejects_bad_port_and_address),
                cmocka_unit_test(test_httpd__parses_addresses),
                cmocka_unit_test(test_httpd__per_ip_limit_and_timeout),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
