internal import CYAML

/// Turns libyaml's event stream into one positioned `YAMLNode` tree.
///
/// Anchors and aliases are resolved here; a YAML syntax error, an undefined or recursive alias, or an
/// alias expansion past `maxNodes` stops loading with one positioned error.
struct YAMLLoader {
    /// Why loading stopped.
    struct Failure: Error {
        var message: String
        var line: Int
        var column: Int
    }

    /// Nodes a document may expand to through aliases before it is refused (a "billion laughs" guard).
    static let maxNodes = 1_000_000

    /// Collections nested deeper than this are refused, as GitHub refuses them: its workflow parser
    /// counts each mapping and sequence entered, the document's own included, and fails the 51st
    /// ("Maximum object depth exceeded"; actions/runner `WorkflowParser/ParseOptions.cs` MaxDepth = 50,
    /// `ObjectTemplating/TemplateMemory.cs` IncrementDepth). Hostile nesting must not exhaust the stack
    /// of the code that walks or frees the tree either.
    static let maxDepth = 50

    static var depthMessage: String { "Maximum object depth exceeded: GitHub allows \(maxDepth) nested mappings and sequences" }

    /// Loads the first document. Returns nil for a stream with no document (an empty file).
    static func load(_ bytes: [UInt8]) throws(Failure) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw Failure(message: "could not initialise the YAML parser", line: 1, column: 1)
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder()
            do throws(Failure) {
                return try builder.run(&parser)
            } catch {
                throw parser.error == YAML_READER_ERROR ? readerFailure(parser, bytes: buffer) : error
            }
        }
    }

    /// What libyaml's reader refused (a control character, bytes that are not UTF-8) has no mark,
    /// only a byte offset: its line and column (in Unicode scalars) are counted here.
    private static func readerFailure(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) -> Failure {
        let offset = min(Int(parser.problem_offset), bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        let column = 1 + bytes[lineStart..<offset].count { $0 & 0xC0 != 0x80 }
        var message = "could not parse as YAML: " + (parser.problem.map { String(cString: $0) } ?? "unreadable text")
        let value = Int(parser.problem_value)
        if value >= 0 {
            let hex = String(value, radix: 16, uppercase: true)
            message += message.hasSuffix("octet") ? " (byte 0x\(hex))" : " (U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))"
        }
        return Failure(message: message, line: line, column: column)
    }

    /// An open collection: where its children start on the builder's `NodeStack` (a mapping's keys and
    /// values alternate there), and what it adds up to so far.
    private struct Frame {
        var isMapping: Bool
        var start: Int
        var line: Int
        var column: Int
        var anchor: String?
        var weight = 1
        var childDepth = 0
    }

    /// The children of every open collection, one after another: a collection's end moves its own off
    /// the top into an array of exactly their number. Each collection growing its own array (one to
    /// three reallocations each) and each child being copied into it was a sixth of building the tree.
    private final class NodeStack {
        private var base: UnsafeMutablePointer<YAMLNode>
        private var capacity: Int
        private(set) var count = 0

        init() {
            capacity = 64
            base = .allocate(capacity: capacity)
        }

        deinit {
            base.deinitialize(count: count)
            base.deallocate()
        }

        func push(_ node: consuming YAMLNode) {
            if count == capacity {
                let grown = UnsafeMutablePointer<YAMLNode>.allocate(capacity: capacity * 2)
                grown.moveInitialize(from: base, count: count)
                base.deallocate()
                base = grown
                capacity *= 2
            }
            (base + count).initialize(to: node)
            count += 1
        }

        /// The nodes from `start` to the top, moved off the stack.
        ///
        /// Appended one by one to a reserved array: `Array(unsafeUninitializedCapacity:)` allocates
        /// through an unspecialized function that looks up the array's storage type in the runtime's
        /// metadata cache at every call (a fifth of loading a 100-job workflow went there).
        func popSequence(from start: Int) -> [YAMLNode] {
            let n = count - start
            count = start
            var nodes: [YAMLNode] = []
            nodes.reserveCapacity(n)
            for i in 0..<n { nodes.append((base + start + i).move()) }
            return nodes
        }

        /// The nodes from `start` to the top, taken two by two as key and value, moved off the stack.
        /// libyaml gives every key a value (an empty scalar when none is written); an unpaired last
        /// node, which it never leaves, would be dropped.
        func popMapping(from start: Int) -> [YAMLPair] {
            let n = (count - start) / 2
            if (count - start) % 2 == 1 { (base + count - 1).deinitialize(count: 1) }
            count = start
            var pairs: [YAMLPair] = []
            pairs.reserveCapacity(n)
            for i in 0..<n {
                let key = (base + start + 2 * i).move()
                pairs.append(YAMLPair(key: key, value: (base + start + 2 * i + 1).move()))
            }
            return pairs
        }
    }

    private struct Builder {
        var stack: [Frame] = []
        let nodes = NodeStack()
        var anchors: [String: YAMLNode] = [:]
        var openAnchors: Set<String> = []
        var root: YAMLNode?
        var documents = 0
        var expanded = 0

        mutating func run(_ parser: inout yaml_parser_t) throws(Failure) -> YAMLNode? {
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw Builder.syntaxFailure(parser)
                }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return root
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 {
                        throw Failure(
                            message: "a workflow file holds one YAML document; found a second one",
                            line: line, column: column)
                    }
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                    var plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar.plain_implicit == 1
                    if let tag = Builder.string(scalar.tag) {
                        plain = try YAMLLoader.checkTag(tag, text: text, style: scalar.style, line: line, column: column)
                    }
                    let node = YAMLNode(kind: .scalar(text, plain: plain), line: line, column: column, weight: 1)
                    if let anchor = Builder.string(scalar.anchor) { anchors[anchor] = node }
                    try add(node)
                case YAML_ALIAS_EVENT:
                    let name = Builder.string(event.data.alias.anchor) ?? ""
                    guard let node = anchors[name] else {
                        let why = openAnchors.contains(name) ? "recursive alias" : "undefined alias"
                        throw Failure(message: "\(why) '*\(name)': an alias must refer to an anchor defined before it", line: line, column: column)
                    }
                    if stack.count + node.depth > YAMLLoader.maxDepth {
                        throw Failure(message: YAMLLoader.depthMessage, line: line, column: column)
                    }
                    expanded += node.weight
                    if expanded > YAMLLoader.maxNodes {
                        throw Failure(message: "aliases expand to more than \(YAMLLoader.maxNodes) nodes", line: line, column: column)
                    }
                    try add(node)
                case YAML_SEQUENCE_START_EVENT:
                    try checkDepth(line: line, column: column)
                    let anchor = Builder.string(event.data.sequence_start.anchor)
                    if let anchor { openAnchors.insert(anchor) }
                    stack.append(Frame(isMapping: false, start: nodes.count, line: line, column: column, anchor: anchor))
                case YAML_MAPPING_START_EVENT:
                    try checkDepth(line: line, column: column)
                    let anchor = Builder.string(event.data.mapping_start.anchor)
                    if let anchor { openAnchors.insert(anchor) }
                    stack.append(Frame(isMapping: true, start: nodes.count, line: line, column: column, anchor: anchor))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let frame = stack.popLast() else { break }
                    var node = YAMLNode(
                        kind: frame.isMapping ? .mapping(nodes.popMapping(from: frame.start)) : .sequence(nodes.popSequence(from: frame.start)),
                        line: frame.line, column: frame.column, weight: frame.weight)
                    node.depth = frame.childDepth + 1
                    let anchor = frame.anchor
                    if let anchor {
                        openAnchors.remove(anchor)
                        anchors[anchor] = node
                    }
                    try add(node)
                default:
                    break
                }
            }
        }

        func checkDepth(line: Int, column: Int) throws(Failure) {
            if stack.count >= YAMLLoader.maxDepth {
                throw Failure(message: YAMLLoader.depthMessage, line: line, column: column)
            }
        }

        mutating func add(_ node: consuming YAMLNode) throws(Failure) {
            guard !stack.isEmpty else {
                if root == nil { root = node }
                return
            }
            let top = stack.count - 1
            stack[top].weight += node.weight
            stack[top].childDepth = max(stack[top].childDepth, node.depth)
            nodes.push(node)
        }

        static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let pointer else { return nil }
            return String(cString: pointer)
        }

        static func syntaxFailure(_ parser: yaml_parser_t) -> Failure {
            var message = "could not parse as YAML: "
            if let problem = parser.problem {
                message += String(cString: problem)
            } else {
                message += "unknown error"
            }
            if let context = parser.context {
                message += " (\(String(cString: context)) at line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1))"
            }
            let mark = parser.problem_mark
            return Failure(message: message, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        }
    }
}
