/* redact.h - keeps credentials out of messages and logs: the userinfo of
 * a URL ("user:password@") and secrets that a library quotes back. Every
 * URL that may reach a log or an error message goes through
 * tp_redact_url() first. */
#ifndef TP_REDACT_H
#define TP_REDACT_H

#include <stddef.h>

/* What replaces a secret. */
#define TP_REDACTED "[redacted]"

/* Copies url into out (size > 0 bytes; always NUL-terminated, cut if too
 * long) with the userinfo of its authority replaced by TP_REDACTED:
 * "http://u:p@host:9093/x" -> "http://[redacted]@host:9093/x". A URL
 * without a scheme ("u:p@host") is treated the same. A NULL url gives "". */
void tp_redact_url(const char *url, char *out, size_t size);

/* Replaces every occurrence of secret in s (a NUL-terminated string in a
 * buffer of size bytes) with TP_REDACTED, cutting the result to fit. A
 * NULL or empty secret changes nothing. */
void tp_redact_secret(char *s, size_t size, const char *secret);

#endif
