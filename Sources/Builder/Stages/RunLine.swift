import Foundation

/// A RUN instruction the target needs, as the refusal shows it: where and what it says.
struct RunLine: Hashable {
    var line: Int
    var text: String
    /// An ONBUILD trigger (of a local stage or a base image), reported at its ONBUILD or FROM line.
    var trigger: Bool

    /// Where the recipes for doing without RUN are, in the repository and the release tarball.
    static let guide = "docs/building-without-run.md"

    /// "RUN needs a container runtime …", every RUN line with its location and its text (the
    /// first line of it; heredocs shortened), then what to do instead and where the guide is.
    static func refusal(_ lines: [RunLine], file: String) -> String {
        let count = lines.count == 1 ? "1 RUN instruction" : "\(lines.count) RUN instructions"
        var message = "RUN needs a container runtime; slipway builds without one. The target needs \(count):"
        for run in lines {
            message += "\n  \(file):\(run.line): \(run.shown)" + (run.trigger ? " (ONBUILD trigger)" : "")
        }
        message += "\nProduce those files before the build (e.g. cross-compile per TARGETARCH) and COPY them; recipes: \(guide)"
        return message
    }

    /// The instruction's text on one line (blanks collapsed), at most 120 characters.
    var shown: String {
        let physical = text.split(separator: "\n", omittingEmptySubsequences: false)
        var first = physical.first.map(String.init) ?? text
        first = first.trimmingCharacters(in: .whitespaces)
        if first.hasSuffix("\\") { first = String(first.dropLast()).trimmingCharacters(in: .whitespaces) + " …" }
        else if physical.count > 1 { first += " …" }
        first = first.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        if first.count > 120 { first = String(first.prefix(119)) + "…" }
        return first
    }
}
