import ArgumentParser
import DockerEngine
import WorkflowExecution

#if canImport(Glibc)
import Glibc
#endif

extension GantryCommand {
    /// `gantry docker`: what Gantry created in the container engine, and removing what a killed run left.
    struct Docker: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "docker",
            abstract: "List and remove the containers and networks gantry runs created.",
            discussion: """
                Every container and network a job creates carries the labels dev.gantry.run, dev.gantry.pid \
                and dev.gantry.job, and is removed when the job ends. A run killed with SIGKILL cannot clean \
                up: 'gantry docker prune' removes what runs whose gantry process is gone left behind. The \
                engine is $DOCKER_HOST, else /var/run/docker.sock (or Podman's socket).
                """,
            subcommands: [List.self, Prune.self]
        )
    }
}

extension GantryCommand.Docker {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List gantry's containers and networks.")

        func run() throws {
            try dockerCommand { engine in
                let containers = try engine.listContainers(label: ContainerLabels.run)
                let networks = try engine.listNetworks(label: ContainerLabels.run)
                var out = ""
                for container in containers {
                    let owner = Self.ownerState(container.labels)
                    out += "container \(container.id.prefix(12))  \(container.names.first.map { String($0.drop { $0 == "/" }) } ?? "")  \(container.state)  job \(container.labels[ContainerLabels.job] ?? "?")  \(owner)\n"
                }
                for network in networks {
                    out += "network   \(network.id.prefix(12))  \(network.name)  job \(network.labels[ContainerLabels.job] ?? "?")  \(Self.ownerState(network.labels))\n"
                }
                if out.isEmpty { out = "no containers or networks from gantry runs\n" }
                FileSystem.write(out, to: 1)
            }
        }

        static func ownerState(_ labels: [String: String]) -> String {
            GantryCommand.Docker.ownerAlive(labels) ? "run in progress (pid \(labels[ContainerLabels.pid] ?? "?"))" : "left over"
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Remove the containers and networks of gantry runs that are no longer running.")

        @Flag(help: "Remove those of runs in progress too.")
        var all = false

        func run() throws {
            try dockerCommand { engine in
                var removed = 0
                for container in try engine.listContainers(label: ContainerLabels.run) where all || !GantryCommand.Docker.ownerAlive(container.labels) {
                    try engine.removeContainer(container.id)
                    removed += 1
                }
                var networks = 0
                for network in try engine.listNetworks(label: ContainerLabels.run) where all || !GantryCommand.Docker.ownerAlive(network.labels) {
                    try engine.removeNetwork(network.id)
                    networks += 1
                }
                FileSystem.write("removed \(removed) container\(removed == 1 ? "" : "s") and \(networks) network\(networks == 1 ? "" : "s")\n", to: 1)
            }
        }
    }

    /// Whether the gantry process that created something still runs (same pid, on this machine).
    static func ownerAlive(_ labels: [String: String]) -> Bool {
        guard let pid = labels[ContainerLabels.pid].flatMap({ Int32($0) }), pid > 0 else { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // The pid may have been reused: the run id starts with the creating process's pid and start time.
        guard let run = labels[ContainerLabels.run], run == RunIdentity.make(pid: pid) else { return false }
        // A killed process that nobody has reaped yet is a zombie: gone all the same.
        let stat = (try? FileSystem.read("/proc/\(pid)/stat")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingPrefix(" ").hasPrefix("Z")
    }
}

/// Names a run: the gantry process's pid and its start time (so a reused pid is not taken for it).
enum RunIdentity {
    static func make(pid: Int32 = getpid()) -> String {
        "\(pid)-\(ConcurrencyStore.processStart(pid))"
    }
}

/// Runs a docker command body against the engine: an engine error is one line and exit status 1.
func dockerCommand(_ body: (DockerEngine) throws -> Void) throws {
    let engine = DockerEngine(environment: GantryCommand.Run.hostEnvironment())
    do {
        try body(engine)
    } catch let error as ContainerEngineError {
        FileSystem.write("gantry: error: \(error.message)\n", to: 2)
        throw ExitCode.failure
    }
}
