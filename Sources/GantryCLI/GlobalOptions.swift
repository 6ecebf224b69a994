public import ArgumentParser

/// Options every command that reads workflows shares, spelled as act users know them.
public struct WorkflowOptions: ParsableArguments {
    @Option(
        name: [.customShort("W"), .customLong("workflows")],
        help: ArgumentHelp("A workflow file or a directory of them (repeatable).", valueName: "path"))
    public var workflows: [String] = []

    @Option(
        name: [.customShort("C"), .customLong("directory")],
        help: ArgumentHelp("The repository to work in.", valueName: "dir"))
    public var directory: String?

    public init() {}

    /// What the options say, as a plain value.
    var selection: WorkflowSelection { WorkflowSelection(workflows: workflows, directory: directory) }

    public func validate() throws {
        try selection.check()
    }
}

/// Which workflows a command reads (`-W`) and where (`-C`): the values behind `WorkflowOptions`, also
/// made without ArgumentParser (`FastCommandLine`, `gantry serve`).
struct WorkflowSelection: Equatable, Sendable {
    var workflows: [String] = []
    var directory: String?

    /// The paths to read: `explicit` and `-W` paths, or `.github/workflows`; each resolved against `-C`.
    func workflowPaths(explicit: [String]) -> [String] {
        let given = explicit + workflows
        let paths = given.isEmpty ? [".github/workflows"] : given
        return paths.map(resolve)
    }

    /// `path` as seen from the current directory when `-C` is given.
    func resolve(_ path: String) -> String {
        guard let directory, !directory.isEmpty, directory != ".", !path.hasPrefix("/") else { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    func check() throws(ValidationError) {
        if let directory {
            guard FileSystem.isDirectory(directory) else {
                throw ValidationError("'\(directory)' given with -C is not a directory")
            }
        }
    }
}

/// How a command prints its findings.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
}

/// How `validate` prints its diagnostics.
public enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, sarif, github
}
