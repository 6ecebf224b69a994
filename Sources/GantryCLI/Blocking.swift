import Dispatch
import Synchronization

/// Bridges a synchronous command (ArgumentParser's `run()`) to async work: the command's thread waits
/// while the work runs on the concurrency pool. Only commands do this, at their top.
enum RunBlocking {
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await work()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}
