/* tthc-admin: operations commands.
 *
 *   tthc-admin migrate  [options]   apply migrations, load reference data
 *   tthc-admin redrive  [--reason R] [--ids 1,2,3] [--limit N] [options]
 *                       republish dead letters to their original topic and
 *                       partition (after the cause is fixed), mark them
 *   tthc-admin rebuild ingest|route|alert [--force]
 *                       recompute the service's tables from
 *                       tthc.filing_events (common/replay.h)
 *   tthc-admin procedures load FILE
 *                       load the national procedure catalogue
 *   tthc-admin scorecard refresh
 *                       store the scorecard's closed months that are
 *                       missing or stale (migration 016)
 *
 * Options are the services' (--pg, --brokers, --migrations, --reference,
 * --config, ...; see --help).
 */
#include "admin.h"
#include "cfg.h"
#include "kafka.h"
#include "log.h"
#include "migrate.h"
#include "pgutil.h"
#include "procedures.h"
#include "service.h"
#include "util.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tp_check_limit(const char *value, char *err, size_t err_size)
{
        char *end;
        long n = strtol(value, &end, 10);
        if (*value && !*end && n >= 1)
                return 0;
        snprintf(err, err_size, "expects a positive integer, not \"%s\"",
                 value);
        return -1;
}

static const struct tp_opt tp_admin_own[] = {
        {"reason", TP_OPT_STR, NULL, offsetof(struct tp_admin_opts, reason),
         "redrive: only dead letters with this reason code", 0, 0, NULL, 0},
        {"ids", TP_OPT_STR, NULL, offsetof(struct tp_admin_opts, ids),
         "redrive: only these ids (1,2,3)", 0, 0, NULL, 0},
        {"limit", TP_OPT_STR, NULL, offsetof(struct tp_admin_opts, limit),
         "redrive: at most this many", 0, 0, tp_check_limit, 0},
        {"keep-months", TP_OPT_INT, "0",
         offsetof(struct tp_admin_opts, keep_months),
         "retention: keep the events of this many months before the current "
         "one",
         0, 1200, NULL, 0},
        {"apply", TP_OPT_BOOL, "false", offsetof(struct tp_admin_opts, apply),
         "retention: drop the partitions (default: only list them)", 0, 0, NULL,
         0},
        {"force", TP_OPT_BOOL, "false", offsetof(struct tp_admin_opts, force),
         "retention: drop even months where open dossiers began; rebuild: "
         "run although some dossiers' opening events were dropped",
         0, 0, NULL, 0},
};

static const struct tp_cfg_spec tp_admin_spec = {
        .service = "tthc-admin",
        .summary = "Operations commands:\n"
                   "  migrate   apply schemas/sql migrations and load "
                   "reference data\n"
                   "  redrive   republish dead letters to their original "
                   "partition (after the cause\n"
                   "            is fixed) and mark them redriven\n"
                   "  retention --keep-months N [--apply] [--force]\n"
                   "            list (and drop) filing_events months older "
                   "than N months\n"
                   "  rebuild ingest|route|alert [--force]\n"
                   "            recompute the service's tables from "
                   "tthc.filing_events (stop it first)\n"
                   "  procedures load FILE\n"
                   "            load the national procedure catalogue (CSV, "
                   "docs/analysts.md);\n"
                   "            it replaces the shipped sample\n"
                   "  scorecard refresh\n"
                   "            store the scorecard's closed months that are "
                   "missing or stale",
        .args = "migrate | redrive | retention | rebuild SERVICE | "
                "procedures load FILE | scorecard refresh",
        .groups = TP_CFG_LOG | TP_CFG_KAFKA | TP_CFG_PG | TP_CFG_REFERENCE,
        .own = tp_admin_own,
        .n_own = TP_ARRAY_LEN(tp_admin_own),
        .own_size = sizeof(struct tp_admin_opts),
};

static int tp_cmd_migrate(const struct tp_cfg *cfg)
{
        char err[1024];
        int applied = 0;
        PGconn *conn = tp_pg_connect(cfg->pg, "tthc-admin", err, sizeof(err));
        int rc = 1;
        if (!conn) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                return 1;
        }
        if (tp_migrate_apply(conn, cfg->migrations, &applied, err,
                             sizeof(err)) != 0 ||
            tp_migrate_reference(conn, cfg->reference, err, sizeof(err)) != 0)
                fprintf(stderr, "tthc-admin: could not migrate: %s\n", err);
        else {
                printf("migrations applied: %d; reference data loaded from "
                       "%s\n",
                       applied, cfg->reference);
                rc = 0;
        }
        PQfinish(conn);
        return rc;
}

static rd_kafka_t *tp_redrive_producer(const struct tp_cfg *cfg)
{
        char err[512];
        const char *const defaults[][2] = {{"enable.idempotence", "true"}};
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = cfg->brokers,
                .client_id = "tthc-admin",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .keys = cfg->kafka_keys,
                .values = cfg->kafka_values,
                .n = cfg->n_kafka,
        };
        rd_kafka_t *rk = tp_kafka_new(&o, err, sizeof(err));
        if (!rk)
                fprintf(stderr, "tthc-admin: %s\n", err);
        return rk;
}

/* Produces every selected dead letter; returns how many were sent. */
static int tp_redrive_send(rd_kafka_t *rk, PGresult *res)
{
        for (int r = 0; r < PQntuples(res); r++) {
                size_t klen = 0, vlen = 0;
                unsigned char *key =
                        PQgetisnull(res, r, 3)
                                ? NULL
                                : PQunescapeBytea((const unsigned char *)
                                                          PQgetvalue(res, r, 3),
                                                  &klen);
                unsigned char *val = PQunescapeBytea(
                        (const unsigned char *)PQgetvalue(res, r, 4), &vlen);
                rd_kafka_resp_err_t err = rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(PQgetvalue(res, r, 1)),
                        RD_KAFKA_V_PARTITION(tp_pg_col_int(res, r, 2)),
                        RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(val, vlen),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_END);
                PQfreemem(key);
                PQfreemem(val);
                if (err) {
                        fprintf(stderr,
                                "tthc-admin: could not republish dead "
                                "letter %s: %s\n",
                                PQgetvalue(res, r, 0), rd_kafka_err2str(err));
                        return -1;
                }
        }
        return rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* Marks the republished dead letters (every row of res), in one
 * statement whose result is checked. */
static int tp_redrive_mark(PGconn *conn, PGresult *res)
{
        struct tp_copybuf ids;
        char err[512];
        int rc;

        tp_copybuf_init(&ids);
        for (int r = 0; r < PQntuples(res); r++)
                tp_pgarray_add(&ids, PQgetvalue(res, r, 0), r == 0);
        rc = tp_pg_exec_array(conn,
                              "UPDATE tthc.rejected_messages SET "
                              "redriven_at = now() WHERE id = ANY "
                              "($1::bigint[])",
                              &ids,
                              "republished, but could not mark them "
                              "redriven",
                              err, sizeof(err));
        if (rc != 0)
                fprintf(stderr, "tthc-admin: %s\n", err);
        return rc;
}

static int tp_cmd_redrive(const struct tp_cfg *cfg,
                          const struct tp_admin_opts *o)
{
        char err[1024];
        const char *params[3] = {o->reason, o->ids, o->limit};
        PGconn *conn = tp_pg_connect(cfg->pg, "tthc-admin", err, sizeof(err));
        PGresult *res = NULL;
        rd_kafka_t *rk = NULL;
        int rc = 1;

        if (!conn) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                return 1;
        }
        res = PQexecParams(conn,
                           "SELECT id, topic, partition, message_key, "
                           "raw_value FROM tthc.rejected_messages "
                           "WHERE redriven_at IS NULL "
                           "AND ($1::text IS NULL OR reason = $1) "
                           "AND ($2::text IS NULL OR id = ANY "
                           "(string_to_array($2, ',')::bigint[])) "
                           "ORDER BY id LIMIT coalesce($3::bigint, 1000000)",
                           3, NULL, params, NULL, NULL, 0);
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                        "could not read tthc.rejected_messages", err,
                        sizeof(err)) != 0) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                goto out;
        }
        rk = tp_redrive_producer(cfg);
        if (!rk || tp_redrive_send(rk, res) != 0)
                goto out;
        if (tp_redrive_mark(conn, res) != 0)
                goto out;
        printf("republished %d dead letter(s) to their original partitions\n",
               PQntuples(res));
        rc = 0;
out:
        if (rk)
                rd_kafka_destroy(rk);
        PQclear(res);
        PQfinish(conn);
        return rc;
}

/* tthc-admin procedures load FILE: one transaction, as the owner role. */
static int tp_cmd_procedures(const struct tp_cfg *cfg, const char *path)
{
        struct tp_procedures_load load;
        char err[1024], e2[64];
        PGconn *conn = tp_pg_connect(cfg->pg, "tthc-admin", err, sizeof(err));
        if (!conn) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                return 1;
        }
        if (tp_pg_exec(conn, "BEGIN", err, sizeof(err)) != 0 ||
            tp_procedures_load(conn, path, "national", &load, err,
                               sizeof(err)) != 0 ||
            tp_pg_exec(conn, "COMMIT", err, sizeof(err)) != 0) {
                fprintf(stderr,
                        "tthc-admin: could not load the catalogue: "
                        "%s\n",
                        err);
                tp_pg_exec(conn, "ROLLBACK", e2, sizeof(e2));
                PQfinish(conn);
                return 1;
        }
        printf("loaded %ld procedure(s) from %s (national catalogue); "
               "%ld sample row(s) replaced; %ld code(s) of stored dossiers "
               "have no name (tthc.unknown_procedures)\n",
               load.loaded, path, load.removed, load.unknown);
        if (load.level_unread || load.deadline_unread)
                printf("left null: %ld level(s) not understood, %ld "
                       "deadline(s) not a number of days\n",
                       load.level_unread, load.deadline_unread);
        PQfinish(conn);
        return 0;
}

/* tthc-admin scorecard refresh: tthc.scorecard_refresh() as the owner. */
static int tp_cmd_scorecard_refresh(const struct tp_cfg *cfg)
{
        char err[1024];
        PGresult *res;
        int rc = 1;
        PGconn *conn = tp_pg_connect(cfg->pg, "tthc-admin", err, sizeof(err));
        if (!conn) {
                fprintf(stderr, "tthc-admin: %s\n", err);
                return 1;
        }
        res = PQexecParams(conn, "SELECT tthc.scorecard_refresh()", 0, NULL,
                           NULL, NULL, NULL, 0);
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                        "could not refresh the scorecard", err,
                        sizeof(err)) != 0)
                fprintf(stderr, "tthc-admin: %s\n", err);
        else {
                printf("scorecard: %s closed month(s) of a province stored "
                       "(missing or stale)\n",
                       PQgetvalue(res, 0, 0));
                rc = 0;
        }
        PQclear(res);
        PQfinish(conn);
        return rc;
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        const char *cmd;
        int rc = 2;

        if (!tp_service_start(&tp_admin_spec, argc, argv, &cfg, &rc))
                goto out;
        cmd = cfg.n_args >= 1 ? cfg.args[0] : "";
        if (strcmp(cmd, "migrate") == 0 && cfg.n_args == 1)
                rc = tp_cmd_migrate(&cfg);
        else if (strcmp(cmd, "redrive") == 0 && cfg.n_args == 1)
                rc = tp_cmd_redrive(&cfg, cfg.own);
        else if (strcmp(cmd, "retention") == 0 && cfg.n_args == 1)
                rc = tp_cmd_retention(&cfg, cfg.own);
        else if (strcmp(cmd, "rebuild") == 0 && cfg.n_args == 2)
                rc = tp_cmd_rebuild(&cfg, cfg.args[1],
                                    tp_cfg_file_path(argc, argv), cfg.own);
        else if (strcmp(cmd, "procedures") == 0 && cfg.n_args == 3 &&
                 strcmp(cfg.args[1], "load") == 0)
                rc = tp_cmd_procedures(&cfg, cfg.args[2]);
        else if (strcmp(cmd, "scorecard") == 0 && cfg.n_args == 2 &&
                 strcmp(cfg.args[1], "refresh") == 0)
                rc = tp_cmd_scorecard_refresh(&cfg);
        else
                fprintf(stderr, "usage: tthc-admin [OPTIONS] migrate | "
                                "redrive | retention | rebuild SERVICE | "
                                "procedures load FILE | scorecard refresh "
                                "(--help lists the options)\n");
out:
        tp_cfg_release(&cfg);
        return rc;
}
