internal import CGit2

#if canImport(Glibc)
import Glibc
#endif

/// libgit2, opened with `dlopen` the first time a repository is read.
///
/// Linking libgit2 drags its fifteen shared libraries (OpenSSL, Kerberos, mbedTLS, libssh2…) into every
/// `gantry` start, about 4 ms even for `gantry --version`; and Debian's build parses the system CA
/// bundle when it initialises (about 8 ms). Loading it on demand keeps that cost to the commands that
/// read a repository, which start it on a second core (`GitLibrary.prewarm`). The C headers still give
/// the types; the functions are looked up by name with the signatures of libgit2 1.5.
/// `@unchecked Sendable`: it holds only C function pointers, set once when the library is loaded and
/// never changed; libgit2 itself is initialised for threads.
struct LibGit2: @unchecked Sendable {
    typealias Ref = OpaquePointer
    let git_error_last: @convention(c) () -> UnsafePointer<git_error>?
    let git_libgit2_init: @convention(c) () -> Int32
    let git_repository_open_ext: @convention(c) (UnsafeMutablePointer<Ref?>?, UnsafePointer<CChar>?, UInt32, UnsafePointer<CChar>?) -> Int32
    let git_repository_free: @convention(c) (Ref?) -> Void
    let git_repository_workdir: @convention(c) (Ref?) -> UnsafePointer<CChar>?
    let git_repository_head_detached: @convention(c) (Ref?) -> Int32
    let git_repository_head: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?) -> Int32
    let git_repository_config_snapshot: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?) -> Int32
    let git_reference_lookup: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, UnsafePointer<CChar>?) -> Int32
    let git_reference_symbolic_target: @convention(c) (Ref?) -> UnsafePointer<CChar>?
    let git_reference_free: @convention(c) (Ref?) -> Void
    let git_reference_target: @convention(c) (Ref?) -> UnsafePointer<git_oid>?
    let git_reference_name: @convention(c) (Ref?) -> UnsafePointer<CChar>?
    let git_commit_lookup: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, UnsafePointer<git_oid>?) -> Int32
    let git_commit_free: @convention(c) (Ref?) -> Void
    let git_commit_id: @convention(c) (Ref?) -> UnsafePointer<git_oid>?
    let git_commit_author: @convention(c) (Ref?) -> UnsafePointer<git_signature>?
    let git_commit_message: @convention(c) (Ref?) -> UnsafePointer<CChar>?
    let git_commit_tree: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?) -> Int32
    let git_commit_parentcount: @convention(c) (Ref?) -> UInt32
    let git_commit_parent: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, UInt32) -> Int32
    let git_tree_free: @convention(c) (Ref?) -> Void
    let git_diff_tree_to_tree: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, Ref?, Ref?, UnsafeRawPointer?) -> Int32
    let git_diff_free: @convention(c) (Ref?) -> Void
    let git_diff_find_options_init: @convention(c) (UnsafeMutablePointer<git_diff_find_options>?, UInt32) -> Int32
    let git_diff_find_similar: @convention(c) (Ref?, UnsafePointer<git_diff_find_options>?) -> Int32
    let git_diff_num_deltas: @convention(c) (Ref?) -> Int
    let git_diff_get_delta: @convention(c) (Ref?, Int) -> UnsafePointer<git_diff_delta>?
    let git_tag_list: @convention(c) (UnsafeMutablePointer<git_strarray>?, Ref?) -> Int32
    let git_strarray_dispose: @convention(c) (UnsafeMutablePointer<git_strarray>?) -> Void
    let git_revparse_single: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, UnsafePointer<CChar>?) -> Int32
    let git_object_free: @convention(c) (Ref?) -> Void
    let git_object_id: @convention(c) (Ref?) -> UnsafePointer<git_oid>?
    let git_oid_equal: @convention(c) (UnsafePointer<git_oid>?, UnsafePointer<git_oid>?) -> Int32
    let git_oid_tostr: @convention(c) (UnsafeMutablePointer<CChar>?, Int, UnsafePointer<git_oid>?) -> UnsafeMutablePointer<CChar>?
    let git_config_free: @convention(c) (Ref?) -> Void
    let git_config_get_string: @convention(c) (UnsafeMutablePointer<UnsafePointer<CChar>?>?, Ref?, UnsafePointer<CChar>?) -> Int32
    let git_status_options_init: @convention(c) (UnsafeMutablePointer<git_status_options>?, UInt32) -> Int32
    let git_status_list_new: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, UnsafePointer<git_status_options>?) -> Int32
    let git_status_list_entrycount: @convention(c) (Ref?) -> Int
    let git_status_byindex: @convention(c) (Ref?, Int) -> UnsafePointer<git_status_entry>?
    let git_status_list_free: @convention(c) (Ref?) -> Void
    let git_checkout_options_init: @convention(c) (UnsafeMutablePointer<git_checkout_options>?, UInt32) -> Int32
    let git_checkout_tree: @convention(c) (Ref?, Ref?, UnsafePointer<git_checkout_options>?) -> Int32
    // Mirrors (gantry serve).
    let git_repository_init: @convention(c) (UnsafeMutablePointer<Ref?>?, UnsafePointer<CChar>?, UInt32) -> Int32
    let git_remote_create_anonymous: @convention(c) (UnsafeMutablePointer<Ref?>?, Ref?, UnsafePointer<CChar>?) -> Int32
    let git_remote_fetch: @convention(c) (Ref?, UnsafePointer<git_strarray>?, UnsafePointer<git_fetch_options>?, UnsafePointer<CChar>?) -> Int32
    let git_remote_default_branch: @convention(c) (UnsafeMutablePointer<git_buf>?, Ref?) -> Int32
    let git_buf_dispose: @convention(c) (UnsafeMutablePointer<git_buf>?) -> Void
    let git_repository_set_head: @convention(c) (Ref?, UnsafePointer<CChar>?) -> Int32
    let git_remote_free: @convention(c) (Ref?) -> Void
    let git_fetch_options_init: @convention(c) (UnsafeMutablePointer<git_fetch_options>?, UInt32) -> Int32

    /// The library names tried, the ABI Gantry was built against first.
    static let candidates = ["libgit2.so.1.5", "libgit2.so"]

    /// The loaded and initialised library, or why it could not be loaded.
    static let shared: Result<LibGit2, GitError> = {
        var handle: UnsafeMutableRawPointer?
        for name in candidates {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
        }
        guard let handle else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(GitError(operation: "cannot load libgit2 (install Debian's libgit2-1.5 or libgit2-dev)", message: reason))
        }
        do throws(GitError) {
            let lib = try LibGit2(handle)
            _ = lib.git_libgit2_init()
            return .success(lib)
        } catch {
            return .failure(error)
        }
    }()

    static func load() throws(GitError) -> LibGit2 {
        try shared.get()
    }

    private init(_ handle: UnsafeMutableRawPointer) throws(GitError) {
        func symbol<T>(_ name: String) throws(GitError) -> T {
            guard let pointer = dlsym(handle, name) else {
                throw GitError(operation: "cannot load libgit2", message: "symbol '\(name)' is missing")
            }
            return unsafeBitCast(pointer, to: T.self)
        }
        git_error_last = try symbol("git_error_last")
        git_libgit2_init = try symbol("git_libgit2_init")
        git_repository_open_ext = try symbol("git_repository_open_ext")
        git_repository_free = try symbol("git_repository_free")
        git_repository_workdir = try symbol("git_repository_workdir")
        git_repository_head_detached = try symbol("git_repository_head_detached")
        git_repository_head = try symbol("git_repository_head")
        git_repository_config_snapshot = try symbol("git_repository_config_snapshot")
        git_reference_lookup = try symbol("git_reference_lookup")
        git_reference_symbolic_target = try symbol("git_reference_symbolic_target")
        git_reference_free = try symbol("git_reference_free")
        git_reference_target = try symbol("git_reference_target")
        git_reference_name = try symbol("git_reference_name")
        git_commit_lookup = try symbol("git_commit_lookup")
        git_commit_free = try symbol("git_commit_free")
        git_commit_id = try symbol("git_commit_id")
        git_commit_author = try symbol("git_commit_author")
        git_commit_message = try symbol("git_commit_message")
        git_commit_tree = try symbol("git_commit_tree")
        git_commit_parentcount = try symbol("git_commit_parentcount")
        git_commit_parent = try symbol("git_commit_parent")
        git_tree_free = try symbol("git_tree_free")
        git_diff_tree_to_tree = try symbol("git_diff_tree_to_tree")
        git_diff_free = try symbol("git_diff_free")
        git_diff_find_options_init = try symbol("git_diff_find_options_init")
        git_diff_find_similar = try symbol("git_diff_find_similar")
        git_diff_num_deltas = try symbol("git_diff_num_deltas")
        git_diff_get_delta = try symbol("git_diff_get_delta")
        git_tag_list = try symbol("git_tag_list")
        git_strarray_dispose = try symbol("git_strarray_dispose")
        git_revparse_single = try symbol("git_revparse_single")
        git_object_free = try symbol("git_object_free")
        git_object_id = try symbol("git_object_id")
        git_oid_equal = try symbol("git_oid_equal")
        git_oid_tostr = try symbol("git_oid_tostr")
        git_config_free = try symbol("git_config_free")
        git_config_get_string = try symbol("git_config_get_string")
        git_status_options_init = try symbol("git_status_options_init")
        git_status_list_new = try symbol("git_status_list_new")
        git_status_list_entrycount = try symbol("git_status_list_entrycount")
        git_status_byindex = try symbol("git_status_byindex")
        git_status_list_free = try symbol("git_status_list_free")
        git_checkout_options_init = try symbol("git_checkout_options_init")
        git_checkout_tree = try symbol("git_checkout_tree")
        git_repository_init = try symbol("git_repository_init")
        git_remote_create_anonymous = try symbol("git_remote_create_anonymous")
        git_remote_fetch = try symbol("git_remote_fetch")
        git_remote_default_branch = try symbol("git_remote_default_branch")
        git_buf_dispose = try symbol("git_buf_dispose")
        git_repository_set_head = try symbol("git_repository_set_head")
        git_remote_free = try symbol("git_remote_free")
        git_fetch_options_init = try symbol("git_fetch_options_init")
    }
}
