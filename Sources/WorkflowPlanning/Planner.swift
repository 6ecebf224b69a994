public import WorkflowExpressions
public import WorkflowModel

/// What to plan: the event and the user's selections.
public struct PlanRequest: Sendable {
    public var event: PlanEvent
    /// `-j JOB` (repeatable): these jobs and everything they need; empty for all.
    public var jobs: [String]
    /// `--matrix key=value`: keep only rows where every given key has one of the values given for it.
    public var matrixFilters: [(key: String, value: String)]
    /// `-P label=host` or `-P label=docker://image`.
    public var platforms: [(label: String, backend: String)]
    /// `vars` context.
    public var vars: [(String, String)]
    /// The reusable workflows jobs call, parsed, keyed by `ReusableWorkflows.key(caller:uses:)`; a
    /// call whose workflow is missing here is an error of the plan.
    public var calledWorkflows: [String: Workflow] = [:]
    /// Why a called workflow could not be read, by the same key (the plan reports it where the call
    /// takes part).
    public var calledWorkflowProblems: [String: String] = [:]

    public init(
        event: PlanEvent, jobs: [String] = [], matrixFilters: [(key: String, value: String)] = [],
        platforms: [(label: String, backend: String)] = [], vars: [(String, String)] = []
    ) {
        self.event = event
        self.jobs = jobs
        self.matrixFilters = matrixFilters
        self.platforms = platforms
        self.vars = vars
    }
}

/// Builds a `Plan` from parsed workflows. Pure: values in, a plan and diagnostics out.
public enum Planner {
    public static func plan(_ workflows: [Workflow], _ request: PlanRequest) -> (Plan, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var planned: [PlannedWorkflow] = []
        var skipped: [SkippedWorkflow] = []
        for workflow in workflows {
            let name = workflow.name?.value ?? workflow.file
            diagnostics += TriggerMatcher.invalidPatterns(workflow)
            let decision = TriggerMatcher.decide(workflow, for: request.event)
            guard decision.runs else {
                skipped.append(SkippedWorkflow(file: workflow.file, name: name, reason: decision.reason))
                continue
            }
            var builder = WorkflowPlanBuilder(workflow: workflow, request: request)
            if let result = builder.build() {
                planned.append(result)
            } else if let reason = builder.skipReason {
                skipped.append(SkippedWorkflow(file: workflow.file, name: name, reason: reason))
            }
            diagnostics += builder.diagnostics
        }
        let plan = Plan(event: request.event.name, ref: request.event.ref, sha: request.event.git.sha, workflows: planned, skipped: skipped)
        return (plan, diagnostics.sorted())
    }

    /// Job ids named with `-j` that no workflow defines.
    public static func unknownJobs(_ names: [String], in workflows: [Workflow]) -> [String] {
        names.filter { name in !workflows.contains { $0.job(name) != nil } }
    }
}

/// Plans one workflow.
struct WorkflowPlanBuilder {
    let workflow: Workflow
    let request: PlanRequest
    var diagnostics: [Diagnostic] = []
    var skipReason: String?
    /// What plan-time evaluation reads; a value of its own so the closures that evaluate capture it
    /// and not the whole builder.
    var evaluation = PlanTimeEvaluation()
    /// Instance ids used so far in this workflow: two jobs may share a display name.
    private var usedIds: [String: Int] = [:]
    /// Planning the jobs of a called workflow: its instance ids start with the calling instance's
    /// (`caller / `).
    var idPrefix = ""

    init(workflow: Workflow, request: PlanRequest) {
        self.workflow = workflow
        self.request = request
    }

    mutating func build() -> PlannedWorkflow? {
        let inputs = resolveInputs()
        var payload: ExpressionValue?
        if request.event.name == "workflow_dispatch", case .object(let resolved) = inputs {
            // github.event.inputs holds every input, defaults included, as strings.
            payload = request.event.payload(withInputs: .object(resolved.pairs.map { ($0.key, .string($0.value.stringValue)) }))
        }
        evaluation.baseContexts = [
            ("github", request.event.githubContext(workflowName: workflow.name?.value ?? workflow.file, payload: payload)),
            ("inputs", inputs),
            ("vars", .object(request.vars.map { ($0.0, .string($0.1)) })),
        ]
        guard let selected = selectJobs() else { return nil }
        let ordered = Self.order(jobInstances(of: workflow, selected: selected, call: nil))
        let context = evaluation.context(matrix: .object([]), strategy: .object([]))
        return PlannedWorkflow(
            file: workflow.file, name: workflow.name?.value ?? workflow.file,
            concurrencyGroup: workflow.concurrency.map { evaluation.planTime($0.group.value, context)?.stringValue ?? $0.group.value },
            cancelInProgress: workflow.concurrency?.cancelInProgress.map { Self.text($0.value) },
            instances: ordered,
            inputs: plannedInputs(inputs))
    }

    /// The instances of a workflow's jobs (the planned one, or one called by `call`), with their
    /// needs resolved, and after each calling instance the instances of the workflow it calls.
    mutating func jobInstances(of workflow: Workflow, selected: Set<String>?, call: (instance: JobInstance, files: [String])?) -> [JobInstance] {
        var instancesByJob = [String: [String]](minimumCapacity: workflow.jobs.count)
        usedIds.reserveCapacity(usedIds.count + workflow.jobs.count)
        var all: [(instance: JobInstance, needs: [String])] = []
        all.reserveCapacity(workflow.jobs.count)
        // In a called workflow `inputs` are the call's, known when the call starts.
        let outer = (evaluation.inputsLate, idPrefix)
        evaluation.inputsLate = call != nil
        if let call { idPrefix = call.instance.id + " / " }
        defer { (evaluation.inputsLate, idPrefix) = outer }
        for job in workflow.jobs {
            let key = Workflow.foldedID(job.id.value)
            if let selected, !selected.contains(key) { continue }
            var instances = self.instances(of: job, needs: [])
            if let call {
                // GitHub's names: `caller / job`; the jobs of one call share the caller's path.
                let path = call.instance.callPath + [call.instance.job + "#" + String(call.instance.strategyIndex)]
                for i in instances.indices {
                    instances[i].name = call.instance.name + " / " + instances[i].name
                    instances[i].callPath = path
                    instances[i].workflowFile = workflow.file
                }
            }
            instancesByJob[key] = instances.map(\.id)
            let needs = job.needs.map { Workflow.foldedID($0.value) }
            all += instances.map { ($0, needs) }
        }
        // Every instance needs every instance of each job it needs (jobs may be declared in any order);
        // a called workflow's first jobs need the calling instance.
        var resolved: [JobInstance] = []
        resolved.reserveCapacity(all.count)
        let usesByJob = Dictionary(workflow.jobs.map { (Workflow.foldedID($0.id.value), $0.uses) }, uniquingKeysWith: { a, _ in a })
        for entry in all {
            var instance = entry.instance
            instance.needs = entry.needs.flatMap { instancesByJob[$0] ?? [] }
            if let call, entry.needs.isEmpty { instance.needs = [call.instance.id] }
            guard let uses = usesByJob[Workflow.foldedID(instance.job)] ?? nil else {
                resolved.append(instance)
                continue
            }
            let files = call?.files ?? [workflow.file]
            let key = ReusableWorkflows.key(caller: workflow.file, uses: uses.value)
            guard let callee = request.calledWorkflows[key] else {
                // Only what the front end tried to read and could not is an error; without called
                // workflows (a planner used alone) the call stays one instance.
                if let why = request.calledWorkflowProblems[key] { diagnostics.append(Diagnostic(.error, why, at: uses.location, rule: "reusable-workflow")) }
                resolved.append(instance)
                continue
            }
            instance.calledFile = callee.file
            resolved.append(instance)
            if files.contains(callee.file) {
                diagnostics.append(Diagnostic(
                    .error, "reusable workflows call each other in a cycle: \((files + [callee.file]).joined(separator: " -> "))", at: uses.location, rule: "reusable-workflow"))
                continue
            }
            guard files.count < ReusableWorkflows.maxLevels else {
                diagnostics.append(Diagnostic(
                    .error, "'\(uses.value)' would connect \(files.count + 1) levels of workflows; GitHub allows \(ReusableWorkflows.maxLevels) (the caller and 9 called workflows)",
                    at: uses.location, rule: "reusable-workflow"))
                continue
            }
            resolved += jobInstances(of: callee, selected: nil, call: (instance, files + [callee.file]))
        }
        return resolved
    }

    private func plannedInputs(_ inputs: ExpressionValue) -> [PlannedInput]? {
        guard case .object(let object) = inputs, !object.pairs.isEmpty else { return nil }
        return object.pairs.map { name, value in
            switch value {
            case .bool: PlannedInput(name: name, type: .boolean, value: value.stringValue)
            case .number: PlannedInput(name: name, type: .number, value: value.stringValue)
            default: PlannedInput(name: name, type: .string, value: value.stringValue)
            }
        }
    }

    /// Kahn's algorithm; among ready instances the one declared first goes first.
    static func order(_ instances: [JobInstance]) -> [JobInstance] {
        var index = [String: Int](minimumCapacity: instances.count)
        for (i, instance) in instances.enumerated() { index[instance.id] = i }
        var waiting = instances.map { $0.needs.filter { index[$0] != nil }.count }
        var dependents = [[Int]](repeating: [], count: instances.count)
        for (i, instance) in instances.enumerated() {
            for need in instance.needs { if let n = index[need] { dependents[n].append(i) } }
        }
        // A sorted set of ready indices: the smallest (declared first) goes next.
        var ready = (0..<instances.count).filter { waiting[$0] == 0 }
        var placed = [Bool](repeating: false, count: instances.count)
        var ordered: [JobInstance] = []
        ordered.reserveCapacity(instances.count)
        while let next = ready.min() {
            ready.removeAll { $0 == next }
            placed[next] = true
            ordered.append(instances[next])
            for d in dependents[next] {
                waiting[d] -= 1
                if waiting[d] == 0 { ready.append(d) }
            }
        }
        // A cycle: validate reports it; keep every instance visible.
        for i in instances.indices where !placed[i] { ordered.append(instances[i]) }
        return ordered
    }

    // MARK: Job selection

    private mutating func selectJobs() -> Set<String>? {
        let ids = workflow.jobs.map { Workflow.foldedID($0.id.value) }
        guard !request.jobs.isEmpty else { return Set(ids) }
        var selected = Set<String>()
        var queue = request.jobs.map { $0.lowercased() }.filter { ids.contains($0) }
        guard !queue.isEmpty else {
            skipReason = "has none of the selected jobs (\(request.jobs.joined(separator: ", ")))"
            return nil
        }
        while let id = queue.popLast() {
            guard selected.insert(id).inserted, let job = workflow.job(id) else { continue }
            queue += job.needs.map { Workflow.foldedID($0.value) }
        }
        return selected
    }

    // MARK: Inputs

    /// The `inputs` context: `--input` values checked against the workflow's declarations, defaults
    /// applied, booleans and numbers typed.
    private mutating func resolveInputs() -> ExpressionValue {
        guard let trigger = workflow.trigger(request.event.name), !trigger.inputs.isEmpty || !request.event.inputs.isEmpty else {
            return .object([])
        }
        var values: [(String, ExpressionValue)] = []
        // Inputs in a given payload (`-e`), then `--input` values, which win.
        var given: [(name: String, value: String)] = []
        if case .object(let payloadInputs)? = PlanEvent.lookup(request.event.payload, "inputs") {
            given = payloadInputs.pairs.map { ($0.key, $0.value.stringValue) }
        }
        given += request.event.inputs
        for name in request.event.inputs.map(\.name) where !trigger.inputs.contains(where: { $0.id.value == name }) {
            diagnostics.append(
                Diagnostic(.error, "input '\(name)' given with --input is not declared by '\(request.event.name)' of this workflow", at: trigger.event.location, rule: "inputs"))
        }
        for input in trigger.inputs {
            let raw = given.last(where: { $0.name == input.id.value })?.value
            let type = input.type?.value ?? .string
            guard let text = raw ?? input.defaultValue.flatMap({ $0.scalarText }) else {
                if input.required {
                    diagnostics.append(
                        Diagnostic(.error, "input '\(input.id.value)' is required; pass --input \(input.id.value)=VALUE", at: input.id.location, rule: "inputs"))
                }
                values.append((input.id.value, type == .boolean ? .bool(false) : .string("")))
                continue
            }
            switch type {
            case .boolean:
                guard text == "true" || text == "false" else {
                    diagnostics.append(Diagnostic(.error, "input '\(input.id.value)' is a boolean; '\(text)' is not true or false", at: input.id.location, rule: "inputs"))
                    continue
                }
                values.append((input.id.value, .bool(text == "true")))
            case .number:
                let n = ExpressionNumber.parse(text)
                guard !n.isNaN, !text.isEmpty else {
                    diagnostics.append(Diagnostic(.error, "input '\(input.id.value)' is a number; '\(text)' is not", at: input.id.location, rule: "inputs"))
                    continue
                }
                values.append((input.id.value, .number(n)))
            case .choice:
                if !input.options.isEmpty, !input.options.contains(where: { $0.value == text }) {
                    diagnostics.append(
                        Diagnostic(.error, "input '\(input.id.value)' must be one of \(input.options.map { "'\($0.value)'" }.joined(separator: ", ")); got '\(text)'", at: input.id.location, rule: "inputs"))
                }
                values.append((input.id.value, .string(text)))
            case .string, .environment:
                values.append((input.id.value, .string(text)))
            }
        }
        return .object(values)
    }

    // MARK: Instances

    mutating func instances(of job: Job, needs: [String]) -> [JobInstance] {
        var rows: [MatrixExpansion.Row] = []
        var atRunTime = false
        var producesNoRows = false
        if let strategy = job.strategy {
            let context = evaluation.context(matrix: .object([]), strategy: .object([]))
            if strategy.expression != nil {
                atRunTime = true
            }
            switch strategy.matrix {
            case .expression(let text)?:
                switch evaluation.planTime(text.value, context) {
                case .object(let object)?:
                    do {
                        rows = try expandObjectMatrix(object, location: text.location)
                        producesNoRows = rows.isEmpty
                    } catch {
                        diagnostics.append(Diagnostic(.error, error.message, at: error.location, rule: "matrix"))
                        return []
                    }
                case let value?:
                    diagnostics.append(
                        Diagnostic(.error, "the matrix of job '\(job.id.value)' must evaluate to an object; got \(value.kindName.lowercased()) \(JSONText.compact(value))", at: text.location, rule: "matrix"))
                    return []
                case nil:
                    atRunTime = true
                }
            case .literal(let definition)?:
                let expressions = definition.axes.contains { if case .expression = $0.values { return true } else { return false } }
                    || { if case .expression? = definition.include { return true } else { return false } }()
                    || { if case .expression? = definition.exclude { return true } else { return false } }()
                if expressions && evaluation.runTime {
                    // Every expression of the definition is known now: it is expanded as a literal.
                    do {
                        rows = try expandObjectMatrix(try resolved(definition, context), location: definition.location)
                        producesNoRows = rows.isEmpty
                    } catch {
                        diagnostics.append(Diagnostic(.error, error.message, at: error.location, rule: "matrix"))
                        return []
                    }
                } else if expressions {
                    atRunTime = true
                } else {
                    do {
                        rows = try MatrixExpansion.expand(definition) { (node) throws(MatrixExpansion.Failure) -> ExpressionValue in
                            try self.evaluateMatrixValue(node, context)
                        }
                        producesNoRows = rows.isEmpty
                    } catch {
                        diagnostics.append(Diagnostic(.error, error.message, at: error.location, rule: "matrix"))
                        return []
                    }
                }
            case nil:
                break
            }
        }
        let totalRows = max(rows.count, 1)
        var rowIndices = Array(rows.indices)
        if !request.matrixFilters.isEmpty, !rows.isEmpty {
            // `--matrix key=value` given twice for one key keeps rows with either value (act's habit);
            // a key the row does not have does not filter it.
            var wanted: [(key: String, values: [String])] = []
            for filter in request.matrixFilters {
                if let i = wanted.firstIndex(where: { $0.key == filter.key }) { wanted[i].values.append(filter.value) } else { wanted.append((filter.key, [filter.value])) }
            }
            rowIndices = rows.indices.filter { i in
                wanted.allSatisfy { filter in
                    guard let value = rows[i].first(where: { $0.key == filter.key })?.value else { return true }
                    return filter.values.contains { ExpressionValue.looselyEqual(value, .string($0)) }
                }
            }
            if rowIndices.isEmpty {
                let given = request.matrixFilters.map { "--matrix \($0.key)=\($0.value)" }.joined(separator: " ")
                diagnostics.append(Diagnostic(.error, "\(given) keeps no row of the matrix of job '\(job.id.value)'", at: job.id.location, rule: "matrix"))
                return []
            }
        }
        if producesNoRows {
            diagnostics.append(
                Diagnostic(.warning, "the matrix of job '\(job.id.value)' has no rows left after 'exclude'; the job does not run", at: job.id.location, rule: "matrix"))
            return []
        }
        // (row, its index in the whole matrix) — strategy.job-index counts rows before any --matrix filter.
        let rowList: [(MatrixExpansion.Row?, Int)] = rows.isEmpty ? [(nil, 0)] : rowIndices.map { (rows[$0], $0) }
        var result: [JobInstance] = []
        let evaluation = self.evaluation
        for (row, index) in rowList {
            // Contexts are built only when a value of this instance holds an expression.
            lazy var context: EvaluationContext = {
                let matrix = ExpressionValue.object(row ?? [])
                let failFast: ExpressionValue
                switch job.strategy?.failFast?.value {
                case .value(let b)?: failFast = .bool(b)
                case .expression(let e)?: failFast = evaluation.planTime(e, evaluation.context(matrix: .object([]), strategy: .object([]))) ?? .bool(true)
                case nil: failFast = .bool(true)
                }
                var maxParallel = ExpressionValue.number(Double(totalRows))
                if case .value(let n)? = job.strategy?.maxParallel?.value { maxParallel = .number(n) }
                let strategy = ExpressionValue.object([
                    ("fail-fast", failFast),
                    ("job-index", .number(Double(index))),
                    ("job-total", .number(Double(totalRows))),
                    ("max-parallel", maxParallel),
                ])
                return evaluation.context(matrix: matrix, strategy: strategy)
            }()
            var name = job.id.value
            if let raw = job.name?.value {
                name = evaluation.planTime(raw, context)?.stringValue ?? raw
            }
            if let row, !row.isEmpty, !(job.name.map { ExpressionTemplate.containsExpression($0.value) } ?? false) {
                name += " (" + MatrixExpansion.displayValues(row).joined(separator: ", ") + ")"
            }
            // Ids are unique in the run's workflow, the jobs of calls (`caller / job`) included.
            let full = idPrefix + name
            var id = full
            if let count = usedIds[full] {
                usedIds[full] = count + 1
                id = "\(full) #\(count + 1)"
            } else {
                usedIds[full] = 1
            }
            let labels = (job.runsOn?.labels ?? []).flatMap { label -> [String] in
                evaluation.planTime(label.value, context).map(Self.labelText) ?? [label.value]
            }
            let container = job.container?.image.map { evaluation.planTime($0.value, context)?.stringValue ?? $0.value }
            var instance = JobInstance(
                id: id, job: job.id.value, name: name,
                matrix: (row ?? []).map { JobInstance.MatrixEntry(key: $0.key, json: JSONText.compact($0.value)) },
                matrixAtRunTime: atRunTime, needs: needs, runsOn: labels, backend: "host",
                container: container, services: job.services.map(\.id.value),
                condition: job.condition?.value,
                concurrencyGroup: job.concurrency.map { evaluation.planTime($0.group.value, context)?.stringValue ?? $0.group.value },
                cancelInProgress: job.concurrency?.cancelInProgress.map { Self.text($0.value) },
                timeoutMinutes: job.timeoutMinutes.map { Self.text($0.value) } ?? "360",
                continueOnError: job.continueOnError.map { Self.text($0.value) },
                uses: job.uses?.value,
                failFast: job.strategy?.failFast.map { Self.text($0.value) },
                maxParallel: job.strategy?.maxParallel.map { Self.text($0.value) })
            instance.backend = backend(for: instance)
            instance.strategyIndex = index
            instance.strategyTotal = totalRows
            result.append(instance)
        }
        return result
    }

    private func expandObjectMatrix(_ object: ExpressionObject, location: SourceLocation) throws(MatrixExpansion.Failure) -> [MatrixExpansion.Row] {
        // A matrix from an expression: rebuild a definition from the evaluated object.
        func node(_ value: ExpressionValue) -> ValueNode {
            switch value {
            case .null: return ValueNode(.null, at: location)
            case .bool(let b): return ValueNode(.bool(b), at: location)
            case .number(let n): return ValueNode(.number(n, text: ExpressionNumber.format(n)), at: location)
            case .string(let s): return ValueNode(.string(s), at: location)
            case .array(let a): return ValueNode(.sequence(a.items.map(node)), at: location)
            case .object(let o): return ValueNode(.mapping(o.pairs.map { MappingEntry(key: Located($0.key, at: location), value: node($0.value)) }), at: location)
            }
        }
        var definition = MatrixDefinition(at: location)
        for pair in object.pairs {
            switch pair.key.lowercased() {
            case "include":
                if case .array(let a) = pair.value { definition.include = .literal(a.items.map(node)) }
            case "exclude":
                if case .array(let a) = pair.value { definition.exclude = .literal(a.items.map(node)) }
            default:
                let values: [ValueNode] = { if case .array(let a) = pair.value { return a.items.map(node) } else { return [node(pair.value)] } }()
                definition.axes.append(MatrixAxis(key: Located(pair.key, at: location), values: .literal(values)))
            }
        }
        let includes: Int = { if case .literal(let items)? = definition.include { return items.count } else { return 0 } }()
        if definition.axes.isEmpty && includes == 0 {
            // The runner's converter: neither a vector nor an include row.
            throw MatrixExpansion.Failure(message: "Matrix must define at least one vector", location: location)
        }
        return try MatrixExpansion.expand(definition) { (n) throws(MatrixExpansion.Failure) -> ExpressionValue in n.expressionValue }
    }

    /// A literal matrix definition with expression parts as the object they evaluate to now.
    private func resolved(_ definition: MatrixDefinition, _ context: EvaluationContext) throws(MatrixExpansion.Failure) -> ExpressionObject {
        func value(_ text: Located<String>) throws(MatrixExpansion.Failure) -> ExpressionValue {
            guard let value = evaluation.planTime(text.value, context) else {
                throw MatrixExpansion.Failure(message: "'\(text.value)' cannot be evaluated when the job starts", location: text.location)
            }
            return value
        }
        func nodes(_ list: [ValueNode]) throws(MatrixExpansion.Failure) -> ExpressionValue {
            .array(try MatrixExpansion.items(list) { (node) throws(MatrixExpansion.Failure) in try evaluateMatrixValue(node, context) }.map(\.value))
        }
        var pairs: [(String, ExpressionValue)] = []
        for axis in definition.axes {
            switch axis.values {
            case .expression(let text) where ExpressionTemplate.isInsertDirective(axis.key.value):
                // `${{ insert }}: ${{ fromJSON(…) }}` splices the mapping's vectors (and include/exclude) in.
                guard case .object(let object) = try value(text) else {
                    throw MatrixExpansion.Failure(message: "'${{ insert }}' expects a mapping", location: axis.key.location)
                }
                pairs += object.pairs.map { ($0.key, $0.value) }
            case .literal(let list): pairs.append((axis.key.value, try nodes(list)))
            case .expression(let text): pairs.append((axis.key.value, try value(text)))
            }
        }
        for (key, rows) in [("include", definition.include), ("exclude", definition.exclude)] {
            switch rows {
            case .literal(let list)?: pairs.append((key, try nodes(list)))
            case .expression(let text)?: pairs.append((key, try value(text)))
            case nil: break
            }
        }
        return ExpressionObject(pairs)
    }

    private func evaluateMatrixValue(_ node: ValueNode, _ context: EvaluationContext) throws(MatrixExpansion.Failure) -> ExpressionValue {
        switch node.kind {
        case .string(let s) where ExpressionTemplate.containsExpression(s):
            return evaluation.planTime(s, context) ?? .string(s)
        case .sequence(let items):
            return .array(try MatrixExpansion.items(items) { (item) throws(MatrixExpansion.Failure) in try evaluateMatrixValue(item, context) }.map(\.value))
        case .mapping(let entries):
            var out: [(String, ExpressionValue)] = []
            for entry in entries {
                let value = try evaluateMatrixValue(entry.value, context)
                // `${{ insert }}: <mapping>` splices the mapping in.
                if ExpressionTemplate.isInsertDirective(entry.key.value), case .object(let object) = value {
                    out += object.pairs.map { ($0.key, $0.value) }
                } else {
                    out.append((entry.key.value, value))
                }
            }
            return .object(out)
        default:
            return node.expressionValue
        }
    }

    private func backend(for instance: JobInstance) -> String {
        if instance.uses != nil { return "reusable workflow" }
        if let image = instance.container, !image.isEmpty { return "docker://\(image)" }
        for label in instance.runsOn {
            if let mapping = request.platforms.last(where: { $0.label.lowercased() == label.lowercased() }) {
                return mapping.backend
            }
        }
        return "host"
    }

    private static func labelText(_ value: ExpressionValue) -> [String] {
        if case .array(let a) = value { return a.items.map(\.stringValue) }
        return [value.stringValue]
    }

    static func text(_ value: BoolOrExpression) -> String {
        switch value {
        case .value(let b): return b ? "true" : "false"
        case .expression(let e): return e
        }
    }

    static func text(_ value: NumberOrExpression) -> String {
        switch value {
        case .value(let n): return ExpressionNumber.format(n)
        case .expression(let e): return e
        }
    }
}
