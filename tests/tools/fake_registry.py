#!/usr/bin/env python3
"""A stand-in for a Confluent Schema Registry (the real one is a Java
service that Debian does not package, so it cannot run here). Serves
GET /schemas/ids/<id> -> {"schema": "<json>"} from DIR/<id>-*.avsc, 404 for
unknown ids. While the file DIR/.down exists it answers 503 (an outage).

usage: fake_registry.py DIR PORTFILE
"""
import glob, http.server, json, os, sys

schema_dir, port_file = sys.argv[1:3]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(os.path.join(schema_dir, ".down")):
            return self.reply(503, {"error_code": 50301, "message": "down"})
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
            files = glob.glob(os.path.join(schema_dir, parts[2] + "-*.avsc"))
            if files:
                return self.reply(200, {"schema": open(files[0]).read()})
        self.reply(404, {"error_code": 40403, "message": "Schema not found"})

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
