#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

@testable import GantryCLI

/// `validate`'s threads, started before the files are known (EarlyWorkers.swift).
@Suite struct EarlyWorkersTests {
    /// Every index runs exactly once, whatever the number of threads, and `run` returns after all.
    @Test(arguments: [0, 1, 3])
    func everyIndexRunsOnce(threads: Int) {
        let counts = Mutex([Int](repeating: 0, count: 500))
        let workers = EarlyWorkers(threads: threads)
        workers.run(count: 500) { index in counts.withLock { $0[index] += 1 } }
        #expect(counts.withLock { $0 } == [Int](repeating: 1, count: 500))
    }

    /// Work handed over after the threads have waited past their spinning still runs on them: each
    /// index waits (up to 10 s) until both threads have taken one.
    @Test func workAfterTheSpinStillRuns() {
        let threads = Mutex(Set<UInt>())
        let workers = EarlyWorkers(threads: 1)
        usleep(UInt32(EarlyWorkers.spinLimit / 1000) + 20_000)
        workers.run(count: 8) { _ in
            threads.withLock { _ = $0.insert(UInt(bitPattern: Int(pthread_self()))) }
            for _ in 0..<10_000 where threads.withLock({ $0.count }) < 2 { usleep(1000) }
        }
        #expect(threads.withLock { $0.count } == 2)
    }

    /// Told there is no work, the threads end (`cancel` joins them) and nothing runs.
    @Test func cancelEndsTheThreads() {
        let ran = Mutex(false)
        let workers = EarlyWorkers(threads: 2)
        workers.cancel()
        workers.run(count: 0) { _ in ran.withLock { $0 = true } }
        #expect(ran.withLock { $0 } == false)
    }
}
