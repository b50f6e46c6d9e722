#!/usr/bin/env python3
"""A recording proxy in front of moto_server: every AWS API call a client makes goes through it
unchanged (but for one thing, below), and one JSON line per call is appended to LOG_FILE:
  {"service": "ecr", "action": "DescribeRepositories", "accessKeyId": "AKIA…",
   "params": {"repositoryName": "app", "registryId": "…"}, "status": 200}
`action` is the X-Amz-Target operation (JSON protocols) or the Query API's Action (STS);
`accessKeyId` is who signed it (from the SigV4 Authorization header; null when unsigned).
For STS AssumeRole / AssumeRoleWithWebIdentity the line also holds "issued": the AccessKeyId the
answer handed out and the assumed role's ARN, so a test can tell which identity signed later
calls. The one change: ECR GetAuthorizationToken answers expire 12 hours from now, as ECR's do
(moto's expired on 2015-01-01, so a client counting on its token cache would fetch a token for
every request and no test could count its logins). Point AWS_ENDPOINT_URL at it.
Usage: aws-recorder.py LOG_FILE MOTO_ENDPOINT   (prints its port on the first line)"""
import json, re, sys, threading, time, urllib.request, urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

log_file, moto = sys.argv[1], sys.argv[2].rstrip("/")
lock = threading.Lock()
PARAMS = ("registryId", "registryIds", "repositoryName", "repositoryNames", "imageIds", "RoleArn", "RoleSessionName")

def xml_value(tag, text):
    m = re.search(f"<{tag}>([^<]*)</{tag}>", text)
    return m.group(1) if m else None

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(moto + self.path, data=body if self.command != "GET" else None, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, answer, answer_headers = r.status, r.read(), r.getheaders()
        except urllib.error.HTTPError as e:
            status, answer, answer_headers = e.code, e.read(), e.headers.items()
        auth = self.headers.get("Authorization", "")
        key = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", auth)
        entry = {"accessKeyId": key.group(1) if key else None, "status": status}
        target = self.headers.get("X-Amz-Target")
        params = {}
        if target:
            entry["service"] = key.group(2) if key else "ecr"
            entry["action"] = target.split(".")[-1]
            try:
                decoded = json.loads(body or b"{}")
                params = {k: decoded[k] for k in PARAMS if k in decoded}
            except ValueError:
                pass
        else:
            form = dict(parse_qsl(body.decode(errors="replace")))
            entry["service"] = key.group(2) if key else "sts"
            entry["action"] = form.get("Action", "")
            params = {k: form[k] for k in PARAMS if k in form}
            if entry["action"].startswith("AssumeRole") and status == 200:
                text = answer.decode(errors="replace")
                entry["issued"] = {"accessKeyId": xml_value("AccessKeyId", text), "arn": xml_value("Arn", text)}
        entry["params"] = params
        if entry.get("action") == "GetAuthorizationToken" and status == 200:
            try:
                decoded = json.loads(answer)
                for data in decoded.get("authorizationData", []):
                    data["expiresAt"] = time.time() + 12 * 3600
                answer = json.dumps(decoded).encode()
            except ValueError:
                pass
        with lock, open(log_file, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
        self.send_response(status)
        for k, v in answer_headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
