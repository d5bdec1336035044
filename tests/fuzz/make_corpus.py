#!/usr/bin/env python3
"""Writes the hand-made part of the fuzz seed corpus (make_corpus.sh runs it
after dumping real tthc-sim and tp-produce messages from the broker).

usage: make_corpus.py CORPUS_DIR SCHEMA_DIR

SCHEMA_DIR (tests/fuzz/schemas) gets the extra writer schemas the fuzz
catalog holds besides schemas/avro/ (7-evolved and 8-old are mixins.py's,
written by make_corpus.sh; 9-wide is written here). CORPUS_DIR gets:
  evolved-*   valid messages under 9-wide (enums as strings, seq as long,
              unions with extra branches, nested/recursive extra fields);
  poison-*    hostile framing and Avro: lengths larger than the data,
              negative lengths, overlong varints, enum/union indexes out of
              range, trailing bytes, invalid UTF-8, NUL in strings, extreme
              numbers, every validation failure, mutations of real messages;
  schema-*    '{' WRITER-SCHEMA '\\0' BODY inputs (resolution of fuzzed
              writer schemas), valid and hostile.
Deterministic: same inputs, same files.
"""
import json, os, random, struct, sys

corpus, schema_dir = sys.argv[1:3]
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "../.."))
contract = json.load(open(os.path.join(root, "schemas/avro/1-filing_event.avsc")))
rnd = random.Random(8)
sys.setrecursionlimit(50000)

# --- a small Avro binary encoder ------------------------------------------
def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def enc(schema, v, names):
    if isinstance(schema, str):
        if schema in names:
            return enc(names[schema], v, names)
        t = schema
    elif isinstance(schema, list):
        # union: v is (branch, value) or pick the first branch that fits
        if isinstance(v, tuple):
            b, val = v
        else:
            b = next(i for i, s in enumerate(schema) if fits(s, v, names))
            val = v
        return zz(b) + enc(schema[b], val, names)
    else:
        t = schema["type"]
        if t == "record":
            names[schema["name"]] = schema
            return b"".join(enc(f["type"], v.get(f["name"], f.get("default")), names)
                            for f in schema["fields"])
        if t == "enum":
            names[schema["name"]] = schema
            return zz(schema["symbols"].index(v))
        if t == "array":
            return (zz(len(v)) + b"".join(enc(schema["items"], x, names) for x in v) + b"\0") if v else b"\0"
        if t == "map":
            return (zz(len(v)) + b"".join(enc("string", k, names) + enc(schema["values"], x, names)
                                           for k, x in v.items()) + b"\0") if v else b"\0"
        if t == "fixed":
            names[schema["name"]] = schema
            assert len(v) == schema["size"]
            return v
    if t == "null":
        return b""
    if t == "boolean":
        return b"\1" if v else b"\0"
    if t in ("int", "long"):
        return zz(v)
    if t == "float":
        return struct.pack("<f", v)
    if t == "double":
        return struct.pack("<d", v)
    if t == "string":
        b = v.encode() if isinstance(v, str) else v
        return zz(len(b)) + b
    if t == "bytes":
        return zz(len(v)) + v
    raise ValueError(t)

def fits(s, v, names):
    t = s if isinstance(s, str) else s.get("type")
    if t in names:
        t = names[t]["type"] if isinstance(names[t], dict) else t
    if v is None:
        return t == "null"
    if isinstance(v, bool):
        return t == "boolean"
    if isinstance(v, int):
        return t in ("int", "long")
    if isinstance(v, str):
        return t in ("string", "enum", "Level")
    if isinstance(v, dict):
        return t in ("record", "map", "Node")
    if isinstance(v, list):
        return t == "array"
    return True

def frame(sid, body):
    return b"\0" + struct.pack(">i", sid) + body

def put(name, data):
    with open(os.path.join(corpus, name), "wb") as f:
        f.write(data)

# --- 9-wide: an evolved writer with everything the resolver accepts -------
fields = {f["name"]: f for f in contract["fields"]}
level_str = ["null", "string"]
wide = {"type": "record", "name": "FilingEvent", "namespace": "vn.tthc.v9", "fields": [
    {"name": "meta", "type": {"type": "record", "name": "Meta", "fields": [
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": ["null", "long", "double"]}},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "blob", "type": "bytes"},
        {"name": "flag", "type": "boolean"},
        {"name": "ratio", "type": "float"}]}},
    {"name": "chain", "type": ["null", {"type": "record", "name": "Node", "fields": [
        {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}], "default": None},
    fields["event_id"],
    {"name": "event_type", "type": "string"},
    {"name": "occurred_at", "type": "long"},
    fields["dossier_id"],
    {"name": "seq", "type": "long"},
    fields["province_code"],
    {"name": "commune_code", "type": ["null", "string", "int"], "default": None},
    fields["procedure_code"],
    {"name": "procedure_level", "type": "string"},
    {"name": "channel", "type": ["string", "null"]},
    fields["agency_code"],
    {"name": "handling_level", "type": "string"},
    {"name": "to_level", "type": level_str, "default": None},
    fields["to_agency_code"],
    {"name": "due_at", "type": ["null", "int", "long"], "default": None},
    fields["source_system"],
    fields["handling_commune_code"],
]}
json.dump(wide, open(os.path.join(schema_dir, "9-wide.avsc"), "w"), indent=1)
evolved = json.load(open(os.path.join(schema_dir, "7-evolved.avsc")))
old = json.load(open(os.path.join(schema_dir, "8-old.avsc")))

T0 = 1759300000000  # 2025-10-01 13:26 Vietnam time
DAY = 86400000
def ev(i, etype="RECEIVED", **kw):
    e = {"event_id": "5eed5eed-0000-4000-8000-%012d" % i, "event_type": etype,
         "occurred_at": T0 + i * 60000, "dossier_id": "01.00004-251001-%05d" % i, "seq": 1,
         "province_code": "01", "commune_code": "00004", "procedure_code": "1.004227",
         "procedure_level": "COMMUNE", "channel": "ONLINE", "agency_code": "UBND-00004",
         "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
         "due_at": T0 + 3 * DAY, "source_system": "fuzz-seed", "handling_commune_code": "00004"}
    e.update(kw)
    return e

meta = {"tags": ["a", "bb"], "attrs": {"x": 1, "y": None}, "digest": b"\1\2\3\4",
        "blob": b"\0\xff", "flag": True, "ratio": 0.5}
def wide_ev(e, chain=None, m=meta):
    w = dict(e)
    w["meta"] = m
    w["chain"] = chain
    return w

def nested(depth):
    n = None
    for i in range(depth):
        n = {"v": i, "next": n}
    return n

bodies = {}  # name -> (schema, sid, body) for reuse below
def add(name, schema, sid, value):
    body = enc(schema, value, {})
    bodies[name] = (schema, sid, body)
    put(name, frame(sid, body))

add("evolved-wide-received", wide, 9, wide_ev(ev(1), chain=nested(3)))
add("evolved-wide-transfer", wide, 9, wide_ev(ev(2, "TRANSFERRED", seq=2, to_level="PROVINCE",
    to_agency_code="SO-STP-01", handling_commune_code=None, due_at=(1, 12345))))
add("evolved-wide-int-commune", wide, 9, wide_ev(ev(3, commune_code=(2, 4))))
add("evolved-wide-deep-chain", wide, 9, wide_ev(ev(4), chain=nested(400)))
add("evolved-wide-centre", wide, 9, wide_ev(ev(5, commune_code=None, procedure_level="PROVINCE",
    handling_level="PROVINCE", agency_code="TTPVHCC-01", handling_commune_code=None)))
add("evolved-wide-bad-enum-string", wide, 9, wide_ev(ev(6, event_type="EXPLODED")))
add("evolved-wide-null-channel", wide, 9, wide_ev(ev(7, channel=(1, None))))
add("evolved-7-resolved", evolved, 7, dict(ev(8, "RESOLVED", seq=2), priority="HIGH"))
o = ev(9)
del o["handling_commune_code"]
add("evolved-8-old", old, 8, o)
add("contract-received", contract, 1, ev(10))
add("contract-submitted", contract, 1, ev(11, "SUBMITTED", due_at=None))

# --- poison: validation failures (well-formed Avro) -----------------------
bad = {
    "missing-event-id": ev(20, event_id=""),
    "bad-uuid": ev(21, event_id="not-a-uuid"),
    "long-code": ev(22, procedure_code="9" * 300),
    "province-mismatch": ev(23, province_code="79"),
    "unknown-province": ev(24, province_code="02"),
    "unknown-commune": ev(25, commune_code="99999"),
    "commune-other-province": ev(26, commune_code="26734"),
    "time-before-2025-07": ev(27, occurred_at=1735700000000),
    "time-far-future": ev(28, occurred_at=(1 << 62)),
    "time-min": ev(29, occurred_at=-(1 << 63)),
    "due-max": ev(30, due_at=(1 << 63) - 1),
    "due-negative": ev(31, due_at=-1),
    "seq-zero": ev(32, seq=0),
    "seq-negative": ev(33, seq=-(1 << 31)),
    "seq-max": ev(34, seq=(1 << 31) - 1),
    "transfer-without-target": ev(35, "TRANSFERRED"),
    "transfer-to-commune-unknown": ev(36, "TRANSFERRED", to_level="COMMUNE", to_agency_code="UBND-99999"),
    "non-transfer-with-target": ev(37, to_level="CENTRAL", to_agency_code="BO-BCA"),
    "handling-commune-unknown": ev(38, handling_commune_code="12345"),
    "utf8-dossier": ev(39, dossier_id="Hồ sơ-ĐăkLăk-✓"),
    "empty-source": ev(40, source_system=""),
}
for name, e in bad.items():
    add("poison-valid-avro-" + name, contract, 1, e)
# raw bytes inside strings: invalid UTF-8, NUL, overlong encodings
for name, raw in {"invalid-utf8": b"\xff\xfe", "nul-byte": b"a\0b",
                  "overlong-utf8": b"\xc0\xaf", "surrogate": b"\xed\xa0\x80",
                  "truncated-utf8": b"\xe1\xbb"}.items():
    add("poison-string-" + name, contract, 1, ev(41, dossier_id=raw))

# --- poison: framing -------------------------------------------------------
base = bodies["contract-received"][2]
put("poison-frame-empty", b"")
put("poison-frame-magic-only", b"\0")
put("poison-frame-short-header", b"\0\0\0\1")
put("poison-frame-header-only", frame(1, b""))
put("poison-frame-bad-magic", b"\x01" + frame(1, base)[1:])
put("poison-frame-id-zero", frame(0, base))
put("poison-frame-id-negative", frame(-1, base))
put("poison-frame-id-max", frame(0x7FFFFFFF, base))
put("poison-frame-id-unknown", frame(4242, base))
put("poison-frame-alert-schema", frame(2, base))  # incompatible writer
put("poison-frame-id-7-with-contract-body", frame(7, base))

# --- poison: Avro bodies ---------------------------------------------------
def strpos(body):
    """offset of the first string's length varint (event_id, first field)"""
    return 0
b = bytearray(base)
put("poison-avro-truncated-1", frame(1, base[:1]))
for cut in (5, 37, 38, 60, len(base) - 1):
    put("poison-avro-truncated-%d" % cut, frame(1, base[:cut]))
put("poison-avro-trailing", frame(1, base + b"\0\0\0"))
# huge string length claims (positive, negative, overlong varint)
for name, v in {"len-2g": zz(1 << 31), "len-huge": zz((1 << 62)), "len-neg": zz(-5),
                "len-min": zz(-(1 << 63)), "len-just-over": zz(len(base))}.items():
    put("poison-avro-" + name, frame(1, v + base[1:]))
put("poison-avro-varint-overlong", frame(1, b"\xff" * 11 + base[1:]))
put("poison-avro-varint-unterminated", frame(1, base[:37] + b"\xff\xff\xff"))
# enum index out of range / negative (event_type follows event_id)
eid_len = 1 + 36
for name, v in {"enum-12": zz(12), "enum-neg": zz(-1), "enum-huge": zz(1 << 40)}.items():
    put("poison-avro-" + name, frame(1, base[:eid_len] + v + base[eid_len + 1:]))
# union index out of range on commune_code (find it by encoding parts)
pre = enc({"type": "record", "name": "P", "fields": contract["fields"][:6]}, ev(10), {})
for name, v in {"union-2": zz(2), "union-neg": zz(-1), "union-huge": zz(1 << 33)}.items():
    put("poison-avro-" + name, frame(1, base[:len(pre)] + v + base[len(pre) + 1:]))
# wide schema: array/map block counts that lie, negative block counts
wb = bodies["evolved-wide-received"][2]
put("poison-wide-array-count-huge", frame(9, zz(1 << 40) + wb[1:]))
put("poison-wide-array-count-neg", frame(9, zz(-3) + zz(1 << 30) + wb[1:]))
put("poison-wide-array-neg-size-lies", frame(9, zz(-1) + zz(-7) + wb[1:]))
mpos = len(enc({"type": "array", "items": "string"}, meta["tags"], {}))
put("poison-wide-map-count-huge", frame(9, wb[:mpos] + zz(1 << 50) + wb[mpos + 1:]))
put("poison-wide-chain-deep", frame(9, bodies["evolved-wide-received"][2][:mpos] +
    wb[mpos:] if False else enc(wide, wide_ev(ev(4), chain=nested(2000)), {})))
put("poison-wide-chain-unterminated", frame(9, wb[:-200] + b"\x02" * 150))
# random mutations of the valid bodies (seeded)
for i in range(24):
    name, (s, sid, body) = rnd.choice(sorted(bodies.items()))
    m = bytearray(body)
    for _ in range(rnd.randint(1, 4)):
        k = rnd.randrange(len(m))
        op = rnd.randrange(3)
        if op == 0:
            m[k] ^= 1 << rnd.randrange(8)
        elif op == 1:
            m[k] = rnd.choice([0x00, 0x7f, 0x80, 0xff, 0x01])
        else:
            m[k:k] = bytes([rnd.randrange(256)])
    put("poison-mutated-%02d-%s" % (i, name), frame(sid, bytes(m)))

# --- schema mode: '{' writer schema '\0' body ------------------------------
def sch(name, schema, body):
    txt = schema if isinstance(schema, (bytes, str)) else json.dumps(schema)
    if isinstance(txt, str):
        txt = txt.encode()
    put("schema-" + name, txt + b"\0" + body)

sch("contract", contract, base)
sch("evolved-7", evolved, bodies["evolved-7-resolved"][2])
sch("old-8", old, bodies["evolved-8-old"][2])
sch("wide-9", wide, bodies["evolved-wide-received"][2])
sch("not-json", b"{\"type\": \"record\", \"name\": ", base)
sch("not-a-record", {"type": "array", "items": "string"}, b"\x02\x02a\x00")
sch("empty-record", {"type": "record", "name": "E", "fields": []}, b"")
lack = dict(contract)
lack["fields"] = [f for f in contract["fields"] if f["name"] != "dossier_id"]
sch("lacks-required", lack, base)
wrong = json.loads(json.dumps(contract))
wrong["fields"][4]["type"] = "string"  # seq as string
sch("seq-as-string", wrong, base)
dup = json.loads(json.dumps(contract))
dup["fields"].append(dict(contract["fields"][0]))
sch("duplicate-field", dup, base + base[:37])
rec = {"type": "record", "name": "R", "fields": [
    {"name": "event_id", "type": ["null", "R", "string"]}] + contract["fields"][1:]}
sch("recursive-union", rec, b"\x02" * 64 + b"\x04" + base)
sch("unknown-named-type", {"type": "record", "name": "U", "fields": [
    {"name": "event_id", "type": "NoSuchType"}]}, base)
sch("enum-no-symbols", {"type": "record", "name": "U", "fields": [
    {"name": "event_type", "type": {"type": "enum", "name": "E", "symbols": []}}]}, b"\0")
sch("fixed-huge", {"type": "record", "name": "F", "fields": [
    {"name": "f", "type": {"type": "fixed", "name": "X", "size": 1 << 30}}] + contract["fields"]}, base)
sch("deep-json", b"{\"type\":" + b"[" * 3000 + b"]" * 3000 + b"}", b"")
sch("nested-arrays", {"type": "record", "name": "N", "fields": [
    {"name": "x", "type": json.loads('{"type":"array","items":' * 50 + '"int"' + '}' * 50)}] +
    contract["fields"]}, b"\x02" * 50 + b"\0" * 50 + base)
sch("union-of-unions-ish", {"type": "record", "name": "Q", "fields": [
    dict(f, type=["null", "string", "long", "int", {"type": "enum", "name": "E%d" % i, "symbols": ["A"]}])
    if f["name"] not in ("event_type", "procedure_level", "channel", "handling_level", "to_level")
    else f for i, f in enumerate(contract["fields"])]}, base)
print(len(os.listdir(corpus)))
