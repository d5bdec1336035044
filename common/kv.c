/* kv.c - see kv.h. */
#include "kv.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *tp_kv_trim(char *s)
{
        char *e;
        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

int tp_kv_parse(const char *text, const char *origin, int flags, tp_kv_fn fn,
                void *ud, char *errstr, size_t errstr_size)
{
        char *copy = tp_xstrdup(text), *line, *next;
        char err[512];
        int lineno = 0, rc = 0;

        for (line = copy; line && rc == 0; line = next) {
                char *eq, *key, *val;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                key = tp_kv_trim(line);
                if (*key == '#' || *key == '\0')
                        continue;
                eq = strchr(key, '=');
                if (!eq) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: expected \"key = value\"", origin,
                                 lineno);
                        rc = -1;
                        break;
                }
                *eq = '\0';
                key = tp_kv_trim(key);
                val = eq + 1;
                if (flags & TP_KV_VALUE_COMMENTS)
                        val[strcspn(val, "#")] = '\0';
                val = tp_kv_trim(val);
                err[0] = '\0';
                if (fn(ud, key, val, lineno, err, sizeof(err)) != 0) {
                        snprintf(errstr, errstr_size, "%s:%d: %s", origin,
                                 lineno, err);
                        rc = -1;
                }
        }
        free(copy);
        return rc;
}
