import Synchronization
import WorkflowExpressions
import WorkflowModel
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// Background steps, `wait`, `wait-all`, `cancel` and `parallel` groups, as GitHub's runner runs them
/// (actions/runner PRs #4416, #4476, #4479, #4482; docs: workflow syntax, `jobs.<job_id>.steps[*].background`):
/// - a background step starts and the job goes on at once; at most 10 run at once, the rest queue;
/// - its outputs, env, `PATH` additions, outcome and conclusion reach the job only when a `wait`,
///   `wait-all` or `cancel` names it (until then `steps.<id>` is unset and `failure()` does not see it);
/// - a `wait` fails when a step it waits for failed; a `cancel` interrupts its step (SIGINT, SIGTERM
///   after 7.5 s, SIGKILL) and succeeds, and a step it cancelled leaves the job's result alone;
/// - before post steps an implicit wait-all waits (it does not cancel) for every step not waited for,
///   and every background step's failure fails the job, even one a `wait` with `continue-on-error` took.
extension JobRunner {
    /// How long a `cancel` step waits for its step to end before it marks the step cancelled and goes on.
    static let cancelGrace = 7.5

    /// Starts a background step whose `if` held: it runs on its own thread once a slot is free.
    func launchBackground(
        _ step: Step, name: String, evaluation: EvaluationContext, frame: Frame, state: JobState, continueOnError: Bool
    ) {
        let number = background.all.count + 1
        let scratch = temp + "/background-\(number)"
        Files.makeDirectory(scratch)
        // A job container may run as another user: it writes the step's file-command files here.
        if containers?.jobContainer != nil { chmod(scratch, 0o777) }
        let entry = BackgroundStep(id: step.id?.value, name: name, step: step, postsAt: state.posts.count)
        // Its lines are labelled with its name when it has one, else with its id.
        let label = step.name == nil ? step.id?.value ?? name : name
        let copy = Handoff(state.backgroundCopy(slot: entry.slot, scratch: scratch, label: state.masker.mask(label)))
        background.launch(entry) { [self] in
            guard entry.begin() else { return }
            let state = copy.value
            state.output.event(.stepStarted(job: instance.id, step: state.masker.mask(name)))
            let started = HostProcess.now()
            // Its `if` was evaluated when the job reached it; the job's cancellation stops it regardless.
            var result = runStep(step, name: name, evaluation: evaluation, frame: frame, state: state, survivesCancel: false)
            if result.outcome == .failure && continueOnError { result.conclusion = .success }
            state.output.event(.stepFinished(
                job: instance.id, step: state.masker.mask(name), outcome: result.outcome, conclusion: result.conclusion,
                seconds: HostProcess.now() - started))
            entry.finish(result, state: state)
        }
    }

    /// Runs a `wait`, `wait-all` or `cancel` step. Control steps have no `if`: they always run.
    func runControl(
        _ step: Step, _ control: StepControl, evaluation: EvaluationContext, state: JobState, steps: inout [(String, ExpressionValue)]
    ) {
        let defaultName: String
        switch control {
        case .wait: defaultName = "Wait"
        case .waitAll: defaultName = "Wait for all"
        case .cancel: defaultName = "Cancel"
        }
        let name = step.name.flatMap { try? evaluate($0.value, evaluation).stringValue } ?? defaultName
        let continueOnError = evaluateBool(step.continueOnError, evaluation) ?? false
        controlStep(name, state: state) {
            switch control {
            case .wait(let ids):
                let targets = ids.compactMap { background.named($0.value) }
                return wait(for: targets, all: false, state: state, steps: &steps, continueOnError: continueOnError)
            case .waitAll:
                return wait(for: background.all.filter { $0.takenConclusion == nil }, all: true, state: state, steps: &steps, continueOnError: continueOnError)
            case .cancel(let id):
                guard let target = background.named(id.value) else {
                    state.say("No background step '\(id.value)' to cancel.")
                    return (.success, .success)
                }
                return cancel(target, state: state, steps: &steps)
            }
        }
    }

    /// The wait at the end of a `parallel` group, for the steps of the group that started.
    func waitForGroup(_ entries: [BackgroundStep], state: JobState, steps: inout [(String, ExpressionValue)]) {
        guard !entries.isEmpty else { return }
        controlStep("Wait for parallel steps", state: state) {
            wait(for: entries, all: false, state: state, steps: &steps, continueOnError: false)
        }
    }

    /// The implicit wait-all before post steps, then the job's result folds in every background step's.
    func finishBackgroundSteps(state: JobState, steps: inout [(String, ExpressionValue)]) {
        let left = background.all.filter { $0.takenConclusion == nil }
        if !left.isEmpty {
            controlStep("Wait for all background steps", state: state) {
                wait(for: left, all: true, state: state, steps: &steps, continueOnError: false)
            }
        }
        // A step a `cancel` gave up on is still ending (SIGTERM, then SIGKILL): nothing of the job is
        // removed before every background step's process has.
        for entry in background.all { _ = entry.outcome() }
        for entry in background.all {
            guard case .some(.some(let conclusion)) = entry.takenConclusion else { continue }
            if conclusion == .cancelled && entry.explicitlyCancelled.load(ordering: .sequentiallyConsistent) { continue }
            if conclusion == .failure { state.failed = true }
        }
    }

    /// A control step's events around `body`, which returns its outcome and conclusion.
    private func controlStep(_ name: String, state: JobState, _ body: () -> (JobResult, JobResult)) {
        state.output.event(.stepStarted(job: instance.id, step: state.masker.mask(name)))
        let started = HostProcess.now()
        let (outcome, conclusion) = body()
        if conclusion == .failure { state.failed = true }
        state.output.event(.stepFinished(
            job: instance.id, step: state.masker.mask(name), outcome: outcome, conclusion: conclusion, seconds: HostProcess.now() - started))
    }

    private func wait(
        for targets: [BackgroundStep], all: Bool, state: JobState, steps: inout [(String, ExpressionValue)], continueOnError: Bool
    ) -> (JobResult, JobResult) {
        let names = targets.map(\.name).joined(separator: ", ")
        if targets.isEmpty {
            state.say(all ? "No background steps remaining to wait for." : "No background steps to wait for.")
            return (.success, .success)
        }
        state.say("Waiting for \(all ? "all " : "")background step(s) to complete: \(names)")
        var merged: JobResult?
        for target in targets {
            // A step taken already (a `cancel` that gave up waiting) is not waited for again.
            let conclusion: JobResult?
            if case .some(let taken) = target.takenConclusion {
                conclusion = taken
            } else {
                conclusion = take(target, phase: target.outcome(), state: state, steps: &steps)
            }
            if let conclusion { merged = Self.merge(merged, conclusion) }
        }
        state.say("Finished waiting for \(all ? "all " : "")background step(s).")
        report(targets, state: state)
        let outcome = merged ?? .success
        return (outcome, outcome == .failure && continueOnError ? .success : outcome)
    }

    private func cancel(_ target: BackgroundStep, state: JobState, steps: inout [(String, ExpressionValue)]) -> (JobResult, JobResult) {
        state.say("Cancelling background step(s): \(target.name)")
        background.cancel(target)
        var phase = target.outcome(within: Self.cancelGrace)
        if phase == nil {
            state.say("'\(target.name)' did not end within \(Self.cancelGrace) seconds; it is marked cancelled")
            phase = .finished(StepResult(outcome: .cancelled, conclusion: .cancelled, outputs: [], env: [], summary: "", timedOutJob: false), Handoff(state))
        }
        _ = take(target, phase: phase, state: state, steps: &steps)
        state.say("Finished cancelling background step(s).")
        report([target], state: state)
        return (.success, .success)
    }

    /// Takes in a finished step's effects (once) and returns its conclusion; nil if it never started.
    private func take(_ target: BackgroundStep, phase: BackgroundStep.Phase?, state: JobState, steps: inout [(String, ExpressionValue)]) -> JobResult? {
        if case .some(let taken) = target.takenConclusion { return taken }
        guard case .finished(let result, let finished)? = phase else {
            _ = target.markTaken(nil)
            return nil
        }
        guard target.markTaken(result.conclusion) else { return target.takenConclusion ?? nil }
        let wasTimedOut = state.timedOut
        if finished.value !== state { state.absorb(finished.value, postsAt: target.postsAt) }
        state.summary += result.summary
        for (key, value) in result.env {
            state.env.removeAll { $0.0 == key }
            state.env.append((key, value))
        }
        record(target.step, outcome: result.outcome, conclusion: result.conclusion, outputs: result.outputs, into: &steps)
        state.stepsContext = steps
        if (result.timedOutJob || state.timedOut) && !wasTimedOut {
            state.say("error: the job exceeded its timeout of \(formatDuration(state.timeout ?? 0))")
            state.timedOut = true
            cancel()
        }
        return result.conclusion
    }

    private func report(_ targets: [BackgroundStep], state: JobState) {
        for target in targets {
            let result: String
            switch target.takenConclusion {
            case .some(.some(let conclusion)): result = conclusion.rawValue
            default: result = "not started"
            }
            state.say("  \(target.name): \(result)")
        }
    }

    /// The runner's TaskResultUtil.MergeTaskResults: a cancelled or skipped result stays; otherwise the
    /// worse of the two (success < failure < cancelled < skipped).
    static func merge(_ current: JobResult?, _ incoming: JobResult) -> JobResult {
        func rank(_ result: JobResult) -> Int {
            switch result {
            case .success: 0
            case .failure: 2
            case .cancelled: 3
            case .skipped: 4
            }
        }
        guard let current else { return incoming }
        if rank(current) > rank(.failure) { return current }
        return rank(incoming) >= rank(current) ? incoming : current
    }
}
