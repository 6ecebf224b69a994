public import ArgumentParser
import GitSupport

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
        main()
    }
}
