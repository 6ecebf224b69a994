import Foundation
@testable import GitSupport
import Testing
import _GantryTestSupport

/// Mirrors fetch every branch and tag from a real `git daemon` and from a path, follow force-pushes
/// and deletions, and export a commit's tree from the bare repository.
@Suite(.ownThread) struct MirrorTests {
    @Test func fetchesFromAGitDaemonAndExportsACommit() throws {
        let origin = try ScratchRepository()
        try origin.write(".github/workflows/ci.yml", "on: push\n")
        try origin.git("add", ".")
        try origin.git("commit", "-q", "-m", "one")
        try origin.git("tag", "v1")
        let first = try origin.git("rev-parse", "HEAD")
        try origin.write("b.txt", "two\n")
        try origin.git("add", ".")
        try origin.git("commit", "-q", "-m", "two")
        try origin.git("branch", "feature")
        let second = try origin.git("rev-parse", "HEAD")

        let daemon = try GitDaemon(base: origin.url.deletingLastPathComponent().path)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-mirror-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let mirror = Mirror(path: scratch.path + "/m.git", url: daemon.url(origin.url.lastPathComponent))
        try mirror.fetch()
        let repo = try mirror.open()
        #expect(try repo.resolve("refs/heads/main") == second)
        #expect(try repo.resolve("refs/heads/feature") == second)
        #expect(try repo.resolve("refs/tags/v1") == first)

        // The first commit's tree only: b.txt came later.
        let out = scratch.path + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        #expect(try repo.export(.commit(first), to: out) == 1)
        #expect(try String(contentsOfFile: out + "/.github/workflows/ci.yml", encoding: .utf8) == "on: push\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/b.txt"))

        // A deleted branch goes, a force-push moves the branch.
        try origin.git("branch", "-D", "feature")
        try origin.git("reset", "-q", "--hard", first)
        try mirror.fetch()
        let again = try mirror.open()
        #expect(try again.resolve("refs/heads/main") == first)
        #expect(throws: GitError.self) { try again.resolve("refs/heads/feature") }
    }

    @Test func aMissingRemoteIsAGitError() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-mirror-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let mirror = Mirror(path: scratch.path + "/m.git", url: scratch.path + "/nowhere.git")
        let error = #expect(throws: GitError.self) { try mirror.fetch() }
        #expect(error?.description.hasPrefix("cannot fetch '\(scratch.path)/nowhere.git'") == true)
    }
}
