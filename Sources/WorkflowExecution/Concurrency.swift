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
    /// Numbers this process's entries: one count for every store of the process (`gantry serve` makes
    /// a store per run), so two runs' entries never share an id.
    private static let counter = Atomic<Int>(0)
    /// How often a pending entry looks at the queue, and a running one for a cancel request.
    let pollInterval: Double

    public init(directory: String, scope: String, pollInterval: Double = 0.05) {
        self.directory = directory
        self.scope = scope
        self.pollInterval = pollInterval
        Files.makeDirectory(directory)
    }

    /// Joins a group: running at once when the group is idle, else pending (the ticket waits for its
    /// turn). Throws when the group's file cannot be used.
    func enter(group: String, cancelInProgress: Bool, queueMax: Bool) throws(Unavailable) -> Ticket {
        let key = Self.fnv1a(scope + "\n" + group.lowercased())
        let id = "\(getpid())-\(Self.counter.add(1, ordering: .relaxed).newValue)"
        let ticket = Ticket(store: self, group: group, path: directory + "/" + key, id: id)
        try ticket.update { entries in
            for i in entries.indices {
                if cancelInProgress && entries[i].state == "running" { entries[i].state = "cancel" }
            }
            // Single queue: the pending entry waiting so far is cancelled and this one takes its place.
            if !queueMax { entries.removeAll { $0.state == "pending" } }
            // Promoted in the same critical section when nothing runs and nothing waits before it, so a
            // newer arrival cannot replace an entry that came to an idle group.
            let idle = entries.isEmpty
            entries.append(Entry(id: id, pid: getpid(), start: Self.ownStart, state: idle ? "running" : "pending"))
        }
        return ticket
    }

    /// Why a group cannot be used: its file could not be opened or locked.
    struct Unavailable: Error {
        var message: String
    }

    /// When a process started (clock ticks since boot, /proc/PID/stat field 22): with the pid it tells
    /// a live entry from one whose process died and whose pid was reused. 0 when unknown.
    public static func processStart(_ pid: Int32) -> UInt64 {
        let text = Files.read("/proc/\(pid)/stat")
        // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) ?? 0 : 0
    }

    static let ownStart = processStart(getpid())

    struct Entry: Equatable {
        var id: String
        var pid: Int32
        var start: UInt64
        /// pending, running, or cancel (running, asked to stop by a newer entry with cancel-in-progress).
        var state: String
    }

    /// One entry of a group, held by a workflow run or a job.
    final class Ticket: Sendable {
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

        enum Turn: Equatable {
            case running
            /// A newer pending entry took this one's place.
            case replaced
            /// `stop` said so (Ctrl-C) while it waited.
            case interrupted
            /// The group's file could not be used.
            case unavailable(String)
        }

        /// Blocks until the entry runs (no running entry is left and it is first in line) or a newer
        /// entry replaced it; `pending` is called once if it has to wait.
        func wait(pending: () -> Void, stop: () -> Bool) -> Turn {
            var told = false
            while true {
                var turn: Turn?
                do {
                    try update { entries in
                        guard let mine = entries.firstIndex(where: { $0.id == self.id }) else {
                            turn = .replaced
                            return
                        }
                        if entries[mine].state != "pending" {
                            turn = .running
                            return
                        }
                        let busy = entries.contains { $0.state == "running" || $0.state == "cancel" }
                        let first = entries.firstIndex { $0.state == "pending" }
                        if !busy && first == mine {
                            entries[mine].state = "running"
                            turn = .running
                        }
                    }
                } catch {
                    return .unavailable(error.message)
                }
                if let turn { return turn }
                if stop() {
                    release()
                    return .interrupted
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
            try? update { entries in requested = entries.first { $0.id == self.id }?.state == "cancel" }
            return requested
        }

        /// Leaves the group (once).
        func release() {
            guard !released.exchange(true, ordering: .sequentiallyConsistent) else { return }
            try? update { entries in entries.removeAll { $0.id == self.id } }
        }

        /// Reads, changes and writes the group's entries under an exclusive lock; entries of processes
        /// that no longer exist (or whose pid now belongs to another process) are dropped first.
        func update(_ change: (inout [Entry]) -> Void) throws(Unavailable) {
            do throws(LockedFileError) {
                try Files.updateLocked(path) { text in
                    let original: [Entry] = text.split(separator: "\n").compactMap { line in
                        let fields = line.split(separator: " ")
                        guard fields.count == 4, let pid = Int32(fields[1]), let start = UInt64(fields[2]) else { return nil }
                        return Entry(id: String(fields[0]), pid: pid, start: start, state: String(fields[3]))
                    }
                    var entries = original.filter { entry in
                        if kill(entry.pid, 0) != 0 && errno == ESRCH { return false }
                        return entry.start == 0 || entry.pid == getpid() || ConcurrencyStore.processStart(entry.pid) == entry.start
                    }
                    change(&entries)
                    guard entries != original else { return nil }
                    return entries.map { "\($0.id) \($0.pid) \($0.start) \($0.state)\n" }.joined()
                }
            } catch {
                throw Unavailable(message: error.message)
            }
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
