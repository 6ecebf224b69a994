import WebhookReading
public import WorkflowExecution
import WorkflowPlanning

/// The API's JSON for runs and their jobs.
enum RunJSON {
    static func q(_ text: String) -> String { ServiceLogHandler.quote(text) }

    static func status(_ run: StoredRunRecord) -> String {
        guard run.finished != nil else { return "in_progress" }
        return run.success == true ? "success" : "failure"
    }

    /// An instance's status as the API and the page show it: its result, or running, queued (for a
    /// runner) or waiting (for what it needs, its groups or its matrix).
    static func status(of id: InstanceID, in machine: RunStateMachine) -> String {
        switch machine.phase(of: id) {
        case .done(let result)?: result.rawValue
        case .running?: "running"
        case .enqueued?: "queued"
        default: "waiting"
        }
    }

    static func summary(_ run: StoredRunRecord, machine: RunStateMachine?) -> String {
        let record = run.record
        var fields = [
            "\"id\":\(q(run.id.value))", "\"repository\":\(q(record.intake.repository))", "\"workflow\":\(q(record.workflow))",
            "\"name\":\(q(record.workflowName))", "\"number\":\(record.runNumber)", "\"event\":\(q(record.intake.event))",
            "\"ref\":\(record.intake.ref.map(q) ?? "null")", "\"sha\":\(q(record.sha))", "\"status\":\(q(status(run)))",
            "\"created\":\(run.created)", "\"finished\":\(run.finished.map { "\($0)" } ?? "null")",
        ]
        if let delivery = record.intake.delivery { fields.append("\"delivery\":\(q(delivery))") }
        fields.append("\"attempt\":\(record.attempt ?? 1)")
        if let first = record.firstRun { fields.append("\"first_run\":\(q(first.value))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A run with each job's status; a queued job says what it waits for (`worker`: this node).
    static func detail(_ run: StoredRunRecord, machine: RunStateMachine?, worker: WorkerIdentity) -> String {
        var jobs: [String] = []
        if let machine {
            for id in machine.order {
                let row = machine.row(of: id)
                let phase = status(of: id, in: machine)
                var fields = [
                    "\"id\":\(q(row?.instance.id ?? id.job.id))", "\"job\":\(q(id.job.id))", "\"status\":\(q(phase))",
                    "\"runs_on\":[\((row?.instance.runsOn ?? []).map(q).joined(separator: ","))]",
                ]
                if phase == "queued", let runsOn = row?.instance.runsOn {
                    let labels = runsOn.map { $0.lowercased() }.sorted().joined(separator: ", ")
                    let reason = worker.accepts(runsOn) ? "a free runner" : "a runner with the labels [\(labels)] (this one has [\((worker.labels ?? []).joined(separator: ", "))])"
                    fields.append("\"waiting_for\":\(q(reason))")
                }
                if let outcome = machine.outcome(of: id) {
                    fields.append("\"outputs\":{\(outcome.outputs.map { "\(q($0.name)):\(q($0.value))" }.joined(separator: ","))}")
                    fields.append("\"summary\":\(q(outcome.summary))")
                    fields.append("\"annotations\":[\(outcome.annotations.map(annotation).joined(separator: ","))]")
                    let steps = outcome.steps.map { step in
                        "{\"name\":\(q(step.name)),\"outcome\":\(q(step.outcome.rawValue)),\"conclusion\":\(q(step.conclusion.rawValue)),\"seconds\":\(step.seconds)}"
                    }
                    fields.append("\"steps\":[\(steps.joined(separator: ","))]")
                }
                jobs.append("{" + fields.joined(separator: ",") + "}")
            }
        }
        let summary = summary(run, machine: machine)
        return String(summary.dropLast()) + ",\"jobs\":[\(jobs.joined(separator: ","))]}"
    }

    static func annotation(_ a: Annotation) -> String {
        var fields = ["\"level\":\(q(a.level.rawValue))", "\"message\":\(q(a.message))"]
        if let title = a.title { fields.append("\"title\":\(q(title))") }
        if let file = a.file { fields.append("\"file\":\(q(file))") }
        if let line = a.line { fields.append("\"line\":\(line)") }
        if let column = a.column { fields.append("\"column\":\(column)") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
