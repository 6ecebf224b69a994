public import WorkflowPlanning

/// The result of a job instance, as `needs.<id>.result` reports it.
public enum JobResult: String, Sendable, Equatable, Codable {
    case success, failure, cancelled, skipped
}

/// Decides which job instances start, when, and which are cancelled: a true DAG (an instance is ready
/// as soon as everything it needs has finished, never waiting for unrelated jobs), a bound on parallel
/// jobs, `strategy.max-parallel` per matrix, and `fail-fast`. A value with no I/O: the executor feeds it
/// events and carries out the actions it returns, as NIO's state machines do.
public struct RunStateMachine: Sendable {
    /// What the executor must do next.
    public enum Action: Sendable, Equatable {
        /// Every instance it needs has finished: evaluate its `if` and run it (or report it skipped).
        case start(id: String)
        /// Cancel a running instance (fail-fast, or the whole run was cancelled).
        case cancel(id: String)
        /// An instance that waited for its concurrency group has a slot again: let it run.
        case resume(id: String)
        /// Everything has finished.
        case finished(success: Bool)
    }

    /// How one job's matrix behaves.
    public struct Strategy: Sendable, Equatable {
        public var failFast: Bool
        public var maxParallel: Int?

        public init(failFast: Bool = true, maxParallel: Int? = nil) {
            self.failFast = failFast
            self.maxParallel = maxParallel
        }
    }

    private enum State: Sendable, Equatable {
        /// Not started; `pending`: started but waiting for its concurrency group (it holds no slot);
        /// `queued`: its group's turn came and it waits for a slot.
        case waiting, running, pending, queued, done(JobResult)
    }

    private let order: [String]
    private let needs: [String: [String]]
    private let job: [String: String]
    private let strategies: [String: Strategy]
    private let continueOnError: Set<String>
    private let maxJobs: Int
    private var states: [String: State]
    private var cancelling = false
    private var reportedFinish = false

    /// - Parameters:
    ///   - instances: the plan's instances in order (their `needs` are instance ids).
    ///   - maxJobs: at most this many instances run at once (`--jobs`).
    ///   - strategies: per job id; absent means fail-fast with no max-parallel.
    ///   - continueOnError: instance ids whose failure does not fail the run nor trigger fail-fast.
    public init(instances: [JobInstance], maxJobs: Int, strategies: [String: Strategy] = [:], continueOnError: Set<String> = []) {
        order = instances.map(\.id)
        needs = Dictionary(uniqueKeysWithValues: instances.map { ($0.id, $0.needs) })
        job = Dictionary(uniqueKeysWithValues: instances.map { ($0.id, $0.job) })
        self.strategies = strategies
        self.continueOnError = continueOnError
        self.maxJobs = max(1, maxJobs)
        states = Dictionary(uniqueKeysWithValues: instances.map { ($0.id, State.waiting) })
    }

    /// The result of each instance that finished.
    public var results: [String: JobResult] {
        states.compactMapValues { if case .done(let r) = $0 { return r } else { return nil } }
    }

    /// The first actions.
    public mutating func start() -> [Action] {
        schedule()
    }

    /// A started instance waits for its concurrency group: as on GitHub, a pending job takes no slot
    /// of `--jobs` nor of `max-parallel`.
    public mutating func pending(_ id: String) -> [Action] {
        guard states[id] == .running else { return [] }
        states[id] = .pending
        return schedule()
    }

    /// A pending instance's group let it run: it runs when a slot is free (`.resume`).
    public mutating func groupAcquired(_ id: String) -> [Action] {
        guard states[id] == .pending else { return [] }
        states[id] = .queued
        return schedule()
    }

    /// An instance finished (a skipped instance counts as finished).
    public mutating func finished(_ id: String, _ result: JobResult) -> [Action] {
        guard states[id] != nil else { return [] }
        states[id] = .done(result)
        var actions: [Action] = []
        if result == .failure, !continueOnError.contains(id), let jobID = job[id], strategies[jobID]?.failFast ?? true {
            // fail-fast: the rest of this job's matrix is cancelled.
            for other in order where other != id && job[other] == jobID {
                switch states[other] {
                case .waiting?: states[other] = .done(.cancelled)
                case .running?, .pending?, .queued?: actions.append(.cancel(id: other))
                default: break
                }
            }
        }
        return actions + schedule()
    }

    /// Ctrl-C or a cancelled run: running instances get `.cancel` (the executor re-evaluates their
    /// `if` with `cancelled()` true); waiting instances still start when ready, so that `always()` and
    /// `cancelled()` jobs run, and the executor reports the others as cancelled.
    public mutating func cancelAll() -> [Action] {
        cancelling = true
        var actions: [Action] = []
        for id in order where states[id] == .running || states[id] == .pending || states[id] == .queued {
            actions.append(.cancel(id: id))
        }
        return actions + schedule()
    }

    private mutating func schedule() -> [Action] {
        var actions: [Action] = []
        var running = states.values.filter { $0 == .running }.count
        func slotFree(_ id: String) -> Bool {
            guard running < maxJobs else { return false }
            if let jobID = job[id], let limit = strategies[jobID]?.maxParallel {
                return order.filter { job[$0] == jobID && states[$0] == .running }.count < limit
            }
            return true
        }
        // Instances back from their concurrency group go first: they started before the waiting ones.
        for id in order where states[id] == .queued && slotFree(id) {
            states[id] = .running
            running += 1
            actions.append(.resume(id: id))
        }
        do {
            for id in order where states[id] == .waiting && running < maxJobs {
                let ready = (needs[id] ?? []).allSatisfy { need in
                    if case .done? = states[need] { return true }
                    return states[need] == nil  // a need outside the plan does not block
                }
                guard ready else { continue }
                if let jobID = job[id], let limit = strategies[jobID]?.maxParallel {
                    let busy = order.filter { job[$0] == jobID && states[$0] == .running }.count
                    if busy >= limit { continue }
                }
                states[id] = .running
                running += 1
                actions.append(.start(id: id))
            }
        }
        let allDone = states.values.allSatisfy { if case .done = $0 { return true } else { return false } }
        if allDone, !reportedFinish {
            reportedFinish = true
            let failed = cancelling || states.contains { id, state in
                if case .done(let r) = state { return (r == .failure && !continueOnError.contains(id)) || r == .cancelled }
                return false
            }
            actions.append(.finished(success: !failed))
        }
        return actions
    }
}
