import ArgumentParser
import GitSupport
import WorkflowExecution
import WorkflowModel
import WorkflowParsing

/// `--checkout`: what actions/checkout copies into a job's workspace.
/// `gantry run --network`: where job and service containers are attached.
enum ContainerNetwork: String, ExpressibleByArgument, CaseIterable {
    case host, bridge
}

enum CheckoutSource: String, ExpressibleByArgument, CaseIterable {
    case worktree, head
}

extension ActionSupport {
    /// Actions read with the workflow parser's YAML reader, checkout through libgit2.
    static func host(repository: String, source: CheckoutSource, actionDirectory: String) -> ActionSupport {
        ActionSupport(
            parseMetadata: parseMetadata,
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

    /// `gantry serve`: actions/checkout writes the run's commit from the repository's bare mirror.
    static func mirror(_ path: String, commit: String, actionDirectory: String) -> ActionSupport {
        ActionSupport(
            parseMetadata: parseMetadata,
            checkout: { (directory) throws(CheckoutError) -> String in
                do throws(GitError) {
                    let count = try Repository(at: path).export(.commit(commit), to: directory)
                    return "checked out \(count) file\(count == 1 ? "" : "s") of commit \(commit) into \(directory)"
                } catch {
                    throw CheckoutError("\(error.operation): \(error.message)")
                }
            },
            actionDirectory: actionDirectory)
    }

    /// Action metadata read with the workflow parser's YAML reader.
    static let parseMetadata: @Sendable ([UInt8], String) -> Result<ActionMetadata, MetadataError> = { bytes, file in
        let result = ActionParser.parse(bytes, file: file)
        if let action = result.action { return .success(action) }
        return .failure(MetadataError(lines: result.diagnostics.filter { $0.severity == .error }.map(\.description)))
    }
}

/// Gantry's folders outside a repository, from the environment `gantry` was started with.
enum GantryDirectories {
    /// The variables `cache(environment:repository:)` reads.
    static let cacheVariables = ["GANTRY_CACHE_DIR", "XDG_CACHE_HOME", "HOME"]

    /// The content cache's root (DESIGN.md): `$GANTRY_CACHE_DIR`; else the repository's `cache/` when
    /// it holds the marker `.gantry-cache-root` (Gantry's own repository does); else
    /// `$XDG_CACHE_HOME/gantry`, else `~/.cache/gantry`.
    static func cache(environment: [(String, String)], repository: String? = nil) -> String {
        if environment.last(where: { $0.0 == "GANTRY_CACHE_DIR" }).map({ !$0.1.isEmpty }) != true, let repository,
            FileSystem.exists(repository + "/cache/.gantry-cache-root")
        {
            return (repository.hasSuffix("/") ? repository : repository + "/") + "cache"
        }
        return pick("GANTRY_CACHE_DIR", xdg: "XDG_CACHE_HOME", home: ".cache", environment)
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
