import WorkflowExecution

/// A job's log as HTML for the page: each line numbered with its own anchor (`#L12`, a permalink),
/// `::group::` sections folded in `<details>` (a group ends at its `◂` line, the next group, or the
/// step's end), step lines marked, ANSI colours (SGR 30–37, 90–97, bold) as classes. Text is escaped;
/// it was masked when it was written.
enum LogHTML {
    /// The whole log, and how many lines it numbered; numbers start after `firstLine` (the end of a
    /// long log).
    static func render(_ text: String, firstLine: Int = 0) -> (html: String, lines: Int) {
        var out = ""
        var inGroup = false
        var number = firstLine
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
            let line = String(raw)
            if line == RunHistory.groupEnd {
                if inGroup { out += "</div></details>" }
                inGroup = false
                continue
            }
            number += 1
            let isGroup = line.hasPrefix(RunHistory.groupStart)
            let endsStep = line.hasPrefix("✓ ") || line.hasPrefix("✗ ") || line.hasPrefix("⊘ ")
            if inGroup && (isGroup || endsStep) {
                out += "</div></details>"
                inGroup = false
            }
            if isGroup {
                out += "<details class=\"group\"><summary>" + self.line(line, number: number) + "</summary><div>"
                inGroup = true
            } else {
                out += self.line(line, number: number)
            }
        }
        if inGroup { out += "</div></details>" }
        return (out, number - firstLine)
    }

    /// One line with its number and anchor.
    static func line(_ text: String, number: Int) -> String {
        var kind = ""
        if text.hasPrefix("▶ ") { kind = " step" }
        else if text.hasPrefix("✓ ") { kind = " step ok" }
        else if text.hasPrefix("✗ ") || text.hasPrefix("⊘ ") { kind = " step bad" }
        else if text.hasPrefix("error: ") || text.contains(": error: ") { kind = " error" }
        else if text.hasPrefix("warning: ") || text.contains(": warning: ") { kind = " warning" }
        // No newline after it: each line is a block already, and a newline would show as an empty line.
        return "<span class=\"line\(kind)\" id=\"L\(number)\"><a class=\"n\" href=\"#L\(number)\">\(number)</a>\(ansi(text))</span>"
    }

    /// Escapes HTML and turns ANSI SGR sequences into `<span class="…">`; other escape sequences are
    /// dropped.
    static func ansi(_ text: String) -> String {
        var out = ""
        var open = false
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.first {
            scalars = scalars.dropFirst()
            guard scalar == "\u{1B}" else {
                out += escape(scalar)
                continue
            }
            guard scalars.first == "[" else { continue }
            scalars = scalars.dropFirst()
            var parameters = ""
            while let next = scalars.first, next.properties.numericType != nil || next == ";" {
                parameters.unicodeScalars.append(next)
                scalars = scalars.dropFirst()
            }
            guard let final = scalars.first else { break }
            scalars = scalars.dropFirst()
            guard final == "m" else { continue }
            if open { out += "</span>" }
            open = false
            let classes = parameters.split(separator: ";", omittingEmptySubsequences: false).compactMap { code -> String? in
                switch Int(code) ?? 0 {
                case 1: "b"
                case let n where (30...37).contains(n): "c\(n - 30)"
                case let n where (90...97).contains(n): "c\(n - 90 + 8)"
                default: nil
                }
            }
            if !classes.isEmpty {
                out += "<span class=\"\(classes.joined(separator: " "))\">"
                open = true
            }
        }
        if open { out += "</span>" }
        return out
    }

    static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "<": "&lt;"
        case ">": "&gt;"
        case "&": "&amp;"
        case "\"": "&quot;"
        case "'": "&#39;"
        default: String(scalar)
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars { out += escape(scalar) }
        return out
    }
}
