import WorkflowExpressions
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// `actions/upload-artifact` and `actions/download-artifact` (v4 behaviour) without a server: an
/// artifact is a folder of the run directory's `artifacts/`, shared by the run's jobs.
extension JobRunner {
    var artifactsDirectory: String { context.root + "/artifacts" }

    /// Characters v4 refuses in artifact names.
    static let forbiddenArtifactCharacters: Set<Character> = ["\"", ":", "<", ">", "|", "*", "?", "\r", "\n", "\\", "/"]

    /// The home folder a step sees.
    func home(_ env: [(String, String)]) -> String {
        Self.merge([context.hostEnvironment, env]).last { $0.0 == "HOME" }?.1 ?? "/"
    }

    /// A path from `with:`: `~` is the home folder, a relative path is inside the workspace.
    func resolvePath(_ text: String, env: [(String, String)]) -> String {
        var path = text
        if path == "~" || path.hasPrefix("~/") { path = home(env) + path.dropFirst() }
        return Self.normalize(path.hasPrefix("/") ? path : workspace + "/" + path)
    }

    func runUploadArtifact(_ with: [String: String], env: [(String, String)], state: JobState) -> StepResult {
        func say(_ text: String) { state.say(text) }
        let name = (with["name"] ?? "").isEmpty ? "artifact" : with["name"]!
        if name == "." || name == ".." {
            say("error: actions/upload-artifact: '\(name)' is not an artifact name")
            return .failed
        }
        if let bad = name.first(where: { Self.forbiddenArtifactCharacters.contains($0) }) {
            say("error: actions/upload-artifact: the artifact name '\(name)' contains '\(bad.debugDescription.dropFirst().dropLast())', which is not allowed (\" : < > | * ? \\r \\n \\ /)")
            return .failed
        }
        let lines = (with["path"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !lines.isEmpty else {
            say("error: actions/upload-artifact: input required and not supplied: path")
            return .failed
        }
        let hidden = (with["include-hidden-files"] ?? "false").lowercased() == "true"
        let glob: Glob
        do {
            glob = try Glob(lines: lines, base: workspace, home: home(env))
        } catch {
            say("error: actions/upload-artifact: \(error.message)")
            return .failed
        }
        let files = glob.files(excludeHidden: !hidden)
        // The root the files are stored relative to, as upload-artifact computes it: the search paths'
        // least common ancestor; a single file given by name is stored without its folders.
        let searchPaths = glob.searchPaths
        var root = searchPaths.count == 1 ? searchPaths[0] : Self.commonAncestor(searchPaths)
        if searchPaths.count == 1, files == [searchPaths[0]] { root = String(files[0][..<files[0].lastIndex(of: "/")!]) }
        guard !files.isEmpty else {
            let message = "No files were found with the provided path: \(lines.joined(separator: ", ")). No artifacts will be uploaded."
            switch (with["if-no-files-found"] ?? "warn").lowercased() {
            case "error":
                say("error: actions/upload-artifact: " + message)
                return .failed
            case "ignore": say(message)
            default: say("warning: actions/upload-artifact: " + message)
            }
            return StepResult(outcome: .success, conclusion: .success, outputs: [], env: [], summary: "", timedOutJob: false)
        }
        // Written to a temporary folder, then renamed into place: a job downloading it never sees half
        // an artifact, and of two jobs uploading one name, one wins.
        Files.makeDirectory(artifactsDirectory)
        Files.makeDirectory(context.root + "/artifacts-staging")
        let staging = context.root + "/artifacts-staging/" + directoryName
        Files.removeTree(staging)
        var bytes = 0
        for file in files {
            var info = stat()
            if stat(file, &info) == 0 { bytes += Int(info.st_size) }
            let relative = root == "/" ? String(file.dropFirst()) : String(file.dropFirst(root.count + 1))
            // Links are stored as what they point to, as upload-artifact zips them.
            guard Files.copyFile(file, to: staging + "/" + relative, followLinks: true) else {
                say("error: actions/upload-artifact: cannot copy '\(file)': \(String(cString: strerror(errno)))")
                Files.removeTree(staging)
                return .failed
            }
        }
        let target = artifactsDirectory + "/" + name
        if (with["overwrite"] ?? "false").lowercased() == "true" { Files.removeTree(target) }
        guard rename(staging, target) == 0 else {
            Files.removeTree(staging)
            say("error: actions/upload-artifact: an artifact named '\(name)' was already uploaded in this run; give another name or set overwrite: true")
            return .failed
        }
        say("uploaded artifact '\(name)': \(files.count) file\(files.count == 1 ? "" : "s"), \(bytes) bytes, to \(target)")
        let outputs: [(String, ExpressionValue)] = [("artifact-url", .string("file://" + target))]
        return StepResult(outcome: .success, conclusion: .success, outputs: outputs, env: [], summary: "", timedOutJob: false)
    }

    func runDownloadArtifact(_ with: [String: String], env: [(String, String)], state: JobState) -> StepResult {
        func say(_ text: String) { state.say(text) }
        let destination = resolvePath((with["path"] ?? "").isEmpty ? workspace : with["path"]!, env: env)
        var names: [String] = []
        if let name = with["name"], !name.isEmpty {
            var info = stat()
            guard !name.contains("/"), name != ".", name != "..", stat(artifactsDirectory + "/" + name, &info) == 0 else {
                say("error: actions/download-artifact: unable to download artifact(s): artifact not found for name: \(name) (artifacts are shared by the jobs of one gantry run; was it uploaded by a job this one needs?)")
                return .failed
            }
            names = [name]
        } else {
            let pattern = with["pattern"].flatMap { $0.isEmpty ? nil : $0 }
            names = Files.directoryEntries(artifactsDirectory).filter { name in
                pattern.map { GlobPattern.segment(Array($0), Array(name)) } ?? true
            }.sorted()
        }
        let merge = (with["merge-multiple"] ?? "false").lowercased() == "true"
        var count = 0
        for name in names {
            let source = artifactsDirectory + "/" + name
            // One named artifact (or merge-multiple) goes straight into the path; otherwise each into
            // a folder of its name.
            let target = with["name"].map { !$0.isEmpty } == true || merge ? destination : destination + "/" + name
            for file in Files.filesBelow(source) {
                guard Files.copyFile(file, to: target + file.dropFirst(source.count)) else {
                    say("error: actions/download-artifact: cannot write '\(target + file.dropFirst(source.count))': \(String(cString: strerror(errno)))")
                    return .failed
                }
                count += 1
            }
        }
        Files.makeDirectory(destination)
        say("downloaded \(names.count) artifact\(names.count == 1 ? "" : "s") (\(count) file\(count == 1 ? "" : "s")) to \(destination)")
        return StepResult(outcome: .success, conclusion: .success, outputs: [("download-path", .string(destination))], env: [], summary: "", timedOutJob: false)
    }

    static func commonAncestor(_ paths: [String]) -> String {
        guard var common = paths.first?.split(separator: "/") else { return "/" }
        for path in paths.dropFirst() {
            let parts = path.split(separator: "/")
            var n = 0
            while n < min(common.count, parts.count) && common[n] == parts[n] { n += 1 }
            common = Array(common.prefix(n))
        }
        return "/" + common.joined(separator: "/")
    }

}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
