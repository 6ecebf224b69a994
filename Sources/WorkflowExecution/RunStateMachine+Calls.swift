public import WorkflowExpressions

/// Jobs that call reusable workflows: a call starts when its `if` holds and its `with:` gives the
/// called workflow's inputs; the called workflow's jobs then run as the run's own (their `github` is
/// the caller's, `inputs` the call's); the call ends when they all have, with their combined result
/// and `on.workflow_call.outputs` evaluated over their `jobs` context.
extension RunStateMachine {
    /// Why a call could not start.
    public struct CallFailure: Error, Sendable, Equatable {
        public var message: String
    }

    /// `github`, `inputs` and `vars` as a job's expressions see them: in a called workflow `inputs` are
    /// the call's.
    public func contexts(for key: JobKey) -> ExpressionObject {
        guard let parent = job(key)?.parent else { return definition.workflows[key.workflow].contexts }
        return callContexts(parent)
    }

    /// The calls a job is nested in, innermost first.
    func callChain(of key: JobKey) -> [InstanceID] {
        var chain: [InstanceID] = []
        var next = job(key)?.parent
        while let call = next {
            chain.append(call)
            next = job(call.job)?.parent
        }
        return chain
    }

    /// The calling instance of a job of a called workflow.
    public func parent(of key: JobKey) -> InstanceID? { job(key)?.parent }

    /// The instances of a call's workflow.
    func children(of call: InstanceID) -> [InstanceID] {
        let jobs = calledJobs[call] ?? []
        return order.filter { jobs.contains($0.job) }
    }

    /// The called workflow's `inputs` from the call's `with:` (evaluated with the caller's contexts,
    /// `needs`, `matrix` and `strategy`), typed by its declarations, defaults applied; a missing
    /// required input or one it does not declare stops the call, as on GitHub.
    func callInputs(_ call: RunDefinition.Call, for id: InstanceID) -> Result<ExpressionValue, CallFailure> {
        let contexts = JobDecisions.contexts(contexts(for: id.job), row: row(of: id), needs: needs(of: id.job))
        let evaluation = EvaluationContext(contexts: contexts)
        // `${{ insert }}: <mapping>` gives the mapping's inputs, already evaluated.
        var given: [(name: String, text: String?, value: ExpressionValue?)] = []
        for entry in call.with {
            guard ExpressionTemplate.isInsertDirective(entry.name) else {
                given.append((entry.name, entry.value, nil))
                continue
            }
            let value: ExpressionValue
            do {
                value = try JobDecisions.evaluate(entry.value, evaluation)
            } catch {
                return .failure(CallFailure(message: "'${{ insert }}' in the 'with' of a call to '\(call.uses)': \(error)"))
            }
            guard case .object(let object) = value else {
                return .failure(CallFailure(message: "'${{ insert }}' in the 'with' of a call to '\(call.uses)' expects a mapping, found \(value.kindName)"))
            }
            given += object.pairs.map { ($0.key, nil, $0.value) }
        }
        for entry in given where !call.inputs.contains(where: { $0.name.lowercased() == entry.name.lowercased() }) {
            return .failure(CallFailure(message: "Invalid input, \(entry.name) is not defined in the referenced workflow '\(call.uses)'"))
        }
        var values: [(String, ExpressionValue)] = []
        for input in call.inputs {
            let entry = given.last { $0.name.lowercased() == input.name.lowercased() }
            let value: ExpressionValue
            if let inserted = entry?.value {
                value = inserted
            } else if let text = entry?.text ?? input.defaultValue {
                do {
                    value = try JobDecisions.evaluate(text, evaluation, literal: .scalar)
                } catch {
                    return .failure(CallFailure(message: "input '\(input.name)': \(error)"))
                }
            } else {
                if input.required {
                    return .failure(CallFailure(message: "Input \(input.name) is required, but not provided while calling '\(call.uses)'"))
                }
                values.append((input.name, input.type == "boolean" ? .bool(false) : input.type == "number" ? .number(0) : .string("")))
                continue
            }
            switch input.type {
            case "boolean":
                switch value {
                case .bool: values.append((input.name, value))
                case .string(let s) where s == "true" || s == "false": values.append((input.name, .bool(s == "true")))
                default: return .failure(CallFailure(message: "Input \(input.name) of '\(call.uses)' is a boolean; got \(JSONText.compact(value))"))
                }
            case "number":
                let n = value.numberValue
                guard !n.isNaN else { return .failure(CallFailure(message: "Input \(input.name) of '\(call.uses)' is a number; got \(JSONText.compact(value))")) }
                values.append((input.name, .number(n)))
            default: values.append((input.name, .string(value.stringValue)))
            }
        }
        return .success(.object(values))
    }

    /// Ends a call whose workflow's jobs have all finished.
    mutating func endCallIfDone(_ call: InstanceID, _ actions: inout [Action]) {
        guard phase(of: call) == .calling else { return }
        let jobs = calledJobs[call] ?? []
        guard children(of: call).allSatisfy({ result(of: $0) != nil }) else { return }
        var rows: [JobDecisions.FinishedRow] = []
        var jobsContext: [(String, ExpressionValue)] = []
        for key in jobs {
            let finished = rowsFinished(of: key)
            rows += finished
            jobsContext.append((key.id, .object([
                ("result", .string(JobDecisions.result(of: finished).rawValue)),
                ("outputs", .object(JobDecisions.outputs(of: finished).map { ($0.name, .string($0.value)) })),
            ])))
        }
        let combined = JobDecisions.result(of: rows)
        // The called workflow's outputs see its own `inputs` and its jobs.
        let contexts = ExpressionObject(callContexts(call).pairs.map { ($0.key, $0.value) } + [("jobs", .object(jobsContext))])
        var outputs: [NamedValue] = []
        for output in job(call.job)?.call?.outputs ?? [] {
            let value = (try? JobDecisions.evaluate(output.value, EvaluationContext(contexts: contexts)))?.stringValue ?? ""
            if !value.isEmpty { outputs.append(NamedValue(output.name, value)) }
        }
        record(call, JobOutcome(result: combined, outputs: outputs))
        actions.append(.conclude(call, combined))
        finish(call, combined, &actions)
    }

    /// `github`, the call's own `inputs` and `vars`: what the called workflow's expressions see.
    func callContexts(_ call: InstanceID) -> ExpressionObject {
        let base = definition.workflows[call.job.workflow].contexts
        return ExpressionObject(base.pairs.map { ($0.key, $0.key == "inputs" ? (callInputs[call] ?? .object([])) : $0.value) })
    }
}
