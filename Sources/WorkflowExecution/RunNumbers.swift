/// `github.run_id` and `github.run_number` of the runs on this machine, as GitHub counts them: every
/// workflow run gets an id no other run has had, and a number one higher than the last run of the same
/// workflow in the same repository. Kept in one small file (`key value` lines: `#id` for the last id,
/// a hash of repository and workflow file for each last number), changed only under an exclusive
/// `flock`, so concurrent `gantry run`s never share an id or a number.
public struct RunNumbers: Sendable {
    public let path: String

    public init(directory: String) {
        Files.makeDirectory(directory)
        path = directory + "/run-numbers"
    }

    public struct Numbers: Sendable, Equatable {
        public var id: Int
        public var number: Int
    }

    /// The next id, and the next number of `workflow` in `repository`; nil when the file cannot be used
    /// (the run then keeps GitHub's first values, 1 and 1).
    public func next(repository: String, workflow: String) -> Numbers? {
        var numbers: Numbers?
        do throws(LockedFileError) {
            try Files.updateLocked(path) { text in
                var values: [(String, Int)] = text.split(separator: "\n").compactMap { line in
                    let fields = line.split(separator: " ")
                    guard fields.count == 2, let value = Int(fields[1]) else { return nil }
                    return (String(fields[0]), value)
                }
                func bump(_ key: String) -> Int {
                    let next = (values.first { $0.0 == key }?.1 ?? 0) + 1
                    values.removeAll { $0.0 == key }
                    values.append((key, next))
                    return next
                }
                numbers = Numbers(id: bump("#id"), number: bump(ConcurrencyStore.fnv1a(repository + "\n" + workflow)))
                return values.map { "\($0.0) \($0.1)\n" }.joined()
            }
        } catch {
            return nil
        }
        return numbers
    }
}
