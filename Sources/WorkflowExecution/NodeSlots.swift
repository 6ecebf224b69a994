/// How many jobs one node runs at once, shared by every run's driver on it (`gantry serve --capacity`):
/// a driver takes a slot before it claims and gives it back when the job ends; a slot given back wakes
/// the drivers waiting for one.
public actor NodeSlots {
    public let capacity: Int
    public private(set) var busy = 0
    private let listeners = WakeUps()

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Takes a slot; false when all are busy.
    public func take() -> Bool {
        guard busy < capacity else { return false }
        busy += 1
        return true
    }

    /// Returns a slot taken for a claim that found nothing: nobody is woken (they would find nothing too).
    public func untake() { busy = max(0, busy - 1) }

    public func give() {
        busy = max(0, busy - 1)
        listeners.signal()
    }

    /// Signals each time a slot frees (every call makes a new stream).
    public nonisolated func freed() -> AsyncStream<Void> { listeners.stream() }
}
