import WorkflowModel

/// Checks `needs`: every named job exists, and the graph has no cycle.
///
/// Job ids compare case-insensitively, as GitHub compares them. Each cycle is reported once, starting at
/// the job declared first, so the message never depends on hashing order.
enum NeedsRule {
    static func check(_ workflow: Workflow) -> [Diagnostic] {
        // A workflow whose jobs need nothing (most workflows) has nothing to check: no index of its
        // jobs, no search for cycles.
        let jobs = workflow.jobs
        guard jobs.indices.contains(where: { !jobs[$0].needs.isEmpty }) else { return [] }
        var diagnostics: [Diagnostic] = []
        // One hash per job; the first job with an id keeps it.
        var index = [String: Int](minimumCapacity: jobs.count)
        for (i, job) in workflow.jobs.enumerated() {
            index[Workflow.foldedID(job.id.value), default: i] += 0
        }
        let ids = workflow.jobs.map(\.id.value)
        // Suggestions compare against every job: bounded so a hostile file cannot make them quadratic.
        var suggestionsLeft = 50
        var edges: [[Int]] = Array(repeating: [], count: workflow.jobs.count)
        for (i, job) in workflow.jobs.enumerated() {
            // Repeats are found in the job's edges so far; a long list gets a set (the first use of a
            // `Set<Int>` costs a search of the binary's conformance records, about 0.15 ms).
            var seen: Set<Int>? = job.needs.count > 32 ? [] : nil
            for need in job.needs where !need.value.hasExpressionMarker {
                guard let target = index[Workflow.foldedID(need.value)] else {
                    var message = "job '\(job.id.value)' needs job '\(need.value)', which does not exist in this workflow"
                    if suggestionsLeft > 0, need.value.count <= 100 {
                        suggestionsLeft -= 1
                        if let suggestion = closestMatch(to: need.value, in: ids) {
                            message += "; did you mean '\(suggestion)'?"
                        }
                    }
                    diagnostics.append(Diagnostic(.error, message, at: need.location, rule: "job-needs"))
                    continue
                }
                let repeated = seen?.insert(target).inserted == false || (seen == nil && edges[i].contains(target))
                if repeated {
                    diagnostics.append(
                        Diagnostic(.error, "job '\(job.id.value)' lists '\(need.value)' in 'needs' more than once", at: need.location, rule: "job-needs"))
                    continue
                }
                edges[i].append(target)
            }
        }
        for component in edges.contains(where: { !$0.isEmpty }) ? cycles(edges) : [] {
            let start = component.min()!
            let members = Set(component)
            let path = cyclePath(from: start, edges: edges, within: members)
            let names = (path + [start]).map { "'\(ids[$0])'" }.joined(separator: " -> ")
            diagnostics.append(
                Diagnostic(.error, "cyclic dependency in 'needs': \(names)", at: workflow.jobs[start].id.location, rule: "job-needs"))
        }
        return diagnostics
    }

    /// The shortest path from `start` back to itself inside one component, by breadth-first search
    /// following `needs` in declared order.
    private static func cyclePath(from start: Int, edges: [[Int]], within members: Set<Int>) -> [Int] {
        var previous: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for next in edges[node] where members.contains(next) {
                if next == start {
                    var path = [node]
                    while let p = previous[path[0]] { path.insert(p, at: 0) }
                    return path
                }
                if previous[next] == nil && next != start {
                    previous[next] = node
                    queue.append(next)
                }
            }
        }
        return [start]
    }

    /// The components that hold a cycle (more than one job, or a job that needs itself), in the order
    /// of their first job. Most workflows have none, and then nothing is sorted.
    static func cycles(_ edges: [[Int]]) -> [[Int]] {
        let cyclic = cyclicComponents(edges)
        return cyclic.count < 2 ? cyclic : cyclic.sorted { $0.min()! < $1.min()! }
    }

    /// Tarjan's algorithm, iterative: the strongly connected components that hold a cycle, in no
    /// particular order (see `cycles`).
    static func cyclicComponents(_ edges: [[Int]]) -> [[Int]] {
        let n = edges.count
        var indexOf = [Int](repeating: -1, count: n)
        var lowlink = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        var components: [[Int]] = []
        var counter = 0
        for root in 0..<n where indexOf[root] == -1 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            indexOf[root] = counter; lowlink[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let next = edges[node][edge]
                    if indexOf[next] == -1 {
                        indexOf[next] = counter; lowlink[next] = counter; counter += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        lowlink[node] = min(lowlink[node], indexOf[next])
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last {
                        lowlink[parent.node] = min(lowlink[parent.node], lowlink[node])
                    }
                    if lowlink[node] == indexOf[node] {
                        // A job alone in its component, and not needing itself, is no cycle: most
                        // jobs; they get no array.
                        if stack.last == node, !edges[node].contains(node) {
                            stack.removeLast()
                            onStack[node] = false
                            continue
                        }
                        var component: [Int] = []
                        while let top = stack.popLast() {
                            onStack[top] = false
                            component.append(top)
                            if top == node { break }
                        }
                        components.append(component)
                    }
                }
            }
        }
        return components
    }
}
