#!/usr/bin/env python3
"""A small in-memory OCI registry with the OCI 1.1 referrers API, for the tests no installed
registry can serve (Debian's docker-registry 2.8 has no referrers API): it answers manifest
PUTs that carry a `subject` with `OCI-Subject`, and lists referrers in pages of PAGE entries
linked by `Link: <…>; rel="next"` (distribution-spec "Listing Referrers").

Repositories named `offsite/…` always link a next page on another host (`localhost` instead
of 127.0.0.1), `loop/…` link each page to itself: what a client must refuse. GET /log returns
every request line seen. No auth. Usage: referrers-registry.py CERT KEY [PAGE]; prints its port.
"""
import hashlib, json, ssl, sys, threading, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

PAGE = int(sys.argv[3]) if len(sys.argv) > 3 else 1
lock = threading.Lock()
blobs, manifests, tags, uploads, order, log = {}, {}, {}, {}, [], []
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json")


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def route(self):
        url = urlparse(self.path)
        with lock:
            log.append(f"{self.command} {self.path}")
        parts = url.path.split("/")
        return url, parse_qs(url.query), parts

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        url, query, parts = self.route()
        if url.path == "/log":
            return self.reply(200, json.dumps(log).encode())
        if url.path == "/v2/":
            return self.reply(200, b"{}", {"Content-Type": "application/json"}, head)
        kind, reference = parts[-2], parts[-1]
        name = "/".join(parts[2:-2])
        if kind == "blobs":
            data = blobs.get(reference)
            if data is None:
                return self.reply(404, b"", head=head)
            return self.reply(200, data, {"Docker-Content-Digest": reference, "Content-Type": "application/octet-stream"}, head)
        if kind == "manifests":
            digest = tags.get((name, reference), reference)
            entry = manifests.get((name, digest))
            if entry is None:
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', {"Content-Type": "application/json"}, head)
            return self.reply(200, entry[1], {"Content-Type": entry[0], "Docker-Content-Digest": digest}, head)
        if kind == "referrers":
            listed = []
            for key in order:
                media_type, data = manifests[key]
                document = json.loads(data)
                if key[0] == name and (document.get("subject") or {}).get("digest") == reference:
                    entry = {"mediaType": media_type, "digest": key[1], "size": len(data)}
                    artifact = document.get("artifactType") or document.get("config", {}).get("mediaType")
                    if artifact:
                        entry["artifactType"] = artifact
                    if document.get("annotations"):
                        entry["annotations"] = document["annotations"]
                    listed.append(entry)
            start = 0
            if "last" in query:
                start = next((i + 1 for i, e in enumerate(listed) if e["digest"] == query["last"][0]), len(listed))
            page = listed[start:start + PAGE]
            headers = {"Content-Type": "application/vnd.oci.image.index.v1+json"}
            if start + PAGE < len(listed) or name.startswith(("loop/", "offsite/")):
                last = page[-1]["digest"] if page else ""
                target = f"/v2/{name}/referrers/{reference}?n={PAGE}&last={last}"
                if name.startswith("offsite/"):
                    target = f"https://localhost:{self.server.server_address[1]}{target}"
                if name.startswith("loop/"):
                    target = self.path
                headers["Link"] = f'<{target}>; rel="next"'
            body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": page}).encode()
            return self.reply(200, body, headers, head)
        self.reply(404, b"", head=head)

    def do_POST(self):
        url, query, parts = self.route()
        self.body()
        name = "/".join(parts[2:-3])
        upload = str(uuid.uuid4())
        uploads[upload] = b""
        self.reply(202, b"", {"Location": f"/v2/{name}/blobs/uploads/{upload}", "Range": "0-0", "Docker-Upload-UUID": upload})

    def do_PATCH(self):
        url, query, parts = self.route()
        upload = parts[-1]
        uploads[upload] = uploads.get(upload, b"") + self.body()
        self.reply(202, b"", {"Location": url.path, "Range": f"0-{max(0, len(uploads[upload]) - 1)}", "Docker-Upload-UUID": upload})

    def do_PUT(self):
        url, query, parts = self.route()
        data = self.body()
        if parts[-3] == "uploads" or parts[-2] == "uploads":
            upload = parts[-1]
            content = uploads.pop(upload, b"") + data
            digest = query.get("digest", [""])[0]
            if digest_of(content) != digest:
                return self.reply(400, b'{"errors":[{"code":"DIGEST_INVALID","message":"digest invalid"}]}', {"Content-Type": "application/json"})
            blobs[digest] = content
            name = "/".join(parts[2:-3])
            return self.reply(201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})
        name, reference = "/".join(parts[2:-2]), parts[-1]
        media_type = self.headers.get("Content-Type", "")
        if media_type not in MANIFEST_TYPES:
            return self.reply(400, b'{"errors":[{"code":"MANIFEST_INVALID","message":"media type"}]}', {"Content-Type": "application/json"})
        digest = digest_of(data)
        with lock:
            if (name, digest) not in manifests:
                order.append((name, digest))
            manifests[(name, digest)] = (media_type, data)
            if not reference.startswith("sha256:"):
                tags[(name, reference)] = digest
        headers = {"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest}
        subject = json.loads(data).get("subject")
        if subject:
            headers["OCI-Subject"] = subject["digest"]
        self.reply(201, b"", headers)


server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
