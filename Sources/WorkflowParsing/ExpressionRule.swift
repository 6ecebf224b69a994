import WorkflowExpressions
import WorkflowModel

/// Checks every `${{ }}` in a workflow: it must parse, call known functions with the right number of
/// arguments, use only the contexts its key allows (GitHub's availability table), refer to what can
/// have a value (ReferenceRule.swift) and use values as their shapes allow (ExpressionTypes.swift).
struct ExpressionRule {
    private let workflow: Workflow
    private let file: String
    private let bytes: [UInt8]
    private var map: SourceMap?
    private(set) var diagnostics: [Diagnostic] = []
    /// Where the walk is now.
    private var place = Place()
    /// What references can resolve to at `place` and the contexts' shapes, built at the first
    /// expression and moved along with the walk only while expressions turn up (`prepareScopes()`).
    private var scopes: Scopes?

    static func check(_ workflow: Workflow, source: [UInt8]) -> [Diagnostic] {
        var rule = ExpressionRule(workflow: workflow, bytes: source)
        rule.visit(workflow)
        return rule.diagnostics
    }

    private init(workflow: Workflow, bytes: [UInt8]) {
        self.workflow = workflow
        self.file = workflow.file
        self.bytes = bytes
    }

    // MARK: The workflow's keys and what each may use

    private mutating func visit(_ wf: Workflow) {
        check(wf.runName, ContextAvailability.workflowLevel)
        check(wf.env, ContextAvailability.workflowEnv)
        check(wf.concurrency, ContextAvailability.workflowLevel)
        for trigger in wf.triggers {
            for input in trigger.inputs where trigger.event.value == "workflow_call" {
                check(input.defaultValue, ContextAvailability.workflowLevel)
            }
            for output in trigger.outputs {
                check(output.value, ContextAvailability.workflowCallOutput)
            }
        }
        for (index, job) in wf.jobs.enumerated() {
            place = Place(job: index)
            visit(job)
        }
    }

    private mutating func visit(_ job: Job) {
        let settings = ContextAvailability.jobSettings
        check(job.condition, ContextAvailability.jobIf, isCondition: true)
        check(job.name, settings)
        for label in job.runsOn?.labels ?? [] { check(label, settings) }
        check(job.runsOn?.group, settings)
        check(job.environment?.name, settings)
        check(job.environment?.url, ContextAvailability.environmentURL)
        // Outputs may name any step of the job.
        place.allSteps = true
        for output in job.outputs { check(output.value, ContextAvailability.jobOutputs) }
        place.allSteps = false
        check(job.env, ContextAvailability.jobEnv)
        check(job.defaults?.expression, ContextAvailability.jobDefaultsRun)
        check(job.defaults?.shell, ContextAvailability.jobDefaultsRun)
        check(job.defaults?.workingDirectory, ContextAvailability.jobDefaultsRun)
        check(job.timeoutMinutes, settings)
        checkNumber(job.timeoutMinutes, "'timeout-minutes' of job '\(job.id.value)'", consequence: "the job fails to start (\"Unexpected value\")")
        check(job.cancelTimeoutMinutes, settings)
        checkNumber(
            job.cancelTimeoutMinutes, "'cancel-timeout-minutes' of job '\(job.id.value)'", consequence: "the job fails to start (\"Unexpected value\")")
        check(job.continueOnError, settings)
        check(job.concurrency, settings)
        if let strategy = job.strategy { visit(strategy) }
        if let container = job.container { visit(container) }
        check(job.servicesExpression, settings)
        for service in job.services { visit(service.container) }
        for entry in job.with { check(entry.value, settings) }
        if case .mapping(let secrets)? = job.secrets {
            for entry in secrets { check(entry.value, ContextAvailability.jobEnv) }
        }
        var index = 0
        job.forEachFlattenedStep { step in
            place.step = index
            visit(step)
            index += 1
        }
        place.step = nil
    }

    private mutating func visit(_ strategy: Strategy) {
        let options = ContextAvailability.jobStrategy
        check(strategy.expression, options)
        check(strategy.failFast, options)
        check(strategy.maxParallel, options)
        switch strategy.matrix {
        case .expression(let text)?: check(text, options)
        case .literal(let definition)?:
            for axis in definition.axes {
                switch axis.values {
                case .expression(let text): check(text, options)
                case .literal(let values): values.forEach { check($0, options) }
                }
            }
            for rows in [definition.include, definition.exclude] {
                switch rows {
                case .expression(let text)?: check(text, options)
                case .literal(let values)?: values.forEach { check($0, options) }
                case nil: break
                }
            }
        case nil: break
        }
    }

    private mutating func visit(_ container: Container) {
        let settings = ContextAvailability.jobSettings
        check(container.image, settings)
        check(container.options, settings)
        check(container.command, settings)
        check(container.entrypoint, settings)
        container.ports.forEach { check($0, settings) }
        container.volumes.forEach { check($0, settings) }
        check(container.env, ContextAvailability.containerEnv)
        if let credentials = container.credentials {
            let options = ContextAvailability.containerCredentials
            check(credentials.username, options)
            check(credentials.password, options)
            check(credentials.expression, options)
        }
    }

    private mutating func visit(_ step: Step) {
        let options = ContextAvailability.step
        check(step.condition, ContextAvailability.stepIf, isCondition: true)
        check(step.name, options)
        check(step.run, options)
        check(step.workingDirectory, options)
        check(step.env, options)
        check(step.continueOnError, options)
        check(step.timeoutMinutes, options)
        checkNumber(
            step.timeoutMinutes, "'timeout-minutes' of this step", consequence: "GitHub ignores it with a warning",
            severity: .warning)
        for entry in step.with { check(entry.value, options) }
        check(step.withExpression, options)
    }

    // MARK: Value shapes

    private mutating func check(_ env: Environment?, _ options: ParseOptions) {
        switch env {
        case .expression(let text)?: check(text, options)
        case .mapping(let entries)?: entries.forEach { check($0.value, options) }
        case nil: break
        }
    }

    private mutating func check(_ concurrency: Concurrency?, _ options: ParseOptions) {
        guard let concurrency else { return }
        check(concurrency.group, options)
        check(concurrency.cancelInProgress, options)
        check(concurrency.queue, options)
    }

    private mutating func check(_ value: Located<BoolOrExpression>?, _ options: ParseOptions) {
        if let value, case .expression(let text) = value.value { check(Located(text, at: value.location), options) }
    }

    private mutating func check(_ value: Located<NumberOrExpression>?, _ options: ParseOptions) {
        if let value, case .expression(let text) = value.value { check(Located(text, at: value.location), options) }
    }

    private mutating func check(_ node: ValueNode?, _ options: ParseOptions) {
        guard let node else { return }
        switch node.kind {
        case .string(let text): check(Located(text, at: node.location), options)
        case .sequence(let items): items.forEach { check($0, options) }
        case .mapping(let entries): entries.forEach { check($0.value, options) }
        default: break
        }
    }

    /// A number-valued key given an expression whose value is certainly not a number: GitHub does not
    /// convert strings here (actions/runner#2599: `timeout-minutes: ${{ vars.TIMEOUT }}` stops the
    /// job with "Unexpected value '10'"; `fromJSON()` is the way).
    private mutating func checkNumber(
        _ value: Located<NumberOrExpression>?, _ what: @autoclosure () -> String, consequence: String, severity: Diagnostic.Severity = .error
    ) {
        guard let value, case .expression(let text) = value.value, let template = try? ExpressionTemplate.parse(text) else { return }
        let shape: ValueShape
        if let single = template.singleExpression {
            guard let syntax = try? ExpressionParser.parse(single.text, options: .permissive) else { return }
            prepareScopes()
            shape = scopes!.shapes.shape(of: syntax)
        } else {
            shape = .string
        }
        guard shape != .number, shape != .any else { return }
        let why = template.singleExpression == nil ? "text around '${{ }}' makes the value a string" : "'\(text)' is always \(shape.described)"
        diagnostics.append(
            Diagnostic(
                severity, "\(what()) must be a number, and \(why): \(consequence); fromJSON() turns a string into a number",
                at: value.location, rule: "expression-type"))
    }

    // MARK: One string

    /// Checks a value that may hold `${{ }}`; for a condition, a value without `${{ }}` is itself an
    /// expression.
    private mutating func check(_ value: Located<String>?, _ options: ParseOptions, isCondition: Bool = false) {
        guard let value else { return }
        let text = value.value
        guard ExpressionTemplate.containsExpression(text) else {
            if isCondition { parse(text, offset: 0, in: value, options: options) }
            return
        }
        let template: ExpressionTemplate
        do {
            template = try ExpressionTemplate.parse(text)
        } catch {
            report(error.message, offset: error.offset, in: value)
            return
        }
        for segment in template.segments {
            if case .expression(let expr, let offset) = segment {
                parse(expr, offset: offset, in: value, options: options)
            }
        }
        if isCondition, template.singleExpression == nil {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "this condition mixes '${{ }}' with other text, so it is a string and always true; "
                        + "put the whole condition inside one '${{ }}'",
                    at: value.location, rule: "expression"))
        }
    }

    private mutating func parse(_ expression: String, offset: Int, in value: Located<String>, options: ParseOptions) {
        do {
            // An empty expression parses to nothing.
            guard let syntax = try ExpressionParser.parse(expression, options: options) else { return }
            prepareScopes()
            // Called on the stored scope and shapes (a closure such as `syntax.map(scope.problems)`
            // would copy them, retaining every set in them, for each expression).
            for problem in scopes!.current.problems(in: syntax) {
                report(problem.message, offset: offset + problem.offset, in: value, rule: "reference")
            }
            for problem in scopes!.shapes.problems(in: syntax) {
                report(problem.message, offset: offset + problem.offset, in: value, rule: "expression-type")
            }
        } catch {
            var message = error.message
            if let first = message.first { message = first.lowercased() + message.dropFirst() }
            if message.hasPrefix("unrecognized named-value"), let contexts = options.contexts {
                message += "; available here: " + contexts.sorted().map { "'\($0)'" }.joined(separator: ", ")
            } else if message.hasPrefix("unrecognized function") {
                let names = (FunctionSignature.builtIn.values.map(\.name) + options.functions.values.map(\.name)).sorted()
                message += "; available here: " + names.map { "'\($0)'" }.joined(separator: ", ")
            }
            report(message, offset: offset + (error.position ?? 0), in: value)
        }
    }

    private mutating func report(
        _ message: String, offset: Int, in value: Located<String>, severity: Diagnostic.Severity = .error, rule: String = "expression"
    ) {
        if map == nil { map = SourceMap(bytes) }
        let map = map!
        let (start, style) = map.valueStart(line: value.location.line, column: value.location.column)
        let index = map.locate(value: value.value, offset: offset, from: start, style: style)
        let (line, column) = map.position(of: index)
        diagnostics.append(Diagnostic(severity, message, at: SourceLocation(file: file, line: line, column: column), rule: rule))
    }

    // MARK: Scopes, built where an expression needs them

    private mutating func prepareScopes() {
        if scopes == nil { scopes = Scopes(workflow) }
        if scopes!.place != place { scopes!.move(to: place, in: workflow) }
    }

    /// A place in the walk: the workflow's own keys, a job's keys, its outputs (which may name any of
    /// its steps), or one of its steps (an index into `forEachFlattenedStep`).
    private struct Place: Equatable {
        var job: Int?
        var step: Int?
        var allSteps = false
    }

    /// The reference scope at one place and the contexts' shapes.
    ///
    /// Nearly every value holds no expression, so none of this is made for them: a workflow without
    /// `${{ }}` or conditions builds nothing, and a job's needs, matrix keys and step ids are gathered
    /// only when one of its values holds an expression.
    private struct Scopes {
        let workflow: ReferenceScope
        let shapes: ContextShapes
        /// Each job's declared outputs (nil for a reusable-workflow call), by lowercased id.
        let outputsByJob: [String: Set<String>?]
        /// The scope at `place`.
        private(set) var current: ReferenceScope
        private(set) var place = Place()
        /// The job `current` was built for, its steps' lowercased ids in walk order (nil where a step
        /// has none), and the ids of its first `earlierCount` steps.
        private var job: Int?
        private var stepIDs: [String?]?
        private var earlier = Set<String>()
        private var earlierCount = 0

        init(_ workflow: Workflow) {
            self.workflow = ReferenceScope.workflow(workflow)
            shapes = ContextShapes.workflow(workflow)
            outputsByJob = Dictionary(
                workflow.jobs.map { (Workflow.foldedID($0.id.value), ReferenceScope.outputs(of: $0)) }, uniquingKeysWith: { a, _ in a })
            current = self.workflow
        }

        mutating func move(to place: Place, in workflow: Workflow) {
            self.place = place
            guard let index = place.job else {
                current = self.workflow
                job = nil
                return
            }
            let job = workflow.jobs[index]
            if self.job != index {
                self.job = index
                current = self.workflow
                current.jobs = nil
                current.needs = Dictionary(
                    job.needs.map { need in
                        let id = Workflow.foldedID(need.value)
                        return (id, outputsByJob[id] ?? nil)
                    }, uniquingKeysWith: { a, _ in a })
                current.matrix = ReferenceScope.matrixKeys(job)
                stepIDs = nil
                earlier = []
                earlierCount = 0
            }
            current.allSteps = place.allSteps
            guard place.allSteps || place.step != nil else {
                current.steps = nil
                return
            }
            if stepIDs == nil {
                var ids: [String?] = []
                job.forEachFlattenedStep { ids.append($0.id.map { Workflow.foldedID($0.value) }) }
                stepIDs = ids
            }
            let ids = stepIDs!
            // The walk goes forward: the ids before this step are those before the last one and the
            // ones since.
            let end = place.allSteps ? ids.count : min(place.step!, ids.count)
            if end < earlierCount {
                earlier = []
                earlierCount = 0
            }
            for id in ids[earlierCount..<end] {
                if let id { earlier.insert(id) }
            }
            earlierCount = end
            current.steps = earlier
        }
    }
}
