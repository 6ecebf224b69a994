import Foundation
import Testing
@testable import GantryCLI

/// `FileSystem.entries`: a directory's entries by `scandir`, read field by field from records that are
/// only as long as their names.
@Suite struct FileSystemTests {
    @Test func entriesAreSortedByTheirBytesWithTheirKinds() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-entries-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Short names (records shorter than `dirent`), a name of 255 bytes, upper case before lower
        // case, non-ASCII after ASCII, a directory and a symbolic link.
        let long = String(repeating: "l", count: 251) + ".yml"
        let files = ["b.yml", "a", "B.yaml", "é.yml", "a.yml", long, "z"]
        for name in files { #expect(FileManager.default.createFile(atPath: root + "/" + name, contents: Data("x".utf8))) }
        try FileManager.default.createDirectory(atPath: root + "/dir.yml", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: root + "/link.yml", withDestinationPath: root + "/a.yml")
        // Enough entries that records lie at the ends of many allocations.
        for i in 0..<500 { #expect(FileManager.default.createFile(atPath: root + "/n\(i)", contents: nil)) }

        let entries = try FileSystem.entries(root)
        #expect(entries.count == files.count + 2 + 500)
        let names = entries.map(\.name)
        #expect(names == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(Array(names.prefix(5)) == ["B.yaml", "a", "a.yml", "b.yml", "dir.yml"])
        #expect(names.last == "é.yml")
        #expect(names.contains(long))
        #expect(entries.first { $0.name == "dir.yml" }?.isDirectory == true)
        #expect(entries.first { $0.name == "a.yml" }?.isDirectory == false)
        // A symbolic link's record says neither: the caller stats it.
        #expect(entries.first { $0.name == "link.yml" }.map { $0.isDirectory == nil } == true)
        #expect(!names.contains(".") && !names.contains(".."))
    }

    @Test func aMissingDirectoryIsAFailureNamingIt() {
        #expect(throws: FileSystem.Failure.self) { try FileSystem.entries("/nonexistent-\(UUID().uuidString)") }
    }
}
