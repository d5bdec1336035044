/* redact.c - see redact.h. */
#include "redact.h"

#include <stdio.h>
#include <string.h>

void tp_redact_url(const char *url, char *out, size_t size)
{
        const char *auth, *end, *at = NULL;

        if (!url) {
                out[0] = '\0';
                return;
        }
        auth = strstr(url, "://");
        auth = auth ? auth + 3 : url;
        end = auth + strcspn(auth, "/?#");
        /* The last '@' of the authority ends the userinfo (a password may
         * hold an unescaped '@'). */
        for (const char *p = auth; p < end; p++)
                if (*p == '@')
                        at = p;
        if (!at) {
                snprintf(out, size, "%s", url);
                return;
        }
        snprintf(out, size, "%.*s%s%s", (int)(auth - url), url, TP_REDACTED,
                 at);
}

void tp_redact_secret(char *s, size_t size, const char *secret)
{
        char buf[4096];
        size_t n, len = 0, rlen = strlen(TP_REDACTED);
        const char *p = s, *hit;

        if (!secret || !*secret || size == 0)
                return;
        n = strlen(secret);
        if (!strstr(s, secret))
                return;
        if (size > sizeof(buf))
                size = sizeof(buf);
        while ((hit = strstr(p, secret)) != NULL) {
                size_t plain = (size_t)(hit - p);
                if (len + plain + rlen >= size)
                        break;
                memcpy(buf + len, p, plain);
                memcpy(buf + len + plain, TP_REDACTED, rlen);
                len += plain + rlen;
                p = hit + n;
        }
        if (hit) {
                /* Out of room: cut before the secret we could not replace. */
                size_t plain = (size_t)(hit - p);
                if (len + plain >= size)
                        plain = size - 1 - len;
                memcpy(buf + len, p, plain);
                len += plain;
        } else {
                size_t rest = strlen(p);
                if (len + rest >= size)
                        rest = size - 1 - len;
                memcpy(buf + len, p, rest);
                len += rest;
        }
        buf[len] = '\0';
        memcpy(s, buf, len + 1);
}
