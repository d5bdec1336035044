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

#endif
