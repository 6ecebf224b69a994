import Foundation
@testable import GitSupport
import Testing
import _GantryTestSupport

/// The object reader gives what libgit2 gives, on loose objects, packs with offset and reference
/// deltas, alternates, signed commits and annotated tags; and fails with a GitError, never a crash, on
/// what it does not read.
@Suite struct CommitReaderTests {
    typealias Scratch = RepositoryTests.Scratch

    static func details(_ repo: Scratch) throws -> CommitDetails {
        try CommitReader.details(of: try RefReader.read(from: repo.path))
    }

    /// The reader's error on the repository, in words.
    static func failure(_ repo: Scratch) -> String? {
        do throws(GitError) {
            _ = try CommitReader.details(of: try RefReader.read(from: repo.path))
            return nil
        } catch {
            return error.description
        }
    }

    /// The reader and libgit2 agree on HEAD; the tag too when the refs ask for peeling.
    static func expectSameAsLibgit2(_ repo: Scratch, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let refs = try RefReader.read(from: repo.path)
        var expected = try Repository(discoveringFrom: repo.path).commitDetails()
        if !refs.needsTagPeeling { expected.tag = nil }
        #expect(try CommitReader.details(of: refs) == expected, sourceLocation: sourceLocation)
    }

    /// A history touching every kind of change: edits, a rename, a deletion, a mode change, a link,
    /// a file becoming a folder and back, nested folders, a submodule entry and a merge.
    static func history() throws -> Scratch {
        let repo = try Scratch()
        try repo.write("README.md", "hello\n")
        try repo.write("src/app/main.swift", "print(1)\n")
        try repo.write("src/app/util.swift", String(repeating: "let x = 1\n", count: 40))
        try repo.write("docs/guide/intro.md", "intro\n")
        try repo.write("node", "a file first\n")
        try FileManager.default.createSymbolicLink(atPath: repo.url.appendingPathComponent("latest").path, withDestinationPath: "README.md")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "root")
        return repo
    }

    @Test func rootCommitListsEveryFile() throws {
        let repo = try Self.history()
        let details = try Self.details(repo)
        #expect(details.changedPaths == ["README.md", "docs/guide/intro.md", "latest", "node", "src/app/main.swift", "src/app/util.swift"])
        #expect(details.parentSha == nil)
        #expect(details.added == details.changedPaths && details.removed.isEmpty && details.modified.isEmpty)
        #expect(details.authorName == "Mona Lisa")
        #expect(details.authorEmail == "mona@example.com")
        #expect(details.commitMessage == "root\n")
        try Self.expectSameAsLibgit2(repo)
    }

    @Test func everyKindOfChangeMatchesLibgit2() throws {
        let repo = try Self.history()
        let root = try repo.git("rev-parse", "HEAD")
        try FileManager.default.createDirectory(at: repo.url.appendingPathComponent("src/lib"), withIntermediateDirectories: true)
        try repo.git("mv", "src/app/util.swift", "src/lib/util.swift")
        try repo.write("src/app/main.swift", "print(2)\n")
        try repo.git("rm", "-q", "docs/guide/intro.md")
        try repo.git("rm", "-q", "node")
        try repo.write("node/inside.txt", "a folder now\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.url.appendingPathComponent("README.md").path)
        try repo.git("add", ".")
        try repo.git("update-index", "--add", "--cacheinfo", "160000,\(root),vendor/lib")
        try repo.git("commit", "-q", "-m", "Second\n\nWith a body.\n")
        let details = try Self.details(repo)
        #expect(details.changedPaths == [
            "README.md", "docs/guide/intro.md", "node", "node/inside.txt", "src/app/main.swift", "src/app/util.swift",
            "src/lib/util.swift", "vendor/lib",
        ])
        #expect(details.parentSha == root)
        // As a push payload lists them: a rename is a removal and an addition, a file that became a
        // folder is removed and the folder's files added.
        #expect(details.added == ["node/inside.txt", "src/lib/util.swift", "vendor/lib"])
        #expect(details.removed == ["docs/guide/intro.md", "node", "src/app/util.swift"])
        #expect(details.modified == ["README.md", "src/app/main.swift"])
        #expect(details.commitMessage == "Second\n\nWith a body.\n")
        try Self.expectSameAsLibgit2(repo)

        // A merge: the paths against the first parent.
        try repo.git("checkout", "-q", "-b", "side", root)
        try repo.write("side.txt", "side\n")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "side")
        try repo.git("checkout", "-q", "main")
        try repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
        #expect(try Self.details(repo).changedPaths == ["side.txt"])
        try Self.expectSameAsLibgit2(repo)

        // An empty commit changes nothing.
        try repo.git("commit", "-q", "--allow-empty", "-m", "nothing")
        #expect(try Self.details(repo).changedPaths == [])
        try Self.expectSameAsLibgit2(repo)
    }

    /// Commits whose trees change a little each time, so a repack stores most of them as deltas.
    static func deltaHistory() throws -> (Scratch, [String]) {
        let repo = try Self.history()
        var commits: [String] = []
        for i in 0..<12 {
            for j in 0..<30 { try repo.write("src/gen/file\(j).txt", "version \(j < i ? i : 0) of \(j)\n" + String(repeating: "line\n", count: 50 + i)) }
            try repo.write("src/app/util.swift", String(repeating: "let x = \(i)\n", count: 40 + i))
            try repo.git("add", ".")
            try repo.git("commit", "-q", "-m", "step \(i)")
            commits.append(try repo.git("rev-parse", "HEAD"))
        }
        return (repo, commits)
    }

    @Test(arguments: [
        ["repack", "-q", "-a", "-d", "-f", "--depth=50", "--window=50"],
        ["-c", "repack.useDeltaBaseOffset=false", "repack", "-q", "-a", "-d", "-f", "--depth=50", "--window=50"],
    ])
    func packedObjectsWithDeltasMatchLibgit2(repack: [String]) throws {
        let (repo, commits) = try Self.deltaHistory()
        try repo.git(repack)
        try repo.git("prune-packed")
        #expect(try repo.git("count-objects", "-v").contains("count: 0"))
        #expect(try repo.git("verify-pack", "-v", try Self.packIndex(repo)).contains("chain length"))
        for commit in commits {
            try repo.git("checkout", "-q", "--detach", commit)
            try Self.expectSameAsLibgit2(repo)
        }
    }

    static func packIndex(_ repo: Scratch) throws -> String {
        let folder = repo.url.appendingPathComponent(".git/objects/pack")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".idx") })
        return folder.appendingPathComponent(name).path
    }

    @Test func signedCommitHeadersAndOddAuthors() throws {
        let repo = try Self.history()
        let tree = try repo.git("rev-parse", "HEAD^{tree}")
        let parent = try repo.git("rev-parse", "HEAD")
        // A signature's continuation lines start with a space, its empty line too: only the first
        // truly empty line ends the headers.
        let object = [
            "tree \(tree)", "parent \(parent)",
            "author Zoë <Old> Ünicode <zoe@example.com> 1700000000 +0100",
            "committer C <c@example.com> 1700000000 +0100",
            "gpgsig -----BEGIN PGP SIGNATURE-----", " ", " iQEzBAABCAAdFiEE", " -----END PGP SIGNATURE-----",
            "", "", "Signed subject", "", "Body line.", "",
        ].joined(separator: "\n")
        let file = repo.url.appendingPathComponent("commit.txt")
        try object.write(to: file, atomically: true, encoding: .utf8)
        let sha = try repo.git("hash-object", "-t", "commit", "-w", file.path)
        try repo.git("update-ref", "refs/heads/main", sha)
        let details = try Self.details(repo)
        #expect(details.authorName == "Zoë <Old> Ünicode")
        #expect(details.authorEmail == "zoe@example.com")
        #expect(details.commitMessage == "Signed subject\n\nBody line.\n")
        #expect(details.changedPaths == [])
        try Self.expectSameAsLibgit2(repo)
    }

    @Test func annotatedTagsArePeeledWhenTheRefsAsk() throws {
        let repo = try Self.history()
        try repo.git("tag", "-a", "v2.0", "-m", "release")
        try repo.git("tag", "-a", "v1.0-signed", "-m", "tag of a tag", "v2.0")
        try repo.git("tag", "other", "HEAD")
        try repo.write("more.txt", "more\n")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "later")
        try repo.git("tag", "-a", "v3.0", "-m", "later release")
        try repo.git("checkout", "-q", "--detach", "v2.0")
        // `other` is a lightweight tag RefReader finds itself; without it, only peeling finds v1.0-signed.
        try repo.git("tag", "-d", "other")
        let refs = try RefReader.read(from: repo.path)
        #expect(refs.needsTagPeeling)
        #expect(try CommitReader.details(of: refs).tag == "v1.0-signed")
        try Self.expectSameAsLibgit2(repo)

        // Packed refs without the `peeled` trait carry no `^` lines: the reader peels them too.
        try repo.git("pack-refs", "--all")
        let packedRefs = repo.url.appendingPathComponent(".git/packed-refs")
        let unpeeled = try String(contentsOf: packedRefs, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("^") && !$0.hasPrefix("#") }.joined(separator: "\n") + "\n"
        try unpeeled.write(to: packedRefs, atomically: true, encoding: .utf8)
        #expect(try CommitReader.details(of: try RefReader.read(from: repo.path)).tag == "v1.0-signed")
        try Self.expectSameAsLibgit2(repo)
    }

    @Test func objectsFromAlternates() throws {
        let (source, _) = try Self.deltaHistory()
        try source.git("gc", "-q")
        let clone = try Scratch()
        try FileManager.default.removeItem(at: clone.url)
        _ = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "clone", "-q", "--shared", source.path, clone.path], in: source.url)
        #expect(FileManager.default.fileExists(atPath: clone.url.appendingPathComponent(".git/objects/info/alternates").path))
        #expect(try clone.git("count-objects", "-v").contains("count: 0"))
        try Self.expectSameAsLibgit2(clone)
        #expect(try Self.details(clone).parentSha == (try source.git("rev-parse", "HEAD~1")))
    }

    @Test func aShallowBoundaryHasNoParent() throws {
        let (source, _) = try Self.deltaHistory()
        let clone = try Scratch()
        try FileManager.default.removeItem(at: clone.url)
        _ = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "clone", "-q", "--depth", "1", "file://" + source.path, clone.path], in: source.url)
        let details = try Self.details(clone)
        // As `git show --name-only HEAD` lists them in the shallow clone: every file.
        let listed = try clone.git("ls-tree", "-r", "--name-only", "HEAD").split(separator: "\n").map(String.init).sorted()
        #expect(details.changedPaths == listed)
        #expect(details.parentSha == nil)
        #expect(details.commitMessage == "step 11\n")
    }

    @Test func whatItCannotReadIsAGitError() throws {
        let repo = try Self.history()
        let sha = try repo.git("rev-parse", "HEAD")
        let loose = repo.url.appendingPathComponent(".git/objects/\(sha.prefix(2))/\(sha.dropFirst(2))")
        let bytes = try Data(contentsOf: loose)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: loose.path)
        try bytes.prefix(bytes.count / 2).write(to: loose)
        #expect(Self.failure(repo) == "cannot read object \(sha): corrupt compressed data")
        try FileManager.default.removeItem(at: loose)
        #expect(Self.failure(repo) == "cannot read object \(sha): object not found")
        let sha256 = try Scratch()
        try sha256.git("config", "core.repositoryformatversion", "1")
        try sha256.git("config", "extensions.objectformat", "sha256")
        try sha256.write(".git/HEAD", "4e1243bd22c66e76c2ba9eddc1f91394e57f9f83aabbccddeeff001122334455\n")
        #expect(Self.failure(sha256) == "cannot read the HEAD commit: object format 'sha256' is read by libgit2 only")
    }

    @Test func aReferenceDeltaLoopInACorruptPackIsAnErrorNotACrash() throws {
        let objects = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-objects-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: objects.appendingPathComponent("pack"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: objects) }
        // One object, a reference delta (type 7, 2 bytes) whose base is itself; the delta is zlib's
        // deflate of [0, 0].
        let id = [UInt8](repeating: 0xab, count: 20)
        let pack: [UInt8] = Array("PACK".utf8) + [0, 0, 0, 2, 0, 0, 0, 1, 0x72] + id + [120, 156, 99, 96, 0, 0, 0, 2, 0, 1]
        var index: [UInt8] = [0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]
        for byte in 0..<256 { index += [0, 0, 0, byte >= 0xab ? 1 : 0] }
        index += id + [0, 0, 0, 0] + [0, 0, 0, 12] + [UInt8](repeating: 0, count: 40)
        try Data(pack).write(to: objects.appendingPathComponent("pack/loop.pack"))
        try Data(index).write(to: objects.appendingPathComponent("pack/loop.idx"))
        let store = ObjectStore(objectsDirectory: objects.path)
        do throws(GitError) {
            _ = try store.read(ObjectID(bytes: id))
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "cannot read object \(String(repeating: "ab", count: 20)): corrupt pack \(objects.path)/pack/loop.pack")
        }
    }

    @Test func deltasApplyCopiesAndInsertsAndRefuseWhatDoesNotFit() {
        let base = Array("hello, world".utf8)
        // base size 12, result size 11: copy 5 bytes from 0, insert "!", copy 5 bytes from 7.
        let delta: [UInt8] = [12, 11, 0x90, 5, 1, 0x21, 0x91, 7, 5]
        #expect(ObjectStore.apply(delta, to: base).map { String(decoding: $0, as: UTF8.self) } == "hello!world")
        #expect(ObjectStore.apply([13, 11, 0x90, 5], to: base) == nil)  // wrong base size
        #expect(ObjectStore.apply([12, 20, 0x91, 7, 20], to: base) == nil)  // copy past the base's end
        #expect(ObjectStore.apply([12, 3, 5, 0x41], to: base) == nil)  // insert past the delta's end
        #expect(ObjectStore.apply([12, 1, 0], to: base) == nil)  // the reserved opcode
        // A copy whose size bits are all zero copies 0x10000 bytes.
        let big = [UInt8](repeating: 7, count: 0x10000)
        #expect(ObjectStore.apply([0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80], to: big) == big)
    }
}
