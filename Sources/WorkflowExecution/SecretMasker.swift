import Synchronization
import WorkflowExpressions

/// Replaces every secret and `::add-mask::` value with `***` in everything Gantry prints or stores.
///
/// A multi-line value is also registered line by line; JSON-escaped and URL-encoded forms of each value
/// are registered too, as GitHub's runner registers encoded variants. Overlapping matches merge into one
/// `***`.
public struct SecretMasker: Sendable {
    private var values: Set<String> = []
    private var ordered: [[UInt8]] = []

    public init() {}

    /// The number of distinct strings being masked (variants included).
    public var count: Int { ordered.count }

    /// Registers a secret; empty values and lone whitespace are ignored.
    public mutating func add(_ secret: String) {
        var candidates = [secret]
        if secret.contains("\n") || secret.contains("\r") {
            candidates += secret.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).map(String.init)
        }
        for value in candidates where !value.trimmingSpaces.isEmpty {
            for variant in [value, Self.jsonEscaped(value), Self.urlEncoded(value)] {
                let trimmed = variant.trimmingSpaces
                guard !trimmed.isEmpty, values.insert(trimmed).inserted else { continue }
                ordered.append(Array(trimmed.utf8))
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        ordered.sort { $0.count > $1.count }
    }

    /// Also masks what `other` masks (the values a background step registered while it ran).
    public mutating func absorb(_ other: SecretMasker) {
        let new = other.values.subtracting(values)
        guard !new.isEmpty else { return }
        values.formUnion(new)
        ordered += new.map { Array($0.utf8) }
        ordered.sort { $0.count > $1.count }
    }

    /// `text` with every registered value replaced by `***`.
    public func mask(_ text: String) -> String {
        guard !ordered.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        for secret in ordered where secret.count <= bytes.count {
            var i = 0
            let first = secret[0]
            while i + secret.count <= bytes.count {
                if bytes[i] == first, bytes[i..<(i + secret.count)].elementsEqual(secret) {
                    ranges.append(i..<(i + secret.count))
                    i += secret.count
                } else {
                    i += 1
                }
            }
        }
        guard !ranges.isEmpty else { return text }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var position = 0
        for range in merged {
            out += bytes[position..<range.lowerBound]
            out += Array("***".utf8)
            position = range.upperBound
        }
        out += bytes[position...]
        return String(decoding: out, as: UTF8.self)
    }

    /// The value as it appears inside a JSON string (the escaping `toJSON` uses).
    static func jsonEscaped(_ s: String) -> String {
        var quoted = ""
        JSONText.quote(s, into: &quoted)
        return String(quoted.dropFirst().dropLast())
    }

    static func urlEncoded(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            let c = Unicode.Scalar(byte)
            if (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-._~".unicodeScalars.contains(c) {
                out.unicodeScalars.append(c)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

/// A job's masks, shared by every step that runs at once: an `::add-mask::` in one background step
/// masks the lines every other step prints from then on, as the runner's one masker does.
final class MaskRegistry: Sendable {
    private let masker: Mutex<SecretMasker>

    init(_ masker: SecretMasker) { self.masker = Mutex(masker) }

    func mask(_ text: String) -> String { masker.withLock { $0.mask(text) } }
    func add(_ secret: String) { masker.withLock { $0.add(secret) } }
    func absorb(_ other: SecretMasker) { masker.withLock { $0.absorb(other) } }
    var snapshot: SecretMasker { masker.withLock { $0 } }
}
