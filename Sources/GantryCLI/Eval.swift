import ArgumentParser
import WorkflowExpressions

extension GantryCommand {
    /// `gantry eval`: evaluates one expression against contexts given as JSON.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Evaluate a GitHub Actions expression and print the result as JSON.",
            discussion: """
                EXPR may be a bare expression (github.ref == 'refs/heads/main') or text with ${{ }} \
                parts ('build-${{ matrix.os }}'). Contexts come from a JSON object such as \
                {"github": {"ref": "refs/heads/main"}, "matrix": {"os": "linux"}}; a standard context \
                that is not given is null. Exit status: 0 with the result on standard output, 1 when \
                the expression is invalid or fails (the message gives its position), 64 for bad usage.
                """
        )

        @Argument(help: ArgumentHelp("The expression.", valueName: "expr"))
        var expression: String

        @Option(name: .customLong("context"), help: ArgumentHelp("A JSON file holding an object of named contexts.", valueName: "file"))
        var contextFile: String?

        @Option(help: "What success(), failure() and cancelled() see: success, failure or cancelled.")
        var status: JobStatus = .success

        @Flag(help: "Print JSON on one line.")
        var compact = false

        enum JobStatus: String, ExpressibleByArgument, CaseIterable, Sendable {
            case success, failure, cancelled
        }

        static let standardContexts = [
            "github", "env", "vars", "secrets", "inputs", "matrix", "needs", "strategy", "steps", "job", "jobs", "runner",
        ]

        func run() throws {
            let contexts = try loadContexts()
            let options = ParseOptions(
                contexts: Set(Self.standardContexts + contexts.pairs.map(\.key)), functions: FunctionSignature.runnerFunctions)
            let jobStatus = status
            let context = EvaluationContext(
                contexts: contexts,
                hashFiles: nil,
                status: { function, _ in
                    switch function {
                    case .always: return true
                    case .success: return jobStatus == .success
                    case .failure: return jobStatus == .failure
                    case .cancelled: return jobStatus == .cancelled
                    }
                })
            do throws(ExpressionError) {
                let value: ExpressionValue
                if ExpressionTemplate.containsExpression(expression) {
                    let template: ExpressionTemplate
                    do {
                        template = try ExpressionTemplate.parse(expression)
                    } catch {
                        throw ExpressionError(.parsing, error.message, position: error.offset, expression: expression)
                    }
                    value = try template.evaluate(in: context, options: options)
                } else {
                    value = try Evaluator.evaluate(expression, in: context, options: options)
                }
                FileSystem.write((compact ? JSONText.compact(value) : JSONText.pretty(value)) + "\n", to: 1)
            } catch {
                FileSystem.write("gantry: error: \(error.kind.rawValue) error: \(error.description)\n", to: 2)
                throw ExitCode.failure
            }
        }

        private func loadContexts() throws -> ExpressionObject {
            guard let contextFile else { return ExpressionObject([]) }
            let bytes: [UInt8]
            do {
                bytes = try FileSystem.read(contextFile)
            } catch {
                FileSystem.write("gantry: error: \(error.description)\n", to: 2)
                throw ExitCode.failure
            }
            do {
                guard case .object(let object) = try JSONText.parse(String(decoding: bytes, as: UTF8.self)) else {
                    FileSystem.write("gantry: error: \(contextFile): the context file must hold a JSON object of named contexts\n", to: 2)
                    throw ExitCode.failure
                }
                return object
            } catch let error as JSONText.ParseError {
                FileSystem.write("gantry: error: \(contextFile): invalid JSON at byte \(error.offset + 1): \(error.message)\n", to: 2)
                throw ExitCode.failure
            }
        }
    }
}
