public import ArgumentParser
import GitSupport
#if canImport(Glibc)
import Glibc
#endif

/// The `gantry` command: runs GitHub Actions workflows locally and checks them.
public struct GantryCommand: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "Run GitHub Actions workflows on your own machine, faithfully and fast.",
        discussion: """
            Gantry reads .github/workflows/*.yml with GitHub's own rules. Start with
            'gantry validate' to check every workflow of a repository.
            """,
        version: version,
        subcommands: [Validate.self, List.self, Graph.self, PlanCommand.self, Run.self, Serve.self, Runs.self, Eval.self, Cache.self, Docker.self, JobCommand.self]
    )

    public init() {}
}

extension GantryCommand {
    /// Parses the process arguments, runs the chosen command and exits with its status.
    public static func start() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "serve" { execServerIfBeside() }
        guard let parsed = FastCommandLine.parse(arguments) else { return main() }
        do {
            try FastCommandLine.run(parsed)
        } catch let status as ExitCode {
            // A command that has printed what it found and only sets the status (`validate` with
            // errors): ArgumentParser's `exit(withError:)` would build its help tables first.
            Glibc.exit(status.rawValue)
        } catch {
            exit(withError: error)
        }
    }

    /// Ends a one-shot command that has written all it prints, without freeing what it built first
    /// (workflows, their plan): the kernel takes the whole heap back at exit. Freeing a 100-job plan
    /// and its workflow was 4% of `gantry graph`. Compilers end the same way (clang's `-disable-free`).
    /// Call it while those values are still in scope; the status is 1 when `failed`.
    static func finish(failed: Bool) -> Never {
        Glibc.exit(failed ? ExitCode.failure.rawValue : 0)
    }

    /// The name of the service's binary, installed beside `gantry`.
    public static let serverBinaryName = "gantry-server"

    /// `gantry serve` runs as `gantry-server` when that binary sits beside this one: the same commands,
    /// linked position-independent. `gantry` itself is linked without PIE for its start-up (see
    /// Package.swift and bench/startup.sh); a long-running network service keeps address-space
    /// randomisation of its code. Build and install the two together (README, bench/common.sh, the
    /// Dockerfile). Without `gantry-server`, or when exec fails (said in one line), this process serves.
    static func execServerIfBeside() {
        guard let me = FileSystem.executablePath(), let slash = me.lastIndex(of: "/") else { return }
        let server = String(me[...slash]) + serverBinaryName
        guard server != me, FileSystem.isExecutable(server) else { return }
        _ = execv(server, CommandLine.unsafeArgv)
        FileSystem.write("gantry: warning: cannot run \(server) (\(FileSystem.lastError())); serving from this process\n", to: 2)
    }
}
