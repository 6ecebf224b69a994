import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Concurrency groups shared by every `gantry run` on this machine: GitHub's rule of at most one running
/// and one pending entry per case-insensitive group (a newer pending entry replaces the older one),
/// `cancel-in-progress`, and `queue: max` (pending entries wait in order instead of replacing).
///
/// Each group is a small text file of entries (`id pid state`, in arrival order) under the state
/// directory, changed only under an exclusive `flock`, so jobs of one run and of several processes
/// see the same queue. An entry whose process is gone is dropped, so a killed run never blocks a group.
public final class ConcurrencyStore: Sendable {
    let directory: String
    /// Which repository the groups belong to (groups are per repository on GitHub).
    let scope: String
    let counter = Atomic<Int>(0)
    /// How often a pending entry looks at the queue, and a running one for a cancel request.
    let pollInterval: Double

    public init(directory: String, scope: String, pollInterval: Double = 0.05) {
        self.directory = directory
        self.scope = scope
        self.pollInterval = pollInterval
        makeDirectory(directory)
    }

    /// Joins a group as pending; the returned ticket waits for its turn.
    func enter(group: String, cancelInProgress: Bool, queueMax: Bool) -> Ticket {
        let key = Self.fnv1a(scope + "\n" + group.lowercased())
        let id = "\(getpid())-\(counter.add(1, ordering: .relaxed).newValue)"
        let ticket = Ticket(store: self, group: group, path: directory + "/" + key, id: id)
        ticket.update { entries in
            for i in entries.indices {
                if cancelInProgress && entries[i].state == "running" { entries[i].state = "cancel" }
            }
            // Single queue: the pending entry waiting so far is cancelled and this one takes its place.
            if !queueMax { entries.removeAll { $0.state == "pending" } }
            entries.append(Entry(id: id, pid: getpid(), state: "pending"))
        }
        return ticket
    }

    struct Entry: Equatable {
        var id: String
        var pid: Int32
        /// pending, running, or cancel (running, asked to stop by a newer entry with cancel-in-progress).
        var state: String
    }

    /// One entry of a group, held by a workflow run or a job.
    final class Ticket: @unchecked Sendable {
        let store: ConcurrencyStore
        let group: String
        let path: String
        let id: String
        private let released = Atomic<Bool>(false)

        init(store: ConcurrencyStore, group: String, path: String, id: String) {
            self.store = store
            self.group = group
            self.path = path
            self.id = id
        }

        enum Turn { case running, replaced }

        /// Blocks until the entry runs (no running entry is left and it is first in line) or a newer
        /// entry replaced it; `pending` is called once if it has to wait.
        func wait(pending: () -> Void, stop: () -> Bool) -> Turn {
            var told = false
            while true {
                var turn: Turn?
                update { entries in
                    guard let mine = entries.firstIndex(where: { $0.id == self.id }) else {
                        turn = .replaced
                        return
                    }
                    let busy = entries.contains { $0.state == "running" || $0.state == "cancel" }
                    let first = entries.firstIndex { $0.state == "pending" }
                    if !busy && first == mine {
                        entries[mine].state = "running"
                        turn = .running
                    }
                }
                if let turn { return turn }
                if stop() {
                    release()
                    return .replaced
                }
                if !told {
                    told = true
                    pending()
                }
                sleepSeconds(store.pollInterval)
            }
        }

        /// True once a newer entry with `cancel-in-progress` asked this running entry to stop.
        var cancelRequested: Bool {
            var requested = false
            update { entries in requested = entries.first { $0.id == self.id }?.state == "cancel" }
            return requested
        }

        /// Leaves the group (once).
        func release() {
            guard !released.exchange(true, ordering: .sequentiallyConsistent) else { return }
            update { entries in entries.removeAll { $0.id == self.id } }
        }

        /// Reads, changes and writes the group's entries under an exclusive lock; entries of processes
        /// that no longer exist are dropped first.
        func update(_ change: (inout [Entry]) -> Void) {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return }
            defer { close(fd) }
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            defer { flock(fd, LOCK_UN) }
            var bytes = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            let original: [Entry] = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count == 3, let pid = Int32(fields[1]) else { return nil }
                return Entry(id: String(fields[0]), pid: pid, state: String(fields[2]))
            }
            var entries = original.filter { kill($0.pid, 0) == 0 || errno != ESRCH }
            change(&entries)
            guard entries != original else { return }
            let text = entries.map { "\($0.id) \($0.pid) \($0.state)\n" }.joined()
            ftruncate(fd, 0)
            var data = Array(text.utf8)
            _ = data.withUnsafeMutableBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// A stable 64-bit FNV-1a hash as a file name (the group names themselves may hold any character).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

func sleepSeconds(_ seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
