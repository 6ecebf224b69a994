import Testing

@testable import WorkflowExecution

/// Globs of upload-artifact paths (`@actions/glob` rules).
@Suite struct PathGlobTests {
    @Test(arguments: [
        ("/w/*.txt", "/w/a.txt", true), ("/w/*.txt", "/w/sub/a.txt", false), ("/w/**/*.txt", "/w/a.txt", true),
        ("/w/**/*.txt", "/w/x/y/a.txt", true), ("/w/**", "/w/x/y", true), ("/w/?.log", "/w/a.log", true),
        ("/w/?.log", "/w/ab.log", false), ("/w/[ab].c", "/w/b.c", true), ("/w/[!ab].c", "/w/b.c", false),
        ("/w/[a-c]x", "/w/cx", true), ("/w/*", "/w/.hidden", false), ("/w/.*", "/w/.hidden", true),
        ("/w/dist/*/out", "/w/dist/linux/out", true), ("/w/dist/*/out", "/w/dist/a/b/out", false),
    ])
    func matching(_ pattern: String, _ path: String, _ expected: Bool) {
        #expect(PathGlob(pattern).matches(path) == expected)
    }

    @Test func searchRootsAndLiterals() {
        #expect(PathGlob("/w/dist/**/*.js").searchRoot == "/w/dist")
        #expect(PathGlob("/w/a/b.txt").searchRoot == "/w/a/b.txt")
        #expect(PathGlob("/w/a/b.txt").isLiteral)
        #expect(!PathGlob("/w/a/[b].txt").isLiteral)
        #expect(JobRunner.commonAncestor(["/w/a/b", "/w/a/c/d", "/w/a"]) == "/w/a")
        #expect(JobRunner.commonAncestor(["/w/ab", "/w/ac"]) == "/w")
    }
}
