import Foundation
import HTTP
import Registry
import TestSupport
import XCTest
@testable import AWS

/// Every case of the aws-c-auth SigV4 suite (testdata/conformance/sigv4/v4), in both header
/// and presigned-query form: canonical request, string to sign and signature byte for byte,
/// the signed request's method, path, headers and query (order-insensitive, as the reference
/// harness compares them).
final class SigV4ConformanceTests: XCTestCase {
    static var suite: URL {
        TestPaths.testdata("conformance/sigv4/v4")
    }

    struct Context: Decodable {
        struct Creds: Decodable { var access_key_id: String; var secret_access_key: String; var token: String? }
        var credentials: Creds
        var expiration_in_seconds: Int?
        var normalize: Bool
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
        var omit_session_token: Bool?
    }

    /// request.txt as the reference harness reads it.
    static func parseRequest(_ text: String) -> SigV4.Request {
        var lines = text.components(separatedBy: "\n")
        let first = lines.removeFirst()
        let method = String(first.prefix { $0 != " " })
        var target = String(first.dropFirst(method.count + 1))
        if target.hasSuffix(" HTTP/1.1") { target.removeLast(" HTTP/1.1".count) }
        var path = target, query = ""
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        }
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String]?
        for (i, line) in lines.enumerated() {
            if line.isEmpty {
                if i < lines.count - 1 { bodyLines = Array(lines[(i + 1)...]) }
                break
            }
            if let c = line.first, c == " " || c == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let body = Data((bodyLines ?? []).joined(separator: "\n").utf8)
        return SigV4.Request(method: method, path: path, query: query, headers: headers, body: body)
    }

    /// (method, path, query set, header multiset) of a `*-signed-request.txt`.
    static func summary(_ request: SigV4.Request) -> (String, String, [String], [String]) {
        let query = request.query.split(separator: "&").map(String.init).sorted()
        let headers = request.headers.map { "\($0.name.lowercased()):\($0.value)" }.sorted()
        return (request.method, request.path, query, headers)
    }

    static func caseNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: suite.path).filter { !$0.hasPrefix(".") }.sorted()
    }

    func testEveryCaseInBothModes() throws {
        let cases = try Self.caseNames()
        XCTAssertEqual(cases.count, 38)
        var checked = 0
        for name in cases {
            let dir = Self.suite.appendingPathComponent(name)
            func file(_ f: String) throws -> String { try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8) }
            let context = try JSONDecoder().decode(Context.self, from: Data(try file("context.json").utf8))
            let credentials = AWSCredentials(accessKeyID: context.credentials.access_key_id, secretAccessKey: context.credentials.secret_access_key,
                                             sessionToken: context.credentials.token)
            guard let date = AWSDate.parse(context.timestamp) else { return XCTFail("\(name): bad timestamp") }
            var options = SigV4.Options(normalizePath: context.normalize, signBody: context.sign_body,
                                        addContentSHA256Header: context.sign_body, omitSessionToken: context.omit_session_token ?? false,
                                        expiresIn: context.expiration_in_seconds ?? 3600)
            options.unsignedHeaders = []
            let unsigned = Self.parseRequest(try file("request.txt"))

            var header = unsigned
            let h = SigV4.signHeaders(&header, credentials: credentials, region: context.region, service: context.service, date: date, options: options)
            XCTAssertEqual(h.canonicalRequest, try file("header-canonical-request.txt"), "\(name) header canonical request")
            XCTAssertEqual(h.stringToSign, try file("header-string-to-sign.txt"), "\(name) header string to sign")
            XCTAssertEqual(h.signature, try file("header-signature.txt"), "\(name) header signature")
            let expectedHeader = Self.parseRequest(try file("header-signed-request.txt"))
            XCTAssertTrue(Self.summary(header) == Self.summary(expectedHeader), "\(name) header signed request:\n\(Self.summary(header))\n\(Self.summary(expectedHeader))")

            var query = unsigned
            var queryOptions = options
            queryOptions.addContentSHA256Header = false
            let q = SigV4.presign(&query, credentials: credentials, region: context.region, service: context.service, date: date, options: queryOptions)
            XCTAssertEqual(q.canonicalRequest, try file("query-canonical-request.txt"), "\(name) query canonical request")
            XCTAssertEqual(q.stringToSign, try file("query-string-to-sign.txt"), "\(name) query string to sign")
            XCTAssertEqual(q.signature, try file("query-signature.txt"), "\(name) query signature")
            let expectedQuery = Self.parseRequest(try file("query-signed-request.txt"))
            XCTAssertTrue(Self.summary(query) == Self.summary(expectedQuery), "\(name) query signed request:\n\(Self.summary(query))\n\(Self.summary(expectedQuery))")
            checked += 1
        }
        XCTAssertEqual(checked, 38)
    }

    func testSigningATransportRequestAddsHostDateTokenAndAuthorization() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "tok-123456")
        var http = HTTPRequest.post("https://api.ecr.us-east-1.amazonaws.com/", body: "{}")
        http.headers.set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
        http.headers.set("Content-Type", "application/x-amz-json-1.1")
        let signed = try SigV4.sign(http, credentials: credentials, region: "us-east-1", service: "ecr", date: Date(timeIntervalSince1970: 1_440_938_160))
        XCTAssertEqual(signed.headers["Host"], "api.ecr.us-east-1.amazonaws.com")
        XCTAssertEqual(signed.headers["X-Amz-Date"], "20150830T123600Z")
        XCTAssertEqual(signed.headers["X-Amz-Security-Token"], "tok-123456")
        let auth = try XCTUnwrap(signed.headers["Authorization"])
        XCTAssertTrue(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature="), auth)
        // Same inputs, same signature; a port that is not the default is part of Host.
        let again = try SigV4.sign(http, credentials: credentials, region: "us-east-1", service: "ecr", date: Date(timeIntervalSince1970: 1_440_938_160))
        XCTAssertEqual(again.headers["Authorization"], auth)
        let local = try SigV4.sign(HTTPRequest.post("http://127.0.0.1:5000/", body: ""), credentials: credentials, region: "us-east-1", service: "sts")
        XCTAssertEqual(local.headers["Host"], "127.0.0.1:5000")
    }
}
