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
#include "util.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_redrive_opts {
        const char *reason;
        const char *ids;
        const char *limit;
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
        const char *params[1];
        char err[512];
        int rc;

        tp_copybuf_init(&ids);
        for (int r = 0; r < PQntuples(res); r++)
                tp_pgarray_add(&ids, PQgetvalue(res, r, 0), r == 0);
        tp_pgarray_end(&ids);
        params[0] = ids.buf.data;
        rc = tp_pg_exec_params(conn,
                               "UPDATE tthc.rejected_messages SET "
                               "redriven_at = now() WHERE id = ANY "
                               "($1::bigint[])",
                               1, params, PGRES_COMMAND_OK,
                               "republished, but could not mark them "
                               "redriven",
                               err, sizeof(err));
        if (rc != 0)
                fprintf(stderr, "tthc-admin: %s\n", err);
        tp_copybuf_release(&ids);
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

/* Takes the redrive flags out of argv (the rest goes to tp_cfg). */
static int tp_take_flags(int *argc, char **argv, struct tp_redrive_opts *o)
{
        int j = 1;
        for (int i = 1; i < *argc; i++) {
                const char **dst = NULL;
                if (strcmp(argv[i], "--reason") == 0)
                        dst = &o->reason;
                else if (strcmp(argv[i], "--ids") == 0)
                        dst = &o->ids;
                else if (strcmp(argv[i], "--limit") == 0)
                        dst = &o->limit;
                if (dst) {
                        if (i + 1 >= *argc)
                                return -1;
                        *dst = argv[++i];
                        continue;
                }
                argv[j++] = argv[i];
        }
        *argc = j;
        return 0;
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_redrive_opts o = {NULL, NULL, NULL};
        char err[1024];
        const char *cmd = argc > 1 ? argv[1] : "";
        enum tp_cfg_result cr;
        int rc = 2;

        if (strcmp(cmd, "migrate") != 0 && strcmp(cmd, "redrive") != 0) {
                fprintf(stderr,
                        "usage: tthc-admin migrate|redrive [options]\n"
                        "  migrate   apply schemas/sql migrations and load "
                        "reference data\n"
                        "  redrive   [--reason R] [--ids 1,2] [--limit N] "
                        "republish dead letters\n"
                        "  (tthc-admin migrate --help lists the options)\n");
                return strcmp(cmd, "--help") == 0 ? 0 : 2;
        }
        argv[1] = argv[0];
        argc--;
        argv++;
        if (tp_take_flags(&argc, argv, &o) != 0) {
                fprintf(stderr, "tthc-admin: an option needs a value\n");
                return 2;
        }
        cr = tp_cfg_load(&cfg, "tthc-admin", "tthc-admin", argc, argv, err,
                         sizeof(err));
        if (cr == TP_CFG_HELP)
                tp_cfg_print_help("tthc-admin", "Operations commands.");
        if (cr == TP_CFG_ERROR)
                fprintf(stderr, "tthc-admin: %s\n", err);
        if (cr == TP_CFG_OK)
                rc = strcmp(cmd, "migrate") == 0 ? tp_cmd_migrate(&cfg)
                                                 : tp_cmd_redrive(&cfg, &o);
        else if (cr != TP_CFG_ERROR)
                rc = 0;
        tp_cfg_release(&cfg);
        return rc;
}
