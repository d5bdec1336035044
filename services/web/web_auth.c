/* web_auth.c - who is asking (see web_int.h). The user header is
 * believed only from the configured proxy addresses: anyone else could
 * send it. */
#include "web_int.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_web_auth {
        int has_header;
        char **proxies; /* canonical text (inet_ntop) */
        size_t n_proxies;
        char **users, **roles;
        size_t n_users;
        char *anonymous; /* NULL: none */
};

void tp_web_auth_destroy(struct tp_web_auth *auth)
{
        if (!auth)
                return;
        for (size_t i = 0; i < auth->n_proxies; i++)
                free(auth->proxies[i]);
        for (size_t i = 0; i < auth->n_users; i++) {
                free(auth->users[i]);
                free(auth->roles[i]);
        }
        free(auth->proxies);
        free(auth->users);
        free(auth->roles);
        free(auth->anonymous);
        free(auth);
}

/* addr in the form tp_httpd_req_peer gives, or NULL. */
static char *tp_web_auth_canonical(const char *addr)
{
        unsigned char bin[sizeof(struct in6_addr)];
        char out[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET, addr, bin) == 1 &&
            inet_ntop(AF_INET, bin, out, sizeof(out)))
                return tp_xstrdup(out);
        if (inet_pton(AF_INET6, addr, bin) != 1)
                return NULL;
        if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bin)) {
                if (inet_ntop(AF_INET, bin + 12, out, sizeof(out)))
                        return tp_xstrdup(out);
                return NULL;
        }
        return inet_ntop(AF_INET6, bin, out, sizeof(out)) ? tp_xstrdup(out)
                                                          : NULL;
}

struct tp_web_auth *tp_web_auth_new(const struct tp_web_opts *o, char *errstr,
                                    size_t errstr_size)
{
        struct tp_web_auth *auth = tp_xcalloc(1, sizeof(*auth));
        const struct tp_cfg_list *ur = &o->user_role;

        auth->has_header = o->user_header && *o->user_header;
        auth->proxies =
                tp_xcalloc(o->trusted_proxy.n + 1, sizeof(*auth->proxies));
        for (size_t i = 0; i < o->trusted_proxy.n; i++) {
                char *c = tp_web_auth_canonical(o->trusted_proxy.v[i]);
                if (!c) {
                        snprintf(errstr, errstr_size,
                                 "--trusted-proxy \"%.64s\" is not an IPv4 "
                                 "or IPv6 address",
                                 o->trusted_proxy.v[i]);
                        goto fail;
                }
                auth->proxies[auth->n_proxies++] = c;
        }
        auth->users = tp_xcalloc(ur->n + 1, sizeof(*auth->users));
        auth->roles = tp_xcalloc(ur->n + 1, sizeof(*auth->roles));
        for (size_t i = 0; i < ur->n; i++) {
                const char *eq = strchr(ur->v[i], '=');
                if (!eq || eq == ur->v[i] || !eq[1]) {
                        snprintf(errstr, errstr_size,
                                 "--user-role \"%.64s\" is not USER=ROLE",
                                 ur->v[i]);
                        goto fail;
                }
                auth->users[auth->n_users] =
                        tp_xstrndup(ur->v[i], (size_t)(eq - ur->v[i]));
                auth->roles[auth->n_users++] = tp_xstrdup(eq + 1);
        }
        if (o->anonymous_role && *o->anonymous_role)
                auth->anonymous = tp_xstrdup(o->anonymous_role);
        if (auth->has_header && auth->n_proxies == 0) {
                snprintf(errstr, errstr_size,
                         "--user-header needs --trusted-proxy (the "
                         "addresses of the reverse proxy that sets it)");
                goto fail;
        }
        return auth;
fail:
        tp_web_auth_destroy(auth);
        return NULL;
}

static int tp_web_auth_trusted(const struct tp_web_auth *auth, const char *peer)
{
        for (size_t i = 0; i < auth->n_proxies; i++)
                if (strcmp(auth->proxies[i], peer) == 0)
                        return 1;
        return 0;
}

const char *tp_web_auth_role(const struct tp_web_auth *auth, const char *peer,
                             const char *user, char *why, size_t why_size)
{
        if (auth->has_header && user && tp_web_auth_trusted(auth, peer)) {
                for (size_t i = 0; i < auth->n_users; i++)
                        if (strcmp(auth->users[i], user) == 0)
                                return auth->roles[i];
                snprintf(why, why_size,
                         "user \"%.64s\" has no role here (ask the "
                         "administrator to add it to --user-role)",
                         user);
                return NULL;
        }
        if (auth->anonymous)
                return auth->anonymous;
        snprintf(why, why_size,
                 "sign in through the portal: this server answers only "
                 "requests that its reverse proxy names a user for");
        return NULL;
}
