/// Where a job's `uses:` finds the workflow it calls, and GitHub's limits on calls. Pure: the front end
/// reads the files these references name and gives them to the planner by `key(caller:uses:)`.
public enum ReusableWorkflows {
    /// GitHub connects at most ten levels of workflows: the top-level caller and up to nine called ones
    /// (docs: "Nesting reusable workflows", reuse-workflows.md, since github/docs#41320).
    public static let maxLevels = 10

    /// A `uses:` of a job, read.
    public enum Reference: Equatable, Sendable {
        /// `./.github/workflows/x.yml`, or `$/.github/workflows/x.yml` (the same repository at the same
        /// commit, the 2026 form): the path inside the repository.
        case local(path: String)
        /// `OWNER/REPO/.github/workflows/x.yml@REF`.
        case remote(owner: String, repo: String, path: String, ref: String)
    }

    /// Reads a `uses:`; nil when it is neither form (validate reports that).
    public static func reference(_ uses: String) -> Reference? {
        let text = uses.trimmingPrefix(while: { $0 == " " })
        if text.hasPrefix("./") || text.hasPrefix("$/") {
            let path = String(text.dropFirst(2))
            return path.hasPrefix(".github/workflows/") ? .local(path: path) : nil
        }
        guard let at = text.lastIndex(of: "@") else { return nil }
        let parts = text[..<at].split(separator: "/", maxSplits: 2).map(String.init)
        let ref = String(text[text.index(after: at)...])
        guard parts.count == 3, !ref.isEmpty, parts[2].hasPrefix(".github/workflows/") else { return nil }
        return .remote(owner: parts[0], repo: parts[1], path: parts[2], ref: ref)
    }

    /// The key of a called workflow in `PlanRequest.calledWorkflows`: the calling file and the
    /// reference as written (a `./` path names a file of the caller's own repository).
    public static func key(caller: String, uses: String) -> String {
        caller + "\n" + uses.trimmingPrefix(while: { $0 == " " })
    }
}

extension Substring {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        self[(firstIndex { !predicate($0) } ?? endIndex)...]
    }
}

extension String {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        Substring(self).trimmingPrefix(while: predicate)
    }
}
