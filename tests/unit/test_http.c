/* Unit tests for common/http against a real local server (common/httpd):
 * status codes, the answer cap, refused schemes and unreachable servers,
 * and URLs and credentials kept out of error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http.h"
#include "httpd.h"

static struct tp_httpd *start(int *port)
{
        char err[256];
        struct tp_httpd_opts o = {.address = "127.0.0.1"};
        struct tp_httpd *h =
                tp_httpd_start(&o, NULL, NULL, NULL, err, sizeof(err));
        assert_non_null(h);
        *port = tp_httpd_port(h);
        return h;
}

static void test_http__get_and_post(void **state)
{
        char url[128], err[512];
        struct tp_http_reply r;
        int port;
        struct tp_httpd *h = start(&port);
        struct tp_http_req req = {.url = url, .max_reply = 1024};
        (void)state;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), 0);
        assert_int_equal(r.code, 200);
        assert_non_null(r.body.data);
        assert_string_equal(r.body.data, "ok\n");
        tp_http_reply_release(&r);

        snprintf(url, sizeof(url), "http://127.0.0.1:%d/nothing", port);
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), 0);
        assert_int_equal(r.code, 404);
        tp_http_reply_release(&r);

        /* a POST (the server allows only GET and HEAD) */
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
        req.body = "{}";
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), 0);
        assert_int_equal(r.code, 405);
        tp_http_reply_release(&r);

        /* an answer not kept */
        req.body = NULL;
        req.max_reply = 0;
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), 0);
        assert_int_equal(r.code, 200);
        assert_null(r.body.data);
        assert_int_equal(r.too_big, 0);
        tp_http_reply_release(&r);
        tp_httpd_stop(h);
}

static void test_http__answer_cap(void **state)
{
        char url[128], err[512];
        struct tp_http_reply r;
        int port;
        struct tp_httpd *h = start(&port);
        struct tp_http_req req = {.url = url, .max_reply = 1};
        (void)state;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), 0);
        assert_int_equal(r.too_big, 1);
        assert_null(r.body.data);
        assert_int_equal(r.body.len, 0);
        tp_http_reply_release(&r);
        tp_httpd_stop(h);
}

static void test_http__unreachable_redacts(void **state)
{
        char url[128], err[512];
        struct tp_http_reply r;
        int port;
        struct tp_httpd *h = start(&port);
        struct tp_http_req req = {
                .url = url, .user = "bob", .password = "hunter2", .body = "x"};
        (void)state;
        tp_httpd_stop(h); /* the port is now closed */
        snprintf(url, sizeof(url), "http://alice:s3cret@127.0.0.1:%d/a", port);
        err[0] = '\0';
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), -1);
        tp_http_reply_release(&r);
        assert_true(strlen(err) > 0);
        assert_null(strstr(err, "127.0.0.1")); /* no URL at all */
        assert_null(strstr(err, "s3cret"));
        assert_null(strstr(err, "alice"));
        assert_null(strstr(err, "hunter2"));
}

static void test_http__only_http_and_https(void **state)
{
        char err[512];
        struct tp_http_reply r;
        struct tp_http_req req = {.url = "file:///etc/passwd",
                                  .max_reply = 1 << 20};
        (void)state;
        assert_int_equal(tp_http_send(&req, &r, err, sizeof(err)), -1);
        assert_null(r.body.data);
        assert_true(strlen(err) > 0);
        assert_null(strstr(err, "passwd"));
        tp_http_reply_release(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_http__get_and_post),
                cmocka_unit_test(test_http__answer_cap),
                cmocka_unit_test(test_http__unreachable_redacts),
                cmocka_unit_test(test_http__only_http_and_https),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
