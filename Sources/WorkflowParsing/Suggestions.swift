/// The closest candidate to a misspelt name, or nil when none is close enough to be a likely typo.
///
/// A candidate that differs only in case, or by `_` for `-`, always matches; otherwise the edit distance
/// must be at most a third of the name's length (and at least 1).
func closestMatch(to name: String, in candidates: [String]) -> String? {
    let normalized = normalize(name)
    if let exact = candidates.first(where: { normalize($0) == normalized }) { return exact }
    let limit = max(1, name.count / 3)
    let length = name.count
    var best: (String, Int)?
    for candidate in candidates where abs(candidate.count - length) <= limit {
        let distance = editDistance(Array(name.lowercased().unicodeScalars), Array(candidate.lowercased().unicodeScalars))
        if distance <= limit, best == nil || distance < best!.1 {
            best = (candidate, distance)
        }
    }
    return best?.0
}

private func normalize(_ s: String) -> String {
    String(s.lowercased().map { $0 == "_" ? "-" : $0 })
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previousPrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                value = min(value, previousPrevious[j - 2] + 1)
            }
            current[j] = value
        }
        swap(&previousPrevious, &previous)
        swap(&previous, &current)
    }
    return previous[b.count]
}
