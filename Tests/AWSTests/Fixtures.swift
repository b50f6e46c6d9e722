import Foundation
import HTTP

enum HTTPRequestFixture {
    static func post(url: String, body: String) -> HTTPRequest {
        // Test literals: always valid URLs.
        HTTPRequest(method: "POST", url: URL(string: url) ?? URL(fileURLWithPath: "/"), body: .data(Data(body.utf8)))
    }
}
