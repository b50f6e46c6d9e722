import Foundation
import OCI

/// Whether RUN can execute a platform's binaries here: natively for the host's (and i386 on
/// an amd64 host), else through a binfmt_misc handler registered with the F flag (the kernel
/// opens the emulator at registration, so it works inside the sandbox's root).
enum RunPlatform {
    static let binfmtDirectory = "/proc/sys/fs/binfmt_misc"

    /// A message naming the platform and the fix, or nil when RUN can execute it.
    static func problem(_ platform: Platform, binfmt: String = binfmtDirectory) -> String? {
        let host = Platform.host
        guard platform.os == "linux" else {
            return "RUN for \(platform) cannot execute here: slipway runs only linux binaries"
        }
        if platform.architecture == host.architecture { return nil }
        if host.architecture == "amd64" && platform.architecture == "386" { return nil }
        let name = qemuName(platform.architecture)
        if handlerRegistered(name, in: binfmt) { return nil }
        guard FileManager.default.fileExists(atPath: binfmt + "/register") else {
            return "RUN for \(platform) needs an emulator: binfmt_misc is not mounted on \(binfmt); mount it as root ('mount -t binfmt_misc binfmt_misc \(binfmt)'), then register one for \(name) with the F flag: 'apt-get install qemu-user-static binfmt-support' (or 'docker run --privileged --rm tonistiigi/binfmt --install \(platform.architecture)')"
        }
        return "RUN for \(platform) needs an emulator: no binfmt_misc handler with the F flag is registered for \(name) in \(binfmt); install one with 'apt-get install qemu-user-static binfmt-support' (or 'docker run --privileged --rm tonistiigi/binfmt --install \(platform.architecture)')"
    }

    static func qemuName(_ architecture: String) -> String {
        switch architecture {
        case "arm64": return "aarch64"
        case "amd64": return "x86_64"
        case "386": return "i386"
        case "mips64le": return "mips64el"
        case "mipsle": return "mipsel"
        case "loong64": return "loongarch64"
        default: return architecture
        }
    }

    /// An enabled handler whose name or interpreter names the architecture, with flag F.
    static func handlerRegistered(_ name: String, in directory: String) -> Bool {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        for file in files where file != "register" && file != "status" {
            guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else { continue }
            let lines = text.split(separator: "\n").map(String.init)
            guard lines.first == "enabled" else { continue }
            let interpreter = lines.first { $0.hasPrefix("interpreter ") } ?? ""
            let flags = lines.first { $0.hasPrefix("flags:") } ?? ""
            let names = file == "qemu-\(name)" || interpreter.hasSuffix("qemu-\(name)") || interpreter.hasSuffix("qemu-\(name)-static")
            if names && flags.dropFirst(6).contains("F") { return true }
        }
        return false
    }
}

extension RunLine {
    /// The emulator is missing: what to install, then every RUN line of that platform (as the
    /// old refusal listed them) and the way to do without RUN.
    static func emulatorRefusal(_ problem: String, lines: [RunLine], file: String) -> String {
        let count = lines.count == 1 ? "1 RUN instruction" : "\(lines.count) RUN instructions"
        var message = problem + ". The target needs \(count) for it:"
        for run in lines {
            message += "\n  \(file):\(run.line): \(run.shown)" + (run.trigger ? " (ONBUILD trigger)" : "")
        }
        message += "\nOr produce those files before the build (e.g. cross-compile per TARGETARCH) and COPY them; recipes: \(guide)"
        return message
    }
}
