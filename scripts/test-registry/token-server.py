#!/usr/bin/env python3
"""A minimal Docker registry token service for tests (distribution's token auth).

Issues RS256 JWTs signed by a key whose certificate (signed by the test CA, which the
registry trusts as `rootcertbundle`) travels in the `x5c` header, as distribution requires.
GET /token (Basic credentials, or anonymous) and POST /token (OAuth2 password and
refresh_token grants). Every issued token is appended to STATE/tokens.log (one line each,
"<grant> <scope…>") so tests can count them.

Usage: token-server.py STATE_DIR PORT   (reads STATE_DIR/token.{key,crt}, server.{key,crt}, user)
Environment: TOKEN_TTL (seconds, default 300).
"""
import base64, json, os, ssl, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

STATE, PORT = sys.argv[1], int(sys.argv[2])
TTL = int(os.environ.get("TOKEN_TTL", "300"))
ISSUER, REFRESH = "slipway-test-issuer", "slipway-test-refresh-token"
with open(os.path.join(STATE, "user")) as f:
    USER, PASSWORD = f.read().strip().split(":", 1)
with open(os.path.join(STATE, "token.key"), "rb") as f:
    KEY = serialization.load_pem_private_key(f.read(), password=None)
with open(os.path.join(STATE, "token.crt"), "rb") as f:
    CERT_DER = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)
LOCK = threading.Lock()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(subject, service, scopes):
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) >= 3 and subject:
            access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(CERT_DER).decode()]}
    claims = {"iss": ISSUER, "sub": subject or "", "aud": service, "exp": now + TTL, "nbf": now - 10,
              "iat": now, "jti": uuid.uuid4().hex, "access": access}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(signature)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def issue(self, grant, subject, service, scopes, oauth):
        token = sign(subject, service, scopes)
        with LOCK, open(os.path.join(STATE, "tokens.log"), "a") as log:
            log.write(f"{grant} {subject or '-'} {' '.join(scopes)}\n")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if oauth:
            self.reply(200, {"access_token": token, "expires_in": TTL, "issued_at": now, "scope": " ".join(scopes)})
        else:
            self.reply(200, {"token": token, "access_token": token, "expires_in": TTL, "issued_at": now})

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/token":
            return self.reply(404, {"error": "not found"})
        query = parse_qs(url.query)
        subject = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if (user, password) != (USER, PASSWORD):
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username or password"}]})
            subject = user
        self.issue("get", subject, query.get("service", [""])[0], query.get("scope", []), False)

    def do_POST(self):
        if urlparse(self.path).path != "/token":
            return self.reply(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        grant = form.get("grant_type", [""])[0]
        scopes = " ".join(form.get("scope", [])).split()
        service = form.get("service", [""])[0]
        if grant == "refresh_token" and form.get("refresh_token", [""])[0] == REFRESH:
            return self.issue("refresh", USER, service, scopes, True)
        if grant == "password" and form.get("username", [""])[0] == USER and form.get("password", [""])[0] == PASSWORD:
            return self.issue("password", USER, service, scopes, True)
        self.reply(401, {"error": "invalid_grant"})


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(STATE, "server.crt"), os.path.join(STATE, "server.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
