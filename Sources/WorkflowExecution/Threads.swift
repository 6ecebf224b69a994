internal import CProcessSpawn

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a new detached thread. Blocking work (waiting for a process, reading its pipes,
/// running a job) gets its own thread: Dispatch's pool grows only slowly when its workers block, which
/// delayed concurrent steps by about a second.
public func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 8 << 20)
    let created = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue()
        (box as! Box).body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    if created != 0 {
        // No thread: run inline rather than lose the work.
        let box = Unmanaged<AnyObject>.fromOpaque(box).takeRetainedValue()
        (box as! Box).body()
    }
}
