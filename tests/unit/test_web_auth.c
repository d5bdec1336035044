/* Unit tests for tthc-web's access rule (services/web/web_auth.c): the
 * user header counts only from a trusted proxy address, a known user gets
 * its mapped role, anyone else the anonymous role or nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "web_int.h"

static char tp_header[] = "X-Remote-User";

static struct tp_web_auth *tp_auth(char *anonymous, char **proxies,
                                   size_t n_proxies, char **roles,
                                   size_t n_roles, char *err, size_t size)
{
        struct tp_web_opts o;
        memset(&o, 0, sizeof(o));
        o.user_header = tp_header;
        o.trusted_proxy.v = proxies;
        o.trusted_proxy.n = n_proxies;
        o.user_role.v = roles;
        o.user_role.n = n_roles;
        o.anonymous_role = anonymous;
        return tp_web_auth_new(&o, err, size);
}

static void test_web_auth__trusted_proxy_maps_users(void **state)
{
        char *proxies[] = {(char[]){"::ffff:127.0.0.1"}, (char[]){"::1"}};
        char *roles[] = {(char[]){"lan=tthc_prov_79"},
                         (char[]){"boss=tthc_analyst"}};
        char err[256], why[256];
        struct tp_web_auth *auth =
                tp_auth((char[]){""}, proxies, 2, roles, 2, err, sizeof(err));
        (void)state;
        assert_non_null(auth);
        /* an IPv4-mapped proxy address matches the plain IPv4 peer */
        assert_string_equal(
                tp_web_auth_role(auth, "127.0.0.1", "lan", why, sizeof(why)),
                "tthc_prov_79");
        assert_string_equal(
                tp_web_auth_role(auth, "::1", "boss", why, sizeof(why)),
                "tthc_analyst");
        /* an unknown user, and no anonymous role */
        assert_null(tp_web_auth_role(auth, "::1", "mallory", why, sizeof(why)));
        assert_non_null(strstr(why, "\"mallory\" has no role"));
        assert_null(
                tp_web_auth_role(auth, "127.0.0.1", NULL, why, sizeof(why)));
        assert_non_null(strstr(why, "reverse proxy"));
        /* the header from elsewhere is not believed */
        assert_null(
                tp_web_auth_role(auth, "10.0.0.5", "boss", why, sizeof(why)));
        tp_web_auth_destroy(auth);
}

static void test_web_auth__anonymous_role(void **state)
{
        char *proxies[] = {(char[]){"127.0.0.1"}};
        char *roles[] = {(char[]){"lan=tthc_prov_79"}};
        char err[256], why[256];
        struct tp_web_auth *auth = tp_auth((char[]){"tthc_analyst"}, proxies, 1,
                                           roles, 1, err, sizeof(err));
        (void)state;
        assert_non_null(auth);
        assert_string_equal(
                tp_web_auth_role(auth, "10.0.0.5", "lan", why, sizeof(why)),
                "tthc_analyst");
        assert_string_equal(
                tp_web_auth_role(auth, "127.0.0.1", NULL, why, sizeof(why)),
                "tthc_analyst");
        tp_web_auth_destroy(auth);
}

static void test_web_auth__bad_options(void **state)
{
        char *bad_proxy[] = {(char[]){"proxy.example"}};
        char *good_proxy[] = {(char[]){"127.0.0.1"}};
        char *bad_roles[] = {(char[]){"=role"}};
        char *no_role[] = {(char[]){"user="}};
        char err[256];
        (void)state;
        assert_null(
                tp_auth((char[]){""}, bad_proxy, 1, NULL, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
        assert_null(tp_auth((char[]){""}, good_proxy, 1, bad_roles, 1, err,
                            sizeof(err)));
        assert_non_null(strstr(err, "is not USER=ROLE"));
        assert_null(tp_auth((char[]){""}, good_proxy, 1, no_role, 1, err,
                            sizeof(err)));
        assert_null(tp_auth((char[]){""}, NULL, 0, NULL, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "needs --trusted-proxy"));
        tp_web_auth_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_web_auth__trusted_proxy_maps_users),
                cmocka_unit_test(test_web_auth__anonymous_role),
                cmocka_unit_test(test_web_auth__bad_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
