/// A value's stored properties kept in one heap box that its copies share: copying the value retains
/// one reference instead of each of its fields, and the first change made through a shared box copies
/// the box. `Job` and `JobInstance` keep their fields this way: checking, planning and the run loop copy
/// them often, and each has two dozen fields, most of them references (a 100-job `gantry graph` spent a
/// quarter of its instructions copying and destroying them).
///
/// Equality, hashing and coding are the boxed value's.
@frozen
public struct CopyOnWrite<Value: Sendable>: @unchecked Sendable {
    // Sendable because the box is only ever changed while this value holds the one reference to it.
    @usableFromInline final class Box {
        @usableFromInline var value: Value
        @inlinable init(_ value: Value) { self.value = value }
    }

    @usableFromInline var box: Box

    @inlinable public init(_ value: Value) { box = Box(value) }

    @inlinable public var value: Value {
        _read { yield box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }
}

extension CopyOnWrite: Equatable where Value: Equatable {
    @inlinable public static func == (a: Self, b: Self) -> Bool { a.box === b.box || a.box.value == b.box.value }
}

extension CopyOnWrite: Hashable where Value: Hashable {
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(box.value) }
}

/// Coded as the boxed value itself, so a boxed field keeps its JSON shape.
extension CopyOnWrite: Codable where Value: Codable {
    public init(from decoder: any Decoder) throws { self.init(try Value(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
