import Testing
@testable import ContentCache

/// OpenSSL's SHA-256 (opened at run time) and swift-crypto's (used where libcrypto is missing) give
/// the same digests, the FIPS 180-2 vectors among them.
@Suite struct ContentDigestTests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ]

    @Test func libcryptoIsOpenedHere() {
        #expect(LibCrypto.shared != nil)
    }

    @Test func bothImplementationsGiveTheKnownDigests() {
        for portable in [false, true] {
            for (text, digest) in Self.vectors {
                var hasher = ContentDigest.Hasher(portable: portable)
                hasher.update(Array(text.utf8))
                #expect(ContentDigest.hex(hasher.finalize()) == digest, "portable: \(portable), '\(text)'")
            }
        }
    }

    @Test func chunkedInputGivesTheSameDigestEitherWay() {
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var digests: [String] = []
        for portable in [false, true] {
            var hasher = ContentDigest.Hasher(portable: portable)
            var offset = 0
            for size in [1, 63, 64, 65, 4096, 100_000] {
                hasher.update(Array(bytes[offset..<offset + size]))
                offset += size
            }
            hasher.update(Array(bytes[offset...]))
            digests.append(ContentDigest.hex(hasher.finalize()))
        }
        #expect(digests[0] == digests[1])
        var whole = ContentDigest.Hasher()
        whole.update(bytes)
        #expect(ContentDigest.hex(whole.finalize()) == digests[0])
    }
}
