/// Step summaries (GitHub-flavoured Markdown) as HTML for the page: headings, paragraphs, lists,
/// fenced code, tables, block quotes, rules, and inline code, bold, italics and links (http, https and
/// page-relative only). Everything else, raw HTML included, is shown as text: a summary comes from the
/// workflow's code, which a pull request from a fork may have written.
enum Markdown {
    static func html(_ text: String) -> String {
        var out = ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        var i = 0
        var paragraph: [String] = []
        func flush() {
            if !paragraph.isEmpty { out += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n" }
            paragraph = []
        }
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.drop { $0 == " " }
            if trimmed.isEmpty {
                flush()
                i += 1
            } else if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flush()
                let fence = String(trimmed.prefix(3))
                var code: [String] = []
                i += 1
                while i < lines.count, !lines[i].drop(while: { $0 == " " }).hasPrefix(fence) {
                    code.append(lines[i])
                    i += 1
                }
                i += 1
                out += "<pre><code>" + LogHTML.escape(code.joined(separator: "\n")) + "</code></pre>\n"
            } else if let level = heading(trimmed) {
                flush()
                out += "<h\(level + 2)>" + inline(String(trimmed.dropFirst(level + 1)).trimmingSpaces) + "</h\(level + 2)>\n"
                i += 1
            } else if trimmed.allSatisfy({ $0 == "-" || $0 == "*" || $0 == "_" || $0 == " " }) && trimmed.filter({ $0 != " " }).count >= 3 {
                flush()
                out += "<hr>\n"
                i += 1
            } else if trimmed.hasPrefix("|"), i + 1 < lines.count, isDelimiterRow(lines[i + 1]) {
                flush()
                out += "<table><thead><tr>" + cells(line).map { "<th>" + inline($0) + "</th>" }.joined() + "</tr></thead><tbody>"
                i += 2
                while i < lines.count, lines[i].drop(while: { $0 == " " }).hasPrefix("|") {
                    out += "<tr>" + cells(lines[i]).map { "<td>" + inline($0) + "</td>" }.joined() + "</tr>"
                    i += 1
                }
                out += "</tbody></table>\n"
            } else if let (ordered, _) = listItem(trimmed) {
                flush()
                out += ordered ? "<ol>" : "<ul>"
                while i < lines.count, let (sameKind, item) = listItem(lines[i].drop { $0 == " " }), sameKind == ordered {
                    out += "<li>" + inline(item) + "</li>"
                    i += 1
                }
                out += ordered ? "</ol>\n" : "</ul>\n"
            } else if trimmed.hasPrefix(">") {
                flush()
                var quoted: [String] = []
                while i < lines.count, lines[i].drop(while: { $0 == " " }).hasPrefix(">") {
                    quoted.append(String(lines[i].drop(while: { $0 == " " }).dropFirst()).trimmingSpaces)
                    i += 1
                }
                out += "<blockquote>" + html(quoted.joined(separator: "\n")) + "</blockquote>\n"
            } else {
                paragraph.append(String(trimmed))
                i += 1
            }
        }
        flush()
        return out
    }

    private static func heading(_ line: Substring) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return min(hashes, 4)
    }

    private static func isDelimiterRow(_ line: String) -> Bool {
        let body = line.filter { $0 != " " }
        return body.hasPrefix("|") && body.contains("-") && body.allSatisfy { "|-:".contains($0) }
    }

    private static func cells(_ line: String) -> [String] {
        var body = line.trimmingSpaces
        if body.hasPrefix("|") { body.removeFirst() }
        if body.hasSuffix("|") { body.removeLast() }
        return body.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
    }

    /// `- item`, `* item`, `+ item` (unordered) or `1. item` (ordered).
    private static func listItem(_ line: Substring) -> (ordered: Bool, text: String)? {
        if let first = line.first, "-*+".contains(first), line.dropFirst().first == " " { return (false, String(line.dropFirst(2))) }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") { return (true, String(line.dropFirst(digits.count + 2))) }
        return nil
    }

    /// Inline code, links, `**bold**` and `*italics*` (not `_`, which names use); the rest escaped.
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        var bold = false
        var italic = false
        while let c = rest.first {
            if c == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + LogHTML.escape(String(rest[rest.index(after: rest.startIndex)..<end])) + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if c == "[", let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].first == "(",
                let end = rest[close...].firstIndex(of: ")")
            {
                let label = String(rest[rest.index(after: rest.startIndex)..<close])
                let target = String(rest[rest.index(close, offsetBy: 2)..<end])
                if target.hasPrefix("https://") || target.hasPrefix("http://") || target.hasPrefix("/") || target.hasPrefix("#") {
                    out += "<a href=\"" + LogHTML.escape(target) + "\">" + inline(label) + "</a>"
                } else {
                    out += LogHTML.escape(String(rest[...end]))
                }
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**") {
                out += bold ? "</strong>" : "<strong>"
                bold.toggle()
                rest = rest.dropFirst(2)
            } else if c == "*" && (italic || rest.dropFirst().first.map { $0 != " " } == true) {
                out += italic ? "</em>" : "<em>"
                italic.toggle()
                rest = rest.dropFirst()
            } else {
                out += LogHTML.escape(String(c))
                rest = rest.dropFirst()
            }
        }
        if italic { out += "</em>" }
        if bold { out += "</strong>" }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
