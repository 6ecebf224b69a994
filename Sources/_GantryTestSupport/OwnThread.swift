import Foundation
import Synchronization
public import Testing

/// For suites whose tests block the thread they run on: they wait for processes, servers and files.
///
/// Swift Testing runs a synchronous test on the shared cooperative pool, which has one thread a core.
/// On a 2-core machine two such tests leave no thread for the async tests running beside them: in CI a
/// PostgreSQL store's 60 s deadline fired while its work waited for a thread that two 100 s cluster and
/// Docker tests held. With `.ownThread` each test case runs on a thread kept for such tests, one a core,
/// and the pool stays free for async work.
public struct OwnThreadTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let executor = await BlockingThreads.shared.acquire()
        defer { BlockingThreads.shared.release(executor) }
        try await withTaskExecutorPreference(executor) { try await function() }
    }
}

extension Trait where Self == OwnThreadTrait {
    /// Runs each test case on a thread of its own, outside the cooperative pool (see `OwnThreadTrait`).
    public static var ownThread: Self { Self() }
}

/// One thread a core for blocking tests, each lent to one test case at a time; a test case waits
/// (suspended, holding no thread) until one is free.
final class BlockingThreads: Sendable {
    static let shared = BlockingThreads(count: max(2, ProcessInfo.processInfo.activeProcessorCount))

    private struct State {
        var free: [ThreadExecutor]
        var waiting: [CheckedContinuation<ThreadExecutor, Never>] = []
    }

    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(free: (0..<count).map { _ in ThreadExecutor() })) }

    func acquire() async -> ThreadExecutor {
        await withCheckedContinuation { continuation in
            let executor = state.withLock { state -> ThreadExecutor? in
                guard let executor = state.free.popLast() else {
                    state.waiting.append(continuation)
                    return nil
                }
                return executor
            }
            if let executor { continuation.resume(returning: executor) }
        }
    }

    func release(_ executor: ThreadExecutor) {
        let next = state.withLock { state -> CheckedContinuation<ThreadExecutor, Never>? in
            guard !state.waiting.isEmpty else {
                state.free.append(executor)
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: executor)
    }
}

/// A task executor that runs its jobs, in order, on one thread that lives as long as the process.
final class ThreadExecutor: TaskExecutor, Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let ready = DispatchSemaphore(value: 0)

    init() {
        let thread = Thread { [self] in
            while true {
                ready.wait()
                guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
        thread.stackSize = 8 << 20
        thread.name = "gantry-test-blocking"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        ready.signal()
    }
}
