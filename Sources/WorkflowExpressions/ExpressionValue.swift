/// A value of GitHub's expression language: null, boolean, number, string, array or object.
///
/// Arrays and objects are references: `==` compares them by identity, as GitHub does (`{} == {}` is
/// false, `obj == obj` is true).
public enum ExpressionValue: Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array(ExpressionArray)
    case object(ExpressionObject)

    /// Builds an array value.
    public static func array(_ items: [ExpressionValue]) -> ExpressionValue { .array(ExpressionArray(items)) }

    /// Builds an object value from pairs in order; a later key equal (ignoring case) to an earlier one
    /// is dropped.
    public static func object(_ pairs: [(String, ExpressionValue)]) -> ExpressionValue { .object(ExpressionObject(pairs)) }

    /// The kind's name as GitHub's test vectors spell it.
    public var kindName: String {
        switch self {
        case .null: return "Null"
        case .bool: return "Boolean"
        case .number: return "Number"
        case .string: return "String"
        case .array: return "Array"
        case .object: return "Object"
        }
    }

    /// Null, booleans, numbers and strings are primitives.
    public var isPrimitive: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    /// Falsy: null, false, 0, NaN and ''. Arrays and objects are truthy.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return !(n == 0 || n.isNaN)
        case .string(let s): return !s.isEmpty
        case .array, .object: return true
        }
    }

    /// The value as a number for comparisons: null and false are 0, true is 1, strings are parsed,
    /// arrays and objects are NaN.
    public var numberValue: Double {
        switch self {
        case .null: return 0
        case .bool(let b): return b ? 1 : 0
        case .number(let n): return n
        case .string(let s): return ExpressionNumber.parse(s)
        case .array, .object: return .nan
        }
    }

    /// The value as a string, as functions and interpolation see it: null is '', numbers use GitHub's
    /// 15-significant-digit form, arrays are 'Array' and objects 'Object'.
    public var stringValue: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return ExpressionNumber.format(n)
        case .string(let s): return s
        case .array: return "Array"
        case .object: return "Object"
        }
    }

    /// Compact JSON, for messages and `gantry eval`.
    public var description: String { JSONText.compact(self) }
}

/// An immutable array with identity.
public final class ExpressionArray: Sendable {
    public let items: [ExpressionValue]
    /// True for the result of an object filter (`a.*`), whose further index operations apply to each
    /// item rather than to the array.
    let isFiltered: Bool

    public init(_ items: [ExpressionValue]) {
        self.items = items
        self.isFiltered = false
    }

    init(_ items: [ExpressionValue], filtered: Bool) {
        self.items = items
        self.isFiltered = filtered
    }
}

/// An immutable object with identity: keys keep their order and are looked up ignoring case.
public final class ExpressionObject: Sendable {
    public let pairs: [(key: String, value: ExpressionValue)]
    private let index: [String: Int]

    public init(_ pairs: [(String, ExpressionValue)]) {
        var kept: [(key: String, value: ExpressionValue)] = []
        var index = [String: Int](minimumCapacity: pairs.count)
        kept.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            let folded = key.lowercased()
            if index[folded] != nil { continue }
            index[folded] = kept.count
            kept.append((key, value))
        }
        self.pairs = kept
        self.index = index
    }

    /// The value for a key, ignoring case.
    public subscript(key: String) -> ExpressionValue? {
        guard let i = index[key.lowercased()] else { return nil }
        return pairs[i].value
    }

    public var values: [ExpressionValue] { pairs.map(\.value) }
}

// MARK: - Comparison

extension ExpressionValue {
    /// Brings two values to a common kind for `==` and ordering (GitHub's `CoerceTypes`): number against
    /// string parses the string; booleans and null become numbers; arrays and objects never convert.
    static func coerce(_ lhs: ExpressionValue, _ rhs: ExpressionValue) -> (ExpressionValue, ExpressionValue) {
        switch (lhs, rhs) {
        case (.number, .string(let s)): return (lhs, .number(ExpressionNumber.parse(s)))
        case (.string(let s), .number): return (.number(ExpressionNumber.parse(s)), rhs)
        case (.null, .null), (.bool, .bool): return (lhs, rhs)
        case (.null, _), (.bool, _): return coerce(.number(lhs.numberValue), rhs)
        case (_, .null), (_, .bool): return coerce(lhs, .number(rhs.numberValue))
        default: return (lhs, rhs)
        }
    }

    /// GitHub's loose equality: strings ignore case, NaN equals nothing, arrays and objects by identity.
    public static func looselyEqual(_ lhs: ExpressionValue, _ rhs: ExpressionValue) -> Bool {
        switch coerce(lhs, rhs) {
        case (.null, .null): return true
        case (.number(let a), .number(let b)): return !a.isNaN && !b.isNaN && a == b
        case (.string(let a), .string(let b)): return StringComparison.foldedUTF16(a) == StringComparison.foldedUTF16(b)
        case (.bool(let a), .bool(let b)): return a == b
        case (.array(let a), .array(let b)): return a === b
        case (.object(let a), .object(let b)): return a === b
        default: return false
        }
    }

    /// `lhs < rhs` after coercion; false whenever the kinds differ or a NaN is involved.
    public static func lessThan(_ lhs: ExpressionValue, _ rhs: ExpressionValue) -> Bool {
        switch coerce(lhs, rhs) {
        case (.number(let a), .number(let b)): return !a.isNaN && !b.isNaN && a < b
        case (.string(let a), .string(let b)):
            return StringComparison.foldedUTF16(a).lexicographicallyPrecedes(StringComparison.foldedUTF16(b))
        case (.bool(let a), .bool(let b)): return !a && b
        default: return false
        }
    }

    /// `lhs > rhs`, the mirror of `lessThan`.
    public static func greaterThan(_ lhs: ExpressionValue, _ rhs: ExpressionValue) -> Bool {
        switch coerce(lhs, rhs) {
        case (.number(let a), .number(let b)): return !a.isNaN && !b.isNaN && a > b
        case (.string(let a), .string(let b)):
            return StringComparison.foldedUTF16(b).lexicographicallyPrecedes(StringComparison.foldedUTF16(a))
        case (.bool(let a), .bool(let b)): return a && !b
        default: return false
        }
    }
}

/// Ordinal, case-insensitive string comparison as GitHub does it: upper-case both sides (leaving the
/// dotless 'ı' alone) and compare UTF-16 code units.
enum StringComparison {
    static func folded(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            return s.uppercased()
        }
        // One scalar at a time, as .NET's invariant upper-casing does: a scalar whose upper case is
        // several scalars ('ß' → "SS") and the dotless 'ı' stay as they are.
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            if scalar.isASCII {
                out.append(scalar >= "a" && scalar <= "z" ? Unicode.Scalar(scalar.value - 32)! : scalar)
                continue
            }
            if scalar == "ı" {
                out.append(scalar)
                continue
            }
            let upper = scalar.properties.uppercaseMapping.unicodeScalars
            if upper.count == 1, let single = upper.first {
                out.append(single)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func foldedUTF16(_ s: String) -> [UInt16] {
        Array(folded(s).utf16)
    }

    /// Case-insensitive substring, prefix and suffix tests on folded text.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = foldedUTF16(haystack)
        let n = foldedUTF16(needle)
        if n.isEmpty { return true }
        guard n.count <= h.count else { return false }
        for start in 0...(h.count - n.count) where h[start] == n[0] {
            if h[start..<(start + n.count)].elementsEqual(n) { return true }
        }
        return false
    }

    static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        foldedUTF16(s).starts(with: foldedUTF16(prefix))
    }

    static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        let a = foldedUTF16(s)
        let b = foldedUTF16(suffix)
        return b.count <= a.count && a[(a.count - b.count)...].elementsEqual(b)
    }
}
