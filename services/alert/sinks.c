/* sinks.c - the sink thread: construction, its PostgreSQL connection,
 * rounds of delivery, wake-ups, rules reloads and the final pass (see
 * sinks.h; each sink in its own file, sinks_int.h). */
#include "sinks_int.h"

static void tp_sinks_sync_init(struct tp_sinks *s)
{
        pthread_condattr_t ca;
        pthread_mutex_init(&s->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->wake, &ca);
        pthread_condattr_destroy(&ca);
}

struct tp_sinks *tp_sinks_new(const struct tp_cfg *cfg,
                              const struct tp_rules *rules, char *errstr,
                              size_t errstr_size)
{
        struct tp_sinks *s = tp_xcalloc(1, sizeof(*s));
        const char *const defaults[][2] = {
                {"enable.idempotence", "true"},
                {"message.timeout.ms", "30000"},
        };
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = cfg->brokers,
                .client_id = "tthc-alert-sinks",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .keys = cfg->kafka_keys,
                .values = cfg->kafka_values,
                .n = cfg->n_kafka,
                .opaque = s,
                .dr_msg_cb = tp_sinks_dr_cb,
        };

        s->cfg = cfg;
        s->am_url = ((const struct tp_alert_opts *)cfg->own)->alertmanager;
        s->web_url = ((const struct tp_alert_opts *)cfg->own)->web_url;
        if (!s->web_url)
                s->web_url = "";
        tp_rules_copy(&s->rules, rules);
        tp_sinks_sync_init(s);
        tp_workcal_init(&s->cal);
        s->kafka_backoff = s->am_backoff = TP_SINK_BACKOFF_MIN_MS;
        s->reg_backoff = TP_SINK_BACKOFF_MIN_MS;
        s->schema_id = cfg->registry && *cfg->registry ? 0 : TP_ALERT_SCHEMA_ID;
        s->producer = tp_kafka_new(&o, errstr, errstr_size);
        if (!s->producer)
                goto fail;
        return s;
fail:
        tp_sinks_destroy(s);
        return NULL;
}

void tp_sinks_destroy(struct tp_sinks *s)
{
        if (!s)
                return;
        if (s->started)
                tp_sinks_stop(s, 0);
        if (s->producer) {
                rd_kafka_flush(s->producer, 5000);
                if (s->alert_topic)
                        rd_kafka_topic_destroy(s->alert_topic);
                rd_kafka_destroy(s->producer);
        }
        PQfinish(s->conn);
        free(s->delivered);
        tp_workcal_release(&s->cal);
        tp_rules_release(&s->rules);
        tp_rules_release(&s->next_rules);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

static int tp_sinks_pg(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        if (tp_pg_ok(s->conn))
                return 0;
        PQfinish(s->conn);
        s->conn = tp_pg_connect(s->cfg->pg, "tthc-alert-sinks", errstr,
                                errstr_size);
        if (!s->conn)
                return -1;
        if (!s->cal_loaded) {
                if (tp_alert_load_calendar(s->conn, &s->cal, errstr,
                                           errstr_size) != 0)
                        return -1;
                s->cal_loaded = 1;
        }
        return 0;
}

int64_t tp_backoff_next(int64_t cur)
{
        return cur * 2 > TP_SINK_BACKOFF_MAX_MS ? TP_SINK_BACKOFF_MAX_MS
                                                : cur * 2;
}

/* Takes rules handed over by tp_sinks_set_rules(). */
static void tp_sinks_take_rules(struct tp_sinks *s)
{
        struct tp_rules old;
        int took = 0;
        pthread_mutex_lock(&s->lock);
        if (s->has_next_rules) {
                old = s->rules;
                s->rules = s->next_rules;
                memset(&s->next_rules, 0, sizeof(s->next_rules));
                s->has_next_rules = 0;
                took = 1;
        }
        pthread_mutex_unlock(&s->lock);
        if (took)
                tp_rules_release(&old);
}

/* One round of deliveries. final: ignore backoff timers. */
static void tp_sinks_round(struct tp_sinks *s, int final)
{
        char err[1024];
        int64_t now = tp_mono_ms();

        tp_sinks_take_rules(s);
        if (tp_sinks_pg(s, err, sizeof(err)) != 0) {
                tp_log_warn("alert sinks: PostgreSQL unavailable: %s", err);
                return;
        }
        if (!final && tp_sinks_stale(s, err, sizeof(err)) != 0)
                tp_log_warn("alert sinks: %s", err);
        tp_sinks_kafka_round(s, now, final);
        if (*s->am_url)
                tp_sinks_am_round(s, now, final);
        tp_sinks_gauges(s);
}

/* Waits up to ms for a kick or a stop; returns the stop flag. */
static int tp_sinks_wait(struct tp_sinks *s, int ms, int *final_ms)
{
        struct timespec ts;
        int stop;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&s->lock);
        while (!s->stop && !s->kicked && ms > 0)
                if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) != 0)
                        break;
        s->kicked = 0;
        stop = s->stop;
        *final_ms = s->final_ms;
        pthread_mutex_unlock(&s->lock);
        return stop;
}

static int tp_sinks_settled(const struct tp_sinks *s)
{
        return s->kafka_backoff == TP_SINK_BACKOFF_MIN_MS &&
               s->am_backoff == TP_SINK_BACKOFF_MIN_MS && s->schema_id > 0;
}

/* The last deliveries before leaving, for at most final_ms. */
static void tp_sinks_final(struct tp_sinks *s, int final_ms)
{
        int64_t until = tp_mono_ms() + final_ms;
        struct timespec half = {0, 500 * 1000000L};
        do {
                tp_sinks_round(s, 1);
                if (tp_sinks_settled(s))
                        break;
                nanosleep(&half, NULL);
        } while (tp_mono_ms() < until);
}

static void *tp_sinks_main(void *arg)
{
        struct tp_sinks *s = arg;
        int final_ms = 0;
        tp_sinks_warm(s);
        while (!tp_sinks_wait(s, 0, &final_ms)) {
                tp_sinks_round(s, 0);
                rd_kafka_poll(s->producer, 0);
                if (tp_sinks_wait(s, 500, &final_ms))
                        break;
        }
        tp_sinks_final(s, final_ms);
        return NULL;
}

int tp_sinks_start(struct tp_sinks *s, char *errstr, size_t errstr_size)
{
        if (pthread_create(&s->thread, NULL, tp_sinks_main, s) != 0) {
                snprintf(errstr, errstr_size,
                         "could not start the alert sink thread");
                return -1;
        }
        s->started = 1;
        return 0;
}

void tp_sinks_set_rules(struct tp_sinks *s, const struct tp_rules *rules)
{
        struct tp_rules copy, stale;
        tp_rules_copy(&copy, rules);
        pthread_mutex_lock(&s->lock);
        stale = s->next_rules;
        s->next_rules = copy;
        s->has_next_rules = 1;
        s->kicked = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        tp_rules_release(&stale);
}

void tp_sinks_kick(struct tp_sinks *s)
{
        pthread_mutex_lock(&s->lock);
        s->kicked = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
}

void tp_sinks_stop(struct tp_sinks *s, int final_ms)
{
        if (!s->started)
                return;
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        s->final_ms = final_ms;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        s->started = 0;
}

int tp_sinks_page_url(const struct tp_sinks *s, const char *province,
                      const char *commune, char *buf, size_t size)
{
        size_t n = strlen(s->web_url);
        if (size)
                buf[0] = '\0';
        if (n == 0)
                return -1;
        /* no doubled slash when the base ends with one */
        if (s->web_url[n - 1] == '/')
                n--;
        if (commune)
                snprintf(buf, size, "%.*s/communes/%s", (int)n, s->web_url,
                         commune);
        else
                snprintf(buf, size, "%.*s/provinces/%s", (int)n, s->web_url,
                         province);
        return 0;
}
