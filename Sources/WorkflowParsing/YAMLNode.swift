import WorkflowExpressions

/// A YAML node with its position, as the loader builds it from libyaml's events.
///
/// Aliases are resolved into copies of the anchored node (values are copy-on-write, so this is cheap);
/// the copy keeps the anchored node's marks, so diagnostics point at what was written.
struct YAMLNode: Sendable {
    enum Kind: Sendable {
        /// `plain` is true for unquoted flow scalars, the only ones the core schema resolves.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    var kind: Kind
    /// 1-based.
    var line: Int
    /// 1-based, in Unicode scalars.
    var column: Int
    /// Nodes in this subtree, counted to stop alias bombs.
    var weight: Int
    /// Levels of collections in this subtree (0 for a scalar), to stop aliases from nesting too deep.
    var depth: Int = 0

    var kindDescription: String {
        switch kind {
        case .scalar(let text, let plain):
            guard plain else { return "a string" }
            switch resolvePlainScalar(text) {
            case .null: return "null"
            case .bool: return "a boolean"
            case .number: return "a number"
            default: return "a string"
            }
        case .sequence: return "a sequence"
        case .mapping: return "a mapping"
        }
    }

    /// The scalar text, or nil for collections.
    var scalar: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    /// True for a plain scalar that resolves to null (`~`, `null`, empty).
    var isNull: Bool {
        if case .scalar(let text, true) = kind, case .null = resolvePlainScalar(text) { return true }
        return false
    }
}

/// One key/value pair of a YAML mapping.
struct YAMLPair: Sendable {
    var key: YAMLNode
    var value: YAMLNode
}

/// Resolves a plain scalar with the YAML 1.2 core schema, as GitHub's workflow parser does.
func resolvePlainScalar(_ text: String) -> ValueNodeScalar {
    // Every word below has at most 5 bytes and starts with one of these: most keys and values skip
    // the twenty string comparisons.
    if let first = text.utf8.first, text.utf8.count > 5 || !"~nNtTfF.+-".utf8.contains(first) {
        return isCoreNumberStart(first) ? parseCoreNumber(text).map { .number($0) } ?? .string : .string
    }
    switch text {
    case "", "~", "null", "Null", "NULL": return .null
    case "true", "True", "TRUE": return .bool(true)
    case "false", "False", "FALSE": return .bool(false)
    case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
    case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
    case ".nan", ".NaN", ".NAN": return .number(.nan)
    default: break
    }
    guard let first = text.utf8.first, isCoreNumberStart(first) else { return .string }
    if let n = parseCoreNumber(text) { return .number(n) }
    return .string
}

private func isCoreNumberStart(_ first: UInt8) -> Bool {
    first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
}

/// The resolved kind of a plain scalar.
enum ValueNodeScalar {
    case null
    case bool(Bool)
    case number(Double)
    case string
}

/// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`, `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
private func parseCoreNumber(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
        if bytes[1] == UInt8(ascii: "x") {
            var value: Double = 0
            for b in bytes[2...] {
                guard let d = ExpressionNumber.digit(b) else { return nil }
                value = value * 16 + Double(d)
            }
            return value
        }
        if bytes[1] == UInt8(ascii: "o") {
            var value: Double = 0
            for b in bytes[2...] {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "7") else { return nil }
                value = value * 8 + Double(b - UInt8(ascii: "0"))
            }
            return value
        }
    }
    var i = 0
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
    var intDigits = 0
    while i < bytes.count, ExpressionNumber.isDecimal(bytes[i]) { i += 1; intDigits += 1 }
    var fracDigits = 0
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
        i += 1
        while i < bytes.count, ExpressionNumber.isDecimal(bytes[i]) { i += 1; fracDigits += 1 }
    }
    guard intDigits > 0 || fracDigits > 0 else { return nil }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        i += 1
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
        var expDigits = 0
        while i < bytes.count, ExpressionNumber.isDecimal(bytes[i]) { i += 1; expDigits += 1 }
        guard expDigits > 0 else { return nil }
    }
    guard i == bytes.count else { return nil }
    return Double(text)
}

extension String {
    /// Whether the text holds `${{`, found by a byte scan (the generic `contains` is much slower).
    var hasExpressionMarker: Bool { ExpressionTemplate.containsExpression(self) }
}
