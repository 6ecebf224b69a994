// swift-tools-version: 6.1
import PackageDescription

/// Upcoming features every Gantry target opts into (as Hummingbird does).
///
/// Release builds call generic types' metadata accessors directly instead of instantiating metadata from
/// mangled type names: the runtime demangles each name at its first use and, for a requirement such as
/// `String: Hashable` in `[String: Int]`, searches all 12,000 conformance records of the binary, about
/// a tenth of a short command (`gantry graph` of a 100-job chain: bench/startup.sh).
///
/// Release builds also put each function in its own section, so that the release `gantry` can place
/// the functions its short commands run next to each other (Sources/gantry/LinkOrder).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .unsafeFlags(
        ["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors", "-Xfrontend", "-function-sections"],
        .when(configuration: .release)),
]

/// The pure core's release builds leave out the run-time exclusivity checks, as the standard library's
/// own build does: its dictionaries and copy-on-write values, inlined into these modules, checked each
/// access to their storage (2,000 checks in one `gantry graph`). The core is single-threaded value code;
/// debug builds, which the tests run, keep the checks.
let pureCoreSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Gantry",
    products: [
        .executable(name: "gantry", targets: ["gantry"]),
        .executable(name: "gantry-server", targets: ["gantry-server"]),
        /** The pure data model and parser, for tools that only need to read workflows. */
        .library(name: "WorkflowKit", targets: ["WorkflowModel", "WorkflowExpressions", "WorkflowParsing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // gantry serve. Hummingbird's default traits (swift-configuration, full Foundation) are not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // gantry serve on several nodes: the RunStore over PostgreSQL.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: System libraries

        /** libyaml 0.2.5's parser (Sources/CYAML/README.md), read only by WorkflowParsing. */
        .target(
            name: "CYAML",
            exclude: ["License", "README.md"],
            cSettings: [
                .define("YAML_VERSION_MAJOR", to: "0"), .define("YAML_VERSION_MINOR", to: "2"), .define("YAML_VERSION_PATCH", to: "5"),
                .define("YAML_VERSION_STRING", to: "\"0.2.5\""),
                .unsafeFlags(["-ffunction-sections"], .when(configuration: .release)),
            ]
        ),

        /** libgit2's headers (Debian `libgit2-dev`), read only by GitSupport, which loads the library
            with dlopen when a command first reads a repository (no link-time dependency). */
        .systemLibrary(
            name: "CGit2",
            providers: [.apt(["libgit2-dev"]), .brew(["libgit2"])]
        ),

        /** zlib (Debian `zlib1g-dev`), for git's objects: read only by GitSupport. No pkg-config: zlib.pc's
            `-L/usr/lib/x86_64-linux-gnu` would come first in the link's search path and keep the release
            `gantry` from finding Sources/gantry/StaticLibraries (see there). */
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),

        /** OpenSSL's libcrypto's SHA-256 types (Debian `libssl-dev`), read only by ContentCache, which
            opens the library with dlopen when it first hashes (no link-time dependency, as libgit2). */
        .systemLibrary(
            name: "CLibCrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),

        /** glibc calls Swift's Glibc module does not declare (pipe2, addchdir_np, copy_file_range). */
        .target(name: "CProcessSpawn"),

        // MARK: Pure core (no I/O)

        /** Workflows, jobs, steps, triggers, source locations and diagnostics, as plain values. */
        .target(name: "WorkflowModel", swiftSettings: pureCoreSettings),

        /** GitHub's `${{ }}` language: lexer, parser, evaluator, functions, templates, context availability. */
        .target(name: "WorkflowExpressions", dependencies: ["WorkflowModel"], swiftSettings: pureCoreSettings),

        /** libyaml events → positioned nodes → a typed `Workflow` plus every diagnostic found on the way. */
        .target(
            name: "WorkflowParsing",
            dependencies: ["WorkflowModel", "WorkflowExpressions", "CYAML"],
            swiftSettings: pureCoreSettings
        ),

        /** Events and filters, matrix expansion, the job graph and the `Plan` value with its writers. */
        .target(
            name: "WorkflowPlanning",
            dependencies: ["WorkflowModel", "WorkflowExpressions"],
            swiftSettings: pureCoreSettings
        ),

        /** Running workflows: the scheduler, job and step runners, actions, file and workflow commands,
            secret masking, the host backend and the `ContainerEngine` protocol. */
        .target(
            name: "WorkflowExecution",
            dependencies: ["WorkflowModel", "WorkflowExpressions", "WorkflowPlanning", "ContentCache", "CProcessSpawn"],
            swiftSettings: swiftSettings
        ),

        /** A forge's webhook deliveries and `gantry serve`'s dispatch bodies read into an `Intake`: the event,
            repository, ref and commit, or why the delivery is refused (pure: bytes in, values out). */
        .target(name: "WebhookReading", dependencies: ["WorkflowExpressions"], swiftSettings: swiftSettings),

        // MARK: Adapters

        /** The content-addressed cache: blobs by SHA-256 (OpenSSL's libcrypto, else swift-crypto's), entries
            in SQLite (GRDB), lookup as actions/cache does it, eviction, verify. */
        .target(
            name: "ContentCache",
            dependencies: [
                "CProcessSpawn",
                "CLibCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),

        /** Docker's Engine API over its unix socket (AsyncHTTPClient), implementing WorkflowExecution's
            `ContainerEngine`; Podman's socket speaks the same API. */
        .target(
            name: "DockerEngine",
            dependencies: [
                "WorkflowExecution",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),

        /** Repositories: refs, config and HEAD's commit (author, message, changed paths) read from `.git`
            directly; libgit2 for checkout and for what that reader does not read. */
        .target(name: "GitSupport", dependencies: ["CGit2", "CZlib"], swiftSettings: swiftSettings),

        /** The `RunStore` of `gantry serve` on one node: runs, their event logs, the job queue with leases and
            webhook deliveries in SQLite (GRDB, WAL), so a restart loses nothing accepted. */
        .target(
            name: "RunStoreSQLite",
            dependencies: ["WorkflowExecution", "WorkflowPlanning", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),

        /** The `RunStore` of several `gantry serve` nodes on one PostgreSQL database (postgres-nio): the same
            runs, event logs, queue and deliveries as SQLite, claims with `FOR UPDATE SKIP LOCKED`, wake-ups
            by `LISTEN/NOTIFY`, a node registry and versioned migrations under an advisory lock. */
        .target(
            name: "RunStorePostgres",
            dependencies: [
                "WorkflowExecution",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        /** `gantry serve`: HTTP (Hummingbird), signed webhooks, the REST API, the page (Mustache templates),
            the runs it schedules with `RunDriver` over a `RunStore`, probes, metrics and graceful shutdown. */
        .target(
            name: "RunnerService",
            dependencies: [
                "WebhookReading",
                "WorkflowModel",
                "WorkflowExpressions",
                "WorkflowParsing",
                "WorkflowPlanning",
                "WorkflowExecution",
                "GitSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),

        /** Requests to a forge's REST API (AsyncHTTPClient): commit statuses for `gantry serve`, the
            post-receive hook's posts. */
        .target(
            name: "ForgeClient",
            dependencies: [
                "RunnerService",
                "WebhookReading",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Front end

        /** ArgumentParser commands, shared option groups, file discovery and diagnostic printers. */
        .target(
            name: "GantryCLI",
            dependencies: [
                "WebhookReading",
                "WorkflowModel",
                "WorkflowExpressions",
                "WorkflowParsing",
                "WorkflowPlanning",
                "WorkflowExecution",
                "GitSupport",
                "ContentCache",
                "DockerEngine",
                "RunStoreSQLite",
                "RunStorePostgres",
                "RunnerService",
                "ForgeClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        /** The `gantry` executable: `Entrypoint.swift` only. */
        /** The command line. Linked without PIE and without exporting its symbols: relocating a PIE of
            this size writes to about 600 pages at every start, half of `gantry --version` (bench/startup.sh).
            SQLite, libstdc++ and zlib are linked from their static archives (StaticLibraries/README.md):
            loading and binding the shared ones was a third of `gantry --version`. libgcc too
            (`-static-libgcc`): with libstdc++ static, libgcc_s.so.1 was the one shared library left
            besides libc and libm, and loading it took 0.3 ms of a 1.7 ms start (bench/startup.sh). */
        .executableTarget(
            name: "gantry",
            dependencies: ["GantryCLI"],
            exclude: ["StaticLibraries", "LinkOrder"],
            swiftSettings: swiftSettings,
            linkerSettings: [
                // Release builds only, which README and the Dockerfile make with --static-swift-stdlib: a
                // non-PIE program linked to the shared libswiftCore of a debug build draws "direct
                // reference to protected function" warnings from ld.so.
                .unsafeFlags(
                    [
                        "-Xclang-linker", "-no-pie", "-Xclang-linker", "-static-libgcc", "-Xlinker", "--no-export-dynamic",
                        "-L", "\(Context.packageDirectory)/Sources/gantry/StaticLibraries",
                        "-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/Sources/gantry/LinkOrder/hot-functions.txt",
                    ],
                    .when(platforms: [.linux], configuration: .release))
            ]
        ),

        /** The same commands linked position-independent, for `gantry serve`: `gantry serve` runs this
            binary when it sits beside `gantry`, so the long-running service keeps ASLR of its code. */
        .executableTarget(name: "gantry-server", dependencies: ["GantryCLI"], swiftSettings: swiftSettings),

        // MARK: Benchmarks

        /** Parse+evaluate throughput of the expression engine (run by bench/expressions.sh). */
        .executableTarget(
            name: "gantry-expression-bench",
            dependencies: ["WorkflowExpressions"],
            path: "bench/ExpressionBench",
            swiftSettings: swiftSettings
        ),

        // MARK: Test support

        /** Golden-file assertions with a record mode, fixture lookup. Not API. */
        .target(name: "_GantryTestSupport", dependencies: ["WorkflowModel"], swiftSettings: swiftSettings),

        // MARK: Tests

        .testTarget(
            name: "WorkflowParsingTests",
            dependencies: ["WorkflowParsing", "WorkflowModel", "_GantryTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowExpressionsTests",
            dependencies: ["WorkflowExpressions", "_GantryTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowPlanningTests",
            dependencies: ["WorkflowPlanning", "WorkflowParsing", "WorkflowExpressions", "WorkflowModel", "_GantryTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowExecutionTests",
            dependencies: ["WorkflowExecution", "WorkflowPlanning", "WorkflowParsing"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ContentCacheTests",
            dependencies: ["ContentCache", "_GantryTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GitSupportTests",
            dependencies: ["GitSupport", "_GantryTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RunStoreSQLiteTests",
            dependencies: ["RunStoreSQLite", "WorkflowExecution", "WorkflowPlanning", "WorkflowExpressions"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RunStorePostgresTests",
            dependencies: ["RunStorePostgres", "ContentCache", "WorkflowExecution", "WorkflowPlanning", "WorkflowExpressions", "_GantryTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RunnerServiceTests",
            dependencies: ["RunnerService", "WebhookReading", "WorkflowExecution", "WorkflowPlanning", "WorkflowExpressions", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GantryCLITests",
            dependencies: ["GantryCLI", "WorkflowModel", "_GantryTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// MARK: Fuzzing

/** libFuzzer targets, declared only when GANTRY_FUZZ is set (their entry point is libFuzzer's `main`, so
    they link only with `--sanitize fuzzer`): `bench/fuzz.sh` builds and runs them. Seeds come from the
    test fixtures. */
if Context.environment["GANTRY_FUZZ"] != nil {
    let fuzzSettings = swiftSettings + [.unsafeFlags(["-parse-as-library"])]
    package.targets += [
        .executableTarget(
            name: "fuzz-workflow", dependencies: ["WorkflowParsing", "WorkflowModel"], path: "Fuzz/Workflow", swiftSettings: fuzzSettings),
        .executableTarget(
            name: "fuzz-expressions", dependencies: ["WorkflowExpressions"], path: "Fuzz/Expressions", swiftSettings: fuzzSettings),
        .executableTarget(
            name: "fuzz-dotenv", dependencies: ["WorkflowPlanning"], path: "Fuzz/DotEnv", swiftSettings: fuzzSettings),
        .executableTarget(
            name: "fuzz-webhook", dependencies: ["WebhookReading"], path: "Fuzz/Webhook", exclude: ["seeds"], swiftSettings: fuzzSettings),
    ]
}
