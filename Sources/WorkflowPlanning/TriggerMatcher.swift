public import WorkflowModel

/// Decides whether a workflow takes part in an event, with GitHub's filter rules.
public enum TriggerMatcher {
    /// The decision and, when the workflow does not run, why.
    public struct Decision: Sendable, Equatable {
        public var runs: Bool
        public var reason: String

        static func yes(_ reason: String = "") -> Decision { Decision(runs: true, reason: reason) }
        static func no(_ reason: String) -> Decision { Decision(runs: false, reason: reason) }
    }

    /// The default activity types of `pull_request` and `pull_request_target`.
    static let defaultPullRequestTypes = ["opened", "synchronize", "reopened"]

    public static func decide(_ workflow: Workflow, for event: PlanEvent) -> Decision {
        guard let trigger = workflow.trigger(event.name) else {
            let events = workflow.triggers.map(\.event.value).joined(separator: ", ")
            return .no("not triggered by '\(event.name)' (on: \(events.isEmpty ? "nothing" : events))")
        }
        // Activity types.
        var types = trigger.types?.map(\.value)
        if types == nil, event.name == "pull_request" || event.name == "pull_request_target" {
            types = defaultPullRequestTypes
        }
        if let types, let action = event.action, !types.contains(action) {
            return .no("activity type '\(action)' is not in types [\(types.joined(separator: ", "))]")
        }
        switch event.name {
        case "push":
            return push(trigger, event)
        case "pull_request", "pull_request_target":
            if let decision = refFilter(trigger.branches, trigger.branchesIgnore, value: event.baseRef, what: "base branch"), !decision.runs {
                return decision
            }
            return pathFilter(trigger, event)
        case "workflow_run":
            // Filters apply to the run that finished: its workflow name and head branch.
            let run = PlanEvent.lookup(event.payload, "workflow_run")
            if let workflows = trigger.workflows, let name = PlanEvent.string(run, "name"),
                !workflows.contains(where: { $0.value == name })
            {
                return .no("workflow '\(name)' is not in workflows [\(workflows.map(\.value).joined(separator: ", "))]")
            }
            let branch = PlanEvent.string(run, "head_branch") ?? event.refName
            if let decision = refFilter(trigger.branches, trigger.branchesIgnore, value: branch, what: "head branch"), !decision.runs {
                return decision
            }
            return .yes()
        case "merge_group":
            let base = PlanEvent.string(event.payload, "merge_group", "base_ref").map { ref -> String in
                ref.hasPrefix("refs/heads/") ? String(ref.dropFirst(11)) : ref
            } ?? event.refName
            if let decision = refFilter(trigger.branches, trigger.branchesIgnore, value: base, what: "base branch"), !decision.runs {
                return decision
            }
            return .yes()
        default:
            return .yes()
        }
    }

    private static func push(_ trigger: Trigger, _ event: PlanEvent) -> Decision {
        let isTag = event.ref?.hasPrefix("refs/tags/") ?? false
        let hasBranchFilter = trigger.branches != nil || trigger.branchesIgnore != nil
        let hasTagFilter = trigger.tags != nil || trigger.tagsIgnore != nil
        guard let name = event.refName else {
            if hasBranchFilter || hasTagFilter {
                return .no("HEAD is detached and no tag points at it, so branch and tag filters cannot match")
            }
            return pathFilter(trigger, event)
        }
        if isTag {
            if hasBranchFilter && !hasTagFilter { return .no("tag '\(name)' pushed, but only branch filters are set") }
            if let decision = refFilter(trigger.tags, trigger.tagsIgnore, value: name, what: "tag"), !decision.runs {
                return decision
            }
            // Path filters are not evaluated for tag pushes.
            return .yes()
        }
        if hasTagFilter && !hasBranchFilter { return .no("branch '\(name)' pushed, but only tag filters are set") }
        if let decision = refFilter(trigger.branches, trigger.branchesIgnore, value: name, what: "branch"), !decision.runs {
            return decision
        }
        return pathFilter(trigger, event)
    }

    /// `branches`/`branches-ignore` (or tags); nil when neither is set.
    static func refFilter(_ include: [Located<String>]?, _ ignore: [Located<String>]?, value: String?, what: String) -> Decision? {
        if let include {
            guard let value else { return .no("no \(what) to match against \(include.map(\.value))") }
            if !FilterList(include.map(\.value)).includes(value) {
                return .no("\(what) '\(value)' does not match [\(include.map(\.value).joined(separator: ", "))]")
            }
            return .yes()
        }
        if let ignore {
            guard let value else { return .yes() }
            if FilterList(ignore.map(\.value)).includes(value) {
                return .no("\(what) '\(value)' is ignored by [\(ignore.map(\.value).joined(separator: ", "))]")
            }
            return .yes()
        }
        return nil
    }

    /// `paths`: at least one changed path included; `paths-ignore`: at least one changed path not ignored.
    static func pathFilter(_ trigger: Trigger, _ event: PlanEvent) -> Decision {
        if let paths = trigger.paths {
            let list = FilterList(paths.map(\.value))
            if !event.changedPaths.contains(where: list.includes) {
                return .no("no changed path matches paths [\(paths.map(\.value).joined(separator: ", "))] (changed: \(summary(event.changedPaths)))")
            }
        } else if let ignore = trigger.pathsIgnore {
            let list = FilterList(ignore.map(\.value))
            if !event.changedPaths.isEmpty, event.changedPaths.allSatisfy(list.includes) {
                return .no("every changed path is ignored by paths-ignore [\(ignore.map(\.value).joined(separator: ", "))]")
            }
        }
        return .yes()
    }

    /// Filter patterns GitHub would reject (e.g. `[]`, a range outside a-z, A-Z, 0-9, a trailing `\`);
    /// such a pattern never matches, so the workflow would silently not run.
    public static func invalidPatterns(_ workflow: Workflow) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for trigger in workflow.triggers {
            let lists: [(String, [Located<String>]?)] = [
                ("branches", trigger.branches), ("branches-ignore", trigger.branchesIgnore), ("tags", trigger.tags),
                ("tags-ignore", trigger.tagsIgnore), ("paths", trigger.paths), ("paths-ignore", trigger.pathsIgnore),
            ]
            for (key, patterns) in lists {
                for pattern in patterns ?? [] {
                    if let problem = FilterPattern(pattern.value).problem {
                        out.append(
                            Diagnostic(.error, "invalid filter pattern '\(pattern.value)' in '\(key)' of event '\(trigger.event.value)': \(problem)", at: pattern.location, rule: "events"))
                    }
                }
            }
        }
        return out
    }

    private static func summary(_ paths: [String]) -> String {
        if paths.isEmpty { return "none" }
        let shown = paths.prefix(5).joined(separator: ", ")
        return paths.count > 5 ? shown + ", … \(paths.count - 5) more" : shown
    }
}
