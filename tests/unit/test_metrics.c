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
#include <unistd.h>

#include "httpd.h"
#include "metrics.h"

static void test_metrics__counter_with_labels_renders(void **state)
{
        struct tp_metrics *m = tp_metrics_new();
        char err[256];
        struct tp_metric *rej = tp_metrics_counter(
                m, "tthc_rejected_total", "Dead letters by reason.",
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
        out = tp_metrics_render(m, NULL);
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
        tp_metrics_destroy(m);
}

static void test_metrics__unlabelled_family_starts_at_zero(void **state)
{
        struct tp_metrics *m = tp_metrics_new();
        char err[256];
        struct tp_metric *up = tp_metrics_gauge(m, "tthc_ready", "Ready.", NULL,
                                                err, sizeof(err));
        char *out;
        (void)state;
        assert_non_null(up);
        out = tp_metrics_render(m, NULL);
        assert_non_null(strstr(out, "# TYPE tthc_ready gauge\ntthc_ready 0\n"));
        free(out);
        tp_metric_set(up, 1, NULL);
        tp_metric_add(up, 0.5, NULL);
        out = tp_metrics_render(m, NULL);
        assert_non_null(strstr(out, "\ntthc_ready 1.5\n"));
        free(out);
        tp_metrics_destroy(m);
}

static void test_metrics__gauge_remove_hides_and_resets(void **state)
{
        struct tp_metrics *m = tp_metrics_new();
        char err[256];
        struct tp_metric *lag =
                tp_metrics_gauge(m, "tthc_consumer_lag", "Lag.",
                                 "topic,partition", err, sizeof(err));
        const char *p0[] = {"tthc.filings.01", "0"};
        const char *p1[] = {"tthc.filings.01", "1"};
        char *out;
        (void)state;
        tp_metric_set(lag, 42, p0);
        tp_metric_set(lag, 7, p1);
        tp_metric_remove(lag, p0);
        out = tp_metrics_render(m, NULL);
        assert_null(strstr(out, "partition=\"0\""));
        assert_non_null(strstr(out, "partition=\"1\"} 7\n"));
        free(out);
        tp_metric_add(lag, 1, p0);
        assert_true(tp_metric_value(lag, p0) == 1);
        tp_metrics_destroy(m);
}

static void test_metrics__histogram_is_cumulative(void **state)
{
        struct tp_metrics *m = tp_metrics_new();
        char err[256];
        const double bounds[] = {0.1, 1, 10};
        struct tp_metric *h = tp_metrics_histogram(m, "tthc_commit_seconds",
                                                   "Commit latency.", "group",
                                                   bounds, 3, err, sizeof(err));
        const char *g[] = {"tthc-ingest"};
        char *out;
        (void)state;
        assert_non_null(h);
        tp_metric_observe(h, 0.05, g);
        tp_metric_observe(h, 0.1, g); /* le is inclusive */
        tp_metric_observe(h, 5, g);
        tp_metric_observe(h, 100, g);
        out = tp_metrics_render(m, NULL);
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
        tp_metrics_destroy(m);
}

static void test_metrics__declaration_errors(void **state)
{
        struct tp_metrics *m = tp_metrics_new();
        char err[256];
        const double bad[] = {1, 1};
        (void)state;
        assert_null(
                tp_metrics_counter(m, "9lives", "", NULL, err, sizeof(err)));
        assert_string_equal(err, "invalid metric name \"9lives\"");
        assert_non_null(
                tp_metrics_counter(m, "a_total", "", NULL, err, sizeof(err)));
        assert_null(
                tp_metrics_counter(m, "a_total", "", NULL, err, sizeof(err)));
        assert_string_equal(err, "metric \"a_total\" is already registered");
        assert_null(
                tp_metrics_gauge(m, "b", "", "x,y,z,w,v", err, sizeof(err)));
        assert_non_null(strstr(err, "more than 4 labels"));
        assert_null(
                tp_metrics_gauge(m, "c", "", "ok,bad-name", err, sizeof(err)));
        assert_non_null(strstr(err, "invalid label name \"bad-name\""));
        assert_null(tp_metrics_histogram(m, "d", "", "le", bad, 1, err,
                                         sizeof(err)));
        assert_null(tp_metrics_histogram(m, "e", "", NULL, bad, 2, err,
                                         sizeof(err)));
        assert_non_null(strstr(err, "must increase"));
        tp_metrics_destroy(m);
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
        struct tp_metrics *m = tp_metrics_new();
        char err[256], v[32];
        struct tp_metric *c =
                tp_metrics_counter(m, "many_total", "", "k", err, sizeof(err));
        char *out;
        (void)state;
        for (int i = 0; i < TP_METRICS_MAX_SERIES + 10; i++) {
                snprintf(v, sizeof(v), "%d", i);
                tp_metric_inc(c, (const char *[]){v});
        }
        /* Existing series still count. */
        tp_metric_inc(c, (const char *[]){"0"});
        assert_true(tp_metric_value(c, (const char *[]){"0"}) == 2);
        out = tp_metrics_render(m, NULL);
        assert_non_null(
                strstr(out, "\ntthc_metrics_dropped_updates_total 10\n"));
        free(out);
        tp_metrics_destroy(m);
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
        struct tp_metrics *m = tp_metrics_new();
        char err[256];
        struct tp_writer w;
        pthread_t t[2];
        (void)state;
        w.c = tp_metrics_counter(m, "n_total", "", "k", err, sizeof(err));
        w.h = tp_metrics_histogram(
                m, "lat_seconds", "", NULL, tp_metrics_latency_buckets,
                tp_metrics_latency_buckets_n, err, sizeof(err));
        assert_non_null(w.h);
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&t[i], NULL, tp_writer_run, &w),
                                 0);
        for (int i = 0; i < 50; i++)
                free(tp_metrics_render(m, NULL));
        for (int i = 0; i < 2; i++)
                pthread_join(t[i], NULL);
        assert_true(tp_metric_value(w.c, (const char *[]){"a"}) == 20000);
        assert_true(tp_metric_value(w.c, (const char *[]){"b"}) == 20000);
        assert_true(tp_metric_value(w.h, NULL) == 40000);
        tp_metrics_destroy(m);
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
        struct tp_metrics *m = tp_metrics_new();
        char err[256], body[65536];
        atomic_int ready = 0;
        struct tp_metric *c =
                tp_metrics_counter(m, "tthc_events_consumed_total", "Consumed.",
                                   "topic", err, sizeof(err));
        struct tp_httpd *h =
                tp_httpd_start(0, m, tp_flag_ready, &ready, err, sizeof(err));
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
        h2 = tp_httpd_start(port, m, NULL, NULL, err, sizeof(err));
        assert_null(h2);
        assert_non_null(strstr(err, "could not serve HTTP on port"));

        tp_httpd_stop(h);
        tp_httpd_stop(NULL);
        tp_metrics_destroy(m);
}

static void test_httpd__rejects_bad_port(void **state)
{
        char err[256];
        (void)state;
        assert_null(tp_httpd_start(70000, NULL, NULL, NULL, err, sizeof(err)));
        assert_string_equal(err, "invalid HTTP port 70000");
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
                cmocka_unit_test(test_httpd__rejects_bad_port),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
