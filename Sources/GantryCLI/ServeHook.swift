import ArgumentParser
import ForgeClient
import WorkflowExecution
import WorkflowExpressions

#if canImport(Glibc)
import Glibc
#endif

extension GantryCommand.Serve {
    /// `gantry serve hook post-receive`: a bare repository's hook that asks a `gantry serve` to run each
    /// pushed ref, through its API (`POST /api/v1/runs` with `event: push`).
    struct Hook: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hook",
            abstract: "Git hooks for repositories hosted without a forge: 'post-receive' runs each pushed ref on a gantry serve.",
            discussion: """
                Install it as the bare repository's hooks/post-receive:
                  #!/bin/sh
                  exec gantry serve hook post-receive --url http://127.0.0.1:8080 --token-file /etc/gantry/hook-token
                It reads git's "OLD NEW REF" lines from standard input and posts each updated ref (not \
                deleted ones) as a push. The service must serve the repository (--repo OWNER/NAME=PATH).
                """)

        @Argument(help: ArgumentHelp("The hook (post-receive).", valueName: "hook"))
        var hook: String

        @Option(help: ArgumentHelp("The service's address.", valueName: "url"))
        var url: String

        @Option(help: ArgumentHelp("A file holding an API token (gantry serve token create), or GANTRY_SERVE_HOOK_TOKEN.", valueName: "file"))
        var tokenFile: String?

        @Option(help: ArgumentHelp("The repository's name on the service (default: from the repository's folder, e.g. /srv/git/octo/app.git is octo/app).", valueName: "owner/name"))
        var repository: String?

        func run() throws {
            guard hook == "post-receive" else {
                FileSystem.write("gantry: error: unknown hook '\(hook)' (post-receive)\n", to: 2)
                throw ExitCode(64)
            }
            let environment = GantryCommand.Run.hostEnvironment()
            let token: String
            if let tokenFile {
                guard let bytes = try? FileSystem.read(tokenFile) else {
                    FileSystem.write("gantry: error: --token-file '\(tokenFile)' cannot be read\n", to: 2)
                    throw ExitCode(64)
                }
                token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            } else {
                token = environment.last { $0.0 == "GANTRY_SERVE_HOOK_TOKEN" }?.1 ?? ""
            }
            guard !token.isEmpty else {
                FileSystem.write("gantry: error: no API token: give --token-file FILE (or GANTRY_SERVE_HOOK_TOKEN)\n", to: 2)
                throw ExitCode(64)
            }
            guard let name = repository ?? Self.repositoryName(FileSystem.absolute(".")) else {
                FileSystem.write("gantry: error: the repository's name cannot be told from its folder: give --repository OWNER/NAME\n", to: 2)
                throw ExitCode(64)
            }
            let updates = Self.updates(String(decoding: Files.readAll(0), as: UTF8.self))
            let endpoint = (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/api/v1/runs"
            let failures = RunBlocking.wait { () -> Int in
                var failures = 0
                for update in updates {
                    let body = ExpressionValue.object([
                        ("repository", .string(name)), ("event", .string("push")), ("ref", .string(update.ref)), ("sha", .string(update.sha)),
                    ])
                    do {
                        let answer = try await ForgeHTTP.post(endpoint, headers: [("Authorization", "Bearer \(token)")], json: JSONText.compact(body))
                        if answer.status == 201 || answer.status == 422 {
                            // 422: no workflow runs on this push, which is not a failure of the hook.
                            FileSystem.write("gantry: \(update.ref): \(Self.summary(answer.body))\n", to: 2)
                        } else {
                            failures += 1
                            FileSystem.write("gantry: error: \(update.ref): the service answered \(answer.status): \(Self.summary(answer.body))\n", to: 2)
                        }
                    } catch {
                        failures += 1
                        FileSystem.write("gantry: error: \(update.ref): \(endpoint) cannot be reached: \(error)\n", to: 2)
                    }
                }
                return failures
            }
            if failures > 0 { throw ExitCode.failure }
        }

        /// git's `OLD NEW REF` lines; deleted refs (NEW all zeros) are left out.
        static func updates(_ text: String) -> [(sha: String, ref: String)] {
            text.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard parts.count == 3, !parts[1].allSatisfy({ $0 == "0" }) else { return nil }
                return (String(parts[1]), String(parts[2]))
            }
        }

        /// `/srv/git/octo/app.git` → `octo/app`.
        static func repositoryName(_ folder: String) -> String? {
            let parts = folder.split(separator: "/")
            guard parts.count >= 2 else { return nil }
            var name = String(parts[parts.count - 1])
            if name == ".git" { return repositoryName(String(folder.dropLast(5))) }
            if name.hasSuffix(".git") { name.removeLast(4) }
            return name.isEmpty ? nil : "\(parts[parts.count - 2])/\(name)"
        }

        /// The service's answer in a few words: its runs, or its error.
        static func summary(_ body: String) -> String {
            guard case .object(let object)? = try? JSONText.parse(body) else { return body.trimmingWhitespace }
            if case .array(let runs)? = object["runs"] { return "runs " + runs.items.map(\.stringValue).joined(separator: ", ") }
            return object["error"]?.stringValue ?? body.trimmingWhitespace
        }
    }
}

extension GantryCommand.Serve {
    /// `gantry serve health`: asks a running service whether it is alive (`/health`) or ready (`/ready`),
    /// for a container's HEALTHCHECK or a probe, without curl in the image.
    struct Health: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "health",
            abstract: "Exit 0 when a gantry serve answers 200 on /health (or /ready with --ready), else 1 with one line.")

        @Option(help: ArgumentHelp("The service's address (default: GANTRY_SERVE_LISTEN's, else 127.0.0.1:8080).", valueName: "url"))
        var url: String?

        @Flag(help: "Ask /ready (not draining) instead of /health.")
        var ready = false

        @Option(help: "Seconds to wait for the answer (default: 5).")
        var timeout: Double = 5

        func run() throws {
            let environment = GantryCommand.Run.hostEnvironment()
            var base = url ?? "http://" + (environment.last { $0.0 == "GANTRY_SERVE_LISTEN" }?.1 ?? "127.0.0.1:8080")
            // A service listening on every address answers on loopback.
            base = base.replacing("://0.0.0.0:", with: "://127.0.0.1:")
            if base.hasSuffix("/") { base.removeLast() }
            let target = base + (ready ? "/ready" : "/health")
            let status = RunBlocking.wait { await ForgeHTTP.status(of: target, timeout: timeout) }
            guard status == 200 else {
                FileSystem.write("gantry: \(target): \(status.map { "answered \($0)" } ?? "no answer within \(timeout) s")\n", to: 2)
                throw ExitCode.failure
            }
        }
    }
}

