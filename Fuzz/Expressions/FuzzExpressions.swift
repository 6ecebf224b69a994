import WorkflowExpressions

/// Text → template → value: lexing, parsing and evaluation of `${{ }}` must end with a value or an
/// ExpressionError, never a crash, with contexts of every kind of value to index into.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExpressions(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let contexts = ExpressionObject([
        ("github", .object([("event_name", .string("push")), ("event", .object([("commits", .array([.object([("id", .string("a"))])]))]))])),
        ("matrix", .object([("os", .string("linux")), ("n", .number(3)), ("flag", .bool(true)), ("none", .null)])),
        ("env", .object([("A", .string("1"))])),
    ])
    let context = EvaluationContext(contexts: contexts, status: { _, _ in true })
    if let template = try? ExpressionTemplate.parse(text) {
        _ = try? template.evaluate(in: context)
    }
    _ = try? IfCondition(text, options: .permissive).evaluate(in: context, options: .permissive)
    return 0
}
