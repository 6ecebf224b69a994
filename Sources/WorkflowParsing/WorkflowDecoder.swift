import WorkflowModel

/// Turns a `YAMLNode` tree into a `Workflow`, collecting every problem as a `Diagnostic`.
///
/// Nothing here throws: a part that cannot be read is reported and left out, and decoding goes on, so
/// one pass finds every problem in a file.
struct WorkflowDecoder {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
    }

    // MARK: Reporting

    func location(_ node: YAMLNode) -> SourceLocation {
        SourceLocation(file: file, line: node.line, column: node.column)
    }

    mutating func report(_ message: String, at node: YAMLNode, rule: String, severity: Diagnostic.Severity = .error) {
        diagnostics.append(Diagnostic(severity, message, at: location(node), rule: rule))
    }

    mutating func report(_ message: String, at location: SourceLocation, rule: String, severity: Diagnostic.Severity = .error) {
        diagnostics.append(Diagnostic(severity, message, at: location, rule: rule))
    }

    mutating func typeMismatch(_ what: @autoclosure () -> String, expected: String, found node: YAMLNode) {
        report("expected \(expected) for \(what()), found \(node.kindDescription)\(Self.scalarHint(node))", at: node, rule: "type")
    }

    private static func scalarHint(_ node: YAMLNode) -> String {
        guard let text = node.scalar, !text.isEmpty, !node.isNull else { return "" }
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return " '\(shown.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n"))'"
    }

    // MARK: Mappings

    /// The keys of a mapping that passed `fields(_:_:allowed:)`: known keys by name, in file order.
    struct Fields {
        var pairs: [YAMLPair] = []
        var node: YAMLNode

        subscript(_ key: String) -> YAMLNode? {
            pairs.first { $0.key.scalar == key }?.value
        }

        func keyNode(_ key: String) -> YAMLNode? {
            pairs.first { $0.key.scalar == key }?.key
        }

        func has(_ key: String) -> Bool { self[key] != nil }
    }

    /// The pairs of a mapping with scalar keys, duplicates (compared case-insensitively, as GitHub does)
    /// reported and dropped. A null node reads as an empty mapping when `allowNull` is set.
    ///
    /// A mapping with nothing to drop, nearly every one, is returned as it is (no copy of its pairs).
    mutating func pairs(_ node: YAMLNode, _ what: @autoclosure () -> String, allowNull: Bool = true) -> [YAMLPair]? {
        switch node.kind {
        case .mapping(let pairs):
            var dropped: [Int] = []
            // Small mappings compare keys pairwise; large ones (hundreds of jobs) hash folded keys.
            var folded: [String: YAMLNode]? = pairs.count > 16 ? Dictionary(minimumCapacity: pairs.count) : nil
            for index in pairs.indices {
                guard let key = pairs[index].key.scalar else {
                    report("expected a string as a key of \(what()), found \(pairs[index].key.kindDescription)", at: pairs[index].key, rule: "type")
                    dropped.append(index)
                    continue
                }
                if key == "<<", case .scalar(_, true) = pairs[index].key.kind {
                    report("YAML merge key '<<' is not supported by GitHub Actions; repeat the keys or use an alias for the whole value", at: pairs[index].key, rule: "syntax")
                    dropped.append(index)
                    continue
                }
                var first: YAMLNode?
                if folded != nil {
                    let lower = Workflow.foldedID(key)
                    first = folded![lower]
                    if first == nil { folded![lower] = pairs[index].key }
                } else {
                    // The earliest key it matches is the one kept (a duplicate dropped before matched
                    // it too); keys dropped for what they are never match.
                    for earlier in 0..<index where !Self.isMergeOrNonScalar(pairs[earlier].key) {
                        if let other = pairs[earlier].key.scalar, Workflow.sameID(other, key) {
                            first = pairs[earlier].key
                            break
                        }
                    }
                }
                if let first {
                    report(
                        "key '\(key)' is duplicated in \(what()); it was first defined at line \(first.line), column \(first.column)",
                        at: pairs[index].key, rule: "duplicate-key")
                    dropped.append(index)
                }
            }
            guard !dropped.isEmpty else { return pairs }
            return pairs.indices.filter { !dropped.contains($0) }.map { pairs[$0] }
        case .scalar where allowNull && node.isNull:
            return []
        default:
            typeMismatch(what(), expected: "a mapping", found: node)
            return nil
        }
    }

    /// A key `pairs` drops before comparing: `<<` written plain, or a key that is not a scalar.
    private static func isMergeOrNonScalar(_ key: YAMLNode) -> Bool {
        switch key.kind {
        case .scalar(let text, let plain): return plain && text == "<<"
        default: return true
        }
    }

    /// A mapping with a fixed set of keys: unknown keys are reported with a suggestion.
    /// With `ignoredByGitHub`, an unknown key is a warning that it has no effect (GitHub accepts and
    /// ignores it), not an error.
    mutating func fields(
        _ node: YAMLNode, _ what: @autoclosure () -> String, allowed: [String], allowNull: Bool = true, ignoredByGitHub: Bool = false
    ) -> Fields? {
        guard let pairs = pairs(node, what(), allowNull: allowNull) else { return nil }
        // Every key allowed, nearly always: the pairs are kept as they are, not copied one by one.
        if pairs.indices.allSatisfy({ allowed.contains(pairs[$0].key.scalar ?? "") }) { return Fields(pairs: pairs, node: node) }
        var fields = Fields(node: node)
        fields.pairs.reserveCapacity(pairs.count)
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            if allowed.contains(key) {
                fields.pairs.append(pair)
            } else if ignoredByGitHub {
                report(
                    unexpectedKeyMessage(key, in: what(), allowed: allowed) + "; GitHub ignores it, so it has no effect", at: pair.key,
                    rule: "unexpected-key", severity: .warning)
            } else {
                report(unexpectedKeyMessage(key, in: what(), allowed: allowed), at: pair.key, rule: "unexpected-key")
            }
        }
        return fields
    }

    func unexpectedKeyMessage(_ key: String, in what: String, allowed: [String]) -> String {
        var message = "unexpected key '\(key)' for \(what)"
        if let suggestion = closestMatch(to: key, in: allowed) {
            message += "; did you mean '\(suggestion)'?"
        } else {
            message += "; expected one of " + allowed.map { "'\($0)'" }.joined(separator: ", ")
        }
        return message
    }

    /// Reports a required key that is missing, at the mapping (or at `anchor` when given).
    mutating func require(_ key: String, in fields: Fields, _ what: @autoclosure () -> String, at anchor: YAMLNode? = nil) {
        if !fields.has(key) {
            report("\(what()) is missing required key '\(key)'", at: anchor ?? fields.node, rule: "missing-key")
        }
    }

    // MARK: Scalars

    /// A string value. Booleans and numbers are accepted as their text, as GitHub converts them.
    mutating func string(
        _ node: YAMLNode, _ what: @autoclosure () -> String, expressions: Bool = true, nonEmpty: Bool = false
    ) -> Located<String>? {
        guard case .scalar(let text, let plain) = node.kind else {
            typeMismatch(what(), expected: "a string", found: node)
            return nil
        }
        let value = plain && node.isNull ? "" : text
        if nonEmpty && value.isEmpty {
            report("\(what()) must not be empty", at: node, rule: "type")
            return nil
        }
        if !expressions && value.hasExpressionMarker {
            report("an expression is not allowed in \(what())", at: node, rule: "expression")
        }
        return Located(value, at: location(node))
    }

    /// A string or a sequence of strings, as `branches`, `needs`, `runs-on` allow.
    mutating func stringList(
        _ node: YAMLNode, _ what: @autoclosure () -> String, expressions: Bool = true, nonEmpty: Bool = true
    ) -> [Located<String>]? {
        switch node.kind {
        case .scalar:
            return string(node, what(), expressions: expressions, nonEmpty: nonEmpty).map { [$0] }
        case .sequence(let items):
            return items.compactMap { string($0, "an item of \(what())", expressions: expressions, nonEmpty: nonEmpty) }
        case .mapping:
            typeMismatch(what(), expected: "a string or a sequence of strings", found: node)
            return nil
        }
    }

    /// A sequence of strings only.
    mutating func sequenceOfStrings(_ node: YAMLNode, _ what: @autoclosure () -> String, expressions: Bool = true) -> [Located<String>]? {
        guard case .sequence(let items) = node.kind else {
            if node.isNull { return [] }
            typeMismatch(what(), expected: "a sequence of strings", found: node)
            return nil
        }
        return items.compactMap { string($0, "an item of \(what())", expressions: expressions, nonEmpty: true) }
    }

    mutating func boolOrExpression(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<BoolOrExpression>? {
        if case .scalar(let text, let plain) = node.kind {
            if plain, case .bool(let b) = resolvePlainScalar(text) {
                return Located(.value(b), at: location(node))
            }
            if text.hasExpressionMarker {
                return Located(.expression(text), at: location(node))
            }
        }
        typeMismatch(what(), expected: "a boolean (true or false) or an expression", found: node)
        return nil
    }

    mutating func bool(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Bool? {
        if case .scalar(let text, true) = node.kind, case .bool(let b) = resolvePlainScalar(text) {
            return b
        }
        typeMismatch(what(), expected: "a boolean (true or false)", found: node)
        return nil
    }

    mutating func numberOrExpression(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<NumberOrExpression>? {
        if case .scalar(let text, let plain) = node.kind {
            if plain, case .number(let n) = resolvePlainScalar(text) {
                return Located(.value(n), at: location(node))
            }
            if text.hasExpressionMarker {
                return Located(.expression(text), at: location(node))
            }
        }
        typeMismatch(what(), expected: "a number or an expression", found: node)
        return nil
    }

    /// True when a scalar is one `${{ }}` expression or holds one, so it can stand for any type.
    func isExpression(_ node: YAMLNode) -> Bool {
        if case .scalar(let text, _) = node.kind { return text.hasExpressionMarker }
        return false
    }

    // MARK: Untyped values

    /// Any YAML value, for `with:`, matrix vectors and input defaults.
    mutating func value(_ node: YAMLNode, _ what: @autoclosure () -> String) -> ValueNode {
        let loc = location(node)
        switch node.kind {
        case .scalar(let text, let plain):
            guard plain else { return ValueNode(.string(text), at: loc) }
            switch resolvePlainScalar(text) {
            case .null: return ValueNode(.null, at: loc)
            case .bool(let b): return ValueNode(.bool(b), at: loc)
            case .number(let n): return ValueNode(.number(n, text: text), at: loc)
            case .string: return ValueNode(.string(text), at: loc)
            }
        case .sequence(let items):
            return ValueNode(.sequence(items.map { value($0, what()) }), at: loc)
        case .mapping:
            let entries = (pairs(node, what()) ?? []).map { pair in
                MappingEntry(key: Located(pair.key.scalar ?? "", at: location(pair.key)), value: value(pair.value, what()))
            }
            return ValueNode(.mapping(entries), at: loc)
        }
    }

    /// A mapping of names to scalar values (`env`, `outputs`, `with`): values stay typed, collections are
    /// reported.
    mutating func scalarMap(_ node: YAMLNode, _ what: @autoclosure () -> String) -> [MappingEntry]? {
        guard let pairs = pairs(node, what()) else { return nil }
        var entries: [MappingEntry] = []
        entries.reserveCapacity(pairs.count)
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            if key.isEmpty {
                report("a key of \(what()) must not be empty", at: pair.key, rule: "type")
                continue
            }
            switch pair.value.kind {
            case .scalar:
                entries.append(MappingEntry(key: Located(key, at: location(pair.key)), value: value(pair.value, what())))
            case .sequence, .mapping:
                typeMismatch("'\(key)' in \(what())", expected: "a string", found: pair.value)
            }
        }
        return entries
    }

    /// `env:`: a mapping of names to strings, or one expression.
    mutating func environment(_ node: YAMLNode, _ what: @autoclosure () -> String, expressions: Bool = true) -> Environment? {
        if isExpression(node), expressions, let text = node.scalar {
            return .expression(Located(text, at: location(node)))
        }
        return scalarMap(node, what()).map { .mapping($0) }
    }
}
