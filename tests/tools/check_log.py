#!/usr/bin/env python3
"""Measures the torture tests against the log: what the broker holds, read
back by tp-log-ids (W and M lines, see tests/tools/tp_log_ids.c).

usage: check_log.py mock LOG TRUTH.json SENT
       check_log.py exact LOG STORED REJECTED

mock: the broker holds everything the producers reported delivered: no
partition starts after offset 0 (nothing evicted), the log holds at least
SENT messages (tthc-sim's "events produced" lines plus the mixed-in ones;
more when a retry after an injected error appended a copy again), and
the distinct event ids of tthc-sim's events in the log equal the truth's
"events". Mixed-in events (mixins.py) have ids 0e0e0e0e-0000-4000-8000-*.

exact: tthc-ingest against the log. STORED holds the event_id of every
row of tthc.filing_events, REJECTED "topic|partition|offset" of every
dead letter. Every message of the log must be a dead letter (at its
topic, partition and offset) or carry an event_id that is stored; every
stored event_id and every dead letter must come from the log; no event_id
is stored twice. Prints the lost messages (first 10) and a last line
"counts EVENTS LOST DUPLICATED MESSAGES DEAD_LETTERS".

Both print TAP-style "ok"/"not ok" lines and exit 1 on any failure.
"""
import json, sys

MIXIN_PREFIX = "0e0e0e0e-0000-4000-8000-"
failed = 0


def report(ok, what, detail=""):
    global failed
    if ok:
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - %s: %s" % (what, detail))


def read_log(path):
    parts, msgs = [], []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "W":
                parts.append((w[1], int(w[2]), int(w[3]), int(w[4])))
            elif w and w[0] == "M":
                msgs.append((w[1], int(w[2]), int(w[3]), w[4].lower(), w[5]))
    return parts, msgs


def mock(log, truth_path, sent):
    parts, msgs = read_log(log)
    truth = json.load(open(truth_path))
    held = sum(high - low for _, _, low, high in parts)
    evicted = ["%s [%d] from %d" % (t, p, low) for t, p, low, _ in parts if low > 0]
    report(not evicted, "no partition lost its beginning to the mock's retention",
           "; ".join(evicted[:8]))
    # More than sent is no loss: a produce request the broker appended but
    # answered with an injected error is retried, and the retry appended
    # again (the consumers count such copies once; "exact" checks it).
    report(held >= sent and len(msgs) == held,
           "the log holds the %d messages the producers reported delivered" % sent,
           "%d held, %d read back" % (held, len(msgs)))
    if held > sent:
        print("# %d more message(s) than reported delivered: copies appended "
              "by producer retries during injected errors" % (held - sent))
    sim = {m[3] for m in msgs if m[4] == "ok" and not m[3].startswith(MIXIN_PREFIX)}
    report(len(sim) == truth["events"],
           "the log holds the %d distinct events of tthc-sim's truth" % truth["events"],
           "%d distinct tthc-sim event ids in the log" % len(sim))


def exact(log, stored_path, rejected_path):
    _, msgs = read_log(log)
    rows = [l.strip().lower() for l in open(stored_path) if l.strip()]
    stored = set(rows)
    rejected = set()
    for l in open(rejected_path):
        if l.strip():
            t, p, o = l.strip().split("|")
            rejected.add((t, int(p), int(o)))
    keys = set()
    expected = set()
    lost = []
    dead = 0
    for t, p, o, eid, reason in msgs:
        keys.add((t, p, o))
        if (t, p, o) in rejected:
            dead += 1
        elif reason != "ok":
            lost.append("%s [%d] @%d: %s but no dead letter" % (t, p, o, reason))
        else:
            expected.add(eid)
            if eid not in stored:
                lost.append("%s [%d] @%d: event %s not stored" % (t, p, o, eid))
    lost_events = expected - stored
    lost_dead = [l for l in lost if l.endswith("no dead letter")]
    report(not lost, "every message of the log is stored or a dead letter (%d messages)" % len(msgs),
           "%d event(s) not stored, %d dead letter(s) missing: %s" %
           (len(lost_events), len(lost_dead), "; ".join(lost[:10])))
    phantom = stored - expected
    report(not phantom, "every stored event_id is in the log (%d)" % len(stored),
           "%d not in the log, e.g. %s" % (len(phantom), ", ".join(sorted(phantom)[:5])))
    stray = rejected - keys
    report(not stray, "every dead letter is a message of the log (%d)" % len(rejected),
           "%d not in the log, e.g. %s" % (len(stray), sorted(stray)[:5]))
    dup = len(rows) - len(stored)
    report(dup == 0, "no event_id stored twice (%d rows)" % len(rows), "%d extra rows" % dup)
    print("counts %d %d %d %d %d" % (len(expected), len(lost_events) + len(lost_dead),
                                     dup, len(msgs), dead))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "mock":
        mock(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "exact":
        exact(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
    sys.exit(1 if failed else 0)
