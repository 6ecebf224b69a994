extension String {
    /// Whether this text holds `needle`, comparing UTF-8 bytes.
    ///
    /// For the markers and words Gantry looks for in workflow text (`${{`, `::set-output`), where
    /// `String.contains(String)` compares grapheme clusters through _StringProcessing, whose first use
    /// builds generic tables at run time (a tenth of a millisecond each, in a 259-file `validate`).
    public func containsUTF8(_ needle: String) -> Bool {
        var text = self
        var needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { needle in
                guard let first = needle.first else { return true }
                guard haystack.count >= needle.count else { return false }
                var start = 0
                let last = haystack.count - needle.count
                while start <= last {
                    guard haystack[start] == first else {
                        start += 1
                        continue
                    }
                    var matched = 1
                    while matched < needle.count, haystack[start + matched] == needle[matched] { matched += 1 }
                    if matched == needle.count { return true }
                    start += 1
                }
                return false
            }
        }
    }
}
