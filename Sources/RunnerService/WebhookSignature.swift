import Crypto
public import WebhookReading

/// HMAC-SHA256 signatures of webhook bodies: GitHub's `X-Hub-Signature-256: sha256=<hex>`, Gitea's and
/// Forgejo's `X-Gitea-Signature`/`X-Forgejo-Signature: <hex>` (no prefix).
public enum WebhookSignature {
    /// The signature a forge sends for `body` under `secret`, as hex.
    public static func hex(_ body: [UInt8], secret: [UInt8]) -> String {
        hexDigits(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)))
    }

    /// Bytes as lowercase hex.
    static func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return out
    }

    /// True when one of the given signature headers' values is the body's HMAC under the secret,
    /// compared in constant time (every byte is looked at whatever the first difference).
    public static func verify(_ body: [UInt8], secret: [UInt8], headers: [(name: String, value: String)], forge: Forge) -> Bool {
        let expected = Array(hex(body, secret: secret).utf8)
        var candidates: [String] = []
        for (name, value) in headers {
            switch name.lowercased() {
            case "x-hub-signature-256":
                if value.hasPrefix("sha256=") { candidates.append(String(value.dropFirst(7))) }
            case "x-gitea-signature" where forge != .github, "x-forgejo-signature" where forge == .forgejo:
                candidates.append(value)
            default: break
            }
        }
        return candidates.contains { constantTimeEqual(Array($0.lowercased().utf8), expected) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
