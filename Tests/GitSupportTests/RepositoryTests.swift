import Foundation
import GitSupport
import Testing
import _GantryTestSupport

/// GitSupport on real repositories the tests create with git.
@Suite struct RepositoryTests {
    typealias Scratch = ScratchRepository

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

    /// A repository with committed, modified, deleted, untracked, ignored, executable and symlinked files.
    static func exportFixture() throws -> ScratchRepository {
        let repo = try Scratch()
        try repo.write(".gitignore", "build/\n*.log\n")
        try repo.write("kept.txt", "committed\n")
        try repo.write("changed.txt", "committed\n")
        try repo.write("gone.txt", "committed\n")
        try repo.write("bin/tool.sh", "#!/bin/sh\necho tool\n", executable: true)
        try FileManager.default.createSymbolicLink(atPath: repo.url.appendingPathComponent("link").path, withDestinationPath: "kept.txt")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "base")
        try repo.write("changed.txt", "uncommitted\n")
        try FileManager.default.removeItem(at: repo.url.appendingPathComponent("gone.txt"))
        try repo.write("new/untracked.txt", "new\n")
        try repo.write("build/out.o", "ignored\n")
        try repo.write("debug.log", "ignored\n")
        return repo
    }

    /// Every file below `directory` (relative paths, sorted) with its contents; links as `-> target`.
    static func tree(_ directory: String) throws -> [String] {
        let fm = FileManager.default
        return try fm.subpathsOfDirectory(atPath: directory).sorted().compactMap { path in
            let full = directory + "/" + path
            if let target = try? fm.destinationOfSymbolicLink(atPath: full) { return "\(path) -> \(target)" }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            let mode = (try fm.attributesOfItem(atPath: full)[.posixPermissions] as? Int) ?? 0
            return "\(path) \(String(mode, radix: 8)): \(try String(contentsOfFile: full, encoding: .utf8).trimmingCharacters(in: .newlines))"
        }
    }

    @Test func exportWorkingTreeCopiesUncommittedAndUntrackedButNotIgnoredOrDeleted() throws {
        let repo = try Self.exportFixture()
        let statusBefore = try repo.git("status", "--porcelain")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: target) }
        let count = try Repository(discoveringFrom: repo.path).export(.workingTree, to: target)
        #expect(try Self.tree(target) == [
            ".gitignore 644: build/\n*.log", "bin/tool.sh 755: #!/bin/sh\necho tool", "changed.txt 644: uncommitted",
            "kept.txt 644: committed", "link -> kept.txt", "new/untracked.txt 644: new",
        ])
        #expect(count == 6)
        // The repository is only read: same status, nothing staged.
        #expect(try repo.git("status", "--porcelain") == statusBefore)
    }

    @Test func exportHeadCopiesTheCommittedTreeAndLeavesTheIndexAlone() throws {
        let repo = try Self.exportFixture()
        try repo.git("add", "changed.txt")
        let statusBefore = try repo.git("status", "--porcelain")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: target) }
        let count = try Repository(discoveringFrom: repo.path).export(.head, to: target)
        #expect(try Self.tree(target) == [
            ".gitignore 644: build/\n*.log", "bin/tool.sh 755: #!/bin/sh\necho tool", "changed.txt 644: committed",
            "gone.txt 644: committed", "kept.txt 644: committed", "link -> kept.txt",
        ])
        #expect(count == 6)
        #expect(try repo.git("status", "--porcelain") == statusBefore)
        #expect(try repo.read("changed.txt") == "uncommitted\n")
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

extension ScratchRepository {
    func facts(in subdirectory: String = "") throws -> RepositoryFacts {
        try Repository(discoveringFrom: url.appendingPathComponent(subdirectory).path).facts()
    }
}
