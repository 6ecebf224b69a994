#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Number parsing and printing as GitHub's expression engine does them.
public enum ExpressionNumber {
    /// Parses a string as a number: whitespace trimmed; empty is 0; a decimal with optional sign,
    /// fraction and exponent; `Infinity` with optional sign; `0x` hex and `0o` octal; anything else NaN.
    public static func parse(_ text: String) -> Double {
        let trimmed = trimWhitespace(text)
        if trimmed.isEmpty { return 0 }
        return parseLiteral(trimmed) ?? .nan
    }

    /// A number literal without surrounding whitespace, or nil.
    static func parseLiteral(_ s: Substring) -> Double? {
        switch s {
        case "Infinity", "+Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        let bytes = Array(s.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "x") || bytes[1] == UInt8(ascii: "o") {
            let radix: Double = bytes[1] == UInt8(ascii: "x") ? 16 : 8
            var value: Double = 0
            for b in bytes[2...] {
                guard let d = digit(b), Double(d) < radix else { return nil }
                value = value * radix + Double(d)
            }
            return value
        }
        var i = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < bytes.count, isDecimal(bytes[i]) { i += 1; digits += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, isDecimal(bytes[i]) { i += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            var exponentDigits = 0
            while i < bytes.count, isDecimal(bytes[i]) { i += 1; exponentDigits += 1 }
            guard exponentDigits > 0 else { return nil }
        }
        guard i == bytes.count else { return nil }
        // Swift's parser rejects a trailing '.', which the grammar above allows ("1." is 1).
        var text = String(s)
        if text.hasSuffix(".") { text.removeLast() }
        if text.hasPrefix("+") { text.removeFirst() }
        if text.hasPrefix(".") { text = "0" + text }
        if text.hasPrefix("-.") { text = "-0" + text.dropFirst() }
        return Double(text.replacingDotBeforeExponent())
    }

    /// GitHub's number-to-string: at most 15 significant digits (`G15`), `-0` as `0`, `Infinity`,
    /// `-Infinity` and `NaN` by name.
    public static func format(_ n: Double) -> String {
        if n.isNaN { return "NaN" }
        if n.isInfinite { return n < 0 ? "-Infinity" : "Infinity" }
        if n == 0 { return "0" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = withVaList([n]) { vsnprintf(&buffer, buffer.count, "%.15G", $0) }
        let text = String(decoding: buffer.prefix(Int(max(0, count))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text
    }

    /// Numbers in `toJSON` output: the shortest text that reads back to the same value, as JSON
    /// serialisers print it; integers up to 1e21 in full; `-0` as `0`.
    public static func json(_ n: Double) -> String {
        if n.isNaN || n.isInfinite { return "null" }
        if n == 0 { return "0" }
        if n == n.rounded(), abs(n) < 9.0e15 { return String(Int64(n)) }
        let text = n.description
        if text.hasSuffix(".0") { return String(text.dropLast(2)) }
        return text
    }

    static func trimWhitespace(_ s: String) -> Substring {
        var sub = Substring(s)
        while let first = sub.first, first.isWhitespace { sub.removeFirst() }
        while let last = sub.last, last.isWhitespace { sub.removeLast() }
        return sub
    }

    /// Whether `b` is an ASCII digit `0`–`9`.
    public static func isDecimal(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// The value of a hexadecimal digit (`0`–`9`, `a`–`f`, `A`–`F`), else nil.
    public static func digit(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}

extension String {
    /// "1.e5" → "1e5": Swift's parser wants a digit after the point.
    fileprivate func replacingDotBeforeExponent() -> String {
        guard let e = firstIndex(where: { $0 == "e" || $0 == "E" }), e > startIndex else { return self }
        let before = index(before: e)
        guard self[before] == "." else { return self }
        return String(self[..<before]) + String(self[e...])
    }
}
