// Parse-and-evaluate throughput of the expression engine on real expressions.
//
//   gantry-expression-bench FILE [ROUNDS]
//
// FILE holds one expression per line (JSON string literals, as bench/expressions.sh writes them).
// Every expression is parsed and evaluated against a realistic context, ROUNDS times (default 200);
// the program prints expressions per second. Errors are counted, not fatal: corpus expressions may
// name contexts this synthetic context lacks.
import WorkflowExpressions

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let file = fopen(arguments[1], "r") else {
    print("usage: gantry-expression-bench FILE [ROUNDS]")
    exit(64)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 200 : 200
var expressions: [String] = []
var line: UnsafeMutablePointer<CChar>?
var capacity = 0
while getline(&line, &capacity, file) > 0 {
    let text = String(cString: line!).trimmingSuffixNewline()
    if case .string(let s)? = try? JSONText.parse(text) { expressions.append(s) }
}
fclose(file)

let context = EvaluationContext(
    contexts: ExpressionObject([
        ("github", try! JSONText.parse("""
            {"ref": "refs/heads/main", "ref_name": "main", "event_name": "push", "sha": "4f3c2a", "actor": "octocat",
             "repository": "octo/app", "repository_owner": "octo", "workflow": "CI", "run_id": "42", "run_number": "7",
             "head_ref": "", "base_ref": "", "server_url": "https://github.com", "workspace": "/work",
             "event": {"ref": "refs/heads/main", "repository": {"name": "app", "default_branch": "main", "fork": false},
                       "pull_request": {"number": 5, "head": {"ref": "feature", "sha": "abc"}, "labels": [{"name": "bug"}]},
                       "head_commit": {"message": "fix: things"}, "inputs": {"debug": "false"}}}
            """)),
        ("matrix", .object([("os", .string("ubuntu-latest")), ("node", .number(20)), ("python-version", .string("3.12"))])),
        ("runner", .object([("os", .string("Linux")), ("arch", .string("X64")), ("temp", .string("/tmp"))])),
        ("env", .object([("NODE_VERSION", .string("20")), ("REGISTRY", .string("ghcr.io"))])),
        ("inputs", .object([("environment", .string("staging"))])),
        ("steps", .object([])), ("needs", .object([])), ("secrets", .object([])), ("vars", .object([])),
        ("job", .object([])), ("jobs", .object([])), ("strategy", .object([])),
    ]),
    hashFiles: { patterns in String(patterns.joined().count) },
    status: { function, _ in function != .failure && function != .cancelled })

var errors = 0
let start = now()
for _ in 0..<rounds {
    for expression in expressions {
        do {
            _ = try Evaluator.evaluate(expression, in: context, options: .permissive)
        } catch {
            errors += 1
        }
    }
}
let elapsed = now() - start
let total = Double(rounds * expressions.count)
print("expressions: \(expressions.count) distinct, \(rounds) rounds, \(errors / max(rounds, 1)) failing per round")
print("parse+evaluate: \(Int(total / elapsed)) expressions/s (\(String(format3(elapsed / total * 1e6))) µs each)")

func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return String(scaled)
}

extension String {
    func trimmingSuffixNewline() -> String {
        var s = self
        while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}
