/* reason.c - see reason.h. */
#include "reason.h"

#include <string.h>

static const char *const tp_reason_names[TP_REASON__COUNT] = {
        "ok",
        "bad_framing",
        "unknown_schema",
        "bad_avro",
        "missing_field",
        "topic_province_mismatch",
        "unknown_province",
        "unknown_commune",
        "time_out_of_range",
        "bad_seq",
        "bad_transfer",
        "conflicting_duplicate",
        "bad_schema",
        "db_rejected"};

const char *tp_reason_name(enum tp_reason r)
{
        return (unsigned)r < TP_REASON__COUNT ? tp_reason_names[r] : "unknown";
}

int tp_reason_parse(const char *name)
{
        for (int i = 0; i < TP_REASON__COUNT; i++)
                if (strcmp(tp_reason_names[i], name) == 0)
                        return i;
        return -1;
}
