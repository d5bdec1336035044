#!/usr/bin/env python3
"""hostile.py - the hostile messages of tests/integration/test_hostile.sh.

Usage: hostile.py CONTRACT_AVSC CATALOG_DIR REGISTRY_DIR OUT_JSONL EXPECT

Writes the writer schemas a hostile producer or registry could serve into
CATALOG_DIR (ids 90-96) and REGISTRY_DIR (id 94, a registry answer over its
1 MB cap), and tp-produce lines (raw Avro bytes, hand-encoded so that
invalid UTF-8 and NUL bytes can be sent) to OUT_JSONL: good RECEIVED events
GOOD-1..GOOD-24 on topic tthc.filings.01 partition 0, with one hostile
message after every second good one. EXPECT gets one line per hostile
message: "offset reason what".
"""
import copy
import json
import os
import sys

contract_path, cat, reg, out_path, expect_path = sys.argv[1:6]
contract = json.load(open(contract_path))
T0 = 1756699200000  # 2025-09-01 (Vietnam), inside the accepted range


def zz(n):
    n = (n << 1) ^ (n >> 63)
    b = bytearray()
    while n & ~0x7F:
        b.append((n & 0x7F) | 0x80)
        n >>= 7
    b.append(n)
    return bytes(b)


def st(v):
    v = v.encode() if isinstance(v, str) else v
    return zz(len(v)) + v


def symbols(name):
    for f in contract["fields"]:
        t = f["type"]
        if isinstance(t, dict) and t.get("name") == name:
            return t["symbols"]
    raise KeyError(name)


EV, LEVEL = symbols("EventType"), symbols("Level")


def event(n, **over):
    """Body of a valid event, fields as bytes or str overridable."""
    e = {
        "event_id": "0d0d0d0d-0000-4000-8000-%012d" % n,
        "event_type": "RECEIVED", "occurred_at": T0 + n * 1000,
        "dossier_id": ("GOOD-%d" if n < 100 else "HOSTILE-%d") % n, "seq": 1, "province_code": "01",
        "commune_code": "00004", "procedure_code": "1.004227",
        "agency_code": "UBND-00004", "to_level": None,
        "to_agency_code": None, "source_system": "t",
    }
    e.update(over)
    b = st(e["event_id"])
    b += e["event_type"] if isinstance(e["event_type"], bytes) else \
        zz(EV.index(e["event_type"]))
    b += zz(e["occurred_at"]) + st(e["dossier_id"]) + zz(e["seq"])
    b += st(e["province_code"]) + zz(1) + st(e["commune_code"])
    b += st(e["procedure_code"]) + zz(0) + zz(0)  # COMMUNE, IN_PERSON
    b += st(e["agency_code"]) + zz(0)  # handling_level COMMUNE
    b += zz(0) if e["to_level"] is None else zz(1) + zz(LEVEL.index(e["to_level"]))
    b += zz(0) if e["to_agency_code"] is None else zz(1) + st(e["to_agency_code"])
    b += zz(1) + zz(T0 + 86400000 * 3)  # due_at
    b += st(e["source_system"]) + zz(1) + st("00004")
    return b


def frame(schema_id, body):
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def schema_file(d, sid, name, obj):
    with open(os.path.join(d, "%d-%s.avsc" % (sid, name)), "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))


def with_field(field):
    s = copy.deepcopy(contract)
    s["fields"].append(field)
    return s


def nulls(name, n):
    return {"type": "record", "name": name,
            "fields": [{"name": "n%d" % i, "type": "null"} for i in range(n)]}


# 90: a record that contains itself, no way to end (stack overflow in avro-c)
schema_file(cat, 90, "selfref", {"type": "record", "name": "R",
                                 "fields": [{"name": "r", "type": "R"}]})
# 91: the contract with a required field of its own type
schema_file(cat, 91, "selfcontract",
            with_field({"name": "r", "type": "vn.tthc.FilingEvent"}))
# 92: an acceptable schema whose array items cost 1,000 values each but
# 0 bytes on the wire: the decoding budget, not the item count, stops it
schema_file(cat, 92, "costly",
            with_field({"name": "junk", "type": {"type": "array",
                                                 "items": nulls("Junk", 1000)}}))
# 93: 4,000 fields, over the cap on fields
schema_file(cat, 93, "wide", with_field({"name": "junk",
                                         "type": nulls("Wide", 4000)}))
# 94 (registry only): an answer over the registry's 1 MB cap
pad = with_field({"name": "junk", "type": "null",
                  "doc": "x" * (1100 * 1024)})
schema_file(reg, 94, "huge", pad)
# 95: event_type as a string (resolved to the enum by symbol)
s95 = copy.deepcopy(contract)
for f in s95["fields"]:
    if f["name"] == "event_type":
        f["type"] = "string"
schema_file(cat, 95, "stringenum", s95)
# 96: nesting deeper than the cap
deep = "null"
for _ in range(40):
    deep = {"type": "array", "items": deep}
schema_file(cat, 96, "deep", with_field({"name": "junk", "type": ["null", deep],
                                         "default": None}))

hostile = [
    ("bad_avro", "event_id of 39 'a' and one e-acute (not a UUID)",
     frame(1, event(100, event_id="a" * 39 + "\u00e9"))),
    ("bad_avro", "dossier_id with invalid UTF-8 (ff fe)",
     frame(1, event(101, dossier_id=b"D\xff\xfeX"))),
    ("bad_avro", "TRANSFERRED with a to_agency_code of 3,000 bytes",
     frame(1, event(102, event_type="TRANSFERRED", to_level="PROVINCE",
                    to_agency_code="x" * 3000))),
    ("bad_avro", "agency_code of 200 two-byte characters (400 bytes)",
     frame(1, event(103, agency_code="\u00e9" * 200))),
    ("bad_avro", "dossier_id with a NUL byte",
     frame(1, event(104, dossier_id=b"D\x00X"))),
    ("bad_schema", "writer schema: a record containing itself",
     frame(90, b"\x00")),
    ("bad_schema", "writer schema: the contract with a field of its own type",
     frame(91, event(105))),
    ("bad_avro", "65,536 items of 1,000 null fields in 113 bytes",
     frame(92, event(106) + zz(65536) + zz(0))),
    ("bad_schema", "writer schema: 4,000 fields",
     frame(93, event(107))),
    ("bad_schema", "writer schema over the registry's 1 MB cap",
     frame(94, event(108))),
    ("bad_avro", "event_type string with invalid UTF-8",
     frame(95, event(109, event_type=st(b"RECEIV\xffED")))),
    ("bad_schema", "writer schema nested 40 deep",
     frame(96, event(110) + zz(0))),
]

with open(out_path, "w") as out, open(expect_path, "w") as exp:
    offset = 0
    for n in range(1, 25):
        out.write(json.dumps({"topic": "tthc.filings.01", "key": "k",
                              "partition": 0,
                              "raw_hex": frame(1, event(n)).hex()}) + "\n")
        offset += 1
        if n % 2 == 0 and hostile:
            reason, what, value = hostile.pop(0)
            out.write(json.dumps({"topic": "tthc.filings.01", "key": "k",
                                  "partition": 0, "raw_hex": value.hex()}) + "\n")
            exp.write("%d %s %s\n" % (offset, reason, what))
            offset += 1
    assert not hostile
