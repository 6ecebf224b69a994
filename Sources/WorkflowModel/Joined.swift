extension Array where Element == String {
    /// The strings joined with `separator` between them, as the standard library's `joined(separator:)`
    /// returns them; every module that imports WorkflowModel calls this one for an array of strings.
    ///
    /// The standard library's is generic code that is not specialized for the caller: its first call
    /// instantiates `IndexingIterator<[String]>` and checks `[String]: Collection` by searching all
    /// 12,000 conformance records of the binary, about 0.5 million instructions, a tenth of
    /// `gantry list` (bench/startup.sh).
    @inlinable
    public func joined(separator: String = "") -> String {
        guard var result = first else { return "" }
        var length = 0
        for text in self { length += text.utf8.count }
        result.reserveCapacity(length + separator.utf8.count * (count - 1))
        for text in self[1...] {
            result += separator
            result += text
        }
        return result
    }
}
