import ArgumentParser
import Foundation

/// `slipway --generate-completion-script powershell`: swift-argument-parser writes bash, zsh and
/// fish scripts only, so this one is made here from the parser's own description of the
/// commands (`--experimental-dump-help`): a table of every command's subcommands and visible
/// flags, and a native argument completer that walks the words typed so far through it.
enum PowerShellCompletion {
    /// The script, or nil when the parser's description cannot be read.
    static func script() -> String? {
        var json = ""
        do { _ = try Slipway.parseAsRoot(["--experimental-dump-help"]) } catch { json = Slipway.fullMessage(for: error) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let root = object["command"] as? [String: Any] else { return nil }
        var entries: [String] = []
        collect(root, path: "slipway", into: &entries)
        return header + "$slipwayCompletions = @{\n" + entries.joined() + "}\n" + completer
    }

    /// One hashtable entry per command: `'slipway ecr' = @{ Subcommands = …; Options = … }`.
    private static func collect(_ command: [String: Any], path: String, into entries: inout [String]) {
        let subcommands = (command["subcommands"] as? [[String: Any]] ?? []).filter { ($0["shouldDisplay"] as? Bool) ?? true }
        var options: [String] = []
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            guard (argument["shouldDisplay"] as? Bool) ?? true, argument["kind"] as? String != "positional" else { continue }
            let takesValue = argument["kind"] as? String == "option"
            for name in argument["names"] as? [[String: Any]] ?? [] {
                guard let text = name["name"] as? String, let kind = name["kind"] as? String else { continue }
                let spelled = kind == "short" ? "-" + text : kind == "longWithSingleDash" ? "-" + text : "--" + text
                options.append("@(\(quoted(spelled)), \(quoted(tip(argument["abstract"], or: spelled))), $\(takesValue))")
            }
        }
        let names = subcommands.compactMap { sub -> String? in
            guard let name = sub["commandName"] as? String else { return nil }
            return "@(\(quoted(name)), \(quoted(tip(sub["abstract"], or: name))))"
        }
        entries.append("    \(quoted(path)) = @{\n        Subcommands = \(array(names))\n        Options = \(array(options))\n    }\n")
        for sub in subcommands {
            if let name = sub["commandName"] as? String { collect(sub, path: path + " " + name, into: &entries) }
        }
    }

    /// `@(a, b)` one item a line; a single item as `@(,a)`, which `@()` would otherwise flatten.
    private static func array(_ items: [String]) -> String {
        switch items.count {
        case 0: return "@()"
        case 1: return "@(,\(items[0]))"
        default: return "@(\n            " + items.joined(separator: ",\n            ") + ")"
        }
    }

    private static func tip(_ abstract: Any?, or fallback: String) -> String {
        let text = (abstract as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? fallback : text
    }

    /// A single-quoted PowerShell string: only `'` needs escaping (doubled), and the typographic
    /// quotes PowerShell also ends strings with.
    static func quoted(_ text: String) -> String {
        var out = "'"
        for character in text {
            if "'\u{2018}\u{2019}\u{201A}\u{201B}".contains(character) { out.append(character) }
            out.append(character)
        }
        return out + "'"
    }

    private static let header = """
        # PowerShell completion for slipway (`slipway --generate-completion-script powershell`).
        # Load it in your profile ($PROFILE):
        #   slipway --generate-completion-script powershell | Out-String | Invoke-Expression
        # or save it and dot-source it: . /path/to/slipway.ps1

        """

    private static let completer = """
        Register-ArgumentCompleter -Native -CommandName 'slipway' -ScriptBlock {
            param($wordToComplete, $commandAst, $cursorPosition)
            $path = 'slipway'
            $expectsValue = $false
            foreach ($element in ($commandAst.CommandElements | Select-Object -Skip 1)) {
                if ($element.Extent.EndOffset -ge $cursorPosition) { break }
                $word = $element.ToString()
                if ($expectsValue) { $expectsValue = $false; continue }
                if ($word -like '-*') {
                    $option = $slipwayCompletions[$path].Options | Where-Object { $_[0] -eq ($word -split '=')[0] } | Select-Object -First 1
                    if ($option -and $option[2] -and -not $word.Contains('=')) { $expectsValue = $true }
                    continue
                }
                if ($slipwayCompletions.ContainsKey("$path $word")) { $path = "$path $word" }
            }
            if ($expectsValue) { return }
            $entry = $slipwayCompletions[$path]
            if ($wordToComplete -like '-*') {
                $entry.Options | Where-Object { $_[0] -like "$wordToComplete*" } | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_[0], $_[0], 'ParameterName', $_[1])
                }
            } else {
                $entry.Subcommands | Where-Object { $_[0] -like "$wordToComplete*" } | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_[0], $_[0], 'ParameterValue', $_[1])
                }
            }
        }

        """
}
