import Dispatch
import Synchronization
import WorkflowModel

/// Where a running step's process handle is kept, so that cancellation reaches it.
final class StepSlot: Sendable {
    private let running = Mutex<(handle: HostProcess.Handle, survivesCancel: Bool)?>(nil)
    /// Set by a forced interrupt (a `cancel` step, or the job's cancellation of a background step):
    /// every later process of the step (a composite's next one) is interrupted as it starts.
    private let stopped = Atomic<Bool>(false)
    /// Engine calls of the step to abandon when it is stopped (a Docker action's image build).
    private let calls = Mutex<[ExecCancellation]>([])

    /// Whether a forced interrupt stopped the step (its composite then ends cancelled).
    var isStopped: Bool { stopped.load(ordering: .sequentiallyConsistent) }

    func track(_ call: ExecCancellation) {
        calls.withLock { $0.append(call) }
        if isStopped { call.cancel() }
    }

    func untrack(_ call: ExecCancellation) { calls.withLock { $0.removeAll { $0 === call } } }

    func enter(_ handle: HostProcess.Handle, survivesCancel: Bool) {
        running.withLock { $0 = (handle, survivesCancel) }
        if stopped.load(ordering: .sequentiallyConsistent) { handle.cancel() }
    }

    func leave() { running.withLock { $0 = nil } }

    /// Starts the running process's SIGINT → SIGTERM → SIGKILL sequence. Without `evenIfItSurvivesCancel`
    /// a step whose `if` still holds for a cancelled job (`always()`) goes on.
    func interrupt(evenIfItSurvivesCancel force: Bool) {
        if force { stopped.store(true, ordering: .sequentiallyConsistent) }
        running.withLock { step in
            if let step, force || !step.survivesCancel { step.handle.cancel() }
        }
        if force { for call in calls.withLock({ $0 }) { call.cancel() } }
    }
}

/// A background step's lines, labelled with its name: several steps print at once.
struct LabelledOutput: RunOutput {
    let base: any RunOutput
    let label: String

    func line(_ instance: String, _ text: String) { base.line(instance, label + " | " + text) }
    func line(_ instance: String, _ text: String, to destination: OutputDestination) {
        base.line(instance, label + " | " + text, to: destination)
    }
    func event(_ event: RunEvent) { base.event(event) }
}

/// Hands a value that is not `Sendable` to one other thread.
///
/// `@unchecked Sendable`: the value is used by one thread at a time: the background step's thread until
/// it signals its end (a semaphore, which orders the memory), then the job's thread only.
final class Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One background step: launched by the job's step loop, run on its own thread once a slot is free,
/// its effects handed back when a `wait`, `wait-all` or `cancel` names it (actions/runner's
/// BackgroundStepCoordinator).
final class BackgroundStep: Sendable {
    /// The step's id (nil without one) and display name.
    let id: String?
    let name: String
    let step: Step
    let slot = StepSlot()
    /// Cancelled by a `cancel` step: a cancelled result then leaves the job's result alone.
    let explicitlyCancelled = Atomic<Bool>(false)

    enum Phase: Sendable {
        case queued, running
        case finished(JobRunner.StepResult, Handoff<JobRunner.JobState>)
        case neverStarted
    }

    private let phase = Mutex<Phase>(.queued)
    private let ended = DispatchSemaphore(value: 0)
    /// Set on the job's thread when the step's effects were taken in (once), with its conclusion.
    private let taken = Mutex<JobResult??>(nil)

    /// How many post steps the job had when this one started: its own go after them.
    let postsAt: Int

    init(id: String?, name: String, step: Step, postsAt: Int) {
        self.id = id
        self.name = name
        self.step = step
        self.postsAt = postsAt
    }

    /// Marks the step running; false when it was cancelled while it waited for a slot.
    func begin() -> Bool {
        phase.withLock { phase in
            guard case .queued = phase else { return false }
            phase = .running
            return true
        }
    }

    func finish(_ result: JobRunner.StepResult, state: JobRunner.JobState) { end(.finished(result, Handoff(state))) }

    func neverStart() { end(.neverStarted) }

    private func end(_ final: Phase) {
        let changed = phase.withLock { phase in
            switch phase {
            case .finished, .neverStarted: return false
            case .queued, .running:
                phase = final
                return true
            }
        }
        if changed { ended.signal() }
    }

    var isQueued: Bool { phase.withLock { if case .queued = $0 { true } else { false } } }

    /// Waits for the step's end, at most `seconds` (nil: as long as it takes); nil when it is still running.
    func outcome(within seconds: Double? = nil) -> Phase? {
        if let seconds {
            if ended.wait(timeout: .now() + seconds) == .timedOut { return nil }
        } else {
            ended.wait()
        }
        ended.signal()
        return phase.withLock { $0 }
    }

    /// Whether its effects were taken in, and the conclusion they had (nil for a step that never started).
    var takenConclusion: JobResult?? { taken.withLock { $0 } }

    /// Records that its effects were taken in; false if that already happened.
    func markTaken(_ conclusion: JobResult?) -> Bool {
        taken.withLock { taken in
            guard taken == nil else { return false }
            taken = .some(conclusion)
            return true
        }
    }
}

/// The job's background steps and their slots: at most `limit` run at once, the rest queue in order
/// (the runner's `DefaultMaxBackgroundSteps`), and once the job is cancelled no queued step starts.
final class BackgroundSteps: Sendable {
    static let limit = 10

    private struct Pool {
        var entries: [BackgroundStep] = []
        var running = 0
        var queued: [(BackgroundStep, @Sendable () -> Void)] = []
        var cancelled = false
    }

    private let pool = Mutex<Pool>(Pool())

    /// Every step launched so far, in order.
    var all: [BackgroundStep] { pool.withLock { $0.entries } }

    /// The latest launched step with this id (ids compare ignoring case, as GitHub's).
    func named(_ id: String) -> BackgroundStep? {
        let folded = id.lowercased()
        return pool.withLock { $0.entries.last { $0.id?.lowercased() == folded } }
    }

    /// Runs `work` on its own thread as soon as a slot is free. `work` must end the entry.
    func launch(_ entry: BackgroundStep, _ work: @escaping @Sendable () -> Void) {
        enum Start { case now, later, never }
        let start = pool.withLock { pool -> Start in
            pool.entries.append(entry)
            if pool.cancelled { return .never }
            if pool.running < Self.limit {
                pool.running += 1
                return .now
            }
            pool.queued.append((entry, work))
            return .later
        }
        switch start {
        case .now: run(work)
        case .later: break
        case .never: entry.neverStart()
        }
    }

    private func run(_ work: @escaping @Sendable () -> Void) {
        startThread { [self] in
            work()
            // The slot passes to the next queued step, if any.
            let next = pool.withLock { pool -> (@Sendable () -> Void)? in
                if !pool.queued.isEmpty { return pool.queued.removeFirst().1 }
                pool.running -= 1
                return nil
            }
            if let next { run(next) }
        }
    }

    /// A `cancel` step: a queued step never starts; a running one gets the runner's signal sequence.
    func cancel(_ entry: BackgroundStep) {
        entry.explicitlyCancelled.store(true, ordering: .sequentiallyConsistent)
        let wasQueued = pool.withLock { pool in
            guard let index = pool.queued.firstIndex(where: { $0.0 === entry }) else { return false }
            pool.queued.remove(at: index)
            return true
        }
        if wasQueued { entry.neverStart() } else { entry.slot.interrupt(evenIfItSurvivesCancel: true) }
    }

    /// The job is cancelled: queued steps never start, running ones are interrupted.
    func cancelAll() {
        let (queued, entries) = pool.withLock { pool in
            pool.cancelled = true
            defer { pool.queued = [] }
            return (pool.queued.map(\.0), pool.entries)
        }
        for entry in queued { entry.neverStart() }
        for entry in entries { entry.slot.interrupt(evenIfItSurvivesCancel: true) }
    }
}
