#!/usr/bin/env python3
"""A stand-in for a Confluent Schema Registry (the real one is a Java
service that Debian does not package, so it cannot run here).

GET  /schemas/ids/<id>               -> {"schema": "<json>"} from
                                        DIR/<id>-*.avsc, 404 when unknown
POST /subjects/<subject>/versions    body {"schema": "<json>"} -> {"id": N}:
                                        the id of the same schema if it is
                                        known, else a new one (one above the
                                        largest id in DIR, at least 100),
                                        stored as DIR/<N>-<subject>.avsc so
                                        GET serves it; 422 on a body without
                                        a schema string
GET  /subjects/<subject>/versions    -> [1, 2, ...] (404 when unknown)

While the file DIR/.down exists it answers 503 (an outage). While the
file DIR/.auth exists (one line "user:password"), a request without that
HTTP basic authentication gets 401.

usage: fake_registry.py DIR PORTFILE
"""
import base64, glob, http.server, json, os, re, sys

schema_dir, port_file = sys.argv[1:3]
subjects = {}  # subject -> [ids in registration order]


def known_ids():
    ids = {}
    for path in glob.glob(os.path.join(schema_dir, "*-*.avsc")):
        m = re.match(r"(\d+)-", os.path.basename(path))
        if m:
            ids[int(m.group(1))] = path
    return ids


def canonical(text):
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    def down(self):
        if os.path.exists(os.path.join(schema_dir, ".down")):
            self.reply(503, {"error_code": 50301, "message": "down"})
            return True
        auth = os.path.join(schema_dir, ".auth")
        if os.path.exists(auth):
            want = "Basic " + base64.b64encode(
                open(auth).read().strip().encode()).decode()
            if self.headers.get("Authorization") != want:
                self.reply(401, {"error_code": 40101, "message": "Unauthorized"})
                return True
        return False

    def do_GET(self):
        if self.down():
            return
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
            files = glob.glob(os.path.join(schema_dir, parts[2] + "-*.avsc"))
            if files:
                return self.reply(200, {"schema": open(files[0]).read()})
        if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
            if parts[1] in subjects:
                return self.reply(200, list(range(1, len(subjects[parts[1]]) + 1)))
            return self.reply(404, {"error_code": 40401, "message": "Subject not found"})
        self.reply(404, {"error_code": 40403, "message": "Schema not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.down():
            return
        parts = self.path.strip("/").split("/")
        if not (len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions"):
            return self.reply(404, {"error_code": 404, "message": "Not found"})
        try:
            schema = json.loads(body)["schema"]
            assert isinstance(schema, str)
        except Exception:
            return self.reply(422, {"error_code": 42201, "message": "Invalid schema"})
        want = canonical(schema)
        if want is None:
            return self.reply(422, {"error_code": 42201, "message": "Invalid schema"})
        ids = known_ids()
        for sid, path in sorted(ids.items()):
            if canonical(open(path).read()) == want:
                break
        else:
            sid = max([99] + list(ids)) + 1
            with open(os.path.join(schema_dir, "%d-%s.avsc" % (sid, parts[1])), "w") as f:
                f.write(schema)
        versions = subjects.setdefault(parts[1], [])
        if sid not in versions:
            versions.append(sid)
        self.reply(200, {"id": sid})

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
