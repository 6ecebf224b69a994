import WorkflowExecution
import WorkflowPlanning

/// A run's job graph as SVG, drawn on the server: jobs in layers left to right (a job one layer after
/// the last of its `needs`), edges along the real `needs`, a matrix's rows grouped in their job's box,
/// the jobs of a called workflow nested in the box of the job that calls it, each row coloured by its
/// state and linking to its job's page.
struct RunGraph {
    struct Row {
        var label: String
        var status: String
        /// The instance's position in the run (its job page is `/runs/RUN/jobs/INDEX`).
        var index: Int
    }

    struct Node {
        var key: JobKey
        var title: String
        var needs: [JobKey]
        var rows: [Row]
        /// A call: its rows are its workflow's jobs.
        var isCall: Bool
    }

    let run: String
    let nodes: [Node]

    init(run: String, machine: RunStateMachine) {
        self.run = run
        var nodes: [Node] = []
        var position: [JobKey: Int] = [:]
        for (index, id) in machine.order.enumerated() {
            guard let entry = machine.job(id.job) else { continue }
            // A job of a called workflow is a row of its outermost caller's box.
            var top = id.job
            var parent = entry.parent
            while let caller = parent {
                top = caller.job
                parent = machine.job(caller.job)?.parent
            }
            if position[top] == nil {
                position[top] = nodes.count
                let topEntry = machine.job(top)
                nodes.append(Node(
                    key: top, title: top.id, needs: topEntry?.needs.map(\.job) ?? [], rows: [], isCall: topEntry?.call != nil))
            }
            // A call's own instance is its box's heading; its jobs are the rows.
            if entry.call != nil { continue }
            let label = machine.row(of: id)?.instance.id ?? id.job.id
            nodes[position[top]!].rows.append(Row(label: label, status: RunJSON.status(of: id, in: machine), index: index))
        }
        // A call whose workflow brought no job (yet) shows itself as its only row.
        for (index, id) in machine.order.enumerated() where machine.job(id.job)?.call != nil && machine.job(id.job)?.parent == nil {
            if let at = position[id.job], nodes[at].rows.isEmpty {
                nodes[at].rows.append(Row(label: machine.row(of: id)?.instance.id ?? id.job.id, status: RunJSON.status(of: id, in: machine), index: index))
            }
        }
        self.nodes = nodes
    }

    static let width = 220
    static let rowHeight = 22
    static let header = 26
    static let gap = (x: 60, y: 18)

    /// Each node's layer: one after the deepest of its needs.
    var layers: [Int] {
        var layer: [JobKey: Int] = [:]
        func depth(_ key: JobKey, _ seen: Set<JobKey>) -> Int {
            if let known = layer[key] { return known }
            guard let node = nodes.first(where: { $0.key == key }), !seen.contains(key) else { return 0 }
            let value = node.needs.map { depth($0, seen.union([key])) + 1 }.max() ?? 0
            layer[key] = value
            return value
        }
        return nodes.map { depth($0.key, []) }
    }

    func svg() -> String {
        let layers = self.layers
        var boxes: [(x: Int, y: Int, height: Int)] = []
        var columnHeight: [Int: Int] = [:]
        for (i, node) in nodes.enumerated() {
            let height = Self.header + max(1, node.rows.count) * Self.rowHeight + 6
            let x = 10 + layers[i] * (Self.width + Self.gap.x)
            let y = 10 + (columnHeight[layers[i]] ?? 0)
            columnHeight[layers[i]] = (columnHeight[layers[i]] ?? 0) + height + Self.gap.y
            boxes.append((x, y, height))
        }
        let totalWidth = 20 + ((layers.max() ?? 0) + 1) * (Self.width + Self.gap.x) - Self.gap.x
        let totalHeight = 20 + (columnHeight.values.max() ?? 0)
        var out = #"<svg class="graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="job graph" width="\#(totalWidth)" height="\#(totalHeight)" viewBox="0 0 \#(totalWidth) \#(totalHeight)">"#
        // Edges first, under the boxes.
        for (i, node) in nodes.enumerated() {
            for need in node.needs {
                guard let from = nodes.firstIndex(where: { $0.key == need }) else { continue }
                let x1 = boxes[from].x + Self.width
                let y1 = boxes[from].y + Self.header / 2
                let x2 = boxes[i].x
                let y2 = boxes[i].y + Self.header / 2
                let bend = (x2 - x1) / 2
                out += #"<path class="edge" data-from="\#(LogHTML.escape(need.id))" data-to="\#(LogHTML.escape(node.key.id))" d="M\#(x1),\#(y1) C\#(x1 + bend),\#(y1) \#(x2 - bend),\#(y2) \#(x2),\#(y2)"/>"#
            }
        }
        for (i, node) in nodes.enumerated() {
            let box = boxes[i]
            let status = Self.summaryStatus(node.rows.map(\.status))
            out += #"<g class="job \#(status)\#(node.isCall ? " call" : "")" data-job="\#(LogHTML.escape(node.key.id))">"#
            out += #"<rect class="box" x="\#(box.x)" y="\#(box.y)" width="\#(Self.width)" height="\#(box.height)" rx="6"/>"#
            out += #"<text class="title" x="\#(box.x + 10)" y="\#(box.y + 18)">\#(LogHTML.escape(Self.clip(node.title + (node.isCall ? " (workflow)" : ""), 26)))</text>"#
            for (r, row) in node.rows.enumerated() {
                let y = box.y + Self.header + r * Self.rowHeight
                out += #"<a href="/runs/\#(run)/jobs/\#(row.index)"><g class="row \#(row.status)">"#
                out += #"<rect x="\#(box.x + 6)" y="\#(y)" width="\#(Self.width - 12)" height="\#(Self.rowHeight - 4)" rx="3"/>"#
                out += #"<text x="\#(box.x + 14)" y="\#(y + 13)">\#(LogHTML.escape(Self.clip(row.label, 24)))</text>"#
                out += #"<title>\#(LogHTML.escape(row.label)): \#(row.status)</title></g></a>"#
            }
            out += "</g>"
        }
        return out + "</svg>"
    }

    /// A box's colour: failure over cancelled over running over waiting over success over skipped.
    static func summaryStatus(_ statuses: [String]) -> String {
        for status in ["failure", "cancelled", "running", "queued", "waiting", "success", "skipped"] where statuses.contains(status) { return status }
        return "waiting"
    }

    static func clip(_ text: String, _ count: Int) -> String {
        text.count <= count ? text : String(text.prefix(count - 1)) + "…"
    }
}
