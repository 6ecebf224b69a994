import ArgumentParser
import WorkflowExecution
import WorkflowModel
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// What a run is given beyond the workflow: secrets, variables, environment and dispatch inputs, from the
/// command line and from dotenv files. The act file names (`.secrets`, `.vars`, `.env`, `.input`, in the
/// repository given by `-C`) are read when present; a file named with a flag must exist. Values on the
/// command line win over values from files.
struct RunInputOptions: ParsableArguments {
    @Option(
        name: [.customShort("s"), .customLong("secret")],
        help: ArgumentHelp("A secret (repeatable); NAME alone takes its value from the environment. Masked in all output.", valueName: "name[=value]"))
    var secrets: [String] = []

    @Option(name: .customLong("secret-file"), help: ArgumentHelp("A dotenv file of secrets (default: .secrets when present).", valueName: "file"))
    var secretFile: String?

    @Option(name: .customLong("var-file"), help: ArgumentHelp("A dotenv file of vars (default: .vars when present).", valueName: "file"))
    var varFile: String?

    @Option(
        name: .customLong("env"),
        help: ArgumentHelp("An environment variable for every step (repeatable); NAME alone takes it from the environment.", valueName: "name[=value]"))
    var env: [String] = []

    @Option(name: .customLong("env-file"), help: ArgumentHelp("A dotenv file of environment variables (default: .env when present).", valueName: "file"))
    var envFile: String?

    @Option(name: .customLong("input-file"), help: ArgumentHelp("A dotenv file of workflow_dispatch inputs (default: .input when present).", valueName: "file"))
    var inputFile: String?

    func validate() throws {
        for (flag, values) in [("--secret", secrets), ("--env", env)] {
            for value in values where value.isEmpty || value.hasPrefix("=") {
                throw ValidationError("\(flag) expects name=value or name, got '\(value)'")
            }
        }
    }

    /// The values a run uses, or the problems that stop it (each one line, `file:line:col` for a file).
    struct Loaded {
        var secrets: [(String, String)] = []
        var vars: [(String, String)] = []
        var env: [(String, String)] = []
        /// Inputs from the input file; `--input` values stay with the plan options and win over these.
        var fileInputs: [(String, String)] = []
        var problems: [String] = []
    }

    /// Reads the files and merges them under the command line's values.
    func load(_ workflows: WorkflowSelection, vars: [String], environment: [(String, String)]) -> Loaded {
        var loaded = Loaded()
        func file(_ explicit: String?, default name: String) -> [(String, String)] {
            let path = workflows.resolve(explicit ?? name)
            if explicit == nil && !FileSystem.exists(path) { return [] }
            do {
                return try DotEnv.parse(String(decoding: try FileSystem.read(path), as: UTF8.self), file: path, environment: environment)
            } catch let error as FileSystem.Failure {
                loaded.problems.append(error.description)
            } catch let error as DotEnv.Failure {
                loaded.problems.append(error.description)
            } catch {
                loaded.problems.append("\(path): \(error)")
            }
            return []
        }
        func command(_ values: [String], flag: String) -> [(String, String)] {
            values.compactMap { value in
                if let pair = PlanOptions.split(value) { return pair }
                guard let found = environment.last(where: { $0.0 == value }) else {
                    loaded.problems.append("\(flag) \(value): '\(value)' is not set in the environment")
                    return nil
                }
                return found
            }
        }
        loaded.secrets = JobRunner.merge([file(secretFile, default: ".secrets"), command(secrets, flag: "--secret")])
        loaded.vars = JobRunner.merge([file(varFile, default: ".vars"), vars.compactMap(PlanOptions.split)])
        loaded.env = JobRunner.merge([file(envFile, default: ".env"), command(env, flag: "--env")])
        loaded.fileInputs = file(inputFile, default: ".input")
        return loaded
    }
}
