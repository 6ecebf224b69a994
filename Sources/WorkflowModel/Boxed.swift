/// An optional part of a value kept on the heap: a `Job` holds several large parts most jobs lack
/// (a container is 440 bytes, a strategy 344), and planning and checking copy jobs often. Boxed, an
/// absent part is one nil pointer and a present one is shared between copies (a set replaces the box).
///
/// Equality, hashing and coding are the wrapped value's: in a synthesized `Codable` the key is absent
/// when the value is nil, as for a plain optional.
@propertyWrapper
public struct Boxed<Wrapped: Sendable>: Sendable {
    private final class Storage: Sendable {
        let value: Wrapped
        init(_ value: Wrapped) { self.value = value }
    }

    private var storage: Storage?

    public init(wrappedValue: Wrapped?) {
        storage = wrappedValue.map(Storage.init)
    }

    public var wrappedValue: Wrapped? {
        get { storage?.value }
        set { storage = newValue.map(Storage.init) }
    }
}

extension Boxed: Equatable where Wrapped: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.wrappedValue == b.wrappedValue }
}

extension Boxed: Hashable where Wrapped: Hashable {
    public func hash(into hasher: inout Hasher) { hasher.combine(wrappedValue) }
}

extension Boxed: Codable where Wrapped: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(wrappedValue: container.decodeNil() ? nil : try container.decode(Wrapped.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = wrappedValue { try container.encode(value) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A boxed part whose key is absent is nil, as a plain optional's would be.
    public func decode<Wrapped: Codable>(_ type: Boxed<Wrapped>.Type, forKey key: Key) throws -> Boxed<Wrapped> {
        Boxed(wrappedValue: try decodeIfPresent(Wrapped.self, forKey: key))
    }
}

extension KeyedEncodingContainer {
    /// A nil boxed part writes no key, as a plain optional does.
    public mutating func encode<Wrapped: Codable>(_ value: Boxed<Wrapped>, forKey key: Key) throws {
        try encodeIfPresent(value.wrappedValue, forKey: key)
    }
}
