/* event.h - vn.tthc.FilingEvent in the reader's shape (design.md).
 *
 * A struct tp_event owns its strings (heap, NUL-terminated); release with
 * tp_event_release(). Optional strings are NULL when absent.
 */
#ifndef TP_EVENT_H
#define TP_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum tp_event_type {
        TP_EV_SUBMITTED,
        TP_EV_RECEIVED,
        TP_EV_INTAKE_REFUSED,
        TP_EV_TRANSFERRED,
        TP_EV_SUPPLEMENT_REQUESTED,
        TP_EV_SUPPLEMENT_RECEIVED,
        TP_EV_SUSPENDED,
        TP_EV_RESUMED,
        TP_EV_RESOLVED,
        TP_EV_RESULT_RETURNED,
        TP_EV_STOPPED,
        TP_EV_WITHDRAWN,
        TP_EV__COUNT
};

enum tp_level {
        TP_LEVEL_COMMUNE,
        TP_LEVEL_PROVINCE,
        TP_LEVEL_CENTRAL,
        TP_LEVEL__COUNT
};

enum tp_channel { TP_CH_IN_PERSON, TP_CH_ONLINE, TP_CH_POSTAL, TP_CH__COUNT };

#define TP_LEVEL_NONE (-1)
#define TP_TS_NONE INT64_MIN
/* Every string field of an event is valid UTF-8 of at most this many
 * bytes (design.md, "Decoding notes"). */
#define TP_EVENT_MAX_STR 256

/* An event's string fields point into one block it owns (strings), or
 * into an arena its maker owns (strings NULL): set them with
 * tp_event_set_strings, release them with tp_event_release. A decoded
 * chunk of events used to allocate each string alone, nine per event,
 * and a third of decoding was malloc. An event built by hand with
 * borrowed strings (tests) has strings NULL as well. */
struct tp_event {
        char *event_id;
        enum tp_event_type event_type;
        int64_t occurred_at; /* ms since epoch, UTC */
        char *dossier_id;
        int32_t seq;
        char *province_code;
        char *commune_code; /* NULL: received at a provincial centre */
        char *procedure_code;
        enum tp_level procedure_level;
        enum tp_channel channel;
        char *agency_code;
        enum tp_level handling_level;
        int to_level; /* enum tp_level or TP_LEVEL_NONE */
        char *to_agency_code;
        int64_t due_at; /* TP_TS_NONE when null */
        char *source_system;
        char *handling_commune_code;
        int handling_commune_given; /* the writer had the field */
        char *strings;              /* owns the strings above */
};

/* The string fields of struct tp_event, for tp_event_set_strings. */
enum tp_event_str {
        TP_ES_EVENT_ID,
        TP_ES_DOSSIER_ID,
        TP_ES_PROVINCE,
        TP_ES_COMMUNE,
        TP_ES_PROCEDURE,
        TP_ES_AGENCY,
        TP_ES_TO_AGENCY,
        TP_ES_SOURCE,
        TP_ES_HANDLING_COMMUNE,
        TP_ES__COUNT
};

const char *tp_event_type_name(enum tp_event_type t);
const char *tp_level_name(int level); /* NULL for TP_LEVEL_NONE */
const char *tp_channel_name(enum tp_channel c);
/* Name lookups; return -1 when unknown. */
int tp_event_type_parse(const char *s);
int tp_level_parse(const char *s);
int tp_channel_parse(const char *s);

/* Points ev's string fields at copies of s[TP_ES_...], made in one new
 * block owned by ev (ev->strings, which must be NULL or released), or,
 * with an arena, in the arena (valid until it is reset; ev->strings
 * stays NULL). */
void tp_event_set_strings(struct tp_event *ev,
                          const struct tp_strspan s[TP_ES__COUNT],
                          struct tp_arena *arena);
/* Frees the block of strings the event owns (none when they are in an
 * arena) and zeroes the event. Accepts a zeroed event. */
void tp_event_release(struct tp_event *ev);
/* Deep copy; dst is overwritten (release it first). */
void tp_event_copy(struct tp_event *dst, const struct tp_event *src);
/* 1 when both events carry the same content (all Avro fields). */
int tp_event_equal(const struct tp_event *a, const struct tp_event *b);

#endif
