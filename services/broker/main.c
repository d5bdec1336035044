/* tthc-broker: a single-process Kafka-protocol broker for local runs and
 * tests, built on librdkafka's mock cluster.
 *
 * It creates the 34 province topics (tthc.filings.<code>, codes from
 * <reference>/provinces.csv), tthc.filings.dlq and tthc.alerts, prints the
 * bootstrap address on stdout (and optionally writes it to a file), and
 * reads line commands from a control FIFO to take brokers down/up, inject
 * request errors or add round-trip time. All messages live in memory and
 * there is no TLS or SASL: never use it for real data.
 */
#include "cfg.h"
#include "kafka.h"
#include "log.h"
#include "service.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TP_BROKER_MAX_TOPICS 256
#define TP_BROKER_LINE_MAX 512

/* tthc-broker's own options (cfg->own). */
struct tp_broker_opts {
        int brokers_count;
        int partitions;
        int other_partitions;
        char *bootstrap_file;
        char *control;
};

#define TP_BROKER_OPT(n, t, d, f, lo, hi, h)                                   \
        {                                                                      \
                n, t, d, offsetof(struct tp_broker_opts, f), h, lo, hi, NULL,  \
                        0                                                      \
        }

static const struct tp_opt tp_broker_own[] = {
        TP_BROKER_OPT("brokers-count", TP_OPT_INT, "1", brokers_count, 1, 16,
                      "mock brokers"),
        TP_BROKER_OPT("partitions", TP_OPT_INT, "3", partitions, 1, 1000,
                      "partitions per province topic"),
        TP_BROKER_OPT("other-partitions", TP_OPT_INT, "1", other_partitions, 1,
                      1000, "partitions of tthc.filings.dlq and tthc.alerts"),
        TP_BROKER_OPT("bootstrap-file", TP_OPT_STR, NULL, bootstrap_file, 0, 0,
                      "also write the bootstrap address there (atomically)"),
        TP_BROKER_OPT("control", TP_OPT_STR, NULL, control, 0, 0,
                      "create a FIFO that accepts line commands (above)"),
};

static const struct tp_cfg_spec tp_broker_spec = {
        .service = "tthc-broker",
        .summary =
                "A single-process Kafka-protocol broker (librdkafka's mock "
                "cluster) for LOCAL RUNS\nAND TESTS ONLY: every message is "
                "kept in memory, nothing is persisted, and there\nis no TLS "
                "or SASL. Never point production systems at it.\n\n"
                "It creates tthc.filings.<code> for every province of "
                "<reference>/provinces.csv,\ntthc.filings.dlq and "
                "tthc.alerts, prints the bootstrap address on stdout and\n"
                "runs until SIGTERM or SIGINT.\n\n"
                "--control FIFO commands, one per line (broker ids start at "
                "1, -1 means all):\n"
                "  down <broker_id> | up <broker_id> | rtt <broker_id> <ms>\n"
                "  error <api_key> <errcode> <count> | clear <api_key>\n"
                "  topic <name> <partitions>\n"
                "e.g. echo 'down 1' > FIFO",
        .groups = TP_CFG_LOG | TP_CFG_REFERENCE,
        .own = tp_broker_own,
        .n_own = TP_ARRAY_LEN(tp_broker_own),
        .own_size = sizeof(struct tp_broker_opts),
};

/* The control channel: a FIFO read line by line. */
struct tp_broker_ctl {
        int fd;
        char buf[TP_BROKER_LINE_MAX];
        size_t len;
};

/* snprintf into errstr; a truncated message is still a message. */
static void tp_broker_err(char *errstr, size_t errstr_size, const char *fmt,
                          ...) __attribute__((format(printf, 3, 4)));

static void tp_broker_err(char *errstr, size_t errstr_size, const char *fmt,
                          ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

static int tp_broker_parse_int(const char *s, int min, int *out)
{
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > 1000000)
                return -1;
        *out = (int)v;
        return 0;
}

/* Reads the province codes (first column, header skipped). Returns the
 * count or -1. codes[i] are heap strings the caller frees. */
static int tp_broker_load_provinces(const char *dir, char **codes, int max,
                                    char *errstr, size_t errstr_size)
{
        char path[4096], line[1024];
        FILE *f;
        int n = 0, lineno = 0;

        snprintf(path, sizeof(path), "%s/provinces.csv", dir);
        f = fopen(path, "r");
        if (!f) {
                tp_broker_err(errstr, errstr_size, "could not open %s: %s",
                              path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof(line), f)) {
                size_t len = strcspn(line, ",\r\n");
                if (lineno++ == 0 || len == 0)
                        continue;
                if (n >= max) {
                        tp_broker_err(errstr, errstr_size,
                                      "%s: more than %d provinces", path, max);
                        goto fail;
                }
                codes[n++] = tp_xstrndup(line, len);
        }
        fclose(f);
        if (n == 0) {
                tp_broker_err(errstr, errstr_size, "%s: no provinces", path);
                return -1;
        }
        return n;
fail:
        while (n > 0)
                free(codes[--n]);
        fclose(f);
        return -1;
}

static int tp_broker_create_topics(rd_kafka_mock_cluster_t *mcluster,
                                   const struct tp_cfg *cfg, char *errstr,
                                   size_t errstr_size)
{
        const struct tp_broker_opts *o = cfg->own;
        char *codes[TP_BROKER_MAX_TOPICS];
        char topic[256];
        int n, i, rc = -1, rf;
        rd_kafka_resp_err_t err;

        n = tp_broker_load_provinces(cfg->reference, codes,
                                     TP_BROKER_MAX_TOPICS, errstr, errstr_size);
        if (n < 0)
                return -1;
        rf = o->brokers_count < 3 ? o->brokers_count : 3;
        for (i = 0; i < n + 2; i++) {
                int parts = o->partitions;
                if (i < n)
                        snprintf(topic, sizeof(topic), "tthc.filings.%s",
                                 codes[i]);
                else {
                        tp_strlcpy(topic,
                                   i == n ? "tthc.filings.dlq" : "tthc.alerts",
                                   sizeof(topic));
                        parts = o->other_partitions;
                }
                err = rd_kafka_mock_topic_create(mcluster, topic, parts, rf);
                if (err) {
                        tp_broker_err(errstr, errstr_size,
                                      "could not create topic %s: %s", topic,
                                      rd_kafka_err2str(err));
                        goto done;
                }
        }
        tp_log_info("created %d province topics with %d partitions, "
                    "tthc.filings.dlq and tthc.alerts with %d",
                    n, o->partitions, o->other_partitions);
        rc = 0;
done:
        for (i = 0; i < n; i++)
                free(codes[i]);
        return rc;
}

/* Writes the address to path.tmp and renames it over path. */
static int tp_broker_write_bootstrap(const char *path, const char *addr,
                                     char *errstr, size_t errstr_size)
{
        char tmp[4096];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
        f = fopen(tmp, "w");
        if (!f) {
                tp_broker_err(errstr, errstr_size, "could not create %s: %s",
                              tmp, strerror(errno));
                return -1;
        }
        if (fprintf(f, "%s\n", addr) < 0 || fclose(f) != 0) {
                tp_broker_err(errstr, errstr_size, "could not write %s: %s",
                              tmp, strerror(errno));
                unlink(tmp);
                return -1;
        }
        if (rename(tmp, path) != 0) {
                tp_broker_err(errstr, errstr_size,
                              "could not rename %s to %s: %s", tmp, path,
                              strerror(errno));
                unlink(tmp);
                return -1;
        }
        return 0;
}

static int tp_broker_ctl_open(struct tp_broker_ctl *ctl, const char *path,
                              char *errstr, size_t errstr_size)
{
        struct stat st;

        ctl->len = 0;
        ctl->fd = -1;
        if (stat(path, &st) == 0) {
                if (!S_ISFIFO(st.st_mode)) {
                        tp_broker_err(
                                errstr, errstr_size,
                                "could not use %s as control channel: exists "
                                "and is not a FIFO",
                                path);
                        return -1;
                }
        } else if (mkfifo(path, 0600) != 0) {
                tp_broker_err(errstr, errstr_size,
                              "could not create FIFO %s: %s", path,
                              strerror(errno));
                return -1;
        }
        /* O_RDWR keeps a writer open ourselves, so the FIFO never reports
         * end-of-file when a client closes it. */
        ctl->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (ctl->fd < 0) {
                tp_broker_err(errstr, errstr_size, "could not open FIFO %s: %s",
                              path, strerror(errno));
                return -1;
        }
        return 0;
}

static int tp_broker_id(const char *s, int32_t *out)
{
        int v;
        if (!s || tp_broker_parse_int(s, -1, &v))
                return -1;
        *out = v;
        return 0;
}

static rd_kafka_resp_err_t tp_broker_cmd_error(rd_kafka_mock_cluster_t *mc,
                                               char *a1, char *a2, char *a3)
{
        int api, code, cnt;
        rd_kafka_resp_err_t *errs;

        if (!a1 || !a2 || !a3 || tp_broker_parse_int(a1, 0, &api) ||
            tp_broker_parse_int(a3, 1, &cnt) || cnt > 10000)
                return RD_KAFKA_RESP_ERR__INVALID_ARG;
        code = atoi(a2);
        errs = tp_xcalloc((size_t)cnt, sizeof(*errs));
        for (int i = 0; i < cnt; i++)
                errs[i] = (rd_kafka_resp_err_t)code;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, (size_t)cnt,
                                                errs);
        free(errs);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Executes one command line. */
static void tp_broker_cmd(rd_kafka_mock_cluster_t *mc, char *line)
{
        char *save = NULL;
        char *cmd = strtok_r(line, " \t", &save);
        char *a1 = strtok_r(NULL, " \t", &save);
        char *a2 = strtok_r(NULL, " \t", &save);
        char *a3 = strtok_r(NULL, " \t", &save);
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__INVALID_ARG;
        int32_t id;
        int v;

        if (!cmd || cmd[0] == '#')
                return;
        if (strcmp(cmd, "down") == 0 && !tp_broker_id(a1, &id))
                err = rd_kafka_mock_broker_set_down(mc, id);
        else if (strcmp(cmd, "up") == 0 && !tp_broker_id(a1, &id))
                err = rd_kafka_mock_broker_set_up(mc, id);
        else if (strcmp(cmd, "rtt") == 0 && !tp_broker_id(a1, &id) && a2 &&
                 !tp_broker_parse_int(a2, 0, &v))
                err = rd_kafka_mock_broker_set_rtt(mc, id, v);
        else if (strcmp(cmd, "error") == 0)
                err = tp_broker_cmd_error(mc, a1, a2, a3);
        else if (strcmp(cmd, "clear") == 0 && a1 &&
                 !tp_broker_parse_int(a1, 0, &v)) {
                rd_kafka_mock_clear_request_errors(mc, (int16_t)v);
                err = RD_KAFKA_RESP_ERR_NO_ERROR;
        } else if (strcmp(cmd, "topic") == 0 && a1 && a2 &&
                   !tp_broker_parse_int(a2, 1, &v))
                err = rd_kafka_mock_topic_create(mc, a1, v, 1);
        if (err)
                tp_log_warn("control command '%s' failed: %s", cmd,
                            rd_kafka_err2str(err));
        else
                tp_log_info("control command '%s %s%s%s%s%s' done", cmd,
                            a1 ? a1 : "", a2 ? " " : "", a2 ? a2 : "",
                            a3 ? " " : "", a3 ? a3 : "");
}

/* Reads what is available and runs every complete line. */
static void tp_broker_ctl_read(struct tp_broker_ctl *ctl,
                               rd_kafka_mock_cluster_t *mc)
{
        ssize_t r;
        char *nl;

        for (;;) {
                r = read(ctl->fd, ctl->buf + ctl->len,
                         sizeof(ctl->buf) - 1 - ctl->len);
                if (r <= 0)
                        return;
                ctl->len += (size_t)r;
                ctl->buf[ctl->len] = '\0';
                while ((nl = strchr(ctl->buf, '\n'))) {
                        size_t used = (size_t)(nl - ctl->buf) + 1;
                        *nl = '\0';
                        tp_chomp(ctl->buf);
                        tp_broker_cmd(mc, ctl->buf);
                        memmove(ctl->buf, ctl->buf + used, ctl->len - used);
                        ctl->len -= used;
                        ctl->buf[ctl->len] = '\0';
                }
                if (ctl->len == sizeof(ctl->buf) - 1) {
                        tp_log_warn("control line too long, dropped");
                        ctl->len = 0;
                }
        }
}

static rd_kafka_t *tp_broker_handle(char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        /* log_level 4 hides the notice about bootstrap.servers: this
         * handle never connects anywhere. */
        if (rd_kafka_conf_set(conf, "client.id", "tthc-broker", errstr,
                              errstr_size) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "log_level", "4", errstr, errstr_size) !=
                    RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_log_cb(conf, tp_kafka_log_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!rk)
                rd_kafka_conf_destroy(conf);
        return rk;
}

static void tp_broker_run(struct tp_broker_ctl *ctl,
                          rd_kafka_mock_cluster_t *mc)
{
        struct pollfd pfd;

        while (!tp_service_stop) {
                if (ctl->fd < 0) {
                        poll(NULL, 0, 200);
                        continue;
                }
                pfd.fd = ctl->fd;
                pfd.events = POLLIN;
                pfd.revents = 0;
                if (poll(&pfd, 1, 200) > 0 && (pfd.revents & POLLIN))
                        tp_broker_ctl_read(ctl, mc);
        }
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        const struct tp_broker_opts *o;
        struct tp_broker_ctl ctl = {.fd = -1};
        struct sigaction sa;
        char err[1024];
        rd_kafka_t *rk = NULL;
        rd_kafka_mock_cluster_t *mc = NULL;
        const char *addr;
        int rc = 1;

        if (!tp_service_start(&tp_broker_spec, argc, argv, &cfg, &rc)) {
                tp_cfg_release(&cfg);
                return rc;
        }
        rc = 1;
        o = cfg.own;
        tp_service_signals();
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);

        rk = tp_broker_handle(err, sizeof(err));
        if (!rk) {
                tp_log_error("could not create the client handle: %s", err);
                goto done;
        }
        mc = rd_kafka_mock_cluster_new(rk, o->brokers_count);
        if (!mc) {
                tp_log_error("could not create the mock cluster");
                goto done;
        }
        if (tp_broker_create_topics(mc, &cfg, err, sizeof(err)) != 0) {
                tp_log_error("%s", err);
                goto done;
        }
        /* The control FIFO exists before the address is published:
         * the bootstrap file is the readiness signal. */
        if (o->control &&
            tp_broker_ctl_open(&ctl, o->control, err, sizeof(err)) != 0) {
                tp_log_error("%s", err);
                goto done;
        }
        addr = rd_kafka_mock_cluster_bootstraps(mc);
        if (o->bootstrap_file &&
            tp_broker_write_bootstrap(o->bootstrap_file, addr, err,
                                      sizeof(err)) != 0) {
                tp_log_error("%s", err);
                goto done;
        }
        printf("%s\n", addr);
        fflush(stdout);
        tp_log_info("mock cluster of %d broker(s) listening on %s (local "
                    "use only: in memory, no TLS/SASL)",
                    o->brokers_count, addr);

        tp_broker_run(&ctl, mc);
        tp_log_info("stopping");
        rc = 0;
done:
        if (ctl.fd >= 0)
                close(ctl.fd);
        if (mc)
                rd_kafka_mock_cluster_destroy(mc);
        if (rk)
                rd_kafka_destroy(rk);
        tp_cfg_release(&cfg);
        return rc;
}
