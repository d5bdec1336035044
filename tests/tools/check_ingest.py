#!/usr/bin/env python3
"""Compares what tthc-ingest stored with tthc-sim's truth (plus the figures
the mixed-in test messages add, from mixins.py).

usage: check_ingest.py TRUTH.json EXTRA.json DUMP_DIR
DUMP_DIR holds CSVs written by the integration test with psql (see
test_ingest_exact.sh): communes.csv, state.csv, provinces.csv, totals.csv,
rejected.csv. Prints TAP-style "ok"/"not ok" lines and the closing
"N passed, N failed" line; exits 1 on any mismatch.
"""
import csv, json, os, sys

truth = json.load(open(sys.argv[1]))
extra = json.load(open(sys.argv[2])) if sys.argv[2] != "-" else {"events": 0, "communes": {}, "rejected": {}, "rejected_total": 0}
dump = sys.argv[3]
passed = failed = 0

def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - %s: %s" % (what, detail))

def rows(name):
    with open(os.path.join(dump, name)) as f:
        return list(csv.DictReader(f))

COUNTERS = ["received", "resolved_early", "resolved_on_time", "resolved_late", "stopped",
            "withdrawn", "intake_refused", "transferred_out", "supplement_requested",
            "online_received"]
STATE = ["open", "paused", "overdue", "intake_backlog"]

def key(p, c):
    return (p, c or "")

def compare(what, expected, got, fields):
    bad = []
    for k in sorted(set(expected) | set(got)):
        e = expected.get(k, {})
        g = got.get(k, {})
        for f in fields:
            if int(e.get(f, 0)) != int(g.get(f, 0)):
                bad.append("%s/%s %s: expected %s got %s" % (k[0], k[1] or "centre", f, e.get(f, 0), g.get(f, 0)))
    report(not bad, "%s (%d rows, %s)" % (what, len(expected), ", ".join(fields[:3]) + "..."),
           "; ".join(bad[:8]) + (" (+%d more)" % (len(bad) - 8) if len(bad) > 8 else ""))

# per-commune throughput
exp = {key(c["province_code"], c["commune_code"]): dict(c) for c in truth["communes"]}
for code, add in extra.get("communes", {}).items():
    k = key("01", code)
    e = exp.setdefault(k, {})
    for f, v in add.items():
        e[f] = int(e.get(f, 0)) + v
got = {key(r["province_code"], r["commune_code"]): r for r in rows("communes.csv")}
compare("commune throughput equals the truth", exp, got, COUNTERS)

# open / paused / overdue / intake backlog at the end, per receiving commune
got = {key(r["province_code"], r["commune_code"]): r for r in rows("state.csv")}
compare("open, paused, overdue and intake backlog per commune", exp, got, STATE)

# per-province events and dossiers
exp_p = {key(p["province_code"], ""): p for p in truth["provinces"]}
mix_dossiers = 2 if extra.get("events") else 0
exp_p.get(key("01", ""), {}).update({})
got_p = {key(r["province_code"], ""): r for r in rows("provinces.csv")}
for k, p in exp_p.items():
    if k == key("01", "") and extra.get("events"):
        p = dict(p)
        p["events"] = p["events"] + extra["events"]
        p["dossiers"] = p["dossiers"] + mix_dossiers
    exp_p[k] = p
compare("events and dossiers per province", exp_p, got_p, ["events", "dossiers"])

tot = rows("totals.csv")[0]
report(int(tot["filing_events"]) == truth["events"] + extra.get("events", 0),
       "row count of tthc.filing_events equals distinct events",
       "expected %d got %s" % (truth["events"] + extra.get("events", 0), tot["filing_events"]))
rej = {r["reason"]: int(r["n"]) for r in rows("rejected.csv")}
report(rej == extra.get("rejected", {}),
       "one tthc.rejected_messages row per poison message, by reason",
       "expected %s got %s" % (extra.get("rejected"), rej))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
