#!/usr/bin/env python3
"""EC2 instance metadata (IMDSv2: the session token is required) and an ECS container
credentials endpoint (the Authorization token is required), for the AWS credential tests.
Usage: metadata-server.py STATE_DIR PORT. Every request is logged to STATE_DIR/metadata.log."""
import json, secrets, sys, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state, port = sys.argv[1], int(sys.argv[2])
session = "imds-session-" + secrets.token_hex(8)
ecs_token = open(f"{state}/ecs-token").read().strip()

def creds(prefix):
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": f"ASIA{prefix}EXAMPLE",
            "SecretAccessKey": f"{prefix.lower()}-secret-" + secrets.token_hex(8),
            "Token": f"{prefix.lower()}-token-" + secrets.token_hex(8), "Expiration": exp}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log(self):
        with open(f"{state}/metadata.log", "a") as f: f.write(f"{self.command} {self.path}\n")
    def do_PUT(self):
        self.log()
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, session)
        self.reply(400, "bad token request")
    def do_GET(self):
        self.log()
        if self.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") != session:
                return self.reply(401, "missing or wrong IMDSv2 session token")
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.reply(200, "slipway-role")
            if self.path == "/latest/meta-data/iam/security-credentials/slipway-role":
                return self.reply(200, json.dumps(creds("IMDS")), "application/json")
        if self.path == "/ecs/credentials":
            if self.headers.get("Authorization") != ecs_token:
                return self.reply(401, json.dumps({"code": "Unauthorized"}), "application/json")
            c = creds("ECS"); c.pop("Code"); c.pop("Type"); c["RoleArn"] = "arn:aws:iam::123456789012:role/ecs-task"
            return self.reply(200, json.dumps(c), "application/json")
        self.reply(404, "not found")

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
