import Bake
import Foundation
import XCTest

/// Compose `include:` beyond buildx's one test: files in other directories, the long form,
/// and the errors (conflicts, cycles, missing files, unsupported keys).
final class ComposeIncludeTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "bake-include-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/sub/deeper", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
    }

    func read(_ text: String) throws -> BakeConfig {
        try Bakefile.read([(directory + "/compose.yml", text)])
    }

    func testIncludedContextsAreNextToTheIncludedFile() throws {
        try write("sub/compose.yml", "include:\n  - deeper/compose.yml\nservices:\n  api:\n    build: ./app\n")
        try write("sub/deeper/compose.yml", "services:\n  db:\n    build:\n      context: .\n")
        let config = try read("include:\n  - path: sub/compose.yml\nservices:\n  web:\n    build: .\n")
        XCTAssertEqual(config.target("api")?.context, directory + "/sub/app")
        XCTAssertEqual(config.target("db")?.context, directory + "/sub/deeper")
        XCTAssertEqual(config.target("web")?.context, ".", "the including file's own contexts stay as written")
        let plan = try BakeResolver(config: config, environment: [:]).resolve(["default"], overrides: [])
        XCTAssertEqual(Set(plan.targets.keys), ["api", "db", "web"])
    }

    func testLongFormWithAListOfPaths() throws {
        try write("a.yml", "services:\n  a:\n    build: .\n")
        try write("b.yml", "services:\n  b:\n    build: .\n")
        let config = try read("include:\n  - path:\n      - a.yml\n      - b.yml\n")
        XCTAssertEqual(config.targets.map(\.name).sorted(), ["a", "b"])
    }

    func testAServiceDefinedTwiceIsAnError() throws {
        try write("a.yml", "services:\n  web:\n    build: .\n")
        let message = Bakefile.error { try self.read("include:\n  - a.yml\nservices:\n  web:\n    build: .\n") }
        XCTAssertTrue(message.contains("service 'web' of included file") && message.contains("conflicts"), message)
    }

    func testAnIncludeCycleIsAnError() throws {
        try write("a.yml", "include:\n  - compose.yml\nservices:\n  a:\n    build: .\n")
        try write("compose.yml", "include:\n  - a.yml\n")
        let message = Bakefile.error { try self.read("include:\n  - a.yml\n") }
        XCTAssertTrue(message.contains("include cycle"), message)
    }

    func testAMissingFileIsNamed() throws {
        let message = Bakefile.error { try self.read("include:\n  - nope.yml\nservices:\n  web:\n    build: .\n") }
        XCTAssertTrue(message.contains("included compose file '\(directory)/nope.yml' cannot be read"), message)
    }

    func testUnsupportedIncludeKeysAreRefused() throws {
        try write("a.yml", "services:\n  a:\n    build: .\n")
        let message = Bakefile.error { try self.read("include:\n  - path: a.yml\n    project_directory: other\n") }
        XCTAssertTrue(message.contains("include.project_directory is not supported"), message)
    }
}
