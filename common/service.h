/* service.h - what every consumer binary does around its loop: load the
 * configuration (printing --help / --version), set up logging, install
 * the SIGTERM/SIGINT stop flag, and apply migrations when --migrate is
 * set. The one part of common/ that logs: it is the services' own
 * start-up, shared. */
#ifndef TP_SERVICE_H
#define TP_SERVICE_H

#include <libpq-fe.h>
#include <signal.h>

#include "cfg.h"
#include "consumer.h"
#include "store.h"

/* Set by SIGTERM/SIGINT: finish the batch, commit, leave, exit. */
extern volatile sig_atomic_t tp_service_stop;
/* Set by SIGHUP: reload what can be reloaded (see tp_service_reload). */
extern volatile sig_atomic_t tp_service_hup;

/* What a service needs to read its configuration again. */
struct tp_service {
        const struct tp_cfg_spec *spec;
        int argc;
        char **argv;
};

/* Loads cfg for spec (tp_cfg_load) and prepares logging.
 * Every binary starts here. Returns 1 to go on; 0 when the process
 * should exit now with *exit_code (0 after --help/--version, 2 on a usage
 * error). cfg is always initialised: release it in every case. */
int tp_service_start(const struct tp_cfg_spec *spec, int argc, char **argv,
                     struct tp_cfg *cfg, int *exit_code);

/* SIGTERM and SIGINT set tp_service_stop, SIGHUP tp_service_hup, for a
 * process that stops cleanly (tp_service_consumer installs them; a
 * one-shot command keeps the default: it dies). */
void tp_service_signals(void);

/* Reads the configuration again (file, environment, flags, as at start)
 * into *fresh and applies the log level and format. Returns 0 (the caller
 * releases fresh and may take more from it, e.g. a rules file path) or -1
 * after logging why, keeping the old settings. */
int tp_service_reload(const struct tp_service *svc, struct tp_cfg *fresh);

/* A reload callback for tp_consumer_set_reload(): ctx is the struct
 * tp_service; reloads the log level and format. */
void tp_service_reload_cb(void *ctx);

/* Applies migrations and reference data if cfg->migrate (local runs).
 * Returns 0, or -1 after logging why. */
int tp_service_migrate(const struct tp_cfg *cfg, PGconn *conn);

/* Runs consumer c until SIGTERM/SIGINT or --exit-when-idle: SIGHUP calls
 * reload(reload_ctx) between batches (NULL: tp_service_reload_cb, the log
 * settings of svc); logs what it consumes (+ note). Returns the exit code
 * (0 clean, 1 failure). */
int tp_service_run(struct tp_consumer *c, struct tp_service *svc,
                   void (*reload)(void *ctx), void *reload_ctx,
                   const char *note);

/* A consumer service whose handler needs nothing around it but its own
 * state: tthc-ingest and tthc-route. */
struct tp_service_def {
        const struct tp_cfg_spec *spec;
        /* the handler's callbacks; its ctx comes from build */
        struct tp_handler handler;
        /* builds the handler's state on the consumer's connection, with
         * the registry of its metrics (NULL: none served, or a rebuild);
         * NULL with errstr on failure */
        void *(*build)(PGconn *conn, struct tp_metrics *metrics,
                       const struct tp_cfg *cfg, char *errstr,
                       size_t errstr_size);
        void (*report)(const void *ctx); /* at exit, after the run */
        void (*destroy)(void *ctx);
        /* --rebuild: deletes what the service derived from the events
         * (struct tp_replay_def's reset_sql, common/replay.h) */
        const char *rebuild_sql;
};

/* The whole main() of such a service: tp_service_start, the consumer,
 * build, tp_service_run, report, and the cleanup; with --rebuild,
 * tp_service_rebuild instead of the consumer. Returns the exit code. */
int tp_service_main(const struct tp_service_def *def, int argc, char **argv);

/* --rebuild: the handler built on a connection of its own, run over
 * tthc.filing_events (common/replay.h) with a progress line on a terminal
 * and a summary. Returns the exit code. */
int tp_service_rebuild(const struct tp_service_def *def,
                       const struct tp_cfg *cfg);

/* The parts of tp_service_rebuild for a service with its own main():
 * the connection of a rebuild (application_name "<service>-rebuild",
 * migrated when cfg->migrate; NULL after logging why), and the replay of
 * handler h on it with cfg's batch size and --rebuild-force, a progress
 * line on a terminal and the summary (0, or -1 after logging why). */
struct tp_replay_def;
PGconn *tp_service_rebuild_conn(const struct tp_cfg *cfg, const char *service);
int tp_service_replay(PGconn *conn, const struct tp_handler *h,
                      const struct tp_replay_def *rd, const struct tp_cfg *cfg);

/* Logs (info) a state store's residency and counters, at exit. */
void tp_service_log_store(const struct tp_store *store);

/* The consumer of a service: signals installed (tp_service_signals),
 * built with handler h (tp_consumer_new),
 * serving /metrics, /healthz and /readyz when cfg->http_port is set, the
 * database migrated when cfg->migrate. Returns NULL after logging why
 * ("could not start: ..."). */
struct tp_consumer *tp_service_consumer(const struct tp_cfg *cfg,
                                        const char *service,
                                        const struct tp_handler *h);

#endif
