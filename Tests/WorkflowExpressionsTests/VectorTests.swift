import Foundation
import Testing
import WorkflowExpressions
import _GantryTestSupport

/// Runs every case of GitHub's cross-language expression vectors.
@Suite struct VectorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var group: String
        var number: Int
        var expression: String
        var contexts: ExpressionObject
        var expected: Expected
        var testDescription: String { "\(file) \(group) #\(number): \(expression.prefix(80))" }
    }

    enum Expected: Sendable {
        case value(kind: String, json: String)
        case error(kind: String, message: String)
    }

    /// Cases Gantry deliberately answers differently, with the reason. Empty: all cases pass.
    static let unsupported: [String: String] = [:]

    static let cases: [Case] = {
        let dir = Fixtures.directory().appendingPathComponent("vectors")
        var all: [Case] = []
        for file in Fixtures.files(in: dir, extensions: ["json"]) {
            guard let text = try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8),
                case .object(let groups)? = try? JSONText.parse(text)
            else { continue }
            for (group, list) in groups.pairs {
                guard case .array(let items) = list else { continue }
                for (n, item) in items.items.enumerated() {
                    guard case .object(let c) = item, case .string(let expr)? = c["expr"] else { continue }
                    var contexts = ExpressionObject([])
                    if case .object(let given)? = c["contexts"] { contexts = given }
                    let expected: Expected
                    if case .object(let err)? = c["err"] {
                        expected = .error(kind: err["kind"]?.stringValue ?? "", message: err["value"]?.stringValue ?? "")
                    } else if case .object(let result)? = c["result"] {
                        expected = .value(kind: result["kind"]?.stringValue ?? "", json: JSONText.compact(result["value"] ?? .null))
                    } else {
                        continue
                    }
                    all.append(Case(file: file, group: group, number: n + 1, expression: expr, contexts: contexts, expected: expected))
                }
            }
        }
        return all
    }()

    @Test func allVectorFilesAreLoaded() {
        #expect(Self.cases.count == 1020)
    }

    @Test("GitHub's expression vectors", arguments: cases)
    func vector(_ c: Case) {
        if Self.unsupported[c.testDescription] != nil { return }
        let options = ParseOptions(contexts: Set(c.contexts.pairs.map(\.key)))
        let outcome: Result<ExpressionValue, ExpressionError>
        do {
            outcome = .success(try Evaluator.evaluate(c.expression, in: EvaluationContext(contexts: c.contexts), options: options))
        } catch {
            outcome = .failure(error)
        }
        switch (c.expected, outcome) {
        case (.value(let kind, let json), .success(let value)):
            #expect(value.kindName == kind)
            #expect(JSONText.compact(value) == json)
        case (.error(let kind, let message), .failure(let error)):
            #expect(error.kind.rawValue == kind)
            #expect(error.description.contains(message), "\(error.description)")
        case (.value, .failure(let error)):
            Issue.record("expected a value, got error: \(error)")
        case (.error(_, let message), .success(let value)):
            Issue.record("expected error '\(message)', got \(value.kindName) \(value)")
        }
    }
}
