#!/usr/bin/env python3
"""Writes the integration tests' extra messages as tp-produce JSON lines:
events under evolved writer schemas, and one poison message of every kind.

usage: mixins.py SCHEMA_DIR OUT.jsonl EXPECT.json
SCHEMA_DIR receives 7-evolved.avsc (reordered fields, an extra field) and
8-old.avsc (no handling_commune_code). EXPECT.json gets the figures these
messages add (per commune) and the dead letters expected, by reason.
"""
import json, os, sys, time

schema_dir, out_path, expect_path = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
contract = json.load(open(os.path.join(here, "../../schemas/avro/1-filing_event.avsc")))
fields = {f["name"]: f for f in contract["fields"]}

evolved = dict(contract)
order = ["seq", "dossier_id", "event_id", "event_type", "occurred_at", "province_code",
         "commune_code", "procedure_code", "procedure_level", "channel", "agency_code",
         "handling_level", "to_level", "to_agency_code", "due_at", "source_system",
         "handling_commune_code"]
evolved["fields"] = [fields[n] for n in order]
evolved["fields"].insert(3, {"name": "priority", "type": ["null", "string"], "default": None})
old = dict(contract)
old["fields"] = [f for f in contract["fields"] if f["name"] != "handling_commune_code"]
json.dump(evolved, open(os.path.join(schema_dir, "7-evolved.avsc"), "w"))
json.dump(old, open(os.path.join(schema_dir, "8-old.avsc"), "w"))

T0 = 1756699200000  # 2025-09-01 11:00 Vietnam time
DAY = 86400000
def ev(eid, etype, at, dossier, seq, commune, channel="IN_PERSON", due=None, **kw):
    e = {"event_id": "0e0e0e0e-0000-4000-8000-%012d" % eid, "event_type": etype,
         "occurred_at": at, "dossier_id": dossier, "seq": seq, "province_code": "01",
         "commune_code": commune, "procedure_code": "1.004227",
         "procedure_level": "COMMUNE", "channel": channel, "agency_code": "UBND-" + (commune or "TINH"),
         "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
         "due_at": due, "source_system": "mixin", "handling_commune_code": commune}
    e.update(kw)
    return e

def line(schema, sid, e, topic="tthc.filings.01", **kw):
    d = {"topic": topic, "key": e["dossier_id"], "schema_id": sid,
         "schema_file": os.path.join(schema_dir, schema), "event": e}
    d.update(kw)
    return d

c1 = os.path.join(here, "../../schemas/avro")
lines = []
evo1 = ev(1, "RECEIVED", T0, "MIX-EVO-1", 1, "00004", "ONLINE", T0 + 3 * DAY)
lines.append(line("7-evolved.avsc", 7, evo1))
lines.append(line("7-evolved.avsc", 7, ev(2, "RESOLVED", T0 + DAY, "MIX-EVO-1", 2, "00004", "ONLINE")))
old1 = ev(3, "RECEIVED", T0, "MIX-OLD-1", 1, "00008", due=T0 + DAY)
del old1["handling_commune_code"]
lines.append(line("8-old.avsc", 8, old1))
old2 = ev(4, "RESOLVED", T0 + 3 * DAY, "MIX-OLD-1", 2, "00008")
del old2["handling_commune_code"]
lines.append(line("8-old.avsc", 8, old2))
# the same event again: a plain duplicate, counted once
lines.append(line("7-evolved.avsc", 7, evo1))

def contract_line(e, **kw):
    d = {"topic": "tthc.filings.01", "key": e["dossier_id"], "schema_id": 1,
         "schema_file": os.path.join(c1, "1-filing_event.avsc"), "event": e}
    d.update(kw)
    return d

poison = []
poison.append(("bad_framing", {"topic": "tthc.filings.01", "key": "P1", "raw_hex": "7f" + os.urandom(40).hex()}))
poison.append(("bad_framing", {"topic": "tthc.filings.01", "key": "P2", "raw_hex": ""}))
poison.append(("bad_framing", {"topic": "tthc.filings.01", "key": "P3", "raw_hex": "0100000001" + "02"}))
poison.append(("unknown_schema", {"topic": "tthc.filings.01", "key": "P4", "raw_hex": "0000001092" + "0a0b0c"}))
poison.append(("bad_avro", contract_line(ev(10, "RECEIVED", T0, "P5", 1, "00004"), truncate=30)))
poison.append(("topic_province_mismatch", contract_line(ev(11, "RECEIVED", T0, "P6", 1, None, province_code="79"))))
# tthc.filings.02 matches the subscription, but 02 is no province since 2025
poison.append(("unknown_province", contract_line(ev(18, "RECEIVED", T0, "P12", 1, None, province_code="02"), topic="tthc.filings.02")))
poison.append(("unknown_commune", contract_line(ev(12, "RECEIVED", T0, "P7", 1, "99999"))))
poison.append(("time_out_of_range", contract_line(ev(13, "RECEIVED", int(time.time() * 1000) + 3 * DAY, "P8", 1, "00004"))))
poison.append(("time_out_of_range", contract_line(ev(14, "RECEIVED", 1735700000000, "P9", 1, "00004"))))
poison.append(("bad_seq", contract_line(ev(15, "RECEIVED", T0, "P10", 0, "00004"))))
poison.append(("bad_transfer", contract_line(ev(16, "TRANSFERRED", T0, "P11", 1, "00004"))))
poison.append(("missing_field", contract_line(ev(17, "RECEIVED", T0, "", 1, "00004"))))
# a duplicate of MIX-EVO-1 seq 1 whose content differs from the first
conflict = dict(evo1); conflict["event_id"] = "0e0e0e0e-0000-4000-8000-000000000099"; conflict["agency_code"] = "OTHER"
poison.append(("conflicting_duplicate", line("1-filing_event.avsc", 1, conflict)))
poison[-1][1]["schema_file"] = os.path.join(c1, "1-filing_event.avsc")

with open(out_path, "w") as f:
    for l in lines:
        f.write(json.dumps(l) + "\n")
    for _, l in poison:
        f.write(json.dumps(l) + "\n")

rejected = {}
for reason, _ in poison:
    rejected[reason] = rejected.get(reason, 0) + 1
expect = {
    "events": 4,
    "communes": {"00004": {"received": 1, "online_received": 1, "resolved_early": 1},
                 "00008": {"received": 1, "resolved_late": 1}},
    "rejected": rejected,
    "rejected_total": len(poison),
}
json.dump(expect, open(expect_path, "w"), indent=1)
