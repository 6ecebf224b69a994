import Synchronization

/// Wake-up streams for whoever waits for news (queued work, a freed slot): each `stream()` is a new
/// listener, `signal()` wakes them all; a listener that has not looked yet keeps one pending wake-up.
public final class WakeUps: Sendable {
    private struct State {
        var listeners: [Int: AsyncStream<Void>.Continuation] = [:]
        var next = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// A new listener; `now` wakes it at once (there is news already).
    public func stream(now: Bool = false) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let key = state.withLock { state in
            defer { state.next += 1 }
            state.listeners[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.listeners.removeValue(forKey: key) } }
        if now { continuation.yield() }
        return stream
    }

    public func signal() {
        for listener in state.withLock({ Array($0.listeners.values) }) { listener.yield() }
    }

    public var count: Int { state.withLock { $0.listeners.count } }
}
