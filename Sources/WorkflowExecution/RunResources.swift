import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the jobs of one run started and have not cleaned up yet: their steps' process groups and the
/// containers and networks they created. One per run (not per process), so stopping one run at once
/// (a second Ctrl-C; later, a cancel in `gantry serve`) touches nothing of another run's.
public final class RunResources: Sendable {
    private struct Live {
        var groups = Set<Int32>()
        var containers: [(engine: any ContainerEngine, id: String)] = []
        var networks: [(engine: any ContainerEngine, id: String)] = []
    }

    private let live = Mutex(Live())
    /// Problems already reported in full by one of the run's jobs (a missing action).
    private let reported = Mutex(Set<String>())

    public init() {}

    /// True the first time the run reports `problem`; later jobs say it in short.
    func firstReport(of problem: String) -> Bool { reported.withLock { $0.insert(problem).inserted } }

    func started(group: Int32) { _ = live.withLock { $0.groups.insert(group) } }

    /// Kills what is left of a process group (orphans a job's steps left running), as GitHub's runner
    /// cleans up when a job ends.
    func terminate(group: Int32) {
        kill(-group, SIGKILL)
        _ = live.withLock { $0.groups.remove(group) }
    }

    func created(container id: String, on engine: any ContainerEngine) { live.withLock { $0.containers.append((engine, id)) } }

    func created(network id: String, on engine: any ContainerEngine) { live.withLock { $0.networks.append((engine, id)) } }

    func removed(containers: [String], networks: [String]) {
        live.withLock { live in
            live.containers.removeAll { containers.contains($0.id) }
            live.networks.removeAll { networks.contains($0.id) }
        }
    }

    /// The process groups still alive.
    public var groups: Set<Int32> { live.withLock { $0.groups } }

    /// Stops the run at once: kills every process group, then removes what its jobs created, and
    /// whatever carries its label (a container created a moment before it was tracked).
    /// Runs on a thread of its own and returns when it is done: the engine calls wait there, never on
    /// a thread of the concurrency pool (a signal handler's dispatch queue may be one on Linux).
    public func stopNow(runLabel: String) {
        let done = DispatchSemaphore(value: 0)
        startThread { [self] in
            stopNowHere(runLabel: runLabel)
            done.signal()
        }
        done.wait()
    }

    private func stopNowHere(runLabel: String) {
        let (groups, containers, networks) = live.withLock { ($0.groups, $0.containers, $0.networks) }
        for group in groups { kill(-group, SIGKILL) }
        for (engine, id) in containers { try? engine.removeContainer(id) }
        var engines: [any ContainerEngine] = []
        for (engine, _) in containers + networks where !engines.contains(where: { $0.address == engine.address }) { engines.append(engine) }
        for engine in engines {
            for leftover in (try? engine.listContainers(label: ContainerLabels.run + "=" + runLabel)) ?? [] { try? engine.removeContainer(leftover.id) }
        }
        for (engine, id) in networks { try? engine.removeNetwork(id) }
    }
}
