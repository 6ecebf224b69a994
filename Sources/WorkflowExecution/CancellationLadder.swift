#if canImport(Glibc)
import Glibc
#endif

/// GitHub's cancellation of a running step, as a value: a cancel (or the step's time limit) sends
/// SIGINT to the step's processes, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. One ladder for
/// host and container steps; the caller waits until `deadline`, then asks `climb`.
public struct CancellationLadder: Sendable {
    public enum Rung: Int, Sendable { case running, interrupted, terminated, killed }

    public let start: Double
    /// Seconds before the step is cancelled as timed out; nil for no limit.
    public let timeout: Double?
    public var interruptGrace: Double = 7.5
    public var terminateGrace: Double = 2.5
    public private(set) var rung = Rung.running
    public private(set) var since = 0.0
    /// The time limit (not a cancel) started the ladder.
    public private(set) var timedOut = false

    public init(start: Double, timeout: Double?, interruptGrace: Double = 7.5, terminateGrace: Double = 2.5) {
        self.start = start
        self.timeout = timeout
        self.interruptGrace = interruptGrace
        self.terminateGrace = terminateGrace
    }

    /// When the next rung is due without a cancel; nil when nothing is.
    public var deadline: Double? {
        switch rung {
        case .running: timeout.map { start + $0 }
        case .interrupted: since + interruptGrace
        case .terminated: since + terminateGrace
        case .killed: nil
        }
    }

    /// Climbs one rung when a cancel was asked (from the first rung) or the deadline has passed, and
    /// returns the signal to send; nil when nothing is due.
    public mutating func climb(now: Double, cancelRequested: Bool) -> Int32? {
        let cancelNow = cancelRequested && rung == .running
        let due = deadline.map { now >= $0 } ?? false
        guard cancelNow || due, let next = Rung(rawValue: rung.rawValue + 1) else { return nil }
        if rung == .running && !cancelNow { timedOut = true }
        rung = next
        since = now
        switch next {
        case .running: return nil
        case .interrupted: return SIGINT
        case .terminated: return SIGTERM
        case .killed: return SIGKILL
        }
    }

    /// The signal's name as `kill -s` takes it.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "INT"
        case SIGTERM: "TERM"
        default: "KILL"
        }
    }
}
