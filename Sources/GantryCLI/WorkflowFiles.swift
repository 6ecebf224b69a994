/// Finds the workflow files a command should read.
enum WorkflowFiles {
    /// What discovery found: files to read, and paths that could not be used.
    struct Discovery {
        var files: [String] = []
        var problems: [String] = []
    }

    /// Expands each path: a file is taken as is; a directory gives its `*.yml` and `*.yaml` files (not
    /// recursing, as GitHub reads only the top of `.github/workflows`).
    static func discover(_ paths: [String]) -> Discovery {
        var discovery = Discovery()
        var seen = Set<String>()
        for path in paths {
            let isDirectory = FileSystem.isDirectoryIfExists(path)
            if isDirectory == true {
                do {
                    let entries = try FileSystem.entries(path).filter { isWorkflowName($0.name) }
                    if entries.isEmpty {
                        discovery.problems.append("no workflow files (*.yml, *.yaml) in '\(path)'")
                    }
                    let prefix = path.hasSuffix("/") ? path : path + "/"
                    for entry in entries {
                        let file = prefix + entry.name
                        if !(entry.isDirectory ?? FileSystem.isDirectory(file)) && seen.insert(file).inserted { discovery.files.append(file) }
                    }
                } catch {
                    discovery.problems.append(error.description)
                }
            } else if isDirectory == false {
                if seen.insert(path).inserted { discovery.files.append(path) }
            } else {
                discovery.problems.append("cannot read '\(path)': No such file or directory")
            }
        }
        return discovery
    }

    /// `*.yml` or `*.yaml`, compared as bytes.
    static func isWorkflowName(_ name: String) -> Bool {
        let bytes = name.utf8
        return bytes.reversed().starts(with: "lmy.".utf8) || bytes.reversed().starts(with: "lmay.".utf8)
    }
}
