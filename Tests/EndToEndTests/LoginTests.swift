import Foundation
import TestSupport
import XCTest

/// `slipway login` as docker's: asked on a terminal (the password without echo), refused
/// without one; `REGISTRY_AUTH_FILE` (podman's and skopeo's) read and written instead of the
/// docker config by login, logout, push and pull.
final class LoginTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Runs slipway on a new pseudo-terminal (Python's `pty`): waits for each prompt before
    /// typing its answer, as a person would, and returns everything the terminal showed.
    private func onTerminal(_ arguments: [String], answers: [(prompt: String, answer: String)]) throws -> (status: Int32, screen: String) {
        let driver = """
            import json, os, pty, select, sys, time
            argv, answers = json.loads(sys.argv[1]), json.loads(sys.argv[2])
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(argv[0], argv)
            screen, deadline = b"", time.time() + 60
            def read_some():
                global screen
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        return False
                    if not data:
                        return False
                    screen += data
                return True
            for prompt, answer in answers:
                while prompt.encode() not in screen and time.time() < deadline:
                    if not read_some():
                        break
                time.sleep(0.2)
                os.write(fd, (answer + "\\n").encode())
            while time.time() < deadline and read_some():
                pass
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(screen.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let argv = String(decoding: try JSONSerialization.data(withJSONObject: [Run.slipway] + arguments), as: UTF8.self)
        let pairs = String(decoding: try JSONSerialization.data(withJSONObject: answers.map { [$0.prompt, $0.answer] }), as: UTF8.self)
        let output = try Run.command("python3", ["-c", driver, argv, pairs], environment: env)
        return (output.status, output.stdout)
    }

    func testLoginAsksOnATerminalAndNeverEchoesThePassword() throws {
        let result = try onTerminal(["login", registry.basic], answers: [("Username: ", registry.user), ("Password: ", registry.password)])
        XCTAssertEqual(result.status, 0, result.screen)
        XCTAssertTrue(result.screen.contains("Username: \(registry.user)"), "the user name is echoed: \(result.screen)")
        XCTAssertTrue(result.screen.contains("Password: "), result.screen)
        XCTAssertFalse(result.screen.contains(registry.password), "the password must not appear on the terminal: \(result.screen)")
        XCTAssertTrue(result.screen.contains("Login Succeeded"), result.screen)
        let config = try String(contentsOfFile: work + "/docker/config.json", encoding: .utf8)
        XCTAssertTrue(config.contains(Data("\(registry.user):\(registry.password)".utf8).base64EncodedString()), config)

        let withUser = try onTerminal(["login", registry.basic, "-u", registry.user], answers: [("Password: ", "wrong-\(registry.password)")])
        XCTAssertEqual(withUser.status, 1, "a wrong password is refused: \(withUser.screen)")
        XCTAssertFalse(withUser.screen.contains("Username:"), "-u given: only the password is asked")
        XCTAssertTrue(withUser.screen.contains("error: "), withUser.screen)
        XCTAssertFalse(withUser.screen.contains("wrong-"), withUser.screen)
    }

    func testLoginWithoutATerminalOrPasswordFailsAtOnce() throws {
        let output = try Run.command(Run.slipway, ["login", registry.basic, "-u", registry.user], environment: env, stdin: Data())
        XCTAssertEqual(output.status, 1, output.stderr)
        XCTAssertTrue(output.stderr.hasPrefix("error: no password: standard input is not a terminal"), output.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/docker/config.json"), "nothing stored")
    }

    func testRegistryAuthFileIsReadAndWrittenInsteadOfTheDockerConfig() throws {
        let authFile = work + "/containers/auth.json"
        var podman = env
        podman["REGISTRY_AUTH_FILE"] = authFile
        let login = try Run.command(Run.slipway, ["login", registry.basic, "-u", registry.user, "--password-stdin"], environment: podman,
                                    stdin: Data(registry.password.utf8))
        XCTAssertEqual(login.status, 0, login.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/docker/config.json"), "the docker config is left alone")
        let mode = (try FileManager.default.attributesOfItem(atPath: authFile)[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode & 0o777, 0o600)

        // skopeo reads the file slipway wrote (the format is podman's too) …
        let tag = "\(registry.basic)/authfile/hello:1.0"
        let built = try Run.command(Run.slipway, ["build", "--output", "type=oci,dest=\(work)/image.tar", Run.repositoryRoot.path + "/testdata/example"], environment: podman)
        XCTAssertEqual(built.status, 0, built.stderr)
        let push = try Run.command(Run.slipway, ["push", work + "/image.tar", tag], environment: podman)
        XCTAssertEqual(push.status, 0, "push reads REGISTRY_AUTH_FILE: \(push.stderr)")
        let raw = try Run.command("skopeo", ["inspect", "--raw", "--authfile", authFile, "--cert-dir", "\(registry.certsDir)/\(registry.basic)", "docker://\(tag)"])
        XCTAssertEqual(raw.status, 0, "skopeo reads the auth file slipway wrote: \(raw.stderr)")
        // … pulls read it (inspect, copy) …
        let inspect = try Run.command(Run.slipway, ["inspect", tag], environment: podman)
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        let copy = try Run.command(Run.slipway, ["copy", tag, "\(registry.basic)/authfile/copied:1.0"], environment: podman)
        XCTAssertEqual(copy.status, 0, copy.stderr)
        // … and without it there are no credentials: they came from that file.
        let withoutFile = try Run.command(Run.slipway, ["inspect", tag], environment: env)
        XCTAssertNotEqual(withoutFile.status, 0, "no docker config login, so the registry refuses")

        let logout = try Run.command(Run.slipway, ["logout", registry.basic], environment: podman)
        XCTAssertEqual(logout.status, 0, logout.stderr)
        XCTAssertEqual(logout.stdout, "Removed login credentials for \(registry.basic)\n")
        XCTAssertFalse(try String(contentsOfFile: authFile, encoding: .utf8).contains(registry.basic), "logout removed the entry from the auth file")
        let afterLogout = try Run.command(Run.slipway, ["inspect", tag], environment: podman)
        XCTAssertNotEqual(afterLogout.status, 0)
    }
}
