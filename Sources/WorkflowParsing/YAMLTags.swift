internal import CYAML

/// Explicit YAML tags, as GitHub's YamlObjectReader reads them (actions/runner,
/// src/Sdk/DTPipelines/Pipelines/ObjectTemplating/YamlObjectReader.cs, `AllowLiteral`):
/// - `tag:yaml.org,2002:string` is a string. (`!!str` is `tag:yaml.org,2002:str`, which the reader
///   does not name, so GitHub refuses `!!str`.)
/// - Any other tag on a quoted or block scalar is refused.
/// - `!!bool`, `!!int`, `!!float` and `!!null` need a value of that type by the YAML 1.2 core schema.
/// - Every other tag (`!!timestamp`, `!!binary`, `!custom`) is refused.
extension YAMLLoader {
    static let coreTag = "tag:yaml.org,2002:"

    /// Checks a scalar's tag; returns whether the value then reads as a plain scalar (typed by the core
    /// schema) rather than as a string.
    static func checkTag(_ tag: String, text: String, style: yaml_scalar_style_t, line: Int, column: Int) throws(Failure) -> Bool {
        func fail(_ message: String) -> Failure { Failure(message: message, line: line, column: column) }
        guard tag.hasPrefix(coreTag) else {
            throw fail("unsupported YAML tag '\(tag)'; a value that starts with '!' must be quoted, and a condition such as '!cancelled()' written as '${{ !cancelled() }}'")
        }
        let name = String(tag.dropFirst(coreTag.count))
        if name == "string" { return false }
        let shown = "!!" + name
        guard ["bool", "int", "float", "null"].contains(name) else {
            let hint = name == "str" ? "; GitHub does not read '!!str': quote the value instead" : ""
            throw fail("unsupported YAML tag '\(shown)': GitHub reads only '!!bool', '!!int', '!!float' and '!!null'\(hint)")
        }
        if style != YAML_PLAIN_SCALAR_STYLE {
            let kind: String
            switch style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: kind = "a single-quoted"
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: kind = "a double-quoted"
            case YAML_LITERAL_SCALAR_STYLE: kind = "a literal block ('|')"
            default: kind = "a folded block ('>')"
            }
            throw fail("the YAML tag '\(shown)' is not valid on \(kind) value: GitHub reads tags on plain values only")
        }
        let valid: Bool
        switch name {
        case "bool": valid = ["true", "True", "TRUE", "false", "False", "FALSE"].contains(text)
        case "null": valid = ["", "null", "Null", "NULL", "~"].contains(text)
        case "int": valid = isCoreInteger(text)
        default: valid = isCoreFloat(text)
        }
        if !valid { throw fail("the value '\(text)' is invalid for the type '\(shown)'") }
        return true
    }

    /// `[0-9]+`, `[-+][0-9]+`, `0x[0-9a-fA-F]+` and `0o[0-7]+`, the last two within 32 bits, as the reader's MatchInteger.
    static func isCoreInteger(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func digits(_ slice: ArraySlice<UInt8>, _ allowed: (UInt8) -> Bool) -> Bool { !slice.isEmpty && slice.allSatisfy(allowed) }
        let decimal = { (b: UInt8) in b >= 48 && b <= 57 }
        guard let first = bytes.first else { return false }
        if decimal(first) && digits(bytes[...], decimal) { return true }
        if (first == 45 || first == 43) && digits(bytes[1...], decimal) { return true }
        if bytes.count > 2 && first == 48 && bytes[1] == UInt8(ascii: "x") {
            return digits(bytes[2...], { decimal($0) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) && Int32(String(text.dropFirst(2)), radix: 16) != nil
        }
        if bytes.count > 2 && first == 48 && bytes[1] == UInt8(ascii: "o") {
            return digits(bytes[2...], { $0 >= 48 && $0 <= 55 }) && Int32(String(text.dropFirst(2)), radix: 8) != nil
        }
        return false
    }

    /// `[-+]?(.inf|.Inf|.INF)`, `.nan|.NaN|.NAN` and `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, as MatchFloat.
    static func isCoreFloat(_ text: String) -> Bool {
        if [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"].contains(text) { return true }
        let bytes = Array(text.utf8)
        var i = 0
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        if i < bytes.count && (bytes[i] == 45 || bytes[i] == 43) { i += 1 }
        var integer = false
        while i < bytes.count && isDigit(bytes[i]) { integer = true; i += 1 }
        var dot = false
        if i < bytes.count && bytes[i] == 46 { dot = true; i += 1 }
        var fraction = false
        while i < bytes.count && isDigit(bytes[i]) { fraction = true; i += 1 }
        guard integer || (dot && fraction) else { return false }
        if i == bytes.count { return true }
        guard bytes[i] == 101 || bytes[i] == 69 else { return false }
        i += 1
        if i < bytes.count && (bytes[i] == 45 || bytes[i] == 43) { i += 1 }
        var exponent = false
        while i < bytes.count && isDigit(bytes[i]) { exponent = true; i += 1 }
        return exponent && i == bytes.count
    }
}
