import Foundation
import Testing

@testable import WorkflowExecution

/// Globs as `@actions/glob` reads them (upload-artifact, actions/cache, hashFiles).
@Suite struct PathGlobTests {
    @Test(arguments: [
        ("/w/*.txt", "/w/a.txt", true), ("/w/*.txt", "/w/sub/a.txt", false), ("/w/**/*.txt", "/w/a.txt", true),
        ("/w/**/*.txt", "/w/x/y/a.txt", true), ("/w/**", "/w/x/y", true), ("/w/?.log", "/w/a.log", true),
        ("/w/?.log", "/w/ab.log", false), ("/w/[ab].c", "/w/b.c", true), ("/w/[!ab].c", "/w/b.c", false),
        ("/w/[a-c]x", "/w/cx", true), ("/w/*", "/w/.hidden", true), ("/w/.*", "/w/.hidden", true),
        ("/w/dist/*/out", "/w/dist/linux/out", true), ("/w/dist/*/out", "/w/dist/a/b/out", false),
    ])
    func matching(_ pattern: String, _ path: String, _ expected: Bool) throws {
        #expect(try GlobPattern(pattern, base: "/", home: "/home")!.matches(path) == expected)
    }

    @Test func patternsResolveAgainstTheBaseAndHome() throws {
        #expect(try GlobPattern("dist/**/*.js", base: "/w", home: "/h")!.searchPath == "/w/dist")
        #expect(try GlobPattern("~/.npm", base: "/w", home: "/h")!.searchPath == "/h/.npm")
        #expect(try GlobPattern("./b.txt", base: "/w", home: "/h")!.searchPath == "/w/b.txt")
        #expect(try GlobPattern("! ! x", base: "/w", home: "/h")!.negate == false)
        #expect(try GlobPattern("!  x", base: "/w", home: "/h")!.searchPath == "/w/x")
        #expect(try GlobPattern("  # comment", base: "/w", home: "/h") == nil)
        #expect(throws: GlobError.self) { try GlobPattern("a/../b", base: "/w", home: "/h") }
        #expect(throws: GlobError.self) { try GlobPattern("a/./b", base: "/w", home: "/h") }
        #expect(try Glob(lines: ["a/**", "a/b/c", "d/*.x", "!a/z"], base: "/w", home: "/h").searchPaths == ["/w/a", "/w/d"])
        #expect(JobRunner.commonAncestor(["/w/a/b", "/w/a/c/d", "/w/a"]) == "/w/a")
        #expect(JobRunner.commonAncestor(["/w/ab", "/w/ac"]) == "/w")
    }

    @Test func laterPatternsWinAndDescendantsAreImplicit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-glob-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in ["src/a.c", "src/b.h", "src/gen/x.c", "src/.hidden/y.c", "docs/z.md", "b.c"] {
            let path = root + "/" + file
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(file.utf8)))
        }
        let glob = try Glob(lines: ["src", "!src/gen", "src/gen/x.c", "*.c"], base: root, home: "/h")
        #expect(glob.files().map { String($0.dropFirst(root.count + 1)) } == ["b.c", "src/.hidden/y.c", "src/a.c", "src/b.h", "src/gen/x.c"])
        #expect(glob.files(excludeHidden: true).map { String($0.dropFirst(root.count + 1)) } == ["b.c", "src/a.c", "src/b.h", "src/gen/x.c"])
    }
}
