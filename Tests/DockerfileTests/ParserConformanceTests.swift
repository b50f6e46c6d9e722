import Foundation
import TestSupport
import XCTest
@testable import Dockerfile

/// Runs the upstream BuildKit parser corpus (testdata/conformance/dockerfile/parser, see its
/// README section 1) against `DockerfileParser`.
final class ParserConformanceTests: XCTestCase {
    static let parserData: URL = TestPaths.testdata("conformance/dockerfile/parser")

    func caseDirectories(_ name: String) throws -> [URL] {
        let dir = Self.parserData.appendingPathComponent(name)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testPositiveCases() throws {
        let dirs = try caseDirectories("testfiles")
        XCTAssertEqual(dirs.count, 33)
        for dir in dirs {
            let input = try Data(contentsOf: dir.appendingPathComponent("Dockerfile"))
            let expected = try String(decoding: Data(contentsOf: dir.appendingPathComponent("result")), as: UTF8.self)
            do {
                let tree = try DockerfileParser.parse([UInt8](input))
                XCTAssertEqual(tree.dump() + "\n", expected, dir.lastPathComponent)
            } catch {
                XCTFail("\(dir.lastPathComponent): \(error)")
            }
        }
    }

    func testNegativeCases() throws {
        let dirs = try caseDirectories("testfiles-negative")
        XCTAssertEqual(dirs.count, 4)
        for dir in dirs {
            let input = try Data(contentsOf: dir.appendingPathComponent("Dockerfile"))
            XCTAssertThrowsError(try DockerfileParser.parse([UInt8](input)), dir.lastPathComponent) { error in
                XCTAssertTrue(error is SyntaxError, "\(dir.lastPathComponent): \(error)")
            }
        }
    }

    func testNegativeCaseMessages() throws {
        func message(_ name: String) throws -> String {
            let url = Self.parserData.appendingPathComponent("testfiles-negative/\(name)/Dockerfile")
            do {
                _ = try DockerfileParser.parse([UInt8](try Data(contentsOf: url)))
            } catch let error as SyntaxError {
                return error.message
            }
            return "no error"
        }
        XCTAssertEqual(try message("empty_dockerfile"), "file with no instructions")
        XCTAssertEqual(try message("only_comments"), "file with no instructions")
        XCTAssertEqual(try message("env_no_value"), "ENV must have two arguments")
        XCTAssertEqual(try message("shykes-nested-json"),
                       "when using JSON array syntax, arrays must be comprised of strings only")
    }

    func testLineNumbers() throws {
        let dir = Self.parserData.appendingPathComponent("testfile-line")
        let tree = try DockerfileParser.parse([UInt8](try Data(contentsOf: dir.appendingPathComponent("Dockerfile"))))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected_lines.json"))) as! [String: Any]
        let root = json["root"] as! [String: Int]
        let children = json["children"] as! [[String: Int]]
        XCTAssertEqual(tree.nodes.count, children.count)
        XCTAssertEqual(tree.nodes.first?.startLine, root["start_line"])
        XCTAssertEqual(tree.nodes.last?.endLine, root["end_line"])
        for (node, expected) in zip(tree.nodes, children) {
            XCTAssertEqual(node.startLine, expected["start_line"])
            XCTAssertEqual(node.endLine, expected["end_line"])
        }
    }

    func testExtractsHeredoc() throws {
        let dir = Self.parserData.appendingPathComponent("heredoc/extracts-heredoc")
        let tree = try DockerfileParser.parse([UInt8](try Data(contentsOf: dir.appendingPathComponent("Dockerfile"))))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as! [String: Any]
        let entries = json["expected"] as! [[String: Any]]
        XCTAssertEqual(entries.count, 27)
        for entry in entries {
            let index = entry["child_index"] as! Int
            let node = tree.nodes[index]
            let expected: [Heredoc] = (entry["heredocs"] as? [[String: Any]] ?? []).map {
                Heredoc(name: $0["Name"] as? String ?? "",
                        fileDescriptor: $0["FileDescriptor"] as? Int ?? 0,
                        expand: $0["Expand"] as? Bool ?? false,
                        chomp: $0["Chomp"] as? Bool ?? false,
                        content: $0["Content"] as? String ?? "")
            }
            XCTAssertEqual(node.heredocs, expected, "child \(index): \(node.original)")
        }
    }

    func helpers() throws -> [String: Any] {
        let url = Self.parserData.appendingPathComponent("heredoc/helpers.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func testParseHeredocHelper() throws {
        let table = try helpers()["ParseHeredoc"] as! [String: Any]
        for word in table["valid_name_EOF"] as! [String] {
            XCTAssertEqual(try DockerfileParser.parseHeredoc(word)?.name, "EOF", word)
        }
        for word in table["invalid_error"] as! [String] {
            XCTAssertThrowsError(try DockerfileParser.parseHeredoc(word), word)
        }
        for word in table["not_heredoc"] as! [String] {
            XCTAssertNil(try DockerfileParser.parseHeredoc(word), word)
        }
    }

    func testHeredocsFromLine() throws {
        let table = try helpers()["heredocsFromLine"] as! [String: Any]
        for c in table["cases"] as! [[String: Any]] {
            let line = c["line"] as! String
            let names = try DockerfileParser.heredocsFromLine(line).map(\.name)
            // Upstream checks only the heredocs that are returned (`for i, heredoc := range heredocs`),
            // so fewer results pass there too: `RUN <<- EOF` lexes as the words `<<-` and `EOF`
            // and BuildKit returns no heredoc for it (only `ParseHeredoc("<<- EOF")` names EOF).
            let expected = c["heredoc_names"] as? [String] ?? []
            XCTAssertLessThanOrEqual(names.count, expected.count, line)
            XCTAssertEqual(names, Array(expected.prefix(names.count)), line)
            if line != "RUN <<- EOF" {
                XCTAssertEqual(names, expected, line)
            }
        }
    }

    func testJSONFormHasNoHeredocs() throws {
        let table = try helpers()["json_form_has_no_heredocs"] as! [String: Any]
        let tree = try DockerfileParser.parse(table["dockerfile"] as! String)
        for i in 1...3 {
            XCTAssertTrue(tree.nodes[i].isJSON)
            XCTAssertEqual(tree.nodes[i].heredocs, [])
        }
    }

    func testChompHeredocContent() throws {
        let table = try helpers()["ChompHeredocContent"] as! [String: Any]
        XCTAssertEqual(DockerfileParser.chompHeredocContent(table["input"] as! String), table["expected"] as! String)
    }
}
