import Foundation
import TestSupport
import XCTest

/// Issue 10 ("never harm the user"), items 9 and 10, through the command line: an unreachable
/// registry fails within seconds naming the host and the image (before: `slipway inspect
/// 127.0.0.1:1/x:1` took 65 s and 60 requests; `COPY --from=typo` never named the image), and
/// `--debug` masks a 3-character password and a presigned URL's signature and security token.
final class NetworkSafetyTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func timed(_ arguments: [String], environment: [String: String] = [:]) throws -> (Run.Output, TimeInterval) {
        let start = Date()
        let output = try Run.command(Run.slipway, arguments, environment: environment.merging(["HOME": work, "DOCKER_CONFIG": work + "/docker"]) { a, _ in a })
        return (output, Date().timeIntervalSince(start))
    }

    func testUnreachableRegistryFailsWithinSecondsNamingHostAndImage() throws {
        for retries in [nil, "1"] {
            let (output, seconds) = try timed(["inspect", "--debug", "--cache-dir", work + "/cache"] + (retries.map { ["--retries", $0] } ?? []) + ["127.0.0.1:1/x:1"])
            let requests = output.stderr.split(separator: "\n").filter { $0.hasPrefix("debug: →") }.count
            print(String(format: "inspect 127.0.0.1:1/x:1 (--retries %@): %.1fs, %d requests", retries ?? "default", seconds, requests))
            XCTAssertNotEqual(output.status, 0)
            XCTAssertLessThan(seconds, 15, "gave up after \(seconds)s")
            XCTAssertLessThanOrEqual(requests, 2, output.stderr)
            XCTAssertTrue(output.stderr.contains("error: cannot reach 127.0.0.1:1") && output.stderr.contains("127.0.0.1:1/x:1"), output.stderr)
        }
    }

    func testCopyFromAnUnknownNameNamesTheImageItPulled() throws {
        // `typo` is no stage, so it is docker.io/library/typo; its registry is routed to a closed
        // port on loopback (no traffic leaves the machine, and the connection is refused).
        try Run.write(["Dockerfile": "FROM scratch\nCOPY --from=typo /a /a\n"], under: work + "/ctx")
        let (output, seconds) = try timed(["build", "--progress", "plain", "--debug", "--cache-dir", work + "/cache", work + "/ctx"],
                                          environment: ["SLIPWAY_CONNECT_TO": "registry-1.docker.io:443:127.0.0.1:1"])
        let requests = output.stderr.split(separator: "\n").filter { $0.hasPrefix("debug: →") }.count
        print(String(format: "COPY --from=typo, registry refused: %.1fs, %d requests", seconds, requests))
        XCTAssertNotEqual(output.status, 0)
        XCTAssertLessThan(seconds, 15)
        XCTAssertLessThanOrEqual(requests, 2, output.stderr)
        XCTAssertTrue(output.stderr.contains("docker.io/library/typo"), "the image is named:\n\(output.stderr)")
        XCTAssertTrue(output.stderr.contains("cannot reach registry-1.docker.io"), output.stderr)
        XCTAssertTrue(output.stderr.contains("retry"), "progress says it is waiting to retry:\n\(output.stderr)")
    }

    func testDebugOutputMasksShortPasswordsAndPresignedURLs() throws {
        let password = "Zq9", signature = "5d1e6c0a9b", securityToken = "FwoGZX"
        let server = try LoopbackServer(script: Self.registryScript, arguments: [password, signature, securityToken], directory: work + "/server")
        defer { server.stop() }
        let host = "127.0.0.1:\(server.port)"
        let basic = Data("u:\(password)".utf8).base64EncodedString()
        try Run.write(["docker/config.json": #"{"auths":{"\#(host)":{"auth":"\#(basic)"}}}"#], under: work)
        let (output, _) = try timed(["inspect", "--config", "--debug", "--cache-dir", work + "/cache", "\(host)/app:1"])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("\"architecture\""), output.stdout)
        XCTAssertTrue(output.stderr.contains("X-Amz-Signature="), "the presigned redirect was followed:\n\(output.stderr)")
        for secret in [password, basic, signature, securityToken] {
            XCTAssertFalse(output.stderr.contains(secret) || output.stdout.contains(secret), "'\(secret)' printed:\n\(output.stderr)")
        }
    }

    /// A registry with Basic auth whose config blob redirects to a presigned "S3" URL.
    static let registryScript = #"""
    import base64, hashlib, json, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    password, signature, token = sys.argv[1], sys.argv[2], sys.argv[3]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cdigest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": len(config)}, "layers": []}).encode()
    mdigest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    expected = "Basic " + base64.b64encode(("u:" + password).encode()).decode()
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def send(self, status, body=b"", headers={}):
            self.send_response(status)
            for k, v in headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD": self.wfile.write(body)
        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/_s3/config": return self.send(200, config)
            if self.headers.get("Authorization") != expected:
                return self.send(401, b"", {"WWW-Authenticate": 'Basic realm="test"'})
            if path == "/v2/": return self.send(200, b"{}")
            if path in ("/v2/app/manifests/1", "/v2/app/manifests/" + mdigest):
                return self.send(200, manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": mdigest})
            if path == "/v2/app/blobs/" + cdigest:
                return self.send(307, b"", {"Location": "/_s3/config?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
                    + "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-Security-Token=" + token + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + signature})
            self.send(404)
        do_HEAD = do_GET
    s = ThreadingHTTPServer(("127.0.0.1", 0), H)
    s.daemon_threads = True
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#
}

/// A python3 server on 127.0.0.1 running `script`, which prints its port first.
final class LoopbackServer {
    let process = Process()
    let port: Int

    init(script: String, arguments: [String], directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/server.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path] + arguments
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw NSError(domain: "e2e", code: 1, userInfo: [NSLocalizedDescriptionKey: "the python3 server did not start: '\(line)'"])
        }
        self.port = port
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
