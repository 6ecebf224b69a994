/// What happens in a run, as it happens: what `--json` streams. Text fields are already masked.
public enum RunEvent: Sendable {
    case jobStarted(job: String)
    case jobFinished(job: String, result: JobResult, seconds: Double)
    case stepStarted(job: String, step: String)
    /// `outcome` before `continue-on-error`, `conclusion` after it, as in the `steps` context.
    case stepFinished(job: String, step: String, outcome: JobResult, conclusion: JobResult, seconds: Double)

    /// The console line a text renderer prints for the event, if any (the job is the line's prefix).
    public var text: String? {
        switch self {
        case .jobStarted, .jobFinished: nil
        case .stepStarted(_, let step): "▶ \(step)"
        case .stepFinished(_, let step, let outcome, _, let seconds):
            "\(outcome == .success ? "✓" : outcome == .cancelled ? "⊘" : "✗") \(step) (\(formatDuration(seconds)))"
        }
    }

    public var job: String {
        switch self {
        case .jobStarted(let job), .jobFinished(let job, _, _), .stepStarted(let job, _), .stepFinished(let job, _, _, _, _): job
        }
    }

    /// The same event under another job name (a display name given by the executor).
    func renamed(_ name: String) -> RunEvent {
        switch self {
        case .jobStarted: .jobStarted(job: name)
        case .jobFinished(_, let result, let seconds): .jobFinished(job: name, result: result, seconds: seconds)
        case .stepStarted(_, let step): .stepStarted(job: name, step: step)
        case .stepFinished(_, let step, let outcome, let conclusion, let seconds):
            .stepFinished(job: name, step: step, outcome: outcome, conclusion: conclusion, seconds: seconds)
        }
    }
}

/// A duration as the console shows it: `12 ms`, `3.4 s`, `2 min 5 s`.
func formatDuration(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int(seconds * 1000)) ms" : seconds < 60 ? String(Int(seconds * 10) / 10) + "." + String(Int(seconds * 10) % 10) + " s" : "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
}
