/// Step summaries (GitHub-flavoured Markdown) as HTML for the page: headings, paragraphs, lists,
/// fenced code, tables, block quotes, rules, and inline code, bold, italics and links (http, https and
/// page-relative only). Everything else, raw HTML included, is shown as text: a summary comes from the
/// workflow's code, which a pull request from a fork may have written.
enum Markdown {
    /// The most of a summary rendered (GitHub takes at most 1 MiB a step).
    static let limit = 1 << 20

    static func html(_ text: String) -> String {
        guard text.utf8.count > limit else { return html(text, quoted: false) }
        var cut = text.utf8.prefix(limit)
        while let last = cut.last, last & 0xC0 == 0x80 { cut = cut.dropLast() }  // not inside a character
        if !cut.isEmpty { cut = cut.dropLast() }
        return html(String(decoding: cut, as: UTF8.self), quoted: false) + "<p><em>(the summary is longer than 1 MiB; the rest is left out)</em></p>\n"
    }

    /// `quoted`: inside a block quote, where a nested quote is a quote no deeper (no recursion without end).
    private static func html(_ text: String, quoted: Bool) -> String {
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
            } else if let hashes = heading(trimmed) {
                flush()
                let level = min(hashes, 4) + 2
                out += "<h\(level)>" + inline(String(trimmed.dropFirst(hashes + 1)).trimmingSpaces) + "</h\(level)>\n"
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
            } else if trimmed.hasPrefix(">") && !quoted {
                flush()
                var inner: [String] = []
                while i < lines.count, lines[i].drop(while: { $0 == " " }).hasPrefix(">") {
                    // Every `>` of the line goes: quotes in quotes are one quote here.
                    inner.append(String(lines[i].drop { $0 == " " || $0 == ">" }))
                    i += 1
                }
                out += "<blockquote>" + html(inner.joined(separator: "\n"), quoted: true) + "</blockquote>\n"
            } else {
                paragraph.append(String(trimmed))
                i += 1
            }
        }
        flush()
        return out
    }

    /// How many `#` start a heading.
    private static func heading(_ line: Substring) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
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
        // The next closing delimiters, found once and kept while they are ahead: each search goes on
        // from where the last one stopped, so a line of unmatched `[` or backticks stays linear.
        var ahead: [Character: Substring.Index?] = [:]
        func next(_ delimiter: Character, after start: Substring.Index) -> Substring.Index? {
            if let known = ahead[delimiter] {
                guard let found = known else { return nil }
                if found > start { return found }
            }
            let found = rest[rest.index(after: start)...].firstIndex(of: delimiter)
            ahead[delimiter] = .some(found)
            return found
        }
        while let c = rest.first {
            if c == "`", let end = next("`", after: rest.startIndex) {
                out += "<code>" + LogHTML.escape(String(rest[rest.index(after: rest.startIndex)..<end])) + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if c == "[", let close = next("]", after: rest.startIndex), rest[rest.index(after: close)...].first == "(",
                let end = next(")", after: close)
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
