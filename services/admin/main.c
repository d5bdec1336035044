/* tthc-admin: operations commands.
 *
 *   tthc-admin migrate  [options]   apply migrations, load reference data
 *   tthc-admin redrive  [--reason R] [--ids 1,2,3] [--limit N] [options]
 *                       republish dead letters to their original topic and
 *                       partition (after the cause is fixed), mark them
 *
 * Options are the services' (--pg, --brokers, --migrations, --reference,
 * --config, ...; see --help).
 */
#include "cfg.h"
#include "kafka.h"
#include "log.h"
#include "migrate.h"
#include "pgutil.h"
#include "service.h"
#include "util.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tthc-admin's own options (cfg->own): redrive's filters. */
struct tp_redrive_opts {
        char *reason; /* NULL: every reason */
        char *ids;    /* comma-separated ids; NULL: every one */
        char *limit;  /* NULL: up to 1,000,000 */
};

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
        {"reason", TP_OPT_STR, NULL, offsetof(struct tp_redrive_opts, reason),
         "redrive: only dead letters with this reason code", 0, 0, NULL, 0},
        {"ids", TP_OPT_STR, NULL, offsetof(struct tp_redrive_opts, ids),
         "redrive: only these ids (1,2,3)", 0, 0, NULL, 0},
        {"limit", TP_OPT_STR, NULL, offsetof(struct tp_redrive_opts, limit),
         "redrive: at most this many", 0, 0, tp_check_limit, 0},
};

static const struct tp_cfg_spec tp_admin_spec = {
        .service = "tthc-admin",
        .summary = "Operations commands:\n"
                   "  migrate   apply schemas/sql migrations and load "
                   "reference data\n"
                   "  redrive   republish dead letters to their original "
                   "partition (after the cause\n"
                   "            is fixed) and mark them redriven",
        .args = "migrate|redrive",
        .groups = TP_CFG_LOG | TP_CFG_KAFKA | TP_CFG_PG | TP_CFG_REFERENCE,
        .own = tp_admin_own,
        .n_own = TP_ARRAY_LEN(tp_admin_own),
        .own_size = sizeof(struct tp_redrive_opts),
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
                          const struct tp_redrive_opts *o)
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

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        const char *cmd;
        int rc = 2;

        if (!tp_service_start(&tp_admin_spec, argc, argv, &cfg, &rc))
                goto out;
        cmd = cfg.n_args == 1 ? cfg.args[0] : "";
        if (strcmp(cmd, "migrate") == 0)
                rc = tp_cmd_migrate(&cfg);
        else if (strcmp(cmd, "redrive") == 0)
                rc = tp_cmd_redrive(&cfg, cfg.own);
        else
                fprintf(stderr, "usage: tthc-admin [OPTIONS] "
                                "migrate|redrive (--help lists the "
                                "options)\n");
out:
        tp_cfg_release(&cfg);
        return rc;
}
