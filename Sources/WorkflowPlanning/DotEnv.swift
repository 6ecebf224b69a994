public import WorkflowModel

/// The dotenv format act reads for `.secrets`, `.vars`, `.env` and `.input` (godotenv's dialect):
/// `NAME=value` lines, `export NAME=value`, `#` comments and blank lines; values bare (a `#` after a
/// blank starts a comment, surrounding blanks are dropped), in single quotes (literal, may span lines)
/// or in double quotes (may span lines; `\n`, `\r`, `\t`, `\"`, `\\`, `\$` are escapes). In bare and
/// double-quoted values `$NAME` and `${NAME}` expand to an earlier value of the file, else to the
/// environment's, else to nothing. LF and CRLF line ends both work.
public enum DotEnv {
    /// A malformed line, with its `file:line:col`.
    public struct Failure: Error, CustomStringConvertible {
        public var diagnostic: Diagnostic
        public var description: String { diagnostic.description }
    }

    /// The most one value may expand to, and all of a file's values together: `A=$A$A` on each of a
    /// few dozen lines would otherwise double a value per line until memory runs out (found by
    /// `bench/fuzz.sh`).
    public static let maxValueBytes = 1 << 20
    public static let maxTotalBytes = 16 << 20

    /// Parses `text`; the first malformed line is an error at its `file:line:col`.
    public static func parse(_ text: String, file: String, environment: [(String, String)] = []) throws(Failure) -> [(String, String)] {
        var pairs: [(String, String)] = []
        // "\r\n" is one Character in Swift: split on both.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        func lookup(_ name: Substring) -> String {
            pairs.last { $0.0 == name }?.1 ?? environment.last { $0.0 == name }?.1 ?? ""
        }
        var index = 0
        var total = 0
        func fail(_ message: String, line: Int, column: Int) -> Failure {
            Failure(diagnostic: Diagnostic(.error, message, at: SourceLocation(file: file, line: line + 1, column: column), rule: "dotenv"))
        }
        /// Stops a value that grows past the limits while it expands.
        func bound(_ value: String, _ name: Substring, line: Int, column: Int) throws(Failure) {
            let size = value.utf8.count
            if size > maxValueBytes || total + size > maxTotalBytes {
                throw fail(
                    "the value of '\(name)' expands to more than \(size > maxValueBytes ? "1 MiB" : "the file's 16 MiB in all"); does a variable refer to itself again and again?",
                    line: line, column: column)
            }
        }
        while index < lines.count {
            let lineNumber = index
            var rest = Substring(lines[index].drop { $0 == " " || $0 == "\t" })
            index += 1
            if rest.isEmpty || rest.hasPrefix("#") { continue }
            let indent = lines[lineNumber].count - rest.count
            if rest.hasPrefix("export ") { rest = rest.dropFirst(7).drop { $0 == " " } }
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }
            guard let first = name.first, !first.isNumber else {
                throw fail("expected NAME=value", line: lineNumber, column: indent + 1)
            }
            var value = rest.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
            guard value.first == "=" || value.first == ":" else {
                throw fail("expected '=' after '\(name)'", line: lineNumber, column: lines[lineNumber].count - value.count + 1)
            }
            value = value.dropFirst().drop { $0 == " " || $0 == "\t" }
            let valueColumn = lines[lineNumber].count - value.count + 1
            guard let quote = value.first, quote == "\"" || quote == "'" else {
                var bare = value
                if let hash = bare.indices.first(where: { bare[$0] == "#" && $0 > bare.startIndex && " \t".contains(bare[bare.index(before: $0)]) }) {
                    bare = bare[..<hash]
                }
                while let last = bare.last, last == " " || last == "\t" { bare = bare.dropLast() }
                var expanded = ""
                var position = bare.startIndex
                while position < bare.endIndex {
                    let character = bare[position]
                    position = bare.index(after: position)
                    if character == "$" {
                        expanded += expand(bare, &position, lookup)
                        try bound(expanded, name, line: lineNumber, column: valueColumn)
                    } else {
                        expanded.append(character)
                    }
                }
                total += expanded.utf8.count
                pairs.append((String(name), expanded))
                continue
            }
            // A quoted value runs to its closing quote, across lines when needed.
            var text = String(value.dropFirst())
            var result = ""
            var closed = false
            while true {
                var position = text.startIndex
                while position < text.endIndex {
                    let character = text[position]
                    position = text.index(after: position)
                    if character == quote { closed = true; break }
                    if quote == "\"" && character == "$" {
                        result += expand(text[...], &position, lookup)
                        try bound(result, name, line: lineNumber, column: valueColumn)
                        continue
                    }
                    if quote == "\"" && character == "\\" && position < text.endIndex {
                        let next = text[position]
                        position = text.index(after: position)
                        switch next {
                        case "n": result.append("\n")
                        case "r": result.append("\r")
                        case "t": result.append("\t")
                        case "\"", "\\", "$": result.append(next)
                        default: result.append("\\"); result.append(next)
                        }
                        continue
                    }
                    result.append(character)
                }
                if closed {
                    let trailing = text[position...].drop { $0 == " " || $0 == "\t" }
                    guard trailing.isEmpty || trailing.hasPrefix("#") else {
                        let column = lines[index - 1].count - trailing.count + 1
                        throw fail("unexpected text after the closing quote of '\(name)'", line: index - 1, column: column)
                    }
                    break
                }
                guard index < lines.count else {
                    throw fail("unterminated quoted value of '\(name)'", line: lineNumber, column: valueColumn)
                }
                result.append("\n")
                text = String(lines[index])
                index += 1
            }
            total += result.utf8.count
            pairs.append((String(name), result))
        }
        return pairs
    }

    /// After a `$` at `position`: the value of `NAME` or `{NAME}` that follows (moving past it), or `$`.
    static func expand(_ text: Substring, _ position: inout Substring.Index, _ lookup: (Substring) -> String) -> String {
        func isNameCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        if position < text.endIndex, text[position] == "{" {
            let start = text.index(after: position)
            guard let close = text[start...].firstIndex(of: "}"), text[start..<close].allSatisfy(isNameCharacter), start < close else { return "$" }
            position = text.index(after: close)
            return lookup(text[start..<close])
        }
        let name = text[position...].prefix(while: isNameCharacter)
        guard !name.isEmpty else { return "$" }
        position = name.endIndex
        return lookup(name)
    }
}
