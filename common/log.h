/* log.h - one-line structured logs (logfmt or JSON) on stderr.
 *
 * Only services log; common/ returns errors instead. The level and format
 * are the only process-wide mutable state besides the stop flag.
 */
#ifndef TP_LOG_H
#define TP_LOG_H

enum tp_log_level { TP_LOG_DEBUG, TP_LOG_INFO, TP_LOG_WARN, TP_LOG_ERROR };

/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int tp_log_level_parse(const char *s);
void tp_log_set_level(enum tp_log_level level);
/* json != 0 selects JSON lines, else logfmt. */
void tp_log_set_json(int json);
/* Sets the service name printed on every line (not copied: static string). */
void tp_log_set_service(const char *name);

void tp_log(enum tp_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define tp_log_debug(...) tp_log(TP_LOG_DEBUG, __VA_ARGS__)
#define tp_log_info(...) tp_log(TP_LOG_INFO, __VA_ARGS__)
#define tp_log_warn(...) tp_log(TP_LOG_WARN, __VA_ARGS__)
#define tp_log_error(...) tp_log(TP_LOG_ERROR, __VA_ARGS__)

#endif
