/* rebuild.c - tthc-admin rebuild SERVICE: runs the service's own binary
 * with --rebuild (common/replay.h), so the tables are recomputed by the
 * code and the configuration of the live consumer. The binary is looked
 * up next to tthc-admin; the database and the configuration file travel
 * in its environment (TTHC_PG, TTHC_CONFIG), never on a command line. */
#include "admin.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const tp_rebuildable[] = {"ingest", "route", "alert"};

int tp_cmd_rebuild(const struct tp_cfg *cfg, const char *service,
                   const char *config, const struct tp_admin_opts *o)
{
        char self[PATH_MAX], bin[PATH_MAX + 32];
        char flag[] = "--rebuild", force[] = "--rebuild-force";
        char *argv[4];
        ssize_t n;
        int known = 0, argc = 0;

        for (size_t i = 0; i < TP_ARRAY_LEN(tp_rebuildable); i++)
                known |= strcmp(service, tp_rebuildable[i]) == 0;
        if (!known) {
                fprintf(stderr,
                        "tthc-admin: cannot rebuild \"%s\": ingest, route and "
                        "alert rebuild their tables from tthc.filing_events\n",
                        service);
                return 2;
        }
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0) {
                fprintf(stderr, "tthc-admin: could not find its own path: %s\n",
                        strerror(errno));
                return 1;
        }
        self[n] = '\0';
        snprintf(bin, sizeof(bin), "%s/tthc-%s", dirname(self), service);
        if (setenv("TTHC_PG", cfg->pg, 1) != 0 ||
            (config && setenv("TTHC_CONFIG", config, 1) != 0)) {
                fprintf(stderr,
                        "tthc-admin: could not set the environment: "
                        "%s\n",
                        strerror(errno));
                return 1;
        }
        argv[argc++] = bin;
        argv[argc++] = flag;
        if (o->force)
                argv[argc++] = force;
        argv[argc] = NULL;
        fflush(NULL);
        execv(bin, argv);
        fprintf(stderr, "tthc-admin: could not run %s: %s\n", bin,
                strerror(errno));
        return 1;
}
