import Foundation
import GitSupport
import Testing
import _GantryTestSupport

/// GitSupport on real repositories the tests create with git.
@Suite struct RepositoryTests {
    /// A scratch repository, removed when the test ends.
    final class Scratch {
        let url: URL

        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-git-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try git("init", "-q", "-b", "main")
            try git("config", "user.name", "Mona Lisa")
            try git("config", "user.email", "mona@example.com")
            try git("config", "commit.gpgsign", "false")
        }

        deinit { try? FileManager.default.removeItem(at: url) }

        @discardableResult
        func git(_ args: String...) throws -> String {
            let result = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git"] + args, in: url)
            guard result.status == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func write(_ path: String, _ text: String) throws {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }

        func facts(in subdirectory: String = "") throws -> RepositoryFacts {
            try Repository(discoveringFrom: url.appendingPathComponent(subdirectory).path).facts()
        }
    }

    @Test func branchCommitFacts() throws {
        let repo = try Scratch()
        try repo.write("a.txt", "a")
        try repo.write("src/b.swift", "b")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "First commit")
        let facts = try repo.facts(in: "src")
        #expect(facts.sha == (try repo.git("rev-parse", "HEAD")))
        #expect(facts.ref == "refs/heads/main")
        #expect(!facts.isDetached)
        #expect(facts.authorName == "Mona Lisa")
        #expect(facts.authorEmail == "mona@example.com")
        #expect(facts.commitMessage == "First commit\n")
        #expect(facts.changedPaths == ["a.txt", "src/b.swift"])
        #expect(facts.defaultBranch == "main")
        #expect(URL(fileURLWithPath: facts.workdir).standardizedFileURL.path == repo.url.standardizedFileURL.path)
    }

    @Test func changedPathsIncludeRenamesAndDeletions() throws {
        let repo = try Scratch()
        try repo.write("keep.txt", "keep")
        try repo.write("old-name.txt", String(repeating: "same content\n", count: 20))
        try repo.write("gone.txt", "gone")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "one")
        try repo.git("mv", "old-name.txt", "new-name.txt")
        try repo.git("rm", "-q", "gone.txt")
        try repo.write("keep.txt", "changed")
        try repo.write("added.txt", "new")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "two")
        #expect(try repo.facts().changedPaths == ["added.txt", "gone.txt", "keep.txt", "new-name.txt", "old-name.txt"])
    }

    @Test func tagsAndDetachedHeads() throws {
        let repo = try Scratch()
        try repo.write("a.txt", "1")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "one")
        try repo.git("tag", "-a", "v1.0", "-m", "release")
        try repo.write("a.txt", "2")
        try repo.git("commit", "-q", "-am", "two")
        try repo.git("checkout", "-q", "v1.0")
        let atTag = try repo.facts()
        #expect(atTag.isDetached)
        #expect(atTag.ref == "refs/tags/v1.0")
        try repo.git("checkout", "-q", "main")
        try repo.git("checkout", "-q", "--detach", "HEAD")
        let detached = try repo.facts()
        #expect(detached.isDetached)
        #expect(detached.ref == nil)
        #expect(detached.sha == (try repo.git("rev-parse", "HEAD")))
        try repo.git("checkout", "-q", "-b", "feature/x")
        #expect(try repo.facts().ref == "refs/heads/feature/x")
    }

    @Test func remotesGiveOwnerAndNameAndTheDefaultBranch() throws {
        let repo = try Scratch()
        try repo.write("a.txt", "1")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "one")
        try repo.git("remote", "add", "origin", "git@github.com:octo-org/hello-world.git")
        try repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
        let facts = try repo.facts()
        #expect(facts.remoteURL == "git@github.com:octo-org/hello-world.git")
        #expect(facts.repository == "octo-org/hello-world")
        #expect(facts.defaultBranch == "trunk")
    }

    @Test(
        "owner/name from remote URLs",
        arguments: [
            ("https://github.com/octo/app.git", "octo/app"), ("https://github.com/octo/app", "octo/app"),
            ("https://user:token@github.example.com/octo/app/", "octo/app"), ("git@github.com:octo/app.git", "octo/app"),
            ("ssh://git@github.com:22/octo/app.git", "octo/app"), ("git://host/group/sub/app.git", "sub/app"),
        ])
    func ownerAndName(url: String, expected: String) {
        #expect(Repository.ownerAndName(fromRemoteURL: url) == expected)
    }

    @Test func unbornBranchHasARefButNoCommit() throws {
        let repo = try Scratch()
        let facts = try repo.facts()
        #expect(facts.sha == nil)
        #expect(facts.ref == "refs/heads/main")
        #expect(facts.changedPaths == [])
    }

    @Test func notARepositoryIsAnErrorWithLibgit2sMessage() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-nogit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Repository(discoveringFrom: dir.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.operation == "cannot open a git repository at '\(dir.path)'")
            #expect(error.message.contains("could not find repository"))
        }
    }
}
