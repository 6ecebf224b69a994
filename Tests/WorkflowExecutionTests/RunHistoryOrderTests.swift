import Foundation
import Testing
import WorkflowExecution

/// Runs are ordered by the start their record gives: two started in one second have names that differ
/// only by pid, and a pid of fewer digits sorts after one of more.
@Suite struct RunHistoryOrderTests {
    @Test func runsStartedInOneSecondAreOrderedByTheirStartNotByPid() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-history-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let history = RunHistory(stateDirectory: state, repository: "/src/app")
        var first = RunHistory.Record(id: "", repository: "/src/app", event: "push", ref: nil, sha: nil, workflows: [], started: 100.1, keptWorkspace: false)
        var second = first
        second.started = 100.2
        let a = history.create(&first, now: first.started)
        let b = history.create(&second, now: second.started)
        // As if pid 957 came after pid 1096 in the same second: "…-957-1" sorts after "…-1096-1".
        let root = URL(fileURLWithPath: a).deletingLastPathComponent().path
        try FileManager.default.moveItem(atPath: a, toPath: root + "/19700101-000140-957-1")
        try FileManager.default.moveItem(atPath: b, toPath: root + "/19700101-000140-1096-1")
        #expect(history.entries().map(\.name) == ["19700101-000140-957-1", "19700101-000140-1096-1"])
    }
}
