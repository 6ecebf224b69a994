public import WorkflowExpressions
public import WorkflowModel

/// Expands `strategy.matrix` with the official runner's algorithm (MatrixBuilder): the cross product
/// of the vectors in key order (first key slowest), then `exclude`, then `include` (extras onto every
/// matching row, later includes overwriting extras, unmatched includes appended as new rows). Matching
/// uses expression equality, so strings compare ignoring case and nested objects match partially.
public enum MatrixExpansion {
    /// One row: keys in order with their values.
    public typealias Row = [(key: String, value: ExpressionValue)]

    /// The most rows one matrix may produce.
    public static let maxRows = 256

    /// A problem with a matrix, and where.
    public struct Failure: Error, Sendable {
        public var message: String
        public var location: SourceLocation
    }

    /// A sequence's items evaluated, each with where it stands; an item that is one `${{ }}` yielding an
    /// array is spliced into the sequence, as the runner's TemplateUnraveler inserts it.
    public static func items(
        _ nodes: [ValueNode], evaluate: (ValueNode) throws(Failure) -> ExpressionValue
    ) throws(Failure) -> [(value: ExpressionValue, location: SourceLocation)] {
        var out: [(value: ExpressionValue, location: SourceLocation)] = []
        for node in nodes {
            let value = try evaluate(node)
            if case .string(let text) = node.kind, case .array(let array) = value, ExpressionTemplate.isSingleExpression(text) {
                out += array.items.map { ($0, node.location) }
            } else {
                out.append((value, node.location))
            }
        }
        return out
    }

    /// Expands a literal matrix definition whose values are known.
    public static func expand(
        _ definition: MatrixDefinition,
        evaluate: (ValueNode) throws(Failure) -> ExpressionValue
    ) throws(Failure) -> [Row] {
        // 1. Vectors.
        var vectors: [(key: String, values: [ExpressionValue])] = []
        for axis in definition.axes {
            guard case .literal(let nodes) = axis.values else { continue }
            if nodes.isEmpty {
                throw Failure(message: "matrix vector '\(axis.key.value)' does not contain any values", location: axis.key.location)
            }
            let values = try items(nodes, evaluate: evaluate).map(\.value)
            if values.isEmpty {
                throw Failure(message: "matrix vector '\(axis.key.value)' does not contain any values", location: axis.key.location)
            }
            vectors.append((axis.key.value, values))
        }
        // 2. Cross product, first key varying slowest.
        var rows: [Row] = []
        if !vectors.isEmpty {
            var size = 1
            for vector in vectors {
                let (product, overflow) = size.multipliedReportingOverflow(by: vector.values.count)
                if overflow || product > 1_000_000 {
                    throw Failure(message: "the matrix would produce more than 1000000 jobs; GitHub allows at most \(maxRows)", location: definition.location)
                }
                size = product
            }
            rows.reserveCapacity(size)
            for p in 0..<size {
                var block = size
                var row: Row = []
                for vector in vectors {
                    block /= vector.values.count
                    row.append((vector.key, vector.values[(p / block) % vector.values.count]))
                }
                rows.append(row)
            }
        }
        let vectorKeys = Set(vectors.map(\.key))
        // 3. Exclude.
        if case .literal(let items)? = definition.exclude {
            var filters: [ExpressionObject] = []
            for item in try Self.items(items, evaluate: evaluate) {
                guard case .object(let filter) = item.value else {
                    throw Failure(message: "a matrix exclude item must be a mapping", location: item.location)
                }
                if filter.pairs.isEmpty {
                    throw Failure(message: "matrix exclude filter must not be empty", location: item.location)
                }
                for key in filter.pairs.map(\.key) where !vectorKeys.contains(key) {
                    throw Failure(message: "matrix exclude key '\(key)' does not match any key within the matrix", location: item.location)
                }
                filters.append(filter)
            }
            rows.removeAll { row in filters.contains { matches(row, $0) } }
        }
        // 4. Include onto product rows; 5. unmatched includes appended.
        if case .literal(let items)? = definition.include {
            var appended: [Row] = []
            let productRows = rows.count
            for item in try Self.items(items, evaluate: evaluate) {
                guard case .object(let include) = item.value else {
                    throw Failure(message: "a matrix include item must be a mapping", location: item.location)
                }
                if include.pairs.isEmpty {
                    throw Failure(message: "matrix include mapping does not contain any values", location: item.location)
                }
                let filter = ExpressionObject(include.pairs.filter { vectorKeys.contains($0.key) }.map { ($0.key, $0.value) })
                let extras = include.pairs.filter { !vectorKeys.contains($0.key) }
                var matched = false
                for r in 0..<productRows where matches(rows[r], filter) {
                    matched = true
                    for extra in extras {
                        if let i = rows[r].firstIndex(where: { $0.key == extra.key }) {
                            rows[r][i].value = extra.value
                        } else {
                            rows[r].append((extra.key, extra.value))
                        }
                    }
                }
                if !matched { appended.append(include.pairs.map { ($0.key, $0.value) }) }
            }
            rows += appended
        }
        if rows.count > maxRows {
            throw Failure(message: "the matrix produces \(rows.count) jobs; GitHub allows at most \(maxRows)", location: definition.location)
        }
        return rows
    }

    /// Whether every leaf of `filter` equals the row's value at the same path (expression `==`).
    static func matches(_ row: Row, _ filter: ExpressionObject) -> Bool {
        filter.pairs.allSatisfy { pair in
            guard let value = row.first(where: { $0.key == pair.key })?.value else { return false }
            return leafMatch(value, pair.value)
        }
    }

    private static func leafMatch(_ value: ExpressionValue, _ filter: ExpressionValue) -> Bool {
        switch filter {
        case .object(let nested):
            guard case .object(let object) = value else { return false }
            return nested.pairs.allSatisfy { pair in
                guard let v = object[pair.key] else { return false }
                return leafMatch(v, pair.value)
            }
        case .array(let items):
            guard case .array(let values) = value, values.items.count == items.items.count else { return false }
            return zip(values.items, items.items).allSatisfy { leafMatch($0, $1) }
        default:
            return ExpressionValue.looselyEqual(value, filter)
        }
    }

    /// The values GitHub shows in a matrix job's name: scalar leaves in order.
    public static func displayValues(_ row: Row) -> [String] {
        var out: [String] = []
        func walk(_ value: ExpressionValue) {
            switch value {
            case .array(let a): a.items.forEach(walk)
            case .object(let o): o.pairs.forEach { walk($0.value) }
            default: out.append(value.stringValue)
            }
        }
        row.forEach { walk($0.value) }
        return out
    }
}

extension ValueNode {
    /// The value as an expression value (strings kept raw).
    public var expressionValue: ExpressionValue {
        switch kind {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n, _): return .number(n)
        case .string(let s): return .string(s)
        case .sequence(let items): return .array(items.map(\.expressionValue))
        case .mapping(let entries): return .object(entries.map { ($0.key.value, $0.value.expressionValue) })
        }
    }
}
