/* service.c - see service.h. */
#include "service.h"
#include "log.h"
#include "migrate.h"
#include "pgutil.h"
#include "replay.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* "rebuilt 40% (123456 of 308640 events)" on a terminal, in place. */
static void tp_rebuild_progress(void *ctx, uint64_t done, uint64_t total)
{
        (void)ctx;
        fprintf(stderr, "\rrebuilding: %llu of %llu event(s) (%d%%)",
                (unsigned long long)done, (unsigned long long)total,
                total ? (int)(done * 100 / total) : 100);
}

static void tp_rebuild_summary(const char *service,
                               const struct tp_replay_report *rep, int64_t ms)
{
        uint64_t refused = 0;
        char at[32];
        for (int r = 0; r < TP_REASON__COUNT; r++) {
                refused += rep->refused[r];
                if (rep->refused[r])
                        tp_log_warn("rebuild: %llu stored event(s) are "
                                    "refused today (%s): kept in "
                                    "tthc.filing_events, not applied",
                                    (unsigned long long)rep->refused[r],
                                    tp_reason_name((enum tp_reason)r));
        }
        tp_log_info("%s rebuilt from tthc.filing_events: %llu event(s) "
                    "applied, %llu refused, in %llu batch(es), %.1f s",
                    service, (unsigned long long)rep->applied,
                    (unsigned long long)refused,
                    (unsigned long long)rep->batches, (double)ms / 1000.0);
        if (rep->horizon == TP_TS_NONE)
                return;
        tp_format_ts(rep->horizon, at, sizeof(at));
        tp_log_warn("rebuild: retention dropped the events before %s: %llu "
                    "dossier(s) that began before it kept their rows, and "
                    "their %llu later event(s) were not applied",
                    at, (unsigned long long)rep->kept,
                    (unsigned long long)rep->kept_events);
}

int tp_service_replay(PGconn *conn, const struct tp_handler *h,
                      const struct tp_replay_def *rd, const struct tp_cfg *cfg)
{
        struct tp_replay_opts o = {0};
        struct tp_replay_report rep;
        int64_t t0 = tp_mono_ms();
        char err[1024];
        int rc;

        o.batch = (size_t)cfg->batch_size;
        o.force = cfg->rebuild_force;
        if (isatty(STDERR_FILENO))
                o.progress = tp_rebuild_progress;
        tp_log_info("rebuilding the tables of %s from tthc.filing_events",
                    rd->service);
        rc = tp_replay_rebuild(conn, h, rd, &o, &rep, err, sizeof(err));
        if (o.progress)
                fputc('\n', stderr);
        if (rc != 0) {
                tp_log_error("could not rebuild: %s", err);
                return -1;
        }
        tp_rebuild_summary(rd->service, &rep, tp_mono_ms() - t0);
        return 0;
}

PGconn *tp_service_rebuild_conn(const struct tp_cfg *cfg, const char *service)
{
        char app[128], err[1024];
        PGconn *conn;
        snprintf(app, sizeof(app), "%s-rebuild", service);
        conn = tp_pg_connect(cfg->pg, app, err, sizeof(err));
        if (!conn)
                tp_log_error("could not rebuild: %s", err);
        else if (tp_service_migrate(cfg, conn) != 0) {
                PQfinish(conn);
                conn = NULL;
        }
        return conn;
}

int tp_service_rebuild(const struct tp_service_def *def,
                       const struct tp_cfg *cfg)
{
        const char *service = def->spec->service;
        struct tp_replay_def rd = {.service = service,
                                   .reset_sql = def->rebuild_sql};
        struct tp_handler h = def->handler;
        char err[1024];
        PGconn *conn;
        int rc = 1;

        if (!def->rebuild_sql) {
                tp_log_error("%s has no tables to rebuild", service);
                return 1;
        }
        conn = tp_service_rebuild_conn(cfg, service);
        if (!conn)
                return 1;
        h.ctx = def->build(conn, NULL, cfg, err, sizeof(err));
        if (!h.ctx) {
                tp_log_error("could not rebuild: %s", err);
                goto out;
        }
        if (tp_service_replay(conn, &h, &rd, cfg) == 0) {
                def->report(h.ctx);
                rc = 0;
        }
        def->destroy(h.ctx);
out:
        PQfinish(conn);
        return rc;
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
        if (cfg.rebuild) {
                rc = tp_service_rebuild(def, &cfg);
                goto out;
        }
        rc = 1;
        c = tp_service_consumer(&cfg, def->spec->service, &h);
        if (!c)
                goto out;
        ctx = def->build(tp_consumer_pg(c),
                         cfg.http_port > 0 ? tp_consumer_metrics(c) : NULL,
                         &cfg, err, sizeof(err));
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
