import ArgumentParser
import GitSupport
import WorkflowExecution
import WorkflowModel
import WorkflowParsing

/// `--checkout`: what actions/checkout copies into a job's workspace.
enum CheckoutSource: String, ExpressibleByArgument, CaseIterable {
    case worktree, head
}

extension ActionSupport {
    /// Actions read with the workflow parser's YAML reader, checkout through libgit2.
    static func host(repository: String, source: CheckoutSource, actionDirectory: String) -> ActionSupport {
        ActionSupport(
            parseMetadata: { bytes, file in
                let result = ActionParser.parse(bytes, file: file)
                if let action = result.action { return .success(action) }
                return .failure(MetadataError(lines: result.diagnostics.filter { $0.severity == .error }.map(\.description)))
            },
            checkout: { (directory) throws(CheckoutError) -> String in
                do throws(GitError) {
                    let repo = try Repository(discoveringFrom: repository)
                    let count = try repo.export(source == .head ? .head : .workingTree, to: directory)
                    let what = source == .head ? "the HEAD commit" : "the working tree (with uncommitted changes)"
                    return "checked out \(count) file\(count == 1 ? "" : "s") of \(what) into \(directory)"
                } catch {
                    throw CheckoutError("\(error.operation): \(error.message)")
                }
            },
            actionDirectory: actionDirectory)
    }
}

/// Gantry's folders outside a repository, from the environment `gantry` was started with.
enum GantryDirectories {
    /// The content cache's root (DESIGN.md): `$GANTRY_CACHE_DIR`, else `$XDG_CACHE_HOME/gantry`, else
    /// `~/.cache/gantry`.
    static func cache(environment: [(String, String)]) -> String {
        pick("GANTRY_CACHE_DIR", xdg: "XDG_CACHE_HOME", home: ".cache", environment)
    }

    /// State shared between runs (concurrency groups): `$GANTRY_STATE_DIR`, else
    /// `$XDG_STATE_HOME/gantry`, else `~/.local/state/gantry`.
    static func state(environment: [(String, String)]) -> String {
        pick("GANTRY_STATE_DIR", xdg: "XDG_STATE_HOME", home: ".local/state", environment)
    }

    private static func pick(_ explicit: String, xdg: String, home: String, _ environment: [(String, String)]) -> String {
        func value(_ name: String) -> String? {
            environment.last { $0.0 == name }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
        }
        if let path = value(explicit) { return path }
        if let base = value(xdg) { return base + "/gantry" }
        return (value("HOME") ?? "/tmp") + "/" + home + "/gantry"
    }
}
