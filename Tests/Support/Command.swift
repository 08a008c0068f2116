import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion and returns its exit status. Uses `posix_spawn` and a blocking
/// `waitpid` on a thread of its own: Foundation's `Process.waitUntilExit` can miss the child's
/// exit inside Swift concurrency on Linux and hang the test.
public func runCommand(_ arguments: [String]) async throws -> Int32 {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        let thread = Thread {
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            let spawned = posix_spawn(&pid, arguments[0], nil, nil, argv, environ)
            guard spawned == 0 else {
                continuation.resume(throwing: CommandError.spawnFailed(arguments[0], spawned))
                return
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let exited = (status & 0x7f) == 0
            continuation.resume(returning: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
        }
        thread.start()
    }
}

public enum CommandError: Error {
    case spawnFailed(String, Int32)
    case failed([String], Int32)
}

/// Runs a program and throws unless it exits with 0.
public func run(_ arguments: [String]) async throws {
    let status = try await runCommand(arguments)
    guard status == 0 else { throw CommandError.failed(arguments, status) }
}
