import Publish
import XCTest

/// The `awskms://` forms cosign accepts, one row each.
final class KMSKeyURITests: XCTestCase {
    func testForms() throws {
        let rows: [(text: String, key: String?, region: String?, host: String?)] = [
            ("awskms:///alias/release", "alias/release", nil, nil),
            ("awskms:///1234abcd-12ab-34cd-56ef-1234567890ab", "1234abcd-12ab-34cd-56ef-1234567890ab", nil, nil),
            ("awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
             "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1", nil),
            ("awskms:///arn:aws:kms:us-east-2:111122223333:alias/release", "arn:aws:kms:us-east-2:111122223333:alias/release", "us-east-2", nil),
            ("awskms://localhost:4566/alias/release", "alias/release", nil, "localhost:4566"),
            ("awskms:///", nil, nil, nil),
            ("awskms://alias/release", nil, nil, nil),
            ("awskms:///not a key", nil, nil, nil),
            ("awskms:///arn:aws:s3:::bucket", nil, nil, nil),
            ("awskms:///release", nil, nil, nil),
        ]
        for row in rows {
            switch Result(catching: { try KMSKeyURI(parsing: row.text) }) {
            case .success(let uri):
                XCTAssertEqual(uri.keyID, row.key, row.text)
                XCTAssertEqual(uri.region, row.region, row.text)
                XCTAssertEqual(uri.endpointHost, row.host, row.text)
                XCTAssertEqual(uri.description, row.text, "round trip")
            case .failure(let error):
                XCTAssertNil(row.key, "\(row.text): \(error)")
                if row.text == "awskms://alias/release" { XCTAssertTrue("\(error)".contains("three slashes: awskms:///alias/release"), "\(error)") }
            }
        }
    }
}
