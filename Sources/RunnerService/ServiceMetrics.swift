import Prometheus
import Synchronization
public import WorkflowExecution

/// `/metrics` (swift-prometheus): webhook deliveries by result, runs and jobs finished by result and
/// their durations, how long jobs waited for a runner, commit statuses by outcome, and at each scrape
/// the queue depth by `runs-on` labels, jobs running and capacity.
/// Labels hold ids and results only, never values from a payload that could carry a secret.
public final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let counters = Mutex<[String: Counter]>([:])
    private let runDurations: DurationHistogram
    private let jobDurations: DurationHistogram
    private let queueWaits: DurationHistogram
    private let running: Gauge
    private let capacity: Gauge
    private let queueDepths = Mutex<[String: Gauge]>([:])

    public init() {
        runDurations = registry.makeDurationHistogram(
            name: "gantry_run_duration_seconds", labels: [],
            buckets: [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(120), .seconds(600), .seconds(3600)],
            help: "Seconds from a run's intake to its end")
        jobDurations = registry.makeDurationHistogram(
            name: "gantry_job_duration_seconds", labels: [],
            buckets: [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(120), .seconds(600), .seconds(3600)],
            help: "Seconds a job ran, from its first step to its end")
        queueWaits = registry.makeDurationHistogram(
            name: "gantry_job_queue_seconds", labels: [],
            buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10), .seconds(60), .seconds(600)],
            help: "Seconds from a job's turn (its if held) to its first step: concurrency groups and a free runner")
        running = registry.makeGauge(name: "gantry_jobs_running", labels: [], help: "Jobs running on this node")
        capacity = registry.makeGauge(name: "gantry_runner_capacity", labels: [], help: "Jobs this node runs at once")
    }

    /// Counts a webhook delivery by how it was answered.
    public func delivery(_ result: String) {
        counter("gantry_webhook_deliveries_total", "result", result, help: "Webhook deliveries by result").increment()
    }

    public func runFinished(success: Bool, seconds: Double) {
        counter("gantry_runs_finished_total", "result", success ? "success" : "failure", help: "Runs finished by result").increment()
        runDurations.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// A job ended; `ran`: seconds from its first step (jobs that ran no step are not timed).
    public func jobFinished(result: JobResult, ran: Double?) {
        counter("gantry_jobs_finished_total", "result", result.rawValue, help: "Jobs finished by result").increment()
        if let ran { jobDurations.recordNanoseconds(Int64(ran * 1e9)) }
    }

    public func jobWaited(seconds: Double) {
        queueWaits.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// A commit status sent, or given up after its retries.
    public func status(_ result: String) {
        counter("gantry_commit_statuses_total", "result", result, help: "Commit statuses by result (sent, retried, dropped)").increment()
    }

    private func counter(_ name: String, _ label: String, _ value: String, help: String) -> Counter {
        counters.withLock { all in
            let key = name + "\n" + value
            if let existing = all[key] { return existing }
            let made = registry.makeCounter(name: name, labels: [(label, value)], help: help)
            all[key] = made
            return made
        }
    }

    /// The text exposition, with the gauges read now.
    func render(runs: ServiceRuns, store: any ServiceStore) async -> String {
        running.set(Double(await runs.slots.busy))
        capacity.set(Double(runs.settings.capacity))
        var depth: [String: Int] = [:]
        for job in (try? await store.queued()) ?? [] {
            depth[job.runsOn.map { $0.lowercased() }.sorted().joined(separator: ","), default: 0] += 1
        }
        queueDepths.withLock { gauges in
            for key in Set(gauges.keys).union(depth.keys) {
                let gauge = gauges[key] ?? registry.makeGauge(
                    name: "gantry_queue_depth", labels: [("labels", key)], help: "Queued jobs by their runs-on labels")
                gauges[key] = gauge
                gauge.set(Double(depth[key] ?? 0))
            }
        }
        return registry.emitToString()
    }
}
