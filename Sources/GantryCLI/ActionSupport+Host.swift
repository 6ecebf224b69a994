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

/// The content cache's root (DESIGN.md): `$GANTRY_CACHE_DIR`, else `$XDG_CACHE_HOME/gantry`, else
/// `~/.cache/gantry`.
enum CacheRoot {
    static func path(environment: [(String, String)]) -> String {
        func value(_ name: String) -> String? {
            environment.last { $0.0 == name }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
        }
        if let explicit = value("GANTRY_CACHE_DIR") { return explicit }
        if let xdg = value("XDG_CACHE_HOME") { return xdg + "/gantry" }
        return (value("HOME") ?? "/tmp") + "/.cache/gantry"
    }
}
