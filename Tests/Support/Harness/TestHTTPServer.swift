/// A small python3 HTTP server on loopback (HTTPS with a certificate and key), for behaviour no
/// registry shows on demand: redirects, oversized or hostile answers, plain downloads.
public enum TestHTTPServer {
    /// Starts a server whose request handler has `methods` (python `def do_GET(self): …`
    /// written at column 0). They may call `self.send(status, body_bytes, headers_dict)` and
    /// use `urlparse` and `parse_qs`.
    public static func start(_ methods: String, tls: (certificate: String, key: String)? = nil) throws -> BackgroundServer {
        let handler = methods.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let script = """
        import ssl, sys
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse, parse_qs
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def send(self, status, body, headers={}):
                self.send_response(status)
                for k, v in headers.items(): self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        \(handler)
        s = ThreadingHTTPServer(("127.0.0.1", 0), H)
        if len(sys.argv) > 2:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            s.socket = context.wrap_socket(s.socket, server_side=True)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """
        return try BackgroundServer.python(script, arguments: tls.map { [$0.certificate, $0.key] } ?? [])
    }
}
