import WorkflowModel
import ContentCache
import WorkflowExpressions
import Synchronization
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// `actions/cache`, `actions/cache/restore` and `actions/cache/save` on the content cache, and
/// `hashFiles()` for expressions.
extension JobRunner {
    /// What the post step of actions/cache saves.
    struct CacheSave {
        var key: String
        var paths: [String]
        var env: [(String, String)]
        /// The key restored, if any: an exact hit is not saved again.
        var exactHit: Bool
    }

    /// The store, opened on first use (a run that caches nothing creates nothing).
    func cacheStore() throws(CacheError) -> CacheStore {
        guard let root = context.cacheRoot else { throw CacheError("no cache directory is configured") }
        return try cacheStoreHolder.withLock { holder throws(CacheError) -> CacheStore in
            if let store = holder { return store }
            let store = try CacheStore(root: root, index: context.cacheIndex)
            holder = store
            return store
        }
    }

    /// Where entries are looked up: the run's ref, then the base branch of a pull request, then the
    /// default branch, as actions/cache scopes them; each within this repository (GitHub keeps caches
    /// per repository): `OWNER/REPO:REF`, or the repository's folder when it has no GitHub remote.
    var cacheScopes: [String] {
        let repository = context.event.git.repository ?? context.event.git.workspace ?? workspace
        var scopes: [String] = []
        for ref in [context.event.ref, context.event.baseRef.map { "refs/heads/" + $0 }, context.event.git.defaultBranch.map { "refs/heads/" + $0 }] {
            if let ref, !ref.isEmpty, !scopes.contains(repository + ":" + ref) { scopes.append(repository + ":" + ref) }
        }
        return scopes.isEmpty ? [repository + ":refs/heads/main"] : scopes
    }

    static func lines(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// The `path` lines as actions/cache passes them to the version: `! pattern` becomes `!pattern`.
    static func cachePaths(_ text: String?) -> [String] {
        lines(text).map { line in
            guard line.hasPrefix("!") else { return line }
            return "!" + String(line.dropFirst().drop { $0 == " " || $0 == "\t" })
        }
    }

    /// actions/cache's key checks: at most 512 characters, no commas.
    static func validateKey(_ key: String) -> String? {
        if key.utf16.count > 512 { return "Key Validation Error: \(key) cannot be larger than 512 characters." }
        if key.contains(",") { return "Key Validation Error: \(key) cannot contain commas." }
        return nil
    }

    /// The job's `cache-mode` (else its workflow's, else what the calls above a called workflow give;
    /// default `write`): `read` restores and never saves, `write-only` saves without restoring, `none`
    /// does neither.
    var cacheMode: String { job.cacheMode?.value ?? workflow.cacheMode?.value ?? context.callerCacheMode ?? "write" }

    /// `actions/cache` (restore, then a post step that saves) and `actions/cache/restore`.
    func runCacheRestore(_ with: [String: String], name: String, env: [(String, String)], stateKey: String, state: JobState, registerSave: Bool) -> StepResult {
        func say(_ text: String) { state.say(text) }
        let paths = Self.cachePaths(with["path"])
        guard let key = with["key"], !key.isEmpty else {
            say("error: actions/cache: input required and not supplied: key")
            return .failed
        }
        guard !paths.isEmpty else {
            say("error: actions/cache: input required and not supplied: path")
            return .failed
        }
        let restoreKeys = Self.lines(with["restore-keys"])
        guard restoreKeys.count + 1 <= 10 else {
            say("error: actions/cache: Key Validation Error: Keys are limited to a maximum of 10.")
            return .failed
        }
        for candidate in [key] + restoreKeys {
            if let problem = Self.validateKey(candidate) {
                say("error: actions/cache: " + problem)
                return .failed
            }
        }
        let lookupOnly = (with["lookup-only"] ?? "false").lowercased() == "true"
        let failOnMiss = (with["fail-on-cache-miss"] ?? "false").lowercased() == "true"
        var outputs: [(String, ExpressionValue)] = [("cache-primary-key", .string(key))]
        var exact = false
        if cacheMode == "write-only" || cacheMode == "none" {
            say("Cache not restored: the job's cache-mode is '\(cacheMode)'")
        } else {
            do {
                let store = try cacheStore()
                let version = CacheStore.version(paths: paths)
                if let match = try store.find(key: key, restoreKeys: restoreKeys, version: version, scopes: cacheScopes) {
                    if lookupOnly {
                        say("Cache found and can be restored from key: \(match.entry.key)")
                    } else {
                        let count = try store.restore(match.entry) { stored in
                            stored == "." ? self.workspace : stored.hasPrefix("/") ? stored : self.workspace + "/" + stored
                        }
                        say("Cache restored from key: \(match.entry.key) (\(count) file\(count == 1 ? "" : "s"), \(match.reason))")
                    }
                    // Only once restored: a failed restore is a miss, and the post step saves.
                    exact = match.exact
                    outputs.append(("cache-hit", .string(exact ? "true" : "false")))
                    outputs.append(("cache-matched-key", .string(match.entry.key)))
                } else {
                    if failOnMiss {
                        say("error: Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: \(key)")
                        return .failed
                    }
                    // As actions/cache v4: on a miss `cache-hit` is not set at all.
                    say("Cache not found for input keys: \(([key] + restoreKeys).joined(separator: ", "))")
                }
            } catch {
                // As actions/cache: a broken cache is a warning, the job goes on without it.
                say("warning: actions/cache: \(error.message)")
            }
        }
        // lookup-only changes the restore, not the save.
        if registerSave {
            state.posts.append(PostStep(
                name: "Post " + name, stateKey: stateKey, condition: "success()",
                action: .cacheSave(CacheSave(key: key, paths: paths, env: env, exactHit: exact))))
        }
        return StepResult(outcome: .success, conclusion: .success, outputs: outputs, env: [], summary: "", timedOutJob: false)
    }

    /// `actions/cache/save`, or the post step of `actions/cache`.
    func runCacheSave(_ save: CacheSave, state: JobState) -> StepResult {
        func say(_ text: String) { state.say(text) }
        if cacheMode == "read" || cacheMode == "none" {
            say("Cache not saved: the job's cache-mode is '\(cacheMode)'")
            return StepResult(outcome: .success, conclusion: .success, outputs: [], env: [], summary: "", timedOutJob: false)
        }
        if save.exactHit {
            say("Cache hit occurred on the primary key \(save.key), not saving cache.")
            return StepResult(outcome: .success, conclusion: .success, outputs: [], env: [], summary: "", timedOutJob: false)
        }
        // A save that cannot happen is a warning, as in actions/cache's saveImpl: the job goes on.
        let success = StepResult(outcome: .success, conclusion: .success, outputs: [], env: [], summary: "", timedOutJob: false)
        guard !save.key.isEmpty else {
            say("warning: Key is not specified.")
            return success
        }
        if let problem = Self.validateKey(save.key) {
            say("warning: " + problem)
            return success
        }
        // As actions/cache resolves them: the globs name files or folders (no implicit descendants);
        // a folder is saved with everything below it, links as links.
        let roots: [String]
        do {
            roots = try Glob(lines: save.paths, base: workspace, home: home(save.env), implicitDescendants: false)
                .matches(followSymlinks: false, directories: true)
        } catch {
            say("warning: \(error.message)")
            return success
        }
        let items = CacheStore.collect(roots) { path in
            path == self.workspace ? "." : path.hasPrefix(self.workspace + "/") ? String(path.dropFirst(self.workspace.count + 1)) : path
        }
        guard !items.isEmpty else {
            say("warning: Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.")
            return StepResult(outcome: .success, conclusion: .success, outputs: [], env: [], summary: "", timedOutJob: false)
        }
        do {
            let store = try cacheStore()
            let scope = cacheScopes[0]
            switch try store.save(scope: scope, key: save.key, version: CacheStore.version(paths: save.paths), paths: save.paths, items: items) {
            case .saved(let entry, let written):
                say("Cache saved with key: \(save.key) (\(entry.fileCount) file\(entry.fileCount == 1 ? "" : "s"), \(entry.size) bytes, \(written) new bytes stored, scope \(scope))")
                // Eviction after each save: the configured size (default 10 GB) and 7 days unused.
                _ = try? store.prune(maxBytes: context.cacheLimit, maxAge: 7 * 86400)
            case .exists:
                say("warning: Failed to save: Unable to reserve cache with key \(save.key), another job may be creating this cache.")
            }
        } catch {
            say("warning: Failed to save: \(error.message)")
        }
        return StepResult(outcome: .success, conclusion: .success, outputs: [], env: [], summary: "", timedOutJob: false)
    }

    /// `hashFiles(patterns…)` as the runner computes it: `@actions/glob` from the workspace (links not
    /// followed unless the first argument is `--follow-symbolic-links`), files inside the workspace
    /// only, each file's SHA-256 fed raw into an outer SHA-256; empty when nothing matches.
    func hashFiles(_ arguments: [String], env: [(String, String)]) throws(StepFailure) -> String {
        var patterns = arguments
        var follow = false
        if let first = patterns.first, first.hasPrefix("--") {
            guard first.lowercased() == "--follow-symbolic-links" else {
                throw StepFailure("Invalid glob option \(first), avaliable option: '--follow-symbolic-links'.")
            }
            follow = true
            patterns.removeFirst()
        }
        let glob: Glob
        do {
            glob = try Glob(lines: patterns.flatMap { $0.split(whereSeparator: \.isNewline).map(String.init) }, base: workspace, home: home(env))
        } catch {
            throw StepFailure(error.message)
        }
        var outer = ContentDigest.Hasher()
        var matched = false
        // Following links, @actions/glob omits a broken one; not following, the runner's own stat of the
        // link fails, and so does hashFiles.
        let files = glob.matches(followSymlinks: follow)
        for file in files {
            guard file.hasPrefix(workspace + "/") else { continue }
            var info = stat()
            guard stat(file, &info) == 0 else { throw StepFailure("ENOENT: no such file or directory, stat '\(file)'") }
            guard (info.st_mode & S_IFMT) != S_IFDIR else { continue }
            guard let digest = ContentDigest.sha256(file: file) else { throw StepFailure("cannot read '\(file)'") }
            outer.update(digest)
            matched = true
        }
        return matched ? ContentDigest.hex(outer.finalize()) : ""
    }
}
