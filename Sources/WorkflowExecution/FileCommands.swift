/// The files a step writes to talk to the runner (`GITHUB_ENV`, `GITHUB_OUTPUT`, `GITHUB_STATE`,
/// `GITHUB_PATH`), parsed as GitHub's runner parses them after the step exits.
///
/// Source: actions/runner `FileCommandManager.cs` (semantics.md §7).
public enum FileCommands {
    /// A malformed file, with GitHub's message.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    /// `NAME=VALUE` lines and `NAME<<DELIMITER` heredocs, in file order. Empty lines are skipped; a
    /// heredoc's value is every line up to one exactly equal to the delimiter, without its last newline.
    public static func keyValuePairs(_ text: String) throws(Failure) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        var reader = LineReader(text)
        while let line = reader.next() {
            if line.text.isEmpty { continue }
            let equals = line.text.firstRange(of: "=")?.lowerBound
            let heredoc = line.text.firstRange(of: "<<")
            if let equals, heredoc == nil || equals < heredoc!.lowerBound {
                let name = String(line.text[..<equals])
                if name.isEmpty {
                    throw Failure(message: "Invalid format '\(line.text)'. Name must not be empty")
                }
                result.append((name, String(line.text[line.text.index(after: equals)...])))
            } else if let heredoc {
                let name = String(line.text[..<heredoc.lowerBound])
                let delimiter = String(line.text[heredoc.upperBound...])
                if name.isEmpty || delimiter.isEmpty {
                    throw Failure(message: "Invalid format '\(line.text)'. Name must not be empty and delimiter must not be empty")
                }
                var lines: [Substring] = []
                while true {
                    guard let valueLine = reader.next() else {
                        throw Failure(message: "Invalid value. Matching delimiter not found '\(delimiter)'")
                    }
                    if valueLine.text == delimiter { break }
                    if !valueLine.hadNewline {
                        throw Failure(message: "Invalid value. EOF marker missing new line.")
                    }
                    lines.append(valueLine.text)
                }
                result.append((name, lines.joined(separator: "\n")))
            } else {
                throw Failure(message: "Invalid format '\(line.text)'")
            }
        }
        return result
    }

    /// `GITHUB_ENV`: the pairs, with `NODE_OPTIONS` refused as GitHub refuses it.
    public static func environment(_ text: String) throws(Failure) -> [(name: String, value: String)] {
        let pairs = try keyValuePairs(text)
        if pairs.contains(where: { $0.name == "NODE_OPTIONS" }) {
            throw Failure(message: "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.")
        }
        return pairs
    }

    /// `GITHUB_PATH`: one directory per non-empty line (a trailing `\r` dropped).
    public static func pathEntries(_ text: String) -> [String] {
        // Split on Unicode scalars: as Characters, "\r\n" is one grapheme and would not split on "\n".
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.last == "\r" ? String(String.UnicodeScalarView(line.dropLast())) : String(String.UnicodeScalarView(line)) }
            .filter { !$0.isEmpty }
    }

    /// Reads lines split on `\n` (a `\r` before it stays in the line, as on GitHub's Linux runners),
    /// telling whether each ended with a newline.
    struct LineReader {
        private let scalars: String.UnicodeScalarView
        private var index: String.UnicodeScalarView.Index

        init(_ text: String) {
            scalars = text.unicodeScalars
            index = scalars.startIndex
        }

        mutating func next() -> (text: Substring, hadNewline: Bool)? {
            guard index < scalars.endIndex else { return nil }
            if let newline = scalars[index...].firstIndex(of: "\n") {
                let line = Substring(scalars[index..<newline])
                index = scalars.index(after: newline)
                return (line, true)
            }
            let line = Substring(scalars[index...])
            index = scalars.endIndex
            return (line, false)
        }
    }
}

/// The directories prepended to `PATH` by `GITHUB_PATH`, in GitHub's order: the most recently added
/// first; adding one again moves it to the front.
public struct PrependPath: Sendable, Equatable {
    /// In the order they were added.
    public private(set) var added: [String] = []

    public init() {}

    public mutating func add(_ directory: String) {
        added.removeAll { $0 == directory }
        added.append(directory)
    }

    /// `PATH` for a step: the added directories, newest first, then the original value.
    public func path(original: String) -> String {
        let front = added.reversed().joined(separator: ":")
        if front.isEmpty { return original }
        return original.isEmpty ? front : front + ":" + original
    }
}
