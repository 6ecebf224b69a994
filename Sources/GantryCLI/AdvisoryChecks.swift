import WorkflowModel

/// Advisory warnings of `validate` (off with `--no-warnings`), each with its own rule, from a dated
/// table: what GitHub no longer runs, or runs with a deprecation warning.
///
/// They run on every step of every workflow, so they compare bytes: no lower-cased copies, no
/// `Character`-wise search (`String.contains(String)` walks grapheme clusters and was a tenth of a
/// 259-file validate; `containsUTF8` compares bytes), no list of a job's steps.
enum AdvisoryChecks {
    /// Hosted runner images GitHub retired (actions/runner-images, as of 2026-12): a job on them waits
    /// for a runner that never comes.
    static let retiredLabels: [(label: String, retired: String)] = [
        ("ubuntu-18.04", "2023-04"), ("ubuntu-20.04", "2025-04"), ("macos-10.15", "2022-12"), ("macos-11", "2024-06"),
        ("macos-12", "2024-12"), ("macos-13", "2025-12"), ("windows-2016", "2022-03"), ("windows-2019", "2025-06"),
    ]

    /// Majors of GitHub's own actions whose runtime GitHub no longer runs (node12 since 2023, node16
    /// since 2024, GitHub blog "Transitioning from Node 16 to Node 20"), and the artifact actions v3
    /// shut down on 2025-01-30. Every name starts with `actions/`.
    static let retiredActions: [(name: String, majors: [String], why: String)] = [
        ("actions/checkout", ["v1", "v2", "v3"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/setup-node", ["v1", "v2", "v3"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/setup-python", ["v1", "v2", "v3", "v4"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/setup-java", ["v1", "v2", "v3"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/setup-go", ["v1", "v2", "v3"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/cache", ["v1", "v2", "v3"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/github-script", ["v1", "v2", "v3", "v4", "v5", "v6"], "runs on node12 or node16, which GitHub no longer runs"),
        ("actions/upload-artifact", ["v1", "v2", "v3"], "was shut down by GitHub on 2025-01-30"),
        ("actions/download-artifact", ["v1", "v2", "v3"], "was shut down by GitHub on 2025-01-30"),
    ]

    /// The workflow commands GitHub deprecated, the text that starts them in a script, and the file
    /// that replaces each.
    static let deprecatedCommands: [(command: String, marker: String, file: String)] = [
        ("set-output", "::set-output ", "GITHUB_OUTPUT"), ("save-state", "::save-state ", "GITHUB_STATE"),
    ]

    static func diagnostics(_ workflow: Workflow) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for job in workflow.jobs {
            for label in job.runsOn?.labels ?? [] {
                let length = label.value.utf8.count
                if let entry = retiredLabels.first(where: { $0.label.utf8.count == length && Workflow.sameID($0.label, label.value) }) {
                    out.append(Diagnostic(
                        .warning, "runner label '\(label.value)' names a hosted image GitHub retired in \(entry.retired); the job would wait for a runner that never comes",
                        at: label.location, rule: "runner-label"))
                }
            }
            job.forEachFlattenedStep { check($0, into: &out) }
        }
        return out
    }

    private static func check(_ step: Step, into out: inout [Diagnostic]) {
        if let uses = step.uses, let retired = retiredAction(uses.value) {
            out.append(Diagnostic(.warning, "'\(uses.value)' \(retired); use a newer major version", at: uses.location, rule: "action-runtime"))
        }
        if let run = step.run {
            for entry in deprecatedCommands where run.value.containsUTF8(entry.marker) {
                out.append(Diagnostic(
                    .warning, "the `\(entry.command)` workflow command is deprecated; write to $\(entry.file) instead", at: run.location,
                    rule: "deprecated-command"))
            }
        }
    }

    /// Why `OWNER/REPO[/PATH]@REF` names a retired major of one of GitHub's actions, or nil. The major
    /// is the ref up to its first `.` (`v3.1.0` is `v3`).
    static func retiredAction(_ uses: String) -> String? {
        // Offsets into the UTF-8 bytes, not String indices and slices: those made the runtime build
        // generic types on first use, a quarter of these checks.
        var text = uses
        let parts: (name: String, major: String)? = text.withUTF8 { bytes in
            guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return nil }
            // OWNER/REPO: the path up to its second slash.
            var end = at
            var slashes = 0
            for index in 0..<at where bytes[index] == UInt8(ascii: "/") {
                slashes += 1
                if slashes == 2 { end = index; break }
            }
            var majorEnd = at + 1
            while majorEnd < bytes.count, bytes[majorEnd] != UInt8(ascii: ".") { majorEnd += 1 }
            return (
                String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: bytes[(at + 1)..<majorEnd]), as: UTF8.self)
            )
        }
        guard let parts, let entry = retiredActions.first(where: { $0.name.utf8.count == parts.name.utf8.count && Workflow.sameID($0.name, parts.name) })
        else { return nil }
        return entry.majors.contains(parts.major) ? entry.why : nil
    }

}
