internal import CGit2

/// A failure reported by libgit2, with its message.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// What Gantry was doing.
    public var operation: String
    /// libgit2's message.
    public var message: String

    public var description: String { "\(operation): \(message)" }

    static func last(_ lib: LibGit2, _ operation: String, code: Int32) -> GitError {
        if let error = lib.git_error_last(), let message = error.pointee.message {
            return GitError(operation: operation, message: String(cString: message))
        }
        return GitError(operation: operation, message: "libgit2 error \(code)")
    }
}

/// Calls a libgit2 function and throws its error on a negative result.
@discardableResult
func check(_ lib: LibGit2, _ operation: @autoclosure () -> String, _ code: Int32) throws(GitError) -> Int32 {
    if code < 0 { throw GitError.last(lib, operation(), code: code) }
    return code
}
