import Testing
import WorkflowPlanning

/// The filter pattern cheat sheet of GitHub's workflow syntax docs, every rule.
@Suite struct FilterPatternTests {
    @Test(
        "branch and tag patterns",
        arguments: [
            ("feature/*", "feature/my-branch", true), ("feature/*", "feature/your/branch", false),
            ("feature/**", "feature/beta-a/my-branch", true), ("feature/**", "feature/your-branch", true),
            ("feature/**", "feature/mona/the/octocat", true),
            ("main", "main", true), ("main", "main2", false), ("releases/mona-the-octocat", "releases/mona-the-octocat", true),
            ("*", "main", true), ("*", "releases", true), ("*", "releases/x", false),
            ("**", "all/the/branches", true), ("**", "every/tag", true),
            ("*feature", "mona-feature", true), ("*feature", "feature", true), ("*feature", "ver-10-feature", true),
            ("v2*", "v2", true), ("v2*", "v2.0", true), ("v2*", "v2.9", true), ("v2*", "v3", false),
            ("v[12].[0-9]+.[0-9]+", "v1.10.1", true), ("v[12].[0-9]+.[0-9]+", "v2.0.0", true),
            ("v[12].[0-9]+.[0-9]+", "v3.0.0", false), ("v[12].[0-9]+.[0-9]+", "v1.x.1", false),
            ("colou?r", "color", true), ("colou?r", "colour", true), ("colou?r", "colouur", false),
            ("a+b", "aaab", true), ("a+b", "b", false),
            ("release\\*", "release*", true), ("release\\*", "release1", false),
            ("v1.0", "v1x0", false),
        ])
    func refs(pattern: String, value: String, matches: Bool) {
        #expect(FilterPattern(pattern).matches(value) == matches)
    }

    @Test(
        "path patterns",
        arguments: [
            ("*", "README.md", true), ("*", "server.rb", true), ("*", "docs/README.md", false),
            ("*.jsx?", "page.js", true), ("*.jsx?", "page.jsx", true), ("*.jsx?", "page.jsxx", false),
            ("**", "all/the/files.md", true),
            ("*.js", "app.js", true), ("*.js", "index.js", true), ("*.js", "js/index.js", false),
            ("**.js", "index.js", true), ("**.js", "js/index.js", true), ("**.js", "src/js/app.js", true),
            ("docs/*", "docs/README.md", true), ("docs/*", "docs/file.txt", true), ("docs/*", "docs/a/b.txt", false),
            ("docs/**", "docs/README.md", true), ("docs/**", "docs/mona/octocat.txt", true),
            ("docs/**/*.md", "docs/README.md", true), ("docs/**/*.md", "docs/mona/hello-world.md", true),
            ("docs/**/*.md", "docs/a/markdown/file.md", true), ("docs/**/*.md", "docs/a/file.txt", false),
            ("**/docs/**", "docs/hello.md", true), ("**/docs/**", "dir/docs/my-file.txt", true),
            ("**/docs/**", "space/docs/plan/space.doc", true),
            ("**/README.md", "README.md", true), ("**/README.md", "js/README.md", true),
            ("**/*src/**", "a/src/app.js", true), ("**/*src/**", "my-src/code/js/app.js", true),
            ("**/*-post.md", "my-post.md", true), ("**/*-post.md", "path/their-post.md", true),
            ("**/migrate-*.sql", "migrate-10909.sql", true), ("**/migrate-*.sql", "db/migrate-v1.0.sql", true),
            ("**/migrate-*.sql", "db/sept/migrate-v1.sql", true),
        ])
    func paths(pattern: String, value: String, matches: Bool) {
        #expect(FilterPattern(pattern).matches(value) == matches)
    }

    @Test(
        "later patterns override earlier ones, '!' excludes",
        arguments: [
            (["*.md", "!README.md"], "hello.md", true), (["*.md", "!README.md"], "README.md", false),
            (["*.md", "!README.md"], "docs/hello.md", false),
            (["*.md", "!README.md", "README*"], "README.md", true), (["*.md", "!README.md", "README*"], "README.doc", true),
            (["!main"], "main", false), (["releases/**", "!releases/**-alpha"], "releases/1.0-alpha", false),
            (["releases/**", "!releases/**-alpha"], "releases/1.0", true),
        ])
    func lists(patterns: [String], value: String, included: Bool) {
        #expect(FilterList(patterns).includes(value) == included)
    }

    @Test("invalid patterns say why and match nothing", arguments: ["[]", "[a-", "x\\", "[!-z]"])
    func invalid(pattern: String) {
        let p = FilterPattern(pattern)
        #expect(p.problem != nil)
        #expect(!p.matches(pattern))
    }
}
