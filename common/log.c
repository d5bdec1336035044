/* log.c - see log.h. */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* One log line, built whole before it is written. */
struct tp_log_line {
        char buf[16384]; /* a 2 KiB message escapes to at most 12 KiB */
        size_t len;
};

static void tp_log_put(struct tp_log_line *ln, const char *s, size_t n)
{
        if (n > sizeof(ln->buf) - 1 - ln->len)
                n = sizeof(ln->buf) - 1 - ln->len;
        memcpy(ln->buf + ln->len, s, n);
        ln->len += n;
}

static void tp_log_puts(struct tp_log_line *ln, const char *s)
{
        tp_log_put(ln, s, strlen(s));
}

/* Appends s as a quoted string, escaping quotes, backslashes and controls. */
static void tp_log_quote(struct tp_log_line *ln, const char *s)
{
        char esc[8];

        tp_log_put(ln, "\"", 1);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)c;
                        tp_log_put(ln, esc, 2);
                } else if (c == '\n') {
                        tp_log_put(ln, "\\n", 2);
                } else if (c < 0x20) {
                        snprintf(esc, sizeof(esc), "\\u%04x", c);
                        tp_log_put(ln, esc, 6);
                } else {
                        tp_log_put(ln, (const char *)&c, 1);
                }
        }
        tp_log_put(ln, "\"", 1);
}

/* Writes the line with as few write(2) calls as the kernel allows, so
 * lines from librdkafka's threads and from other processes sharing the
 * file never interleave mid-line. */
static void tp_log_emit(const struct tp_log_line *ln)
{
        size_t off = 0;

        while (off < ln->len) {
                ssize_t n = write(STDERR_FILENO, ln->buf + off, ln->len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                off += (size_t)n;
        }
}

void tp_log(enum tp_log_level level, const char *fmt, ...)
{
        char msg[2048], ts[32];
        struct tp_log_line ln;
        va_list ap;

        if (level < tp_log_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        tp_format_ts(tp_now_ms(), ts, sizeof(ts));
        ln.len = 0;
        if (tp_log_json) {
                tp_log_puts(&ln, "{\"ts\":\"");
                tp_log_puts(&ln, ts);
                tp_log_puts(&ln, "\",\"level\":\"");
                tp_log_puts(&ln, tp_log_names[level]);
                tp_log_puts(&ln, "\",\"service\":");
                tp_log_quote(&ln, tp_log_service);
                tp_log_puts(&ln, ",\"msg\":");
                tp_log_quote(&ln, msg);
                tp_log_puts(&ln, "}\n");
        } else {
                tp_log_puts(&ln, "ts=\"");
                tp_log_puts(&ln, ts);
                tp_log_puts(&ln, "\" level=");
                tp_log_puts(&ln, tp_log_names[level]);
                tp_log_puts(&ln, " service=");
                tp_log_puts(&ln, tp_log_service);
                tp_log_puts(&ln, " msg=");
                tp_log_quote(&ln, msg);
                tp_log_puts(&ln, "\n");
        }
        tp_log_emit(&ln);
}
