/// A positioned, untyped value from the workflow file, kept where GitHub keeps arbitrary data:
/// `with:`, `env:`, matrix vectors, input defaults.
///
/// Scalars are resolved with the YAML 1.2 core schema, as GitHub's parser does: `true`/`false`
/// (any case form YAML allows) are booleans, `yes`/`no`/`on`/`off` are strings; `null`, `~` and an empty
/// plain scalar are null; decimal, `0x` and `0o` integers and floats (with `.inf`, `.nan`) are numbers.
public struct ValueNode: Hashable, Sendable, Codable {
    /// The shape of a value.
    public indirect enum Kind: Hashable, Sendable, Codable {
        case null
        case bool(Bool)
        /// A number and the text it was written as (`3.10` stays visible for diagnostics).
        case number(Double, text: String)
        case string(String)
        case sequence([ValueNode])
        case mapping([MappingEntry])
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The scalar as text: strings as they are, booleans as `true`/`false`, numbers as written, null as
    /// empty; `nil` for sequences and mappings.
    public var scalarText: String? {
        switch kind {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(_, let text): return text
        case .string(let s): return s
        case .sequence, .mapping: return nil
        }
    }

    /// A word for the kind, for messages: "a string", "a mapping"…
    public var kindDescription: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .sequence: return "a sequence"
        case .mapping: return "a mapping"
        }
    }
}

/// One `key: value` pair of a mapping, in file order.
public struct MappingEntry: Hashable, Sendable, Codable {
    public var key: Located<String>
    public var value: ValueNode

    public init(key: Located<String>, value: ValueNode) {
        self.key = key
        self.value = value
    }
}

extension Array where Element == MappingEntry {
    /// The value of the first entry whose key equals `key` exactly.
    public subscript(key key: String) -> ValueNode? {
        first { $0.key.value == key }?.value
    }
}
