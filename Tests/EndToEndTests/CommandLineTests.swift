import Foundation
import TestSupport
import XCTest

/// The command line as a new user meets it (issue 12, section 3): `--help` that fits 80
/// columns with one default per flag and only the flags a command uses, one error prefix,
/// the PowerShell completion, and the RUN refusal that lists everything to replace.
final class CommandLineTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Every command path (`build`, `ecr create-repository`, …), found by walking the
    /// SUBCOMMANDS sections of the help itself, so commands added later are checked too.
    private func commandPaths() throws -> [[String]] {
        var paths: [[String]] = [[]]
        var queue: [[String]] = [[]]
        while let path = queue.popLast() {
            for name in try subcommands(of: path) where name != "help" {
                paths.append(path + [name])
                queue.append(path + [name])
            }
        }
        return paths
    }

    private func help(_ path: [String], columns: Int = 80) throws -> String {
        let output = try Run.command(Run.slipway, path + ["--help"], environment: ["COLUMNS": String(columns)])
        XCTAssertEqual(output.status, 0, "slipway \(path.joined(separator: " ")) --help: \(output.stderr)")
        return output.stdout
    }

    private func subcommands(of path: [String]) throws -> [String] {
        let text = try help(path)
        guard let section = text.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        // Entries are "  name   abstract" (lowercase names); the section ends at a blank line.
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty }
        return lines.compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first,
                  name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else { return nil }
            return String(name)
        }
    }

    /// The OPTIONS entries of a help text, each with its continuation lines joined.
    private func optionEntries(_ text: String) -> [String] {
        var entries: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  -") { entries.append(String(line)) } else if line.hasPrefix("      "), !entries.isEmpty {
                entries[entries.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
            }
        }
        return entries
    }

    func testEveryHelpFitsEightyColumnsAndStatesEachDefaultOnce() throws {
        let paths = try commandPaths()
        XCTAssertTrue(paths.contains(["ecr", "create-repository"]) && paths.contains(["cache", "prune"]), "found \(paths)")
        for path in paths {
            let name = (["slipway"] + path).joined(separator: " ")
            let text = try help(path)
            for line in text.split(separator: "\n") where line.count > 80 {
                XCTFail("\(name) --help: a line of \(line.count) columns: \(line)")
            }
            // The text above USAGE is laid out by hand: the parser must not have to re-wrap it
            // (re-wrapping breaks example lines in the middle).
            let wide = try help(path, columns: 1000)
            XCTAssertEqual(text.components(separatedBy: "USAGE:")[0], wide.components(separatedBy: "USAGE:")[0],
                           "\(name) --help: the overview or discussion has lines longer than 80 columns")
            for entry in optionEntries(text) {
                let withoutQuotedWord = entry.replacingOccurrences(of: "'default'", with: "")
                let count = withoutQuotedWord.components(separatedBy: "default").count - 1
                XCTAssertLessThanOrEqual(count, 1, "\(name) --help states a default twice: \(entry)")
            }
        }
    }

    func testEachCommandListsOnlyTheFlagsItUses() throws {
        func flags(_ path: [String]) throws -> Set<String> {
            Set(optionEntries(try help(path)).flatMap { entry in
                entry.split(separator: " ").filter { $0.hasPrefix("--") }.map { String($0.split(separator: "[")[0].trimmingCharacters(in: CharacterSet(charactersIn: ",."))) }
            })
        }
        let uploads: Set = ["--chunk-size", "--create-repository"]
        for path in [["build"], ["push"], ["copy"]] {
            let listed = try flags(path)
            XCTAssertTrue(uploads.isSubset(of: listed), "\(path) uploads blobs: \(listed)")
            XCTAssertTrue(listed.contains("--profile"))
        }
        let inspect = try flags(["inspect"])
        XCTAssertTrue(inspect.isDisjoint(with: uploads), "inspect uploads nothing: \(inspect)")
        XCTAssertTrue(inspect.isSuperset(of: ["--retries", "--insecure-registry", "--debug", "--profile"]), "\(inspect)")
        let login = try flags(["login"])
        XCTAssertTrue(login.isDisjoint(with: uploads.union(["--profile", "--cache-dir"])), "login neither uploads nor uses AWS: \(login)")
        XCTAssertTrue(login.isSuperset(of: ["--password-stdin", "--username", "--retries", "--insecure-registry"]), "\(login)")
        let logout = try flags(["logout"])
        XCTAssertFalse(logout.contains("--retries"), "logout talks to no registry")
    }

    func testEveryErrorStartsWithOnePrefix() throws {
        try Run.write(["Dockerfile": "FROM scratch\nCOPY missing /m\n"], under: work + "/ctx")
        let failures: [(String, [String])] = [
            ("an unknown option", ["build", "--no-such-flag", work + "/ctx"]),
            ("a failed validation", ["build", "--jobs", "0", work + "/ctx"]),
            ("a missing argument", ["push"]),
            ("a bad value", ["inspect", "--format", "yaml", "x"]),
            ("a build error", ["build", "--output", "type=oci,dest=\(work)/o.tar", work + "/ctx"]),
            ("a missing context", ["build", work + "/absent"]),
            ("an unknown command", ["frobnicate"]),
        ]
        for (what, arguments) in failures {
            let output = try Run.command(Run.slipway, arguments, environment: ["XDG_CACHE_HOME": work + "/cache"])
            XCTAssertNotEqual(output.status, 0, what)
            let lines = output.stderr.split(separator: "\n")
            let problems = lines.filter { $0.lowercased().hasPrefix("error") }
            XCTAssertFalse(problems.isEmpty, "\(what): no error line in \(output.stderr)")
            for line in problems { XCTAssertTrue(line.hasPrefix("error: "), "\(what): \(line)") }
            XCTAssertFalse(output.stderr.contains("Error: "), "\(what): \(output.stderr)")
        }
    }

    func testRunRefusalListsEveryRunLineTheTargetNeedsAndPointsAtTheGuide() throws {
        let dockerfile = """
            FROM scratch AS build
            COPY a /a
            RUN make \\
                all
            ONBUILD RUN ./configure
            FROM scratch AS unused
            RUN echo never needed
            FROM build AS app
            RUN npm ci --omit=dev
            FROM scratch
            COPY --from=app /a /a

            """
        try Run.write(["Dockerfile": dockerfile, "a": "x"], under: work + "/ctx")
        let output = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64,linux/ia64", "--output", "type=oci,dest=\(work)/o.tar", work + "/ctx"],
                                     environment: ["XDG_CACHE_HOME": work + "/cache"])
        XCTAssertEqual(output.status, 1, output.stderr)
        // RUN runs for the host (issue 16) and where an emulator is registered; qemu has no
        // ia64 target, so no host has one for that half.
        XCTAssertTrue(output.stderr.contains("\nerror: Dockerfile:3: RUN for linux/ia64 needs an emulator: "), output.stderr)
        XCTAssertTrue(output.stderr.contains(". The target needs 3 RUN instructions for it:\n"), output.stderr)
        let listed = output.stderr.split(separator: "\n").filter { $0.hasPrefix("  Dockerfile:") }.map(String.init)
        XCTAssertEqual(listed, ["  Dockerfile:3: RUN make all",
                                "  Dockerfile:5: RUN ./configure (ONBUILD trigger)",
                                "  Dockerfile:9: RUN npm ci --omit=dev"],
                       "every RUN of the needed stages once (not per platform; a local trigger at its ONBUILD line), none of the unused stage:\n\(output.stderr)")
        XCTAssertTrue(output.stderr.contains("docs/building-without-run.md"), output.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: Run.repositoryRoot.path + "/docs/building-without-run.md"), "the guide the error names exists")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/o.tar"), "nothing was written")
    }

    func testPowerShellCompletionCoversEveryCommandAndFlag() throws {
        let script = try Run.slipway(["--generate-completion-script", "powershell"]).stdout
        XCTAssertTrue(script.contains("Register-ArgumentCompleter -Native -CommandName 'slipway' -ScriptBlock"), script)
        XCTAssertTrue(script.contains("[System.Management.Automation.CompletionResult]::new("))
        for path in try commandPaths() {
            let key = "'" + (["slipway"] + path).joined(separator: " ") + "' = @{"
            XCTAssertTrue(script.contains(key), "no completion entry \(key)")
            let body = script.components(separatedBy: key)[1].components(separatedBy: "\n    }\n")[0]
            for entry in optionEntries(try help(path)) {
                let spelling = entry.split(separator: " ").prefix { $0.hasPrefix("-") || $0.hasPrefix("<") }
                for flag in spelling where flag.hasPrefix("-") {
                    let name = flag.split(separator: "/")[0].trimmingCharacters(in: CharacterSet(charactersIn: ","))
                    XCTAssertTrue(body.contains("@('\(name)', "), "\(key) lacks \(name)")
                }
            }
        }
        // Quotes in help texts are escaped the PowerShell way: every string literal is closed.
        for line in script.split(separator: "\n") where line.hasPrefix("            @('") {
            let stripped = line.replacingOccurrences(of: "''", with: "")
            XCTAssertEqual(stripped.filter { $0 == "'" }.count % 2, 0, "unbalanced quotes: \(line)")
        }
        let bash = try Run.slipway(["--generate-completion-script", "bash"]).stdout
        XCTAssertTrue(bash.contains("complete"), "the parser's own shells still work")
    }
}
