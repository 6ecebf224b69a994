internal import CProcessSpawn
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program on the host in its own process group, streaming its output line by line, with
/// GitHub's cancellation: SIGINT to the whole group, SIGTERM 7.5 s later, SIGKILL 2.5 s after that
/// (semantics.md §1, "workflow-cancellation").
public struct HostProcess: Sendable {
    /// Which stream a line came from.
    public enum Stream: Sendable, Equatable {
        case stdout, stderr
    }

    /// How a process ended.
    public struct Result: Sendable, Equatable {
        /// The exit status, when it exited.
        public var exitCode: Int32?
        /// The signal that ended it, when one did.
        public var signal: Int32?
        public var timedOut: Bool
        public var cancelled: Bool
        /// The process group: background processes the step started may still be in it.
        public var processGroup: Int32

        public var succeeded: Bool { exitCode == 0 && !timedOut && !cancelled }
    }

    /// A process that could not be started.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    public var arguments: [String]
    public var environment: [(String, String)]
    public var workingDirectory: String?
    /// Seconds before the step is cancelled as timed out; nil for no limit.
    public var timeout: Double?
    /// GitHub's grace periods after SIGINT and after SIGTERM.
    public var interruptGrace: Double = 7.5
    public var terminateGrace: Double = 2.5
    /// The run whose process groups this one joins (what a stop of the run kills).
    public var resources: RunResources?

    public init(arguments: [String], environment: [(String, String)], workingDirectory: String? = nil, timeout: Double? = nil) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
    }

    /// Lets another thread cancel a running process (Ctrl-C, fail-fast, cancel-in-progress).
    public final class Handle: Sendable {
        let cancelled = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)

        public init() {}

        /// Starts the SIGINT → SIGTERM → SIGKILL sequence (once).
        public func cancel() {
            if !cancelled.exchange(true, ordering: .sequentiallyConsistent) { wake.signal() }
        }
    }

    /// Runs the process to its end. `onLine` is called for each complete line (without its newline), on
    /// a background thread, in order per stream.
    public func run(handle: Handle = Handle(), onLine: @escaping @Sendable (Stream, String) -> Void) throws(Failure) -> Result {
        guard !arguments.isEmpty else { throw Failure(message: "no program to run") }
        if let workingDirectory {
            var info = stat()
            guard stat(workingDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw Failure(message: "working directory '\(workingDirectory)' does not exist")
            }
        }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard gantry_pipe_cloexec(&outPipe) == 0, gantry_pipe_cloexec(&errPipe) == 0 else {
            throw Failure(message: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Nothing else of gantry's reaches the step (a service's listening socket, its database).
        gantry_spawn_file_actions_addclosefrom(&actions, 3)
        if let workingDirectory { gantry_spawn_file_actions_addchdir(&actions, workingDirectory) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (so signals reach the whole tree), default signal handling, no mask.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.0)=\($0.1)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        // The program is looked up in the step's PATH (which GITHUB_PATH extends), not gantry's.
        let program = Self.resolve(arguments[0], path: environment.last { $0.0 == "PATH" }?.1)
        let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        if spawned == 0 { resources?.started(group: pid) }
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw Failure(message: "cannot start '\(arguments[0])': \(String(cString: strerror(spawned)))")
        }

        // Output: one reader for both pipes.
        let drained = DispatchSemaphore(value: 0)
        let activity = ReaderActivity()
        let out = outPipe[0], err = errPipe[0]
        startThread {
            Self.readLines(out: out, err: err, activity: activity, onLine: onLine)
            drained.signal()
        }
        // Exit: a waiter that wakes the main loop.
        let exited = Atomic<Int32>(Int32.min)
        let waitPid = pid
        startThread {
            var status: Int32 = 0
            while waitpid(waitPid, &status, 0) < 0 && errno == EINTR {}
            exited.store(status, ordering: .sequentiallyConsistent)
            handle.wake.signal()
        }

        var ladder = CancellationLadder(start: Self.now(), timeout: timeout, interruptGrace: interruptGrace, terminateGrace: terminateGrace)
        while true {
            if exited.load(ordering: .sequentiallyConsistent) != Int32.min { break }
            var now: Double
            if let deadline = ladder.deadline {
                // Capped: a huge timeout-minutes must not overflow the conversion to nanoseconds.
                let wait = min(max(0, deadline - Self.now()), 86_400)
                let woke = handle.wake.wait(timeout: .now() + .nanoseconds(Int(wait * 1e9))) == .success
                now = Self.now()
                if !woke { now = max(now, deadline) }  // the wait's own clock says the time has come
            } else {
                handle.wake.wait()
                now = Self.now()
            }
            if exited.load(ordering: .sequentiallyConsistent) != Int32.min { break }
            if let signal = ladder.climb(now: now, cancelRequested: handle.cancelled.load(ordering: .sequentiallyConsistent)) {
                kill(-pid, signal)
            }
        }
        let timedOut = ladder.timedOut
        // A cancelled or timed-out step loses its whole tree: background children that ignore SIGINT
        // (as `&` jobs of a non-interactive shell do) are killed too.
        if ladder.rung != .running { kill(-pid, SIGKILL) }
        // The step is done. Its output is read to the end, unless a background process it started keeps
        // the pipes open: then reading stops once nothing has arrived for 50 ms and no line is being
        // handled (a slow console only makes the handler busy, never "idle").
        while drained.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            if activity.isIdle(for: 0.05) { break }
        }
        let status = exited.load(ordering: .sequentiallyConsistent)
        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        return Result(
            exitCode: signaled ? nil : (status >> 8) & 0xff,
            signal: signaled ? status & 0x7f : nil,
            timedOut: timedOut,
            cancelled: handle.cancelled.load(ordering: .sequentiallyConsistent),
            processGroup: pid)
    }

    /// Whether any process of the group is still running (zombies waiting to be reaped do not count).
    public static func groupIsAlive(_ group: Int32) -> Bool {
        guard kill(-group, 0) == 0, let proc = opendir("/proc") else { return false }
        defer { closedir(proc) }
        while let entry = readdir(proc) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            guard name.first?.isNumber == true else { continue }
            let fd = open("/proc/\(name)/stat", O_RDONLY)
            guard fd >= 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard n > 0 else { continue }
            // pid (comm) state ppid pgrp …: fields after the last ')'.
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 2, Int32(fields[2]) == group, fields[0] != "Z" { return true }
        }
        return false
    }

    /// The step's absolute program path: as given when it has a `/`, else the first match in `path`.
    static func resolve(_ program: String, path: String?) -> String {
        if program.contains("/") { return program }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = String(directory) + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }

    /// When the reader last saw data, and whether it is handling a line right now.
    final class ReaderActivity: Sendable {
        private let state = Mutex<(last: Double, busy: Bool)>((HostProcess.now(), false))
        func touch(busy: Bool) { state.withLock { $0 = (HostProcess.now(), busy) } }
        func isIdle(for seconds: Double) -> Bool {
            state.withLock { !$0.busy && HostProcess.now() - $0.last > seconds }
        }
    }

    private static func readLines(out: Int32, err: Int32, activity: ReaderActivity, onLine: @Sendable (Stream, String) -> Void) {
        var fds = [pollfd(fd: out, events: Int16(POLLIN), revents: 0), pollfd(fd: err, events: Int16(POLLIN), revents: 0)]
        var buffers: [[UInt8]] = [[], []]
        var open = 2
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    activity.touch(busy: true)
                    defer { activity.touch(busy: false) }
                    buffers[i] += chunk[0..<n]
                    while let newline = buffers[i].firstIndex(of: 0x0A) {
                        var line = Array(buffers[i][..<newline])
                        if line.last == 0x0D { line.removeLast() }
                        onLine(i == 0 ? .stdout : .stderr, String(decoding: line, as: UTF8.self))
                        buffers[i].removeSubrange(...newline)
                    }
                } else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    if !buffers[i].isEmpty {
                        onLine(i == 0 ? .stdout : .stderr, String(decoding: buffers[i], as: UTF8.self))
                        buffers[i] = []
                    }
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
    }

    /// Seconds since the epoch: leases are stored and compared by other processes (and nodes), so
    /// they use the wall clock, not the monotonic one durations use.
    public static func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
