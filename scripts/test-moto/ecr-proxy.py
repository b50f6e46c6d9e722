#!/usr/bin/env python3
"""A TLS proxy in front of the test docker-registry that gives it ECR's data-plane behaviour:
  - intermediate PATCHes answer 201 (not 202), with a Range header that lags one part behind;
  - a part below 5 MiB followed by another PATCH is refused (ECR's minimum part size);
  - any request for a repository moto does not know answers 404 NAME_UNKNOWN (after the
    credentials are checked: a bad login is still a 401);
  - a manifest PUT to a tag that exists in a repository moto says is IMMUTABLE answers
    400 TAG_INVALID;
  - cross-repository mounts (POST ?mount=&from=) are declined: 202 and an upload session;
  - blob GETs answer 307 to another host (https://127.0.0.1:PORT/_s3/…, or localhost for a
    client that came by 127.0.0.1; S3-style presigned),
    which refuses any request that carries an Authorization header;
  - every manifest pushed is recorded in moto with PutImage (same digest), so
    DescribeImages sees what the registry holds;
  - tag immutability honours ECR's exclusion filters (IMMUTABLE_WITH_EXCLUSION: matching
    tags move; MUTABLE_WITH_EXCLUSION: matching tags are immutable; WILDCARD `*` filters);
  - the ECR API (JSON 1.1 `POST /` with X-Amz-Target; point AWS_ENDPOINT_URL_ECR here) is
    passed to moto, except answers a test scripted first with `POST /_script/ecr-api`
    {"action", "repositoryName", "imageDigest", "responses": [{"status", "body"}, …]}:
    each matching call takes the next one, the last one repeats (e.g. a scan IN_PROGRESS
    twice, then COMPLETE with enhancedFindings, which moto never sends). Each API call is
    logged as `API Action repository digest`;
  - any other account's host (ACCOUNT.dkr.ecr.us-east-1.amazonaws.com, by the Host header) is
    that account's registry: its repositories are those moto holds for that account (asked with
    keys of a role the proxy assumes there), its login is AWS with moto's password for that
    account; repositories of all accounts share the one backend, so their names must differ.
Usage: ecr-proxy.py STATE_DIR PORT BACKEND_PORT MOTO_ENDPOINT
STATE_DIR holds server.crt/server.key (the proxy's TLS), ca.crt (to trust the backend) and
registry-password (the backend's AWS password, for the S3-style downloads).
Requests are logged to STATE_DIR/ecr-proxy.log."""
import base64, hashlib, hmac, http.client, json, re, secrets, ssl, sys, threading, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qsl, urlencode

state, port, backend_port, moto = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].rstrip("/")
password = open(f"{state}/registry-password").read().strip()
backend_auth = "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode()
s3_key = secrets.token_bytes(16)
backend_tls = ssl.create_default_context(cafile=f"{state}/ca.crt")
log_lock = threading.Lock()
part_sizes = {}  # upload session path -> size of its last PATCH
MIN_PART = 5 << 20
ACCOUNT = "123456789012"
HOST_ACCOUNT = re.compile(r"^(\d{12})\.dkr\.ecr\.")
account_keys = {ACCOUNT: "AKIDPROXY"}  # account -> access key moto attributes to it
account_lock = threading.Lock()

def account_of(host):
    m = HOST_ACCOUNT.match(host or "")
    return m.group(1) if m else ACCOUNT

def account_key(account):
    """An access key moto counts as `account`'s: from AssumeRole into a role there."""
    with account_lock:
        if account in account_keys:
            return account_keys[account]
        form = urlencode({"Action": "AssumeRole", "Version": "2011-06-15", "RoleSessionName": "ecr-proxy",
                          "RoleArn": f"arn:aws:iam::{account}:role/ecr-proxy"}).encode()
        req = urllib.request.Request(moto + "/", data=form, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDPROXY/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"})
        with urllib.request.urlopen(req, timeout=10) as r:
            key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", r.read().decode()).group(1)
        account_keys[account] = key
        return key

def log(line):
    with log_lock, open(f"{state}/ecr-proxy.log", "a") as f:
        f.write(line + "\n")

def moto_call(action, payload, account=ACCOUNT):
    """Calls moto's ECR API as `account`; returns (status, parsed body). moto does not check signatures."""
    req = urllib.request.Request(moto + "/", data=json.dumps(payload).encode(), method="POST", headers={
        "X-Amz-Target": f"AmazonEC2ContainerRegistry_V20150921.{action}",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={account_key(account)}/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body or b"{}")
        except ValueError:
            return e.code, {"message": body.decode(errors="replace")}

def repository(name, account=ACCOUNT):
    """moto's record of a repository of `account`, or None when it does not exist."""
    status, body = moto_call("DescribeRepositories", {"repositoryNames": [name], "registryId": account}, account)
    if status == 200 and body.get("repositories"):
        return body["repositories"][0]
    return None

def backend(method, path, headers, body=None):
    conn = http.client.HTTPSConnection("127.0.0.1", backend_port, context=backend_tls, timeout=120)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = b"" if method == "HEAD" else resp.read()
    conn.close()
    return resp, data

scripts_lock = threading.Lock()
scripted = {}  # (action, repository, digest) -> [(status, body), ...]

def wildcard(pattern, text):
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text) is not None

def tag_is_immutable(repo, tag):
    """ECR's rule: IMMUTABLE, IMMUTABLE_WITH_EXCLUSION unless a filter matches, MUTABLE_WITH_EXCLUSION when one does."""
    mode = repo.get("imageTagMutability", "MUTABLE")
    matched = any(wildcard(f.get("filter", ""), tag) for f in repo.get("imageTagMutabilityExclusionFilters") or [])
    return mode == "IMMUTABLE" or (mode == "IMMUTABLE_WITH_EXCLUSION" and not matched) or (mode == "MUTABLE_WITH_EXCLUSION" and matched)

def error_body(code, message, detail=None):
    e = {"code": code, "message": message}
    if detail is not None:
        e["detail"] = detail
    return json.dumps({"errors": [e]}).encode()

def s3_signature(name, digest):
    return hmac.new(s3_key, f"{name}@{digest}".encode(), hashlib.sha256).hexdigest()

PATH = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>blobs/uploads|blobs|manifests|tags)(?:/(?P<rest>.*))?$")
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        names = set()
        for k, v in headers:
            names.add(k.lower())
            self.send_header(k, v)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if body and "content-type" not in names:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def request_headers(self, only=None):
        """The client's headers, repeated ones (Accept) joined: http.client takes a dict."""
        out = {}
        for k, v in self.headers.items():
            if k.lower() in HOP or k.lower() == "content-length" or (only and k.lower() not in only):
                continue
            out[k] = out[k] + ", " + v if k in out else v
        return out

    def forward(self, path, body, rewrite=None):
        headers = self.request_headers()
        if body or self.command in ("PUT", "PATCH", "POST"):
            headers["Content-Length"] = str(len(body))
        resp, data = backend(self.command, path, headers, body if self.command in ("PUT", "PATCH", "POST") else None)
        status = resp.status
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
        if rewrite:
            status, out = rewrite(status, out)
        self.reply(status, data, out)
        return status, dict((k.lower(), v) for k, v in out), data

    def handle_any(self):
        body = self.read_body()
        url = urlsplit(self.path)
        log(f"{self.command} {self.path} auth={'yes' if self.headers.get('Authorization') else 'no'} "
            f"host={self.headers.get('Host', '')} len={len(body)}")
        if url.path.startswith("/_s3/"):
            return self.s3(url)
        if url.path == "/_script/ecr-api" and self.command == "POST":
            return self.script(body)
        if url.path == "/" and self.command == "POST" and self.headers.get("X-Amz-Target"):
            return self.ecr_api(body)
        m = PATH.match(url.path)
        if not m or not self.headers.get("Authorization"):
            return self.forward(self.path, body)
        name, kind, rest = m.group("name"), m.group("kind"), m.group("rest") or ""
        account = account_of(self.headers.get("Host"))
        if account != ACCOUNT:
            # Another account's registry: its own login, then the backend's.
            expected = "Basic " + base64.b64encode(f"AWS:{account}-auth-token".encode()).decode()
            if not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
                return self.reply(401, error_body("UNAUTHORIZED", "authentication required"),
                                  [("WWW-Authenticate", f'Basic realm="{account}"')])
            self.headers.replace_header("Authorization", backend_auth)
        self.account = account
        repo = repository(name, account)
        if repo is None:
            # Credentials first: a wrong login is a 401 whether or not the repository exists.
            resp, data = backend("GET", "/v2/", self.request_headers(("authorization", "host")))
            if resp.status == 401:
                return self.reply(401, data, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP and k.lower() != "content-length"])
            return self.reply(404, error_body("NAME_UNKNOWN", f"The repository with name '{name}' does not exist in the registry with id '{account}'"))
        if kind == "blobs/uploads" and self.command == "POST":
            query = [(k, v) for k, v in parse_qsl(url.query) if k not in ("mount", "from")]
            path = url.path + ("?" + urlencode(query) if query else "")
            return self.forward(path, body)
        if kind == "blobs/uploads" and self.command == "PATCH":
            return self.patch(url, body)
        if kind == "blobs/uploads" and self.command == "PUT":
            part_sizes.pop(url.path, None)
            return self.forward(self.path, body)
        if kind == "blobs" and self.command == "GET" and rest.startswith("sha256:"):
            head, _ = backend("HEAD", url.path, self.request_headers(("authorization", "host")))
            if head.status != 200:
                return self.forward(self.path, body)
            sig = s3_signature(name, rest)
            # Another host than the one asked (the certificate covers both), as S3 is.
            s3_host = "localhost" if self.headers.get("Host", "").startswith("127.0.0.1") else "127.0.0.1"
            location = f"https://{s3_host}:{port}/_s3/{name}/{rest}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={sig}"
            return self.reply(307, b"", [("Location", location)])
        if kind == "manifests" and self.command == "PUT":
            return self.put_manifest(name, rest, repo, body)
        return self.forward(self.path, body)

    def patch(self, url, body):
        previous = part_sizes.get(url.path)
        if previous is not None and previous < MIN_PART:
            return self.reply(400, error_body("BLOB_UPLOAD_INVALID", f"part of {previous} bytes is below the minimum of {MIN_PART} bytes"))
        start = 0
        content_range = self.headers.get("Content-Range")
        if content_range and "-" in content_range:
            start = int(content_range.split("-")[0])

        def rewrite(status, headers):
            if status != 202:
                return status, headers
            # ECR: 201 for an intermediate part, and a Range that does not count the part just sent.
            lagging = [(k, v) for k, v in headers if k.lower() != "range"] + [("Range", f"0-{max(start - 1, 0)}")]
            return 201, lagging

        status, headers, _ = self.forward(self.path, body, rewrite)
        if status == 201:
            location = urlsplit(headers.get("location", "")).path or url.path
            part_sizes.pop(url.path, None)
            part_sizes[location] = len(body)

    def put_manifest(self, name, reference, repo, body):
        is_tag = not reference.startswith("sha256:")
        if is_tag and tag_is_immutable(repo, reference):
            head, _ = backend("HEAD", f"/v2/{name}/manifests/{reference}", {
                "Authorization": self.headers.get("Authorization"), "Host": self.headers.get("Host", ""),
                "Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
                          "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"})
            if head.status == 200:
                return self.reply(400, error_body("TAG_INVALID",
                    f"The image tag '{reference}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."))
        status, headers, _ = self.forward(self.path, body)
        if status == 201:
            payload = {"repositoryName": name, "registryId": self.account, "imageManifest": body.decode(),
                       "imageManifestMediaType": self.headers.get("Content-Type", ""),
                       "imageDigest": headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(body).hexdigest()}
            if is_tag:
                payload["imageTag"] = reference
            code, answer = moto_call("PutImage", payload, self.account)
            if code != 200:
                log(f"PutImage {name}:{reference} -> {code} {answer}")

    def script(self, body):
        spec = json.loads(body)
        key = (spec["action"], spec.get("repositoryName"), spec.get("imageDigest"))
        with scripts_lock:
            scripted[key] = [(r.get("status", 200), r.get("body", {})) for r in spec["responses"]]
        self.reply(204)

    def ecr_api(self, body):
        action = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = {}
        repo = payload.get("repositoryName")
        digest = (payload.get("imageId") or {}).get("imageDigest")
        log(f"API {action} {repo or '-'} {digest or '-'}")
        with scripts_lock:
            queue = scripted.get((action, repo, digest))
            answer = None
            if queue:
                answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer is not None:
            status, data = answer
            return self.reply(status, json.dumps(data).encode(), [("Content-Type", "application/x-amz-json-1.1")])
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("x-amz-target", "content-type", "authorization", "x-amz-date", "x-amz-security-token")}
        req = urllib.request.Request(moto + "/", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, data, kind = r.status, r.read(), r.headers.get("Content-Type", "application/x-amz-json-1.1")
        except urllib.error.HTTPError as e:
            status, data, kind = e.code, e.read(), e.headers.get("Content-Type", "application/x-amz-json-1.1")
        extra = [("Content-Type", kind)]
        self.reply(status, data, extra)

    def s3(self, url):
        if self.headers.get("Authorization"):
            return self.reply(400, b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the "
                                   b"X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization "
                                   b"header should be specified</Message></Error>", [("Content-Type", "application/xml")])
        m = re.match(r"^/_s3/(?P<name>.+)/(?P<digest>sha256:[0-9a-f]{64})$", url.path)
        query = dict(parse_qsl(url.query))
        if not m or not hmac.compare_digest(query.get("X-Amz-Signature", ""), s3_signature(m.group("name"), m.group("digest"))):
            return self.reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>", [("Content-Type", "application/xml")])
        resp, data = backend(self.command, f"/v2/{m.group('name')}/blobs/{m.group('digest')}", {"Authorization": backend_auth})
        if resp.status != 200:
            return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>", [("Content-Type", "application/xml")])
        self.reply(200, data, [("Content-Type", "application/octet-stream"), ("Content-Length", resp.getheader("Content-Length", str(len(data))))])

    def wrapped(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a proxy bug must show as a 502, not a hung client
            log(f"error: {self.command} {self.path}: {e!r}")
            try:
                self.reply(502, error_body("UNKNOWN", f"ecr-proxy: {e!r}"))
            except OSError:
                pass

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = wrapped

class Server(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, addr = super().get_request()
        return tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

class TLSHandler(Handler):
    def setup(self):
        self.request.do_handshake()  # in the request's thread, not the accept loop
        super().setup()

tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(f"{state}/server.crt", f"{state}/server.key")
tls.set_alpn_protocols(["http/1.1"])
Server(("127.0.0.1", port), TLSHandler).serve_forever()
