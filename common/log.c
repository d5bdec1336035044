/* log.c - see log.h. */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum tp_log_level tp_log_level = TP_LOG_INFO;
static int tp_log_json;
static const char *tp_log_service = "tthc";

static const char *const tp_log_names[] = {"debug", "info", "warn", "error"};

int tp_log_level_parse(const char *s)
{
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_log_names); i++)
                if (strcmp(s, tp_log_names[i]) == 0)
                        return (int)i;
        return -1;
}

void tp_log_set_level(enum tp_log_level level)
{
        tp_log_level = level;
}

void tp_log_set_json(int json)
{
        tp_log_json = json;
}

void tp_log_set_service(const char *name)
{
        tp_log_service = name;
}

/* Writes s as a quoted string, escaping quotes, backslashes and controls. */
static void tp_log_quote(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

void tp_log(enum tp_log_level level, const char *fmt, ...)
{
        char msg[2048], ts[32];
        va_list ap;

        if (level < tp_log_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        tp_format_ts(tp_now_ms(), ts, sizeof(ts));
        if (tp_log_json) {
                fprintf(stderr,
                        "{\"ts\":\"%s\",\"level\":\"%s\",\"service\":", ts,
                        tp_log_names[level]);
                tp_log_quote(stderr, tp_log_service);
                fputs(",\"msg\":", stderr);
                tp_log_quote(stderr, msg);
                fputs("}\n", stderr);
        } else {
                fprintf(stderr, "ts=\"%s\" level=%s service=%s msg=", ts,
                        tp_log_names[level], tp_log_service);
                tp_log_quote(stderr, msg);
                fputc('\n', stderr);
        }
        fflush(stderr);
}
