/* service.c - see service.h. */
#include "service.h"
#include "log.h"
#include "migrate.h"

#include <stdio.h>
#include <string.h>

volatile sig_atomic_t tp_service_stop;
volatile sig_atomic_t tp_service_hup;

static void tp_service_on_signal(int sig)
{
        if (sig == SIGHUP)
                tp_service_hup = 1;
        else
                tp_service_stop = 1;
}

/* sigaction, not signal(): under _POSIX_C_SOURCE signal() has System V
 * semantics (the handler resets on delivery), and a second SIGHUP or
 * SIGTERM would kill the process. */
void tp_service_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = tp_service_on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

static int tp_service_logging(const char *service, const struct tp_cfg *cfg)
{
        int level = tp_log_level_parse(cfg->log_level);
        if (level < 0) {
                fprintf(stderr, "%s: unknown log level \"%s\"\n", service,
                        cfg->log_level);
                return -1;
        }
        if (strcmp(cfg->log_format, "json") != 0 &&
            strcmp(cfg->log_format, "logfmt") != 0) {
                fprintf(stderr, "%s: unknown log format \"%s\"\n", service,
                        cfg->log_format);
                return -1;
        }
        tp_log_set_service(service);
        tp_log_set_level((enum tp_log_level)level);
        tp_log_set_json(strcmp(cfg->log_format, "json") == 0);
        return 0;
}

int tp_service_start(const struct tp_cfg_spec *spec, int argc, char **argv,
                     struct tp_cfg *cfg, int *exit_code)
{
        char err[1024];
        enum tp_cfg_result cr =
                tp_cfg_load(cfg, spec, argc, argv, err, sizeof(err));
        *exit_code = 0;
        if (cr == TP_CFG_HELP)
                tp_cfg_print_help(spec);
        if (cr == TP_CFG_ERROR) {
                fprintf(stderr, "%s: %s\n", spec->service, err);
                *exit_code = 2;
        }
        if (cr != TP_CFG_OK)
                return 0;
        if (tp_service_logging(spec->service, cfg) != 0) {
                *exit_code = 2;
                return 0;
        }
        return 1;
}

int tp_service_reload(const struct tp_service *svc, struct tp_cfg *fresh)
{
        char err[1024];
        if (tp_cfg_load(fresh, svc->spec, svc->argc, svc->argv, err,
                        sizeof(err)) != TP_CFG_OK) {
                tp_log_error("SIGHUP: configuration not reloaded: %s", err);
                return -1;
        }
        if (tp_service_logging(svc->spec->service, fresh) != 0) {
                tp_log_error("SIGHUP: configuration not reloaded: bad log "
                             "level or format");
                return -1;
        }
        tp_log_info("SIGHUP: reloaded (log level %s, format %s)",
                    fresh->log_level, fresh->log_format);
        return 0;
}

void tp_service_reload_cb(void *ctx)
{
        struct tp_cfg fresh;
        tp_service_reload(ctx, &fresh);
        tp_cfg_release(&fresh);
}

int tp_service_migrate(const struct tp_cfg *cfg, PGconn *conn)
{
        char err[1024];
        int applied = 0;
        if (!cfg->migrate)
                return 0;
        if (tp_migrate_apply(conn, cfg->migrations, &applied, err,
                             sizeof(err)) != 0 ||
            tp_migrate_reference(conn, cfg->reference, err, sizeof(err)) != 0) {
                tp_log_error("could not migrate the database: %s", err);
                return -1;
        }
        tp_log_info("database ready (%d migration(s) applied)", applied);
        return 0;
}

struct tp_consumer *tp_service_consumer(const struct tp_cfg *cfg,
                                        const char *service,
                                        const struct tp_handler *h)
{
        char err[1024];
        struct tp_consumer *c;

        tp_service_signals();
        c = tp_consumer_new(cfg, service, h, err, sizeof(err));
        if (!c || (cfg->http_port > 0 &&
                   tp_consumer_serve_http(c, cfg, err, sizeof(err)) != 0)) {
                tp_log_error("could not start: %s", err);
                goto fail;
        }
        if (tp_service_migrate(cfg, tp_consumer_pg(c)) != 0)
                goto fail;
        return c;
fail:
        tp_consumer_destroy(c);
        return NULL;
}

int tp_service_run(struct tp_consumer *c, struct tp_service *svc,
                   void (*reload)(void *ctx), void *reload_ctx,
                   const char *note)
{
        const struct tp_cfg *cfg = tp_consumer_cfg(c);
        if (!reload) {
                reload = tp_service_reload_cb;
                reload_ctx = svc;
        }
        tp_consumer_set_reload(c, &tp_service_hup, reload, reload_ctx);
        tp_log_info("consuming %s as group %s%s", cfg->topics, cfg->group,
                    note);
        return tp_consumer_run(c, &tp_service_stop) == 0 ? 0 : 1;
}

void tp_service_log_store(const struct tp_store *store)
{
        const struct tp_store_stats *st = tp_store_stats(store);
        tp_log_info("state store: %zu dossier(s) resident (cap %zu), %llu "
                    "hit(s), %llu miss(es), %llu evicted over the cap, %llu "
                    "dropped",
                    tp_store_count(store), tp_store_cap(store),
                    (unsigned long long)st->hits,
                    (unsigned long long)st->misses,
                    (unsigned long long)st->evicted,
                    (unsigned long long)st->dropped);
}

int tp_service_main(const struct tp_service_def *def, int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_service svc = {def->spec, argc, argv};
        struct tp_handler h = def->handler;
        struct tp_consumer *c = NULL;
        void *ctx = NULL;
        char err[1024];
        int rc = 1;

        if (!tp_service_start(def->spec, argc, argv, &cfg, &rc))
                goto out;
        rc = 1;
        c = tp_service_consumer(&cfg, def->spec->service, &h);
        if (!c)
                goto out;
        ctx = def->build(c, &cfg, err, sizeof(err));
        if (!ctx) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        h.ctx = ctx;
        tp_consumer_set_handler(c, &h);
        rc = tp_service_run(c, &svc, NULL, NULL, "");
        def->report(ctx);
out:
        tp_consumer_destroy(c);
        if (ctx)
                def->destroy(ctx);
        tp_cfg_release(&cfg);
        return rc;
}
