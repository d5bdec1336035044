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

/* Set by SIGTERM/SIGINT: finish the batch, commit, leave, exit. */
extern volatile sig_atomic_t tp_service_stop;

/* Loads cfg for service (default group = service) and prepares logging
 * and signals. Returns 1 to go on; 0 when the process should exit now
 * with *exit_code (0 after --help/--version, 2 on a usage error). cfg is
 * always initialised: release it in every case. */
int tp_service_start(const char *service, const char *summary, int argc,
                     char **argv, struct tp_cfg *cfg, int *exit_code);

/* Applies migrations and reference data if cfg->migrate (local runs).
 * Returns 0, or -1 after logging why. */
int tp_service_migrate(const struct tp_cfg *cfg, PGconn *conn);

#endif
