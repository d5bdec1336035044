/* framing.c - see framing.h. */
#include "framing.h"

#include <stdio.h>

int tp_framing_parse(const void *buf, size_t len, int32_t *schema_id,
                     const unsigned char **body, size_t *body_len, char *errstr,
                     size_t errstr_size)
{
        const unsigned char *p = buf;
        uint32_t id;

        if (!p || len == 0) {
                snprintf(errstr, errstr_size, "empty message value");
                return -1;
        }
        if (p[0] != 0x00) {
                snprintf(errstr, errstr_size,
                         "wrong magic byte 0x%02x (expected 0x00)", p[0]);
                return -1;
        }
        if (len < TP_FRAMING_HEADER_LEN) {
                snprintf(errstr, errstr_size,
                         "message of %zu bytes is shorter than the 5-byte "
                         "header",
                         len);
                return -1;
        }
        id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
             (uint32_t)p[4];
        if (id > INT32_MAX) {
                snprintf(errstr, errstr_size, "negative schema id %d",
                         (int32_t)id);
                return -1;
        }
        *schema_id = (int32_t)id;
        *body = p + TP_FRAMING_HEADER_LEN;
        *body_len = len - TP_FRAMING_HEADER_LEN;
        return 0;
}

void tp_framing_write_header(unsigned char out[TP_FRAMING_HEADER_LEN],
                             int32_t schema_id)
{
        uint32_t id = (uint32_t)schema_id;
        out[0] = 0x00;
        out[1] = (unsigned char)(id >> 24);
        out[2] = (unsigned char)(id >> 16);
        out[3] = (unsigned char)(id >> 8);
        out[4] = (unsigned char)id;
}
