#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Threads started before their work is known, so that they are running when it is: `validate` starts
/// them before it looks for workflow files, and hands them the files when it has them.
///
/// On this kind of machine (a VM whose second core sleeps when idle) a thread started when the work
/// is ready began 1.4 ms late on average, up to 4 ms, while the first thread had the work to itself.
/// These threads spin (yielding the core) while they wait, for at most `spinLimit`, then poll more
/// slowly; they end when the work is done, or when told there is none.
final class EarlyWorkers: @unchecked Sendable {
    /// How long a thread waits for work while spinning, in nanoseconds.
    static let spinLimit: UInt64 = 5_000_000

    private enum State: Int {
        case waiting, working, none
    }

    private let state = Atomic<Int>(State.waiting.rawValue)
    private let next = Atomic<Int>(0)
    private let prepared = Atomic<Bool>(false)
    // Written once, before `state` becomes `working` (release); read after a thread sees it (acquire).
    private var count = 0
    private var body: (@Sendable (Int) -> Void)?
    private var threads: [pthread_t] = []

    /// Run by the first thread before it waits for work, while the caller is still looking for it.
    private let prepare: (@Sendable () -> Void)?

    /// Starts `count` threads (none for 0). The first runs `prepare` first, if given.
    init(threads count: Int, prepare: (@Sendable () -> Void)? = nil) {
        self.prepare = prepare
        for _ in 0..<max(0, count) {
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { context in
                Unmanaged<EarlyWorkers>.fromOpaque(context!).takeRetainedValue().serve()
                return nil
            }, context)
            guard status == 0 else {
                // No thread (a limit reached): the threads there are, and the caller, do the work.
                Unmanaged<EarlyWorkers>.fromOpaque(context).release()
                break
            }
            threads.append(thread)
        }
    }

    /// Runs `body` for every index in `0..<count` on the threads and this one; returns when all have run.
    func run(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        self.count = count
        self.body = body
        state.store(State.working.rawValue, ordering: .releasing)
        drain()
        join()
    }

    /// There is no work: the threads end.
    func cancel() {
        state.store(State.none.rawValue, ordering: .releasing)
        join()
    }

    private func join() {
        for thread in threads { pthread_join(thread, nil) }
        threads = []
    }

    private func serve() {
        if let prepare, prepared.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged { prepare() }
        let start = Self.now()
        var polls = 0
        while true {
            switch State(rawValue: state.load(ordering: .acquiring)) {
            case .working?: return drain()
            case .none?: return
            default: break
            }
            polls += 1
            if polls % 64 == 0, Self.now() - start > Self.spinLimit {
                usleep(200)
            } else {
                sched_yield()
            }
        }
    }

    private func drain() {
        guard let body else { return }
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            body(index)
        }
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
