/* event.c - see event.h. */
#include "event.h"
#include "util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const tp_event_type_names[TP_EV__COUNT] = {
        "SUBMITTED",
        "RECEIVED",
        "INTAKE_REFUSED",
        "TRANSFERRED",
        "SUPPLEMENT_REQUESTED",
        "SUPPLEMENT_RECEIVED",
        "SUSPENDED",
        "RESUMED",
        "RESOLVED",
        "RESULT_RETURNED",
        "STOPPED",
        "WITHDRAWN"};
static const char *const tp_level_names[TP_LEVEL__COUNT] = {
        "COMMUNE", "PROVINCE", "CENTRAL"};
static const char *const tp_channel_names[TP_CH__COUNT] = {"IN_PERSON",
                                                           "ONLINE", "POSTAL"};

static int tp_lookup(const char *const *names, int n, const char *s)
{
        for (int i = 0; i < n; i++)
                if (strcmp(names[i], s) == 0)
                        return i;
        return -1;
}

const char *tp_event_type_name(enum tp_event_type t)
{
        return (unsigned)t < TP_EV__COUNT ? tp_event_type_names[t] : "?";
}

const char *tp_level_name(int level)
{
        if (level < 0 || level >= TP_LEVEL__COUNT)
                return NULL;
        return tp_level_names[level];
}

const char *tp_channel_name(enum tp_channel c)
{
        return (unsigned)c < TP_CH__COUNT ? tp_channel_names[c] : "?";
}

int tp_event_type_parse(const char *s)
{
        return tp_lookup(tp_event_type_names, TP_EV__COUNT, s);
}

int tp_level_parse(const char *s)
{
        return tp_lookup(tp_level_names, TP_LEVEL__COUNT, s);
}

int tp_channel_parse(const char *s)
{
        return tp_lookup(tp_channel_names, TP_CH__COUNT, s);
}

/* Where each enum tp_event_str lies in struct tp_event. */
static const size_t tp_event_str_at[TP_ES__COUNT] = {
        [TP_ES_EVENT_ID] = offsetof(struct tp_event, event_id),
        [TP_ES_DOSSIER_ID] = offsetof(struct tp_event, dossier_id),
        [TP_ES_PROVINCE] = offsetof(struct tp_event, province_code),
        [TP_ES_COMMUNE] = offsetof(struct tp_event, commune_code),
        [TP_ES_PROCEDURE] = offsetof(struct tp_event, procedure_code),
        [TP_ES_AGENCY] = offsetof(struct tp_event, agency_code),
        [TP_ES_TO_AGENCY] = offsetof(struct tp_event, to_agency_code),
        [TP_ES_SOURCE] = offsetof(struct tp_event, source_system),
        [TP_ES_HANDLING_COMMUNE] =
                offsetof(struct tp_event, handling_commune_code),
};

static char **tp_event_str(struct tp_event *ev, int k)
{
        return (char **)((char *)ev + tp_event_str_at[k]);
}

void tp_event_set_strings(struct tp_event *ev,
                          const struct tp_strspan s[TP_ES__COUNT],
                          struct tp_arena *arena)
{
        ev->strings =
                tp_arena_pack(arena, ev, tp_event_str_at, s, TP_ES__COUNT);
}

void tp_event_release(struct tp_event *ev)
{
        free(ev->strings);
        memset(ev, 0, sizeof(*ev));
}

void tp_event_copy(struct tp_event *dst, const struct tp_event *src)
{
        struct tp_strspan s[TP_ES__COUNT];
        *dst = *src;
        for (int k = 0; k < TP_ES__COUNT; k++)
                s[k] = tp_arena_span(*tp_event_str(dst, k));
        tp_event_set_strings(dst, s, NULL);
}

static int tp_streq(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

int tp_event_equal(const struct tp_event *a, const struct tp_event *b)
{
        return tp_streq(a->event_id, b->event_id) &&
               a->event_type == b->event_type &&
               a->occurred_at == b->occurred_at &&
               tp_streq(a->dossier_id, b->dossier_id) && a->seq == b->seq &&
               tp_streq(a->province_code, b->province_code) &&
               tp_streq(a->commune_code, b->commune_code) &&
               tp_streq(a->procedure_code, b->procedure_code) &&
               a->procedure_level == b->procedure_level &&
               a->channel == b->channel &&
               tp_streq(a->agency_code, b->agency_code) &&
               a->handling_level == b->handling_level &&
               a->to_level == b->to_level &&
               tp_streq(a->to_agency_code, b->to_agency_code) &&
               a->due_at == b->due_at &&
               tp_streq(a->source_system, b->source_system) &&
               tp_streq(a->handling_commune_code, b->handling_commune_code);
}
