import Foundation
import Testing
import _GantryTestSupport

/// actions/cache, hashFiles and `gantry cache`, end to end, with the cache and HOME in temporary folders.
@Suite(.ownThread) struct CacheRunTests {
    static let gantry = Fixtures.gantryExecutable()

    final class Scratch {
        let repo: ScratchRepository
        let cache: URL
        let home: URL

        init(workflow: String) throws {
            repo = try ScratchRepository()
            cache = repo.url.appendingPathComponent(".cache-root")
            home = repo.url.appendingPathComponent(".home")
            try repo.write(".gitignore", ".cache-root/\n.home/\n")
            try repo.write(".github/workflows/ci.yml", workflow)
        }

        var environment: [String: String] {
            ["GANTRY_CACHE_DIR": cache.path, "HOME": home.path, "GANTRY_STATE_DIR": repo.url.appendingPathComponent(".home/state").path]
        }

        func run(_ arguments: [String] = []) throws -> CommandResult {
            try runCommand(CacheRunTests.gantry, ["run"] + arguments, in: repo.url, environment: environment)
        }

        func cacheCommand(_ arguments: [String]) throws -> CommandResult {
            try runCommand(CacheRunTests.gantry, ["cache"] + arguments + ["--cache-dir", cache.path], in: repo.url)
        }

        func lines(_ result: CommandResult) -> [String] {
            result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") && !$0.contains("▶") && !$0.contains("✓") && !$0.contains("checked out") }
        }
    }

    static let workflow = """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - id: deps
                uses: actions/cache@v4
                with:
                  path: |
                    deps
                    ~/.tool
                  key: deps-${{ hashFiles('**/lock.txt', '!ignored/**') }}
                  restore-keys: deps-
              - run: echo "hit=${{ steps.deps.outputs.cache-hit }} matched=${{ steps.deps.outputs.cache-matched-key }}"
              - if: steps.deps.outputs.cache-hit != 'true'
                run: mkdir -p deps ~/.tool && cat lock.txt > deps/installed && echo tool > ~/.tool/bin
              - run: cat deps/installed ~/.tool/bin
        """

    /// `cache-mode` (GitHub, 2026-09-10): `read` restores and never saves, `write-only` saves without
    /// restoring, `none` does neither; a job's value wins over the workflow's.
    @Test func cacheModeLimitsRestoreAndSave() throws {
        func workflow(_ workflowMode: String, _ jobMode: String?) -> String {
            """
            on: push
            cache-mode: \(workflowMode)
            jobs:
              build:
                runs-on: ubuntu-latest
            \(jobMode.map { "    cache-mode: \($0)\n" } ?? "")    steps:
                  - uses: actions/checkout@v4
                  - id: c
                    uses: actions/cache@v4
                    with:
                      path: out
                      key: k-1
                  - run: mkdir -p out && echo made > out/file && echo "hit=${{ steps.c.outputs.cache-hit }}"
            """
        }
        let s = try Scratch(workflow: workflow("read", nil))
        try s.repo.git("add", ".")
        try s.repo.git("commit", "-q", "-m", "base")
        let scope = s.repo.path + ":refs/heads/main"

        let read = try s.run()
        #expect(read.status == 0, "\(read.stdout)")
        #expect(s.lines(read) == [
            "[build] Cache not found for input keys: k-1", "[build] hit=",
            "[build] Cache not saved: the job's cache-mode is 'read'",
        ])

        try s.repo.write(".github/workflows/ci.yml", workflow("read", "write-only"))
        let writeOnly = try s.run()
        #expect(s.lines(writeOnly) == [
            "[build] Cache not restored: the job's cache-mode is 'write-only'", "[build] hit=",
            "[build] Cache saved with key: k-1 (1 file, 5 bytes, 5 new bytes stored, scope \(scope))",
        ])

        try s.repo.write(".github/workflows/ci.yml", workflow("none", nil))
        let none = try s.run()
        #expect(s.lines(none) == [
            "[build] Cache not restored: the job's cache-mode is 'none'", "[build] hit=",
            "[build] Cache not saved: the job's cache-mode is 'none'",
        ])

        try s.repo.write(".github/workflows/ci.yml", workflow("none", "read"))
        let readAgain = try s.run()
        #expect(s.lines(readAgain) == [
            "[build] Cache restored from key: k-1 (1 file, exact key 'k-1' in \(scope))", "[build] hit=true",
            "[build] Cache not saved: the job's cache-mode is 'read'",
        ])
    }

    /// A call's `cache-mode` reaches the called workflow's jobs, unless they or their workflow set one.
    @Test func cacheModeOfACallReachesTheCalledJobs() throws {
        let s = try Scratch(workflow: """
            on: push
            jobs:
              call:
                uses: ./.github/workflows/inner.yml
                cache-mode: none
            """)
        try s.repo.write(".github/workflows/inner.yml", """
            on: workflow_call
            jobs:
              plain:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/cache@v4
                    with: { path: out, key: k-1 }
              own:
                runs-on: ubuntu-latest
                cache-mode: read
                steps:
                  - uses: actions/cache@v4
                    with: { path: out, key: k-1 }
            """)
        try s.repo.git("add", ".")
        try s.repo.git("commit", "-q", "-m", "base")
        let result = try s.run()
        #expect(result.status == 0, "\(result.stdout)")
        let lines = s.lines(result)
        #expect(lines.filter { $0.hasPrefix("[call / plain]") } == [
            "[call / plain] Cache not restored: the job's cache-mode is 'none'",
            "[call / plain] Cache not saved: the job's cache-mode is 'none'",
        ])
        #expect(lines.filter { $0.hasPrefix("[call / own]") } == [
            "[call / own] Cache not found for input keys: k-1",
            "[call / own] Cache not saved: the job's cache-mode is 'read'",
        ])
    }

    @Test func missSaveThenExactHitThenRestoreKeyHit() throws {
        let s = try Scratch(workflow: Self.workflow)
        try s.repo.write("lock.txt", "v1\n")
        try s.repo.write("ignored/lock.txt", "not hashed\n")
        try s.repo.git("add", ".")
        try s.repo.git("commit", "-q", "-m", "base")
        let key = "deps-" + (try Self.referenceHash(s.repo.url, ["lock.txt"]))
        // Caches are kept per repository: this one has no GitHub remote, so its folder names it.
        let scope = s.repo.path + ":refs/heads/main"

        let first = try s.run()
        #expect(first.status == 0, "\(first.stdout)")
        #expect(s.lines(first) == [
            "[build] Cache not found for input keys: \(key), deps-",
            "[build] hit= matched=",
            "[build] v1", "[build] tool",
            "[build] Cache saved with key: \(key) (2 files, 8 bytes, 8 new bytes stored, scope \(scope))",
        ])

        // The tool folder outside the workspace is restored too.
        try FileManager.default.removeItem(at: s.home.appendingPathComponent(".tool"))
        let second = try s.run()
        #expect(second.status == 0)
        #expect(s.lines(second) == [
            "[build] Cache restored from key: \(key) (2 files, exact key '\(key)' in \(scope))",
            "[build] hit=true matched=\(key)",
            "[build] skipped: Run mkdir -p deps ~/.tool && cat lock.txt > deps/installed && echo tool > ~/.tool/bin",
            "[build] v1", "[build] tool",
            "[build] Cache hit occurred on the primary key \(key), not saving cache.",
        ])

        // A changed lock file misses the exact key; the restore key brings the old entry back.
        try s.repo.write("lock.txt", "v2\n")
        let key2 = "deps-" + (try Self.referenceHash(s.repo.url, ["lock.txt"]))
        let third = try s.run()
        #expect(third.status == 0)
        #expect(s.lines(third).prefix(3) == [
            "[build] Cache restored from key: \(key) (2 files, restore key 'deps-' as a prefix in \(scope))",
            "[build] hit=false matched=\(key)",
            "[build] v2",
        ])
        #expect(third.stdout.contains("[build] Cache saved with key: \(key2) (2 files, 8 bytes, 3 new bytes stored, scope \(scope))\n"))

        let list = try s.cacheCommand(["ls", "--format", "json"])
        #expect(list.status == 0)
        #expect(list.stdout.components(separatedBy: "\"key\":").count == 3)
        let stats = try s.cacheCommand(["stats", "--format", "json"])
        #expect(stats.stdout.hasPrefix("{\"entries\":2,\"logicalBytes\":16,\"diskBytes\":11,\"blobs\":3,\"dedupRatio\":1.45,\"hits\":2,\"misses\":1}"))
        let explain = try s.cacheCommand(["show", key, "--explain", "--key", "deps-zzz", "--restore-key", "deps-"])
        #expect(explain.stdout.hasSuffix("→ restores '\(key2)' from \(scope)\n'\(key)' is not what this lookup restores\n"))
        #expect(try s.cacheCommand(["verify"]).stdout == "3 blobs checked, 0 corrupt, 0 entries removed\n")
        #expect(try s.cacheCommand(["rm", "--prefix", "deps-"]).stdout.components(separatedBy: "removed ").count == 3)
        #expect(try s.cacheCommand(["ls"]).stdout == "no entries\n")
        #expect(try s.cacheCommand(["show", "missing"]).stderr == "gantry: error: no entry has the key 'missing'\n")
        let none = try s.cacheCommand(["rm", "nothing"])
        #expect(none.status == 1 && none.stderr == "gantry: error: no entry matches\n")
    }

    @Test func restoreReplacesLinksKeepsReadOnlyFoldersAndLookupOnlyStillSaves() throws {
        let s = try Scratch(workflow: """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - id: look
                    uses: actions/cache@v4
                    with:
                      path: mods
                      key: mods-1
                      lookup-only: true
                  - run: |
                      echo "hit=[${{ steps.look.outputs.cache-hit }}]"
                      if [ ! -e "$HOME/restored-once" ]; then
                        mkdir -p mods/pkg && echo code > mods/pkg/x.go && chmod 444 mods/pkg/x.go && chmod 555 mods/pkg
                      else
                        rm -rf mods; mkdir -p "$HOME/outside" && ln -s "$HOME/outside" mods
                      fi
                  - uses: actions/cache/restore@v4
                    with:
                      path: mods
                      key: mods-1
                  - run: |
                      test -d mods && test ! -L mods && echo "mods is a folder"
                      stat -c '%a %n' mods/pkg mods/pkg/x.go
                      ls "$HOME/outside" | wc -l
                      touch "$HOME/restored-once"
                  - uses: actions/cache/save@v4
                    with:
                      path: mods
                      key: a,b
                  - uses: actions/cache/save@v4
                    with:
                      path: mods
                      key: ''
                  - id: many
                    uses: actions/cache@v4
                    continue-on-error: true
                    with:
                      path: mods
                      key: k
                      restore-keys: |
                        1
                        2
                        3
                        4
                        5
                        6
                        7
                        8
                        9
                        10
                  - run: ln -sf nowhere dangling.txt
                  - run: echo "${{ hashFiles('*.txt') }}"
                    continue-on-error: true
                  - run: echo "${{ hashFiles('--other', '*.txt') }}"
                    continue-on-error: true
            """)
        try s.repo.git("add", ".")
        try s.repo.git("commit", "-q", "-m", "base")
        let first = try s.run()
        // The first run: a lookup-only miss still saves in the post step (the restore found nothing).
        #expect(s.lines(first).contains("[j] hit=[]"))
        #expect(s.lines(first).contains { $0.hasPrefix("[j] Cache saved with key: mods-1 (1 file") })
        let second = try s.run()
        let lines = s.lines(second)
        #expect(lines.contains("[j] Cache found and can be restored from key: mods-1"))
        #expect(lines.contains("[j] hit=[true]"))
        // A link where the cached folder goes is replaced, never followed; modes come back.
        #expect(lines.contains("[j] mods is a folder"))
        #expect(lines.contains("[j] 555 mods/pkg"))
        #expect(lines.contains("[j] 444 mods/pkg/x.go"))
        #expect(lines.contains("[j] 0"))
        #expect(lines.contains("[j] warning: Key Validation Error: a,b cannot contain commas."))
        #expect(lines.contains("[j] warning: Key is not specified."))
        #expect(lines.contains("[j] error: actions/cache: Key Validation Error: Keys are limited to a maximum of 10."))
        #expect(lines.contains { $0.hasPrefix("[j] error: step 'Run echo \"${{ hashFiles('*.txt') }}\"'") && $0.contains("ENOENT: no such file or directory, stat '") })
        #expect(lines.contains { $0.contains("Invalid glob option --other, avaliable option: '--follow-symbolic-links'.") })
    }

    @Test func cacheCommandsRejectBadInputWithOneLine() throws {
        let s = try Scratch(workflow: "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n")
        let cases: [([String], Int32, String)] = [
            (["prune", "--max-size", "10X"], 64, "Error: --max-size '10X' is not a size (e.g. 10G)"),
            (["prune", "--max-age", "soon"], 64, "Error: --max-age 'soon' is not an age (e.g. 7d, 12h)"),
            (["show"], 64, "Error: give the KEY of an entry, or --explain --key K"),
            (["show", "--explain"], 64, "Error: --explain needs --key"),
            (["rm"], 64, "Error: give either a KEY or --prefix"),
            (["ls"], 1, "gantry: error: no cache at \(s.cache.path) (no index.sqlite)"),
            (["ls", "--store", "mysql://x"], 1, "gantry: error: --store mysql://x: a PostgreSQL store is a URL postgres://user:password@host:port/database"),
            (["ls", "--store", "postgres://u:pw@127.0.0.1:1/d"], 1, "gantry: error: no cache at \(s.cache.path) (no packs/)"),
            (["stats", "--store-file", "/nonexistent/url"], 1, "gantry: error: --store-file '/nonexistent/url' cannot be read"),
        ]
        for (arguments, status, message) in cases {
            let result = try s.cacheCommand(arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").first.map(String.init) == message, "\(arguments)")
        }
        // A folder that is not a cache is never touched, even by prune.
        try FileManager.default.createDirectory(at: s.cache.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: s.cache.path + "/tmp/keep.log", contents: Data("x".utf8)))
        #expect(try s.cacheCommand(["prune", "--max-age", "0s"]).status == 1)
        #expect(FileManager.default.fileExists(atPath: s.cache.path + "/tmp/keep.log"))
        #expect(!FileManager.default.fileExists(atPath: s.cache.path + "/index.sqlite"))
        let bad = try runCommand(Self.gantry, ["run"], in: s.repo.url, environment: s.environment.merging(["GANTRY_CACHE_MAX_SIZE": "lots"]) { $1 })
        #expect(bad.status == 64 && bad.stderr == "gantry: error: GANTRY_CACHE_MAX_SIZE 'lots' is not a size (e.g. 10G, 500M, 1048576)\n")
    }

    /// hashFiles computed by a short Python script, independently: the files the patterns select in
    /// @actions/glob's order, each file's SHA-256 fed raw into an outer SHA-256.
    static func referenceHash(_ root: URL, _ files: [String]) throws -> String {
        let script = """
            import hashlib, sys
            outer = hashlib.sha256()
            for f in sys.argv[2:]:
                outer.update(hashlib.sha256(open(sys.argv[1] + '/' + f, 'rb').read()).digest())
            print(outer.hexdigest())
            """
        let result = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, root.path] + files)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func hashFilesMatchesAnIndependentReference() throws {
        let s = try Scratch(workflow: """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: echo "all=${{ hashFiles('**/*.txt') }}"
                  - run: echo "some=${{ hashFiles('**/*.txt', '!**/skip/**', '.dot/*') }}"
                  - run: echo "none=${{ hashFiles('nothing/*.x') }}."
                  - run: echo "order=${{ hashFiles('b.txt', 'a/a.txt') }}"
            """)
        for (path, text) in [("a/a.txt", "a"), ("a/skip/s.txt", "s"), ("b.txt", "b"), (".dot/d.txt", "d"), ("a/B.txt", "B"), ("z.md", "z")] {
            try s.repo.write(path, text)
        }
        try s.repo.git("add", ".")
        try s.repo.git("commit", "-q", "-m", "base")
        let result = try s.run()
        #expect(result.status == 0, "\(result.stdout)")
        // Byte order of names, depth first from the workspace: .dot, a/B.txt, a/a.txt, a/skip, b.txt.
        let all = try Self.referenceHash(s.repo.url, [".dot/d.txt", "a/B.txt", "a/a.txt", "a/skip/s.txt", "b.txt"])
        let some = try Self.referenceHash(s.repo.url, [".dot/d.txt", "a/B.txt", "a/a.txt", "b.txt"])
        // Two literal patterns: their search paths are walked in the order given.
        let order = try Self.referenceHash(s.repo.url, ["b.txt", "a/a.txt"])
        #expect(s.lines(result) == ["[j] all=\(all)", "[j] some=\(some)", "[j] none=.", "[j] order=\(order)"])
    }

    /// kill -9 while a large tree is being saved, many times: no half entry is ever listed, verify finds
    /// nothing corrupt, and every listed entry restores whole.
    @Test func killedSavesLeaveNoHalfEntries() throws {
        let s = try Scratch(workflow: """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      mkdir -p tree
                      for i in $(seq 1 300); do head -c 40000 /dev/urandom > tree/f$i; done
                      echo ready
                  - uses: actions/cache/save@v4
                    with:
                      path: tree
                      key: tree-${{ github.run_id }}-${{ env.ATTEMPT }}
            """)
        try s.repo.git("add", ".")
        try s.repo.git("commit", "-q", "-m", "base")
        for attempt in 0..<8 {
            let process = Process()
            process.executableURL = Self.gantry
            process.arguments = ["run"]
            process.currentDirectoryURL = s.repo.url
            process.environment = ProcessInfo.processInfo.environment.merging(["GANTRY_STATE_DIR": testStateDirectory].merging(s.environment.merging(["ATTEMPT": "\(attempt)"]) { $1 }) { $1 }) { $1 }
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait for the tree, then kill at a different moment of the save each time.
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("ready") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen += chunk
            }
            usleep(useconds_t(attempt * 15_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let verify = try s.cacheCommand(["verify"])
        #expect(verify.status == 0, "\(verify.stdout)")
        let list = try s.cacheCommand(["ls", "--format", "json"])
        let keys = list.stdout.components(separatedBy: "\"key\":\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        for key in keys {
            let show = try s.cacheCommand(["show", key])
            #expect(show.stdout.contains("in 300 files"), "\(key) is incomplete")
        }
    }
}
