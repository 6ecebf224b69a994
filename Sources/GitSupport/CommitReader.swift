/// HEAD's commit read from the object files under `.git`, without libgit2.
///
/// Loading libgit2 costs every `gantry run` about 10 ms of CPU (its shared libraries, and Debian's
/// build parsing the system's CA bundle with mbedTLS), while what a run's event payload needs from
/// objects (the author, the message, the paths the commit changed, a tag) takes a few object reads.
/// The result equals `Repository.commitDetails()`, with one deliberate difference: at a shallow clone's
/// boundary (a commit in `.git/shallow`) the commit has no parent, as `git show` has it, so every
/// file is changed, where libgit2 1.5 fails to read the missing parent.
public enum CommitReader {
    /// HEAD's details. The tag is looked for only when `refs.needsTagPeeling` (otherwise `RefReader`
    /// has already found the tags pointing at a detached HEAD). Throws on what this reader does not
    /// read (SHA-256 repositories, version 1 pack indexes) and on a missing or corrupt object; the
    /// caller may then ask libgit2.
    public static func details(of refs: RefFacts) throws(GitError) -> CommitDetails {
        guard let sha = refs.sha else { return CommitDetails() }
        let format = GitConfig(files: [refs.commonDir + "/config"]).value(section: "extensions", subsection: nil, key: "objectformat")
        if let format, format.lowercased() != "sha1" {
            throw GitError(operation: "cannot read the HEAD commit", message: "object format '\(format)' is read by libgit2 only")
        }
        let store = ObjectStore(objectsDirectory: refs.commonDir + "/objects")
        let commit = try Commit(try store.read(sha), id: sha)
        let shallow = Set((RefReader.readFile(refs.commonDir + "/shallow") ?? "").split(separator: "\n").map(String.init))
        let parent = shallow.contains(sha) ? nil : commit.parents.first
        let parentTree = try parent.map { (parent) throws(GitError) in try Commit(try store.read(parent), id: parent).tree }
        var changes = Changes()
        try changedPaths(store, from: parentTree.flatMap { ObjectID(hex: $0) }, to: ObjectID(hex: commit.tree), prefix: "", into: &changes)
        return CommitDetails(
            authorName: commit.authorName, authorEmail: commit.authorEmail, commitMessage: commit.message,
            changedPaths: Array(Set(changes.added + changes.removed + changes.modified)).sorted(),
            added: changes.added.sorted(), removed: changes.removed.sorted(), modified: changes.modified.sorted(), parentSha: parent,
            tag: refs.needsTagPeeling ? tag(pointingAt: sha, refs: refs, store: store) : nil)
    }

    /// A commit's headers (`tree`, `parent`, `author`) and message.
    struct Commit {
        var tree: String
        var parents: [String] = []
        var authorName: String?
        var authorEmail: String?
        var message: String

        init(_ object: ObjectStore.Object, id: String) throws(GitError) {
            guard object.kind == .commit else {
                throw GitError(operation: "cannot read commit \(id)", message: "the object is a \(object.kind), not a commit")
            }
            let data = object.data
            // Headers end at the first empty line; continuation lines (a signature) start with a space.
            var end = data.count
            for i in data.indices.dropLast() where data[i] == 0x0a && data[i + 1] == 0x0a {
                end = i
                break
            }
            var tree: String?
            for line in data[..<end].split(separator: 0x0a, omittingEmptySubsequences: false) {
                let text = String(decoding: line, as: UTF8.self)
                if text.hasPrefix("tree ") {
                    tree = tree ?? String(text.dropFirst(5))
                } else if text.hasPrefix("parent ") {
                    parents.append(String(text.dropFirst(7)))
                } else if text.hasPrefix("author "), authorName == nil {
                    // `author Name <email> seconds zone`; as libgit2, the last `<` and `>` delimit the email.
                    let rest = text.dropFirst(7)
                    if let open = rest.lastIndex(of: "<"), let close = rest.lastIndex(of: ">"), open < close {
                        authorName = rest[..<open].trimmingSpaces
                        authorEmail = rest[rest.index(after: open)..<close].trimmingSpaces
                    }
                }
            }
            guard let tree, ObjectID(hex: tree) != nil else { throw GitError(operation: "cannot read commit \(id)", message: "it has no tree") }
            self.tree = tree
            // As libgit2's git_commit_message: everything after the headers, leading newlines removed.
            var body = data[min(end, data.count)...]
            while body.first == 0x0a { body = body.dropFirst() }
            message = String(decoding: body, as: UTF8.self)
        }
    }

    /// One entry of a tree object: `<octal mode> <name>\0<20-byte id>`.
    struct TreeEntry: Equatable {
        var mode: UInt32
        var id: ObjectID
        var isTree: Bool { mode == 0o40000 }
    }

    static func entries(_ store: ObjectStore, _ id: ObjectID?) throws(GitError) -> [String: TreeEntry] {
        guard let id else { return [:] }
        let object = try store.read(id)
        guard object.kind == .tree else {
            throw GitError(operation: "cannot read tree \(id.hex)", message: "the object is a \(object.kind), not a tree")
        }
        let data = object.data
        var entries: [String: TreeEntry] = [:]
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: 0x20), let nul = data[space...].firstIndex(of: 0), nul + 21 <= data.count,
                let mode = UInt32(String(decoding: data[i..<space], as: UTF8.self), radix: 8)
            else { throw GitError(operation: "cannot read tree \(id.hex)", message: "corrupt tree") }
            let name = String(decoding: data[(space + 1)..<nul], as: UTF8.self)
            entries[name] = TreeEntry(mode: mode, id: ObjectID(bytes: Array(data[(nul + 1)..<(nul + 21)])))
            i = nul + 21
        }
        return entries
    }

    /// Every path whose entry differs between two trees (nil: no tree), descending only into subtrees
    /// whose ids differ. A rename gives both paths, so no rename detection is needed for the set.
    static func changedPaths(_ store: ObjectStore, from old: ObjectID?, to new: ObjectID?, prefix: String, into changes: inout Changes) throws(GitError) {
        let before = try entries(store, old)
        let after = try entries(store, new)
        for name in Set(before.keys).union(after.keys) {
            let a = before[name]
            let b = after[name]
            if a == b { continue }
            let path = prefix + name
            if a?.isTree == true || b?.isTree == true {
                try changedPaths(store, from: a?.isTree == true ? a?.id : nil, to: b?.isTree == true ? b?.id : nil, prefix: path + "/", into: &changes)
            }
            let wasFile = a.map { !$0.isTree } ?? false
            let isFile = b.map { !$0.isTree } ?? false
            switch (wasFile, isFile) {
            case (true, true): changes.modified.append(path)
            case (true, false): changes.removed.append(path)
            case (false, true): changes.added.append(path)
            case (false, false): break
            }
        }
    }

    /// Paths a commit added, removed and modified.
    struct Changes {
        var added: [String] = []
        var removed: [String] = []
        var modified: [String] = []
    }

    /// The alphabetically first tag (loose or packed) whose commit is `sha`, annotated tags peeled.
    static func tag(pointingAt sha: String, refs: RefFacts, store: ObjectStore) -> String? {
        var targets: [String: String] = [:]
        let packed = RefReader.PackedRefs(RefReader.readFile(refs.commonDir + "/packed-refs") ?? "")
        for (ref, entry) in packed.refs where ref.hasPrefix("refs/tags/") {
            targets[String(ref.dropFirst(10))] = entry.peeled ?? entry.sha
        }
        for name in RefReader.listFiles(refs.commonDir + "/refs/tags", prefix: "") {
            if let target = RefReader.readFile(refs.commonDir + "/refs/tags/" + name)?.trimmed { targets[name] = target }
        }
        return targets.keys.sorted().first { name in
            var id = targets[name]!
            // A tag may name a tag; git peels up to the first object that is not one.
            for _ in 0..<10 {
                if id == sha { return true }
                guard let object = try? store.read(id), object.kind == .tag else { return false }
                let header = object.data.split(separator: 0x0a).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
                guard header.hasPrefix("object ") else { return false }
                id = String(header.dropFirst(7))
            }
            return false
        }
    }
}
