/// What GitHub accepts under `on:` for each event: its configuration keys and activity types.
///
/// Source: `actions/languageservices` `workflow-parser/src/workflow-v1.0.json` (`on-mapping-strict` and
/// the `*-activity-type` lists), as of 2026-12-05, with what GitHub added after the version read:
/// `field_added`/`field_removed` for `issues` (languageservices #351, 2026-04-14; the reader fixture
/// `testdata/reader/events-mapping-all.yml` lists them), `stacked` for `pull_request` and
/// `pull_request_target` (languageservices #384, 2026-07-30), and `typed`/`untyped` for `issues`
/// (GitHub's "Events that trigger workflows" page lists them; the schema has not caught up). A type
/// GitHub adds later is reported as unknown until this table has it: keep its source beside it.
struct EventSpec: Sendable {
    /// Keys the event's mapping allows; empty when the event takes no configuration (null only).
    var keys: [String]
    /// Allowed activity types; nil when any string is allowed.
    var types: [String]?

    static let pullRequestTypes = [
        "assigned", "unassigned", "labeled", "unlabeled", "opened", "edited", "closed", "reopened",
        "synchronize", "converted_to_draft", "locked", "unlocked", "enqueued", "dequeued", "milestoned",
        "demilestoned", "ready_for_review", "review_requested", "review_request_removed",
        "auto_merge_enabled", "auto_merge_disabled", "stacked",
    ]
    static let createdEditedDeleted = ["created", "edited", "deleted"]
    static let pullRequestKeys = ["types", "branches", "branches-ignore", "paths", "paths-ignore"]

    static let all: [String: EventSpec] = [
        "branch_protection_rule": EventSpec(keys: ["types"], types: createdEditedDeleted),
        "check_run": EventSpec(keys: ["types"], types: ["completed", "created", "rerequested", "requested_action"]),
        "check_suite": EventSpec(keys: ["types"], types: ["completed"]),
        "create": EventSpec(keys: [], types: []),
        "delete": EventSpec(keys: [], types: []),
        "deployment": EventSpec(keys: [], types: []),
        "deployment_status": EventSpec(keys: [], types: []),
        "discussion": EventSpec(
            keys: ["types"],
            types: [
                "created", "edited", "deleted", "transferred", "pinned", "unpinned", "labeled", "unlabeled",
                "locked", "unlocked", "category_changed", "answered", "unanswered",
            ]),
        "discussion_comment": EventSpec(keys: ["types"], types: createdEditedDeleted),
        "fork": EventSpec(keys: [], types: []),
        "gollum": EventSpec(keys: [], types: []),
        "image_version": EventSpec(keys: ["types", "names", "versions"], types: ["created", "ready", "deleted"]),
        "issue_comment": EventSpec(keys: ["types"], types: createdEditedDeleted),
        "issues": EventSpec(
            keys: ["types"],
            types: [
                "opened", "edited", "deleted", "transferred", "pinned", "unpinned", "closed", "reopened",
                "assigned", "unassigned", "labeled", "unlabeled", "locked", "unlocked", "milestoned",
                "demilestoned", "typed", "untyped", "field_added", "field_removed",
            ]),
        "label": EventSpec(keys: ["types"], types: createdEditedDeleted),
        "merge_group": EventSpec(keys: ["types", "branches", "branches-ignore"], types: ["checks_requested"]),
        "milestone": EventSpec(keys: ["types"], types: ["created", "closed", "opened", "edited", "deleted"]),
        "page_build": EventSpec(keys: [], types: []),
        "project": EventSpec(keys: ["types"], types: ["created", "closed", "reopened", "edited", "deleted"]),
        "project_card": EventSpec(keys: ["types"], types: ["created", "moved", "converted", "edited", "deleted"]),
        "project_column": EventSpec(keys: ["types"], types: ["created", "updated", "moved", "deleted"]),
        "public": EventSpec(keys: [], types: []),
        "pull_request": EventSpec(keys: pullRequestKeys, types: pullRequestTypes),
        "pull_request_comment": EventSpec(keys: ["types"], types: createdEditedDeleted),
        "pull_request_review": EventSpec(keys: ["types"], types: ["submitted", "edited", "dismissed"]),
        "pull_request_review_comment": EventSpec(keys: ["types"], types: createdEditedDeleted),
        "pull_request_target": EventSpec(keys: pullRequestKeys, types: pullRequestTypes),
        "push": EventSpec(keys: ["branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"], types: []),
        "registry_package": EventSpec(keys: ["types"], types: ["published", "updated"]),
        "release": EventSpec(
            keys: ["types"],
            types: ["published", "unpublished", "created", "edited", "deleted", "prereleased", "released"]),
        "repository_dispatch": EventSpec(keys: ["types"], types: nil),
        "schedule": EventSpec(keys: [], types: []),
        "status": EventSpec(keys: [], types: []),
        "watch": EventSpec(keys: ["types"], types: ["started"]),
        "workflow_call": EventSpec(keys: ["inputs", "outputs", "secrets"], types: []),
        "workflow_dispatch": EventSpec(keys: ["inputs"], types: []),
        "workflow_run": EventSpec(
            keys: ["types", "workflows", "branches", "branches-ignore"],
            types: ["requested", "completed", "in_progress"]),
    ]

    static let names: [String] = all.keys.sorted()
}
