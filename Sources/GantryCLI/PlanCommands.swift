import ArgumentParser
import WorkflowModel
import WorkflowPlanning

extension GantryCommand {
    /// `gantry plan`: the job instances that would run, in order, with what each needs and where it runs.
    struct PlanCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Show the job instances an event would run, in order, and where each would run.",
            discussion: "Exit status: 0, or 1 when a workflow or the selection has an error; 64 for bad usage."
        )

        @OptionGroup var workflows: WorkflowOptions
        @OptionGroup var options: PlanOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            var frontend = PlanningFrontend()
            let plan = frontend.plan(options.selection, workflows.selection, commitDetails: true)
            let failed = frontend.reportProblems()
            if let plan {
                FileSystem.write(format == .json ? PlanWriter.json(plan) : PlanWriter.text(plan), to: 1)
            }
            GantryCommand.finish(failed: failed || plan == nil)
        }
    }

    /// `gantry graph`: the DAG of job instances with real edges.
    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "graph",
            abstract: "Show the job graph: one node per job instance, one edge per dependency.",
            discussion: "Formats: text (for a terminal), dot (Graphviz), mermaid, json."
        )

        enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
            case text, dot, mermaid, json
        }

        @OptionGroup var workflows: WorkflowOptions
        @OptionGroup var options: PlanOptions

        @Option(help: "Output format: text, dot, mermaid or json.")
        var format: Format = .text

        /// What the line asks for, as a plain value (`FastCommandLine` makes the same).
        struct Request: Equatable {
            var selection: WorkflowSelection
            var plan: PlanSelection
            var format: Format
        }

        var request: Request { Request(selection: workflows.selection, plan: options.selection, format: format) }

        func run() throws {
            Self.perform(request)
        }

        static func perform(_ request: Request) -> Never {
            let format = request.format
            var frontend = PlanningFrontend()
            let plan = frontend.plan(request.plan, request.selection, commitDetails: false)
            let failed = frontend.reportProblems()
            if let plan {
                let text: String
                switch format {
                case .text: text = GraphWriter.text(plan)
                case .dot: text = GraphWriter.dot(plan)
                case .mermaid: text = GraphWriter.mermaid(plan)
                case .json: text = GraphWriter.json(plan)
                }
                FileSystem.write(text, to: 1)
            }
            GantryCommand.finish(failed: failed || plan == nil)
        }
    }

    /// `gantry list`: every job of every workflow.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List every job of every workflow: workflow, job id, name, events, matrix size."
        )

        @OptionGroup var workflows: WorkflowOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        /// What the line asks for, as a plain value (`FastCommandLine` makes the same).
        struct Request: Equatable {
            var selection: WorkflowSelection
            var format: OutputFormat
        }

        var request: Request { Request(selection: workflows.selection, format: format) }

        func run() throws {
            Self.perform(request)
        }

        static func perform(_ request: Request) -> Never {
            var frontend = PlanningFrontend()
            frontend.loadWorkflows(request.selection)
            let failed = frontend.reportProblems()
            let rows = JobList.rows(frontend.workflows)
            FileSystem.write(request.format == .json ? JobList.json(rows) : JobList.table(rows), to: 1)
            GantryCommand.finish(failed: failed)
        }
    }
}
