import Foundation
import TestSupport
import XCTest

/// Ctrl-C during a RUN: a real `slipway build` whose command leaves a process tree (two
/// background sleeps and the shell waiting on them) gets SIGINT. slipway exits 130 at once,
/// no process of the tree survives it (found in /proc by a number unique to the run in their
/// command lines), and neither the output nor the scratch directory (with the RUN root, which
/// a third child keeps writing files into) is left behind. Once as root inside, once as a non-root USER (switching user clears a
/// process's parent-death signal, so the sandbox must not depend on it surviving that).
final class RunInterruptTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    func testCtrlCDuringRunKillsTheSandboxedProcessTreeAndLeavesNothing() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            throw XCTSkip("needs Debian's busybox-static (/bin/busybox); scripts/setup installs it")
        }
        let layout = try busyboxLayout()
        try interrupt(user: nil, layout: layout)
        // A non-root USER needs the build to run as root (CI does): rootless maps only root.
        // And slipway itself as `nobody`: the rootless sandbox (a user namespace).
        if geteuid() == 0 {
            try interrupt(user: "1000:1000", layout: layout)
            _ = try Run.command("chmod", ["-R", "a+rwX", work])
            try interrupt(user: nil, layout: layout, asNobody: true)
        }
    }

    /// A busybox base made by slipway's COPY, as an OCI layout the build reaches by
    /// `--build-context base=oci-layout://…`.
    private func busyboxLayout() throws -> String {
        let base = work + "/base"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY . /\n", "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"], under: base)
        try FileManager.default.createDirectory(atPath: base + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: base + "/bin/busybox")
        chmod(base + "/tmp", 0o1777)
        for applet in ["sh", "sleep", "touch", "echo", "mkdir"] {
            try FileManager.default.createSymbolicLink(atPath: base + "/bin/" + applet, withDestinationPath: "busybox")
        }
        let layout = work + "/layout"
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", work + "/base-cache", "-o", "type=oci,dest=\(layout),tar=false", base])
        return layout
    }

    private func interrupt(user: String?, layout: String, asNobody: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let marker = String(700_000_000 + Int.random(in: 0..<99_999_999))
        let name = asNobody ? "nobody" : user == nil ? "root" : "user"
        let run = work + "/" + name
        let tmp = run + "/tmp", out = run + "/out"
        // A third child keeps writing into the root: it must be stopped before the root is removed.
        let writer = "while true; do i=$((i+1)); mkdir -p /tmp/d$((i % 20)); touch /tmp/d$((i % 20))/f$i; done"
        try Run.write(["Dockerfile": "FROM base\n" + (user.map { "USER \($0)\n" } ?? "")
                       + "RUN echo started; sh -c 'sleep \(marker) & sleep \(marker) & \(writer) & touch /tmp/ready; wait'\n"], under: run + "/ctx")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        if asNobody { _ = try Run.command("chmod", ["-R", "a+rwX", run]) }
        let caller = asNobody ? "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=\(Run.quoted(run)) " : ""
        // Job control on (set -m): a background job keeps SIGINT, as under an interactive shell.
        // The script never names the marker: its own command line must not count.
        let script = """
        set -m
        \(caller)TMPDIR=\(Run.quoted(tmp)) \(Run.quoted(Run.slipway)) build --progress plain --cache-dir \(Run.quoted(run + "/cache")) \\
            --build-context base=oci-layout://\(Run.quoted(layout)) --output type=oci,dest=\(Run.quoted(out)),tar=false \\
            \(Run.quoted(run + "/ctx")) 2>\(Run.quoted(run + "/stderr")) &
        pid=$!
        for _ in $(seq 600); do
            ls \(Run.quoted(tmp))/slipway-*/run-root-*/tmp/ready >/dev/null 2>&1 && break
            sleep 0.05
        done
        sleep 0.5
        for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done > \(Run.quoted(run + "/before"))
        start=$(date +%s.%N)
        kill -INT $pid
        wait $pid
        echo "status=$?"
        echo "seconds=$(echo "$(date +%s.%N) - $start" | bc)"
        """
        let output = try Run.command("bash", ["-c", script])
        let stderr = (try? String(contentsOfFile: run + "/stderr", encoding: .utf8)) ?? ""
        let shown = "\(name): \(output.stdout)\n\(stderr)"
        let before = ((try? String(contentsOfFile: run + "/before", encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains(marker) }
        XCTAssertEqual(before.filter { $0.hasPrefix("sleep \(marker)") }.count, 2, "both sleeps ran when SIGINT was sent: \(before) \(shown)", file: file, line: line)
        XCTAssertTrue(output.stdout.contains("status=130\n"), "exit status of an interrupted run: \(shown)", file: file, line: line)
        let seconds = output.stdout.split(separator: "\n").first { $0.hasPrefix("seconds=") }.flatMap { Double($0.dropFirst(8)) } ?? 99
        XCTAssertLessThan(seconds, 5, "slipway ended promptly after SIGINT: \(shown)", file: file, line: line)
        // The kernel kills the PID namespace as its init dies; give it a moment.
        var survivors: [String] = []
        for _ in 0..<40 {
            survivors = processes(containing: marker)
            if survivors.isEmpty { break }
            usleep(50_000)
        }
        XCTAssertEqual(survivors, [], "\(name): processes of the RUN's tree outlived slipway", file: file, line: line)
        for pid in survivors { kill(pid_t(pid.split(separator: " ").first ?? "") ?? 0, SIGKILL) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output: \(shown)", file: file, line: line)
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix("slipway-") }
        XCTAssertEqual(left, [], "scratch directories (with the RUN root) left in TMPDIR: \(shown)", file: file, line: line)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: run + "/cache/store/ingest")) ?? [], [],
                       "partial files left in the cache", file: file, line: line)
        XCTAssertFalse(stderr.contains("error:"), stderr, file: file, line: line)
    }

    /// "PID command line" of every live process whose command line contains `marker`.
    private func processes(containing marker: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid -> String? in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return text.contains(marker) ? "\(pid) \(text)" : nil
        }
    }
}
