import Foundation
import GitSupport
import Testing
import _GantryTestSupport

/// The plain-file reader of HEAD, refs and config agrees with libgit2 on real repositories.
@Suite struct RefReaderTests {
    typealias Scratch = RepositoryTests.Scratch

    static func committed() throws -> Scratch {
        let repo = try Scratch()
        try repo.write("a.txt", "1")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "one")
        return repo
    }

    @Test func branchHeadMatchesLibgit2() throws {
        let repo = try Self.committed()
        try repo.write("sub/dir/b.txt", "b")
        let refs = try RefReader.read(from: repo.url.appendingPathComponent("sub/dir").path)
        let facts = try repo.facts()
        #expect(refs.sha == facts.sha)
        #expect(refs.ref == "refs/heads/main")
        #expect(!refs.isDetached)
        #expect(refs.defaultBranch == "main")
        #expect(refs.userName == "Mona Lisa")
        #expect(refs.workdir == repo.url.resolvingSymlinksInPath().path)
    }

    @Test func packedRefsAndPeeledAnnotatedTags() throws {
        let repo = try Self.committed()
        try repo.git("tag", "-a", "v2.0", "-m", "annotated")
        try repo.git("tag", "light")
        try repo.git("checkout", "-q", "--detach", "HEAD")
        // Loose: the lightweight tag matches directly.
        let loose = try RefReader.read(from: repo.url.path)
        #expect(loose.isDetached)
        #expect(loose.ref == "refs/tags/light")
        // Packed: the annotated tag's peeled line matches too; the first name wins.
        try repo.git("pack-refs", "--all")
        let packed = try RefReader.read(from: repo.url.path)
        #expect(packed.ref == "refs/tags/light")
        try repo.git("tag", "-d", "light")
        #expect(try RefReader.read(from: repo.url.path).ref == "refs/tags/v2.0")
        #expect(try RefReader.read(from: repo.url.path).sha == (try repo.git("rev-parse", "HEAD")))
    }

    @Test func looseAnnotatedTagNeedsLibgit2ToPeel() throws {
        let repo = try Self.committed()
        try repo.git("tag", "-a", "v1", "-m", "annotated")
        try repo.git("checkout", "-q", "--detach", "HEAD")
        let refs = try RefReader.read(from: repo.url.path)
        #expect(refs.ref == nil)
        #expect(refs.needsTagPeeling)
        let details = try Repository(discoveringFrom: repo.url.path).commitDetails()
        #expect(details.tag == "v1")
        #expect(details.authorName == "Mona Lisa")
        #expect(details.changedPaths == ["a.txt"])
    }

    @Test func linkedWorktreesUseTheCommonRefsAndConfig() throws {
        let repo = try Self.committed()
        try repo.git("remote", "add", "origin", "https://github.com/octo/app.git")
        let worktree = repo.url.appendingPathComponent("wt")
        try repo.git("worktree", "add", "-q", "-b", "feature", worktree.path)
        let refs = try RefReader.read(from: worktree.path)
        #expect(refs.ref == "refs/heads/feature")
        #expect(refs.sha == (try repo.git("rev-parse", "HEAD")))
        #expect(refs.repository == "octo/app")
        #expect(refs.commonDir.hasSuffix("/.git"))
    }

    @Test func unbornAndMissingRepositories() throws {
        let repo = try Scratch()
        let unborn = try RefReader.read(from: repo.url.path)
        #expect(unborn.ref == "refs/heads/main")
        #expect(unborn.sha == nil)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-norefs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: GitError.self) { try RefReader.read(from: dir.path) }
    }
}

extension RefReaderTests {
    @Test func configLastSettingWinsAndQuotedValuesLoseTheirComments() throws {
        let repo = try Self.committed()
        let config = repo.url.appendingPathComponent(".git/config")
        var text = try String(contentsOf: config, encoding: .utf8)
        text += "[remote \"origin\"]\n\turl = https://github.com/old/repo.git\n[remote \"origin\"]\n\turl = \"git@github.com:new/repo.git\" # moved\n"
        try text.write(to: config, atomically: true, encoding: .utf8)
        let refs = try RefReader.read(from: repo.url.path)
        #expect(refs.remoteURL == "git@github.com:new/repo.git")
        #expect(refs.repository == "new/repo")
    }
}
