/* tthc-web: the pages an alert leads to (docs/web.md).
 *
 *   tthc-web --pg CONNINFO [--address ::] [--port 8080]
 *            [--user-header X-Remote-User --trusted-proxy 127.0.0.1
 *             --user-role alice=tthc_prov_79 ...] [--anonymous-role R]
 *
 * Serves /, /provinces/<code>, /communes/<code> and /alerts as HTML
 * (Vietnamese; ?lang=en English) or JSON, from PostgreSQL as a read-only
 * login that SET ROLEs to each request's role. SIGTERM/SIGINT stop it.
 */
#include "cfg.h"
#include "log.h"
#include "service.h"
#include "util.h"
#include "web.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>

static const struct tp_opt tp_web_own[] = {
        {"address", TP_OPT_STR, "::", offsetof(struct tp_web_opts, address),
         "address to listen on (:: every address, 127.0.0.1 behind a local "
         "proxy)",
         0, 0, NULL, 0},
        {"port", TP_OPT_INT, "8080", offsetof(struct tp_web_opts, port),
         "port to listen on (0: any free one, printed at start)", 0, 65535,
         NULL, 0},
        {"threads", TP_OPT_INT, "4", offsetof(struct tp_web_opts, threads),
         "request threads, and PostgreSQL connections (one each)", 1, 64, NULL,
         0},
        {"max-per-ip", TP_OPT_INT, "32",
         offsetof(struct tp_web_opts, max_per_ip),
         "connections at once from one address (a reverse proxy is one "
         "address)",
         1, 128, NULL, 0},
        {"timeout-s", TP_OPT_INT, "10", offsetof(struct tp_web_opts, timeout_s),
         "idle connection timeout (s)", 1, 300, NULL, 0},
        {"page-size", TP_OPT_INT, "100",
         offsetof(struct tp_web_opts, page_size),
         "rows per page of a long list", 10, 1000, NULL, 0},
        {"cache-s", TP_OPT_INT, "30", offsetof(struct tp_web_opts, cache_s),
         "seconds the national page's figures are kept per role (0: "
         "none; they sum a month of every province)",
         0, 3600, NULL, 0},
        {"user-header", TP_OPT_STR, "",
         offsetof(struct tp_web_opts, user_header),
         "request header naming the user (set by the reverse proxy; "
         "believed from --trusted-proxy addresses only)",
         0, 0, NULL, 0},
        {"trusted-proxy", TP_OPT_LIST, NULL,
         offsetof(struct tp_web_opts, trusted_proxy),
         "address of a reverse proxy whose user header is believed "
         "(repeatable)",
         0, 0, NULL, 0},
        {"user-role", TP_OPT_LIST, NULL,
         offsetof(struct tp_web_opts, user_role),
         "USER=ROLE: the PostgreSQL role a user's requests run as "
         "(repeatable)",
         0, 0, NULL, 0},
        {"anonymous-role", TP_OPT_STR, "",
         offsetof(struct tp_web_opts, anonymous_role),
         "role of requests without a (trusted) user header; empty: they "
         "get 403",
         0, 0, NULL, 0},
};

static const struct tp_cfg_spec tp_web_spec = {
        .service = "tthc-web",
        .summary = "Serves the national, province, commune and alert pages "
                   "(HTML or JSON) from PostgreSQL, read-only.",
        .groups = TP_CFG_LOG | TP_CFG_PG,
        .own = tp_web_own,
        .n_own = TP_ARRAY_LEN(tp_web_own),
        .own_size = sizeof(struct tp_web_opts),
};

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_web *web;
        char err[1024];
        int code;

        if (!tp_service_start(&tp_web_spec, argc, argv, &cfg, &code))
                goto out;
        tp_service_signals();
        web = tp_web_new(&cfg, err, sizeof(err));
        if (!web) {
                tp_log_error("could not start: %s", err);
                code = 1;
                goto out;
        }
        tp_log_info("serving on port %d", tp_web_port(web));
        /* a signal may land on a server thread: look at the flag often */
        while (!tp_service_stop) {
                struct timespec ts = {0, 200 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        tp_log_info("stopping");
        tp_web_destroy(web);
        code = 0;
out:
        tp_cfg_release(&cfg);
        return code;
}
