/// Maps offsets inside a YAML scalar's value back to file positions, for errors inside `${{ }}`.
///
/// Built only when a diagnostic needs it. The value and its source text are walked side by side, so
/// quotes, block-scalar indentation and line folding are accounted for.
struct SourceMap {
    let scalars: [Unicode.Scalar]
    /// Index of the first scalar of each line; line n (1-based) starts at `lineStarts[n - 1]`.
    let lineStarts: [Int]

    init(_ bytes: [UInt8]) {
        scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        var starts = [0]
        for (i, c) in scalars.enumerated() where c == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    func index(line: Int, column: Int) -> Int {
        guard line >= 1, line <= lineStarts.count else { return scalars.count }
        return min(lineStarts[line - 1] + column - 1, scalars.count)
    }

    func position(of index: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return (low + 1, index - lineStarts[low] + 1)
    }

    /// How a scalar was written, which decides how its source maps to its value.
    enum Style {
        case plain, singleQuoted, doubleQuoted, block
    }

    /// Where the value of the scalar written at (line, column) starts, after any `&anchor` and `!tag`,
    /// an opening quote, or a block scalar's header line; and the scalar's style.
    func valueStart(line: Int, column: Int) -> (index: Int, style: Style) {
        var i = index(line: line, column: column)
        // Anchors and tags come before the value, each followed by spaces.
        while i < scalars.count, scalars[i] == "&" || scalars[i] == "!" {
            while i < scalars.count, !Self.isSpace(scalars[i]) { i += 1 }
            while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        }
        guard i < scalars.count else { return (i, .plain) }
        switch scalars[i] {
        case "'":
            return (i + 1, .singleQuoted)
        case "\"":
            return (i + 1, .doubleQuoted)
        case "|", ">":
            while i < scalars.count, scalars[i] != "\n" { i += 1 }
            while i < scalars.count, scalars[i] == "\n" || scalars[i] == " " || scalars[i] == "\t" || scalars[i] == "\r" { i += 1 }
            return (i, .block)
        default:
            return (i, .plain)
        }
    }

    /// The file index of `offset` (in Unicode scalars) within `value`, whose text starts at `start`.
    func locate(value: String, offset: Int, from start: Int, style: Style) -> Int {
        let v = Array(value.unicodeScalars)
        var si = start
        var vi = 0
        while vi < offset, vi < v.count, si < scalars.count {
            let s = scalars[si]
            let c = v[vi]
            if style == .singleQuoted, s == "'", si + 1 < scalars.count, scalars[si + 1] == "'" {
                si += 2  // '' is one quote
                vi += 1
            } else if style == .doubleQuoted, s == "\\", si + 1 < scalars.count {
                let e = scalars[si + 1]
                switch e {
                case "x": si += 4
                case "u": si += 6
                case "U": si += 10
                case "\n", "\r":
                    // A line continuation: the break and the next line's indentation vanish.
                    si += 2
                    while si < scalars.count, scalars[si] == " " || scalars[si] == "\t" || scalars[si] == "\n" { si += 1 }
                    continue
                default: si += 2
                }
                vi += 1
            } else if s == c {
                si += 1
                vi += 1
            } else if Self.isSpace(s) {
                // Indentation or a folded line break in the source.
                si += 1
                if Self.isSpace(c) { vi += 1 }
            } else if Self.isSpace(c) {
                vi += 1
            } else {
                si += 1
                vi += 1
            }
        }
        return si
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r"
    }
}
