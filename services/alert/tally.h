/* tally.h - a commune's figures in the hourly snapshot (open, paused,
 * overdue, intake backlog: tthc.alert_commune_ticks), kept as the
 * partition's dossiers change instead of counted over every resident
 * dossier at every tick.
 *
 * At a tick of Vietnam day D, an open dossier counts for at most one
 * commune (docs/alerts.md, "Snapshots"):
 *  - submitted online and not yet received: in the intake backlog of its
 *    commune once a working day has passed since the day it was submitted,
 *    that is once its first working day after that day is before D;
 *  - processing or paused: open in its handling commune, paused when
 *    paused, overdue when processing and its effective due day is
 *    before D.
 * So what a dossier adds (its share, tp_tally_share) depends on the
 * dossier and on one day: it is counted in a day's figures or it is not.
 * A tally keeps the shares whose day is before the tally's day counted and
 * the others waiting by day; tp_tally_pass moves the tally to a later
 * day.
 *
 * Usage: the share before a dossier changes is taken out
 * (tp_tally_add(..., -1)), the share after is put in (+1). No I/O. */
#ifndef TP_ALERT_TALLY_H
#define TP_ALERT_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "dossier.h"
#include "eval.h"

/* A share's day when it never counts (tp_dossier_overdue_after's and
 * tp_workcal_next's "none"). */
#define TP_TALLY_NEVER INT64_MAX

/* What one dossier adds to its commune's figures. */
struct tp_share {
        /* NULL: nothing; else the commune's code (borrowed from the
         * dossier: valid until it changes) */
        const char *commune;
        int intake; /* 1: intake backlog; 0: handled (open) */
        int paused;
        /* counted (intake, or overdue) at the ticks of days after day;
         * TP_TALLY_NEVER: never (a handled dossier not processing or
         * with no due date) */
        int64_t day;
};

/* Shares not yet counted, by day (sorted, each day once). */
struct tp_tally_wait {
        int64_t day;
        int n;
};

struct tp_tally_bag {
        int passed; /* shares whose day is before the tally's day */
        struct tp_tally_wait *wait; /* owned */
        size_t n, cap;
};

struct tp_tally {
        int open, paused;
        struct tp_tally_bag overdue, intake;
};

/* s: the share of d (cal: the working calendar of the intake rule). */
void tp_tally_share(const struct tp_workcal *cal, const struct tp_dossier *d,
                    struct tp_share *s);
/* Adds (sign 1) or takes out (sign -1) s (a share with a commune: t's);
 * day is the tally's day (the last tp_tally_pass; INT64_MIN before any).
 * A share is taken out only after it was put in, at a day no later. */
void tp_tally_add(struct tp_tally *t, const struct tp_share *s, int64_t day,
                  int sign);
/* Moves t to day (not before its last): counts the shares whose day is
 * before it. Returns 1 when a figure changed. */
int tp_tally_pass(struct tp_tally *t, int64_t day);
int tp_tally_overdue(const struct tp_tally *t);
int tp_tally_intake(const struct tp_tally *t);
/* Frees what t holds and empties it. */
void tp_tally_release(struct tp_tally *t);

#endif
