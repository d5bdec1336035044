/* admin.h - tthc-admin's commands, shared by main.c and retention.c. */
#ifndef TP_ADMIN_H
#define TP_ADMIN_H

#include "cfg.h"

/* tthc-admin's own options (cfg->own). */
struct tp_admin_opts {
        char *reason;    /* redrive: NULL, every reason */
        char *ids;       /* redrive: comma-separated ids; NULL, every one */
        char *limit;     /* redrive: NULL, up to 1,000,000 */
        int keep_months; /* retention */
        int apply;       /* retention: drop, not only list */
        int force;       /* retention: even months of open dossiers */
};

/* tthc-admin retention (retention.c). Returns the exit code. */
int tp_cmd_retention(const struct tp_cfg *cfg, const struct tp_admin_opts *o);

/* tthc-admin rebuild SERVICE (rebuild.c): runs tthc-SERVICE --rebuild
 * with the database of cfg and the configuration file config (NULL:
 * none). Returns only on failure, with the exit code. */
int tp_cmd_rebuild(const struct tp_cfg *cfg, const char *service,
                   const char *config, const struct tp_admin_opts *o);

#endif
