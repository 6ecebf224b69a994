import Foundation
import Testing
import WorkflowPlanning

/// `JobInstance` keeps its fields in a box its copies share (`CopyOnWrite`): copies stay independent
/// values, and the JSON a run store keeps has the fields at the top level, as before the box.
@Suite struct JobInstanceStorageTests {
    static func instance() -> JobInstance {
        JobInstance(
            id: "test (18)", job: "test", name: "test (18)", matrix: [], matrixAtRunTime: false, needs: ["build"],
            runsOn: ["ubuntu-latest"], backend: "host", container: nil, services: [], condition: nil,
            concurrencyGroup: nil, cancelInProgress: nil, timeoutMinutes: "360", continueOnError: nil,
            uses: nil, failFast: nil, maxParallel: nil)
    }

    @Test func aChangedCopyLeavesTheOriginalAsItWas() {
        let original = Self.instance()
        var copy = original
        copy.needs.append("lint")
        copy.strategyIndex = 2
        copy.calledFile = ".github/workflows/called.yml"
        #expect(original.needs == ["build"])
        #expect(original.strategyIndex == 0)
        #expect(original.calledFile == nil)
        #expect(copy.needs == ["build", "lint"])
        #expect(copy.strategyIndex == 2)
        #expect(copy.calledFile == ".github/workflows/called.yml")
    }

    @Test func encodesItsFieldsAtTheTopLevelAndDecodesThemBack() throws {
        var instance = Self.instance()
        instance.callPath = ["call#0"]
        let data = try JSONEncoder().encode(instance)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["id"] as? String == "test (18)")
        #expect(object["needs"] as? [String] == ["build"])
        #expect(object["callPath"] as? [String] == ["call#0"])
        #expect(object["strategyTotal"] as? Int == 1)
        #expect(object["container"] == nil)
        let decoded = try JSONDecoder().decode(JobInstance.self, from: data)
        #expect(decoded.id == instance.id && decoded.needs == instance.needs && decoded.callPath == ["call#0"])
        #expect(decoded.runsOn == ["ubuntu-latest"] && decoded.timeoutMinutes == "360" && decoded.strategyTotal == 1)
    }
}
