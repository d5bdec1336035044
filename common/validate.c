/* validate.c - see validate.h. */
#include "validate.h"
#include "utf8.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define TP_TOPIC_PREFIX "tthc.filings."
/* due_at must stay within years 2000..2200 (timestamptz-safe, sane). */
#define TP_DUE_MIN_MS 946684800000LL
#define TP_DUE_MAX_MS 7258118400000LL
#define TP_MAX_CODE_LEN 256

const char *tp_topic_province(const char *topic)
{
        size_t n = strlen(TP_TOPIC_PREFIX);
        if (!topic || strncmp(topic, TP_TOPIC_PREFIX, n) != 0)
                return NULL;
        return topic + n;
}

int tp_uuid_valid(const char *s)
{
        static const int dash[] = {8, 13, 18, 23};
        size_t k = 0;
        if (!s || strlen(s) != 36)
                return 0;
        for (int i = 0; i < 36; i++) {
                if (k < 4 && i == dash[k]) {
                        if (s[i] != '-')
                                return 0;
                        k++;
                } else if (!isxdigit((unsigned char)s[i])) {
                        return 0;
                }
        }
        return 1;
}

/* Writes s into buf for a detail: escaped, cut on a character. */
static void tp_quote(char *buf, size_t size, const char *s)
{
        tp_utf8_escape(buf, size, s, strlen(s));
}

/* Every string field: valid UTF-8 of at most TP_MAX_CODE_LEN bytes. */
static enum tp_reason tp_check_text(const char *name, const char *value,
                                    char *errstr, size_t errstr_size)
{
        size_t len = strlen(value);
        if (len > TP_MAX_CODE_LEN) {
                snprintf(errstr, errstr_size,
                         "field \"%s\" is longer than %d bytes (%zu)", name,
                         TP_MAX_CODE_LEN, len);
                return TP_REASON_BAD_AVRO;
        }
        if (!tp_utf8_valid(value, len)) {
                snprintf(errstr, errstr_size, "field \"%s\" is not valid UTF-8",
                         name);
                return TP_REASON_BAD_AVRO;
        }
        return TP_REASON_OK;
}

static enum tp_reason tp_check_required(const struct tp_event *ev, char *errstr,
                                        size_t errstr_size)
{
        const struct {
                const char *name;
                const char *value;
        } req[] = {{"event_id", ev->event_id},
                   {"dossier_id", ev->dossier_id},
                   {"province_code", ev->province_code},
                   {"procedure_code", ev->procedure_code},
                   {"agency_code", ev->agency_code},
                   {"source_system", ev->source_system}};
        const struct {
                const char *name;
                const char *value;
        } opt[] = {{"commune_code", ev->commune_code},
                   {"to_agency_code", ev->to_agency_code},
                   {"handling_commune_code", ev->handling_commune_code}};
        char shown[48];
        enum tp_reason r;

        for (size_t i = 0; i < TP_ARRAY_LEN(req); i++) {
                if (!req[i].value || !*req[i].value) {
                        snprintf(errstr, errstr_size, "field \"%s\" is empty",
                                 req[i].name);
                        return TP_REASON_MISSING_FIELD;
                }
                r = tp_check_text(req[i].name, req[i].value, errstr,
                                  errstr_size);
                if (r != TP_REASON_OK)
                        return r;
        }
        for (size_t i = 0; i < TP_ARRAY_LEN(opt); i++) {
                if (!opt[i].value)
                        continue;
                r = tp_check_text(opt[i].name, opt[i].value, errstr,
                                  errstr_size);
                if (r != TP_REASON_OK)
                        return r;
        }
        if (!tp_uuid_valid(ev->event_id)) {
                tp_quote(shown, sizeof(shown), ev->event_id);
                snprintf(errstr, errstr_size,
                         "field \"event_id\" is not a UUID: \"%s\"", shown);
                return TP_REASON_BAD_AVRO;
        }
        return TP_REASON_OK;
}

static enum tp_reason tp_check_place(const struct tp_refdata *rd,
                                     const char *topic,
                                     const struct tp_event *ev, char *errstr,
                                     size_t errstr_size)
{
        const char *tp = tp_topic_province(topic);
        const char *cp;
        char shown[48];

        if (topic && (!tp || strcmp(tp, ev->province_code) != 0)) {
                tp_quote(shown, 16, ev->province_code);
                snprintf(errstr, errstr_size,
                         "province_code \"%s\" does not match topic \"%s\"",
                         shown, topic);
                return TP_REASON_TOPIC_PROVINCE_MISMATCH;
        }
        if (!tp_refdata_has_province(rd, ev->province_code)) {
                tp_quote(shown, 16, ev->province_code);
                snprintf(errstr, errstr_size, "unknown province_code \"%s\"",
                         shown);
                return TP_REASON_UNKNOWN_PROVINCE;
        }
        const char *codes[2] = {ev->commune_code, ev->handling_commune_code};
        const char *names[2] = {"commune_code", "handling_commune_code"};
        for (int i = 0; i < 2; i++) {
                if (!codes[i])
                        continue;
                cp = tp_refdata_commune_province(rd, codes[i]);
                if (!cp || strcmp(cp, ev->province_code) != 0) {
                        tp_quote(shown, 24, codes[i]);
                        snprintf(errstr, errstr_size,
                                 "%s \"%s\" is not a commune of province "
                                 "\"%s\"",
                                 names[i], shown, ev->province_code);
                        return TP_REASON_UNKNOWN_COMMUNE;
                }
        }
        return TP_REASON_OK;
}

static enum tp_reason tp_check_times(const struct tp_event *ev, int64_t now_ms,
                                     char *errstr, size_t errstr_size)
{
        char ts[32];
        if (ev->occurred_at < TP_VALID_FROM_MS ||
            ev->occurred_at > now_ms + TP_DAY_MS) {
                tp_format_ts(ev->occurred_at, ts, sizeof(ts));
                snprintf(errstr, errstr_size,
                         "occurred_at %s is before 2025-07-01 or more than a "
                         "day ahead of the clock",
                         ts);
                return TP_REASON_TIME_OUT_OF_RANGE;
        }
        if (ev->due_at != TP_TS_NONE &&
            (ev->due_at < TP_DUE_MIN_MS || ev->due_at > TP_DUE_MAX_MS)) {
                snprintf(errstr, errstr_size,
                         "due_at %lld ms is outside years 2000-2200",
                         (long long)ev->due_at);
                return TP_REASON_TIME_OUT_OF_RANGE;
        }
        return TP_REASON_OK;
}

enum tp_reason tp_validate_event(const struct tp_refdata *rd, const char *topic,
                                 const struct tp_event *ev, int64_t now_ms,
                                 char *errstr, size_t errstr_size)
{
        enum tp_reason r = tp_check_required(ev, errstr, errstr_size);
        if (r == TP_REASON_OK)
                r = tp_check_place(rd, topic, ev, errstr, errstr_size);
        if (r == TP_REASON_OK)
                r = tp_check_times(ev, now_ms, errstr, errstr_size);
        if (r != TP_REASON_OK)
                return r;
        if (ev->seq < 1) {
                snprintf(errstr, errstr_size, "seq %d is below 1",
                         (int)ev->seq);
                return TP_REASON_BAD_SEQ;
        }
        if (ev->event_type == TP_EV_TRANSFERRED &&
            ev->to_level == TP_LEVEL_NONE) {
                snprintf(errstr, errstr_size, "TRANSFERRED without to_level");
                return TP_REASON_BAD_TRANSFER;
        }
        return TP_REASON_OK;
}
