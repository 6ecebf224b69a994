extension RunStateMachine {
    /// A re-run of failed jobs keeps what succeeded in the attempt before: such an instance (not a call:
    /// a call runs again and its jobs decide) is concluded at once with its outcome, whose outputs reach
    /// the jobs that need it. True when it was kept.
    mutating func keep(_ id: InstanceID, _ actions: inout [Action]) -> Bool {
        guard job(id.job)?.call == nil, let kept = definition.reused?.first(where: { $0.job == id.job && $0.row == id.row }) else {
            return false
        }
        outcomes[id] = kept.outcome
        conclude(id, .success, note: "succeeded in attempt \(kept.attempt); not run again", &actions)
        return true
    }
}
