public import Foundation

/// Compares text with a golden file, or records it.
///
/// Recording happens when the golden file does not exist yet or when `GANTRY_RECORD=1` is set; a
/// recording is reported as a failure so that a run that rewrote files never passes unnoticed
/// (ArgumentParser's snapshot rule).
public enum GoldenFile {
    /// What a comparison found.
    public enum Outcome: Equatable, Sendable {
        case match
        case recorded(path: String)
        case mismatch(expected: String, actual: String, diff: String)

        /// A message for a failed comparison, nil when it matched.
        public var failureMessage: String? {
            switch self {
            case .match: return nil
            case .recorded(let path): return "recorded new golden file \(path); review it and run again"
            case .mismatch(_, _, let diff): return "output differs from golden file:\n\(diff)"
            }
        }
    }

    /// Whether record mode is on.
    public static var isRecording: Bool {
        ProcessInfo.processInfo.environment["GANTRY_RECORD"].map { $0 == "1" || $0 == "true" } ?? false
    }

    public static func check(_ actual: String, against path: String) -> Outcome {
        let existing = try? String(contentsOfFile: path, encoding: .utf8)
        if isRecording || existing == nil {
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
            return existing == actual ? .match : .recorded(path: path)
        }
        guard let expected = existing, expected != actual else { return .match }
        return .mismatch(expected: expected, actual: actual, diff: lineDiff(expected: expected, actual: actual))
    }

    /// A small line diff: `-` lines only in the golden file, `+` lines only in the output.
    public static func lineDiff(expected: String, actual: String) -> String {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let oldSet = Set(old)
        let newSet = Set(new)
        var out: [String] = []
        for line in old where !newSet.contains(line) { out.append("- " + line) }
        for line in new where !oldSet.contains(line) { out.append("+ " + line) }
        if out.isEmpty { out.append("(same lines, different order or count)") }
        return out.joined(separator: "\n")
    }
}
