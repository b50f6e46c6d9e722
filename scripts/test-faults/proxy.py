#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for registry tests.

Listens with plain HTTP on 127.0.0.1 (slipway allows plain HTTP to loopback: it tries TLS once,
the proxy answers that ClientHello with garbage, and slipway falls back to http://) and forwards
each request over TLS to one upstream registry (verified with the test CA). A seeded random
generator decides per request, in arrival order, whether to inject a fault and which:

  500 502 503      answer with that status (request body read and discarded)
  429              answer 429 with `Retry-After: 1`
  reset            forward the request (it takes effect upstream), then reset the connection
                   before any response byte: the client cannot know whether it worked
  reset-body       read part of the request body (or none), then reset; nothing is forwarded
  cut              forward, then send the status line, headers and half of the body (or half of
                   the header block when there is no body) and close
  stall            read the request, send nothing for --stall seconds, then close
  digest           forward, but answer with a wrong `Docker-Content-Digest` (only on responses
                   that carry one; otherwise the request passes untouched and logs no fault)

Every request is logged as one JSON line in --log:
  {"n", "method", "path", "status", "fault", "body_bytes", "blob_upload"}
`body_bytes` counts the request-body bytes the proxy received (also for faulted requests), and
`blob_upload` is true for PATCH/PUT to `/v2/…/blobs/uploads/…`, so a test can sum the bytes a
client sent for blob uploads.

Usage: proxy.py --upstream 127.0.0.1:PORT --ca CA.crt --port-file FILE --log FILE
                [--seed N] [--rate 0.3] [--faults 500,502,…] [--stall 4]
The chosen port is written to --port-file (atomically) and printed on stdout.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import socket
import ssl
import stat
import struct
import sys
import threading
import time

ALL_FAULTS = ["500", "502", "503", "429", "reset", "reset-body", "cut", "stall", "digest"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection", "expect", "content-length"}


class Config:
    pass


cfg = Config()
lock = threading.Lock()
counter = [0]


def decide():
    with lock:
        counter[0] += 1
        n = counter[0]
        fault = None
        if cfg.rng.random() < cfg.rate:
            fault = cfg.rng.choice(cfg.faults)
        return n, fault


def log(entry):
    line = json.dumps(entry, sort_keys=True) + "\n"
    with lock:
        with open(cfg.log, "a") as f:
            f.write(line)


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Reader:
    """Buffered reads from the client socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError
        self.buf += data

    def until(self, marker, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("header too long")
            self.fill()
        head, _, self.buf = self.buf.partition(marker)
        return head

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_body(reader, headers, limit=None):
    """Reads a Content-Length or chunked body; with `limit`, stops after that many bytes."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(reader.until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                reader.until(b"\r\n")
                return body
            if limit is not None and len(body) + size > limit:
                return body + reader.exactly(max(0, limit - len(body)))
            body += reader.exactly(size)
            reader.exactly(2)
    length = int(headers.get("content-length", "0") or 0)
    if limit is not None:
        length = min(length, limit)
    return reader.exactly(length)


def forward(method, path, header_list, body):
    conn = http.client.HTTPSConnection(cfg.upstream_host, cfg.upstream_port, context=cfg.ssl, timeout=120)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in header_list:
        if name.lower() not in HOP_BY_HOP:
            conn.putheader(name, value)
    conn.putheader("X-Forwarded-Proto", "http")
    if body or method in ("PUT", "PATCH", "POST"):
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body if body else None)
    resp = conn.getresponse()
    data = b"" if method == "HEAD" else resp.read()
    headers = resp.getheaders()
    conn.close()
    return resp.status, resp.reason, headers, data


def serialize(status, reason, headers, data, method, n):
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    has_length = False
    for name, value in headers:
        low = name.lower()
        if low in ("connection", "keep-alive", "transfer-encoding"):
            continue
        if low == "content-length":
            if method != "HEAD":
                value = str(len(data))
            has_length = True
        if low == "location":
            value = value.replace(cfg.upstream_origin, cfg.own_origin)
        lines.append("%s: %s" % (name, value))
    if not has_length and method != "HEAD":
        lines.append("Content-Length: %d" % len(data))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head, (b"" if method == "HEAD" else data)


def simple(status, reason, extra=()):
    body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "injected fault %d" % status}]}).encode()
    headers = [("Content-Type", "application/json")] + list(extra)
    return status, reason, headers, body


def handle_connection(sock):
    reader = Reader(sock)
    try:
        first = sock.recv(1, socket.MSG_PEEK)
        if first[:1] == b"\x16":
            # A TLS ClientHello (slipway's probe before it falls back to plain HTTP): not HTTP.
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            sock.close()
            return
        while True:
            try:
                head = reader.until(b"\r\n\r\n")
            except (EOFError, ConnectionError, ValueError):
                sock.close()
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                # Not HTTP (slipway's TLS probe): answer garbage and close.
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                sock.close()
                return
            method, path = parts[0], parts[1]
            header_list = []
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                header_list.append((name.strip(), value.strip()))
                headers[name.strip().lower()] = value.strip()
            n, fault = decide()
            blob_upload = method in ("PATCH", "PUT") and "/blobs/uploads/" in path
            entry = {"n": n, "method": method, "path": path.split("?")[0], "fault": fault, "status": None,
                     "body_bytes": 0, "blob_upload": blob_upload}
            if headers.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if fault == "reset-body":
                declared = int(headers.get("content-length", "0") or 0)
                part = read_body(reader, headers, limit=declared // 2) if declared > 1 else b""
                entry["body_bytes"] = len(part)
                log(entry)
                reset(sock)
                return
            body = read_body(reader, headers)
            entry["body_bytes"] = len(body)
            if fault == "stall":
                log(entry)
                time.sleep(cfg.stall)
                sock.close()
                return
            if fault in ("500", "502", "503"):
                response = simple(int(fault), {"500": "Internal Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}[fault])
            elif fault == "429":
                response = simple(429, "Too Many Requests", [("Retry-After", "1")])
            else:
                try:
                    response = forward(method, path, header_list, body)
                except Exception as error:  # upstream trouble: a 502 the client may retry
                    response = simple(502, "Bad Gateway")
                    entry["upstream_error"] = str(error)
            status, reason, rheaders, data = response
            entry["status"] = status
            if fault == "reset":
                log(entry)
                reset(sock)
                return
            if fault == "digest":
                if any(k.lower() == "docker-content-digest" for k, _ in rheaders):
                    wrong = "sha256:" + hashlib.sha256(b"not-" + path.encode()).hexdigest()
                    rheaders = [(k, wrong if k.lower() == "docker-content-digest" else v) for k, v in rheaders]
                else:
                    entry["fault"] = None
            head_bytes, body_bytes = serialize(status, reason, rheaders, data, method, n)
            if fault == "cut":
                if len(body_bytes) > 1:
                    sock.sendall(head_bytes + body_bytes[: len(body_bytes) // 2])
                else:
                    sock.sendall(head_bytes[: len(head_bytes) // 2])
                log(entry)
                sock.close()
                return
            sock.sendall(head_bytes + body_bytes)
            log(entry)
            if headers.get("connection", "").lower() == "close":
                sock.close()
                return
    except (ConnectionError, EOFError, OSError):
        try:
            sock.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the TLS registry")
    parser.add_argument("--ca", required=True, help="CA certificate verifying the upstream")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--faults", default=",".join(ALL_FAULTS))
    parser.add_argument("--stall", type=float, default=4.0, help="seconds a stalled request hangs before the close")
    args = parser.parse_args()
    # Drop pipes inherited from the launcher: a test process starting several children at once
    # may have leaked another child's output pipe into this one, and holding it would keep that
    # reader from ever seeing EOF. (Sockets stay: Foundation watches its children through one.)
    for fd in range(3, 1024):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            pass
    cfg.rng = random.Random(args.seed)
    cfg.rate = args.rate
    cfg.faults = [f for f in args.faults.split(",") if f]
    unknown = set(cfg.faults) - set(ALL_FAULTS)
    if unknown:
        parser.error("unknown faults: %s" % ", ".join(sorted(unknown)))
    cfg.stall = args.stall
    cfg.log = args.log
    cfg.upstream_host, port = args.upstream.rsplit(":", 1)
    cfg.upstream_port = int(port)
    cfg.upstream_origin = "https://" + args.upstream
    cfg.ssl = ssl.create_default_context(cafile=args.ca)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    own_port = listener.getsockname()[1]
    cfg.own_origin = "http://127.0.0.1:%d" % own_port
    open(cfg.log, "a").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % own_port)
    os.rename(tmp, args.port_file)
    print(own_port, flush=True)
    while True:
        client, _ = listener.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle_connection, args=(client,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
