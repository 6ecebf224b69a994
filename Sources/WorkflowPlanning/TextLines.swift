/// Column widths and lines for the plain-text table of `gantry list` and graph of `gantry graph`.
///
/// Lines are built as bytes: appending to a `String` piece by piece, and above all appending a
/// padding substring, went through generic character-by-character paths (a fifth of `gantry list`).
struct TextLines {
    private(set) var bytes: [UInt8] = []

    /// The columns a text takes: its bytes when it is ASCII, nearly always; otherwise its characters,
    /// which takes a walk over grapheme clusters.
    static func width(_ text: String) -> Int {
        var text = text
        let ascii = text.withUTF8 { bytes in !bytes.contains { $0 >= 0x80 } }
        return ascii ? text.utf8.count : text.count
    }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Appends `count` spaces (none when `count` is not positive).
    mutating func pad(_ count: Int) {
        if count > 0 { bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
