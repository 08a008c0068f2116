public import Foundation

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

/// Runs a program with extra environment variables and returns its status, standard output and
/// standard error (kept in a temporary file, so that a failure can say why).
public func runCapturing(_ arguments: [String], environment extra: [String: String] = [:]) async throws
    -> (status: Int32, output: String, errors: String)
{
    let errorsPath = FileManager.default.temporaryDirectory
        .appendingPathComponent("crm-test-stderr-\(UUID().uuidString)").path
    defer { unlink(errorsPath) }
    let (status, output) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int32, String), any Error>) in
        let thread = Thread {
            var pipeFDs: [Int32] = [0, 0]
            guard pipe(&pipeFDs) == 0 else {
                continuation.resume(throwing: CommandError.spawnFailed(arguments[0], errno))
                return
            }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
            posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            defer { posix_spawn_file_actions_destroy(&actions) }
            let (argv, envp) = spawnArguments(arguments, environment: extra)
            defer {
                argv.forEach { free($0) }
                envp.forEach { free($0) }
            }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
            close(pipeFDs[1])
            guard spawned == 0 else {
                close(pipeFDs[0])
                continuation.resume(throwing: CommandError.spawnFailed(arguments[0], spawned))
                return
            }
            var output: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(pipeFDs[0], &buffer, buffer.count)
                if count > 0 {
                    output.append(contentsOf: buffer[0..<count])
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            close(pipeFDs[0])
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let exited = (status & 0x7f) == 0
            continuation.resume(returning: (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), String(decoding: output, as: UTF8.self)))
        }
        thread.start()
    }
    let errors = (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
    return (status, output, errors)
}

/// The package's built executables (`crm`, `crm-bench`), next to the test binary.
public enum BuiltProducts {
    public static var directory: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent()
    }

    public static var crm: String { directory.appendingPathComponent("crm").path }
    /// The benchmark tool, whose `queue-worker` is a worker process tests can kill.
    public static var crmBench: String { directory.appendingPathComponent("crm-bench").path }

    /// Runs `crm` against a database and returns its trimmed standard output.
    public static func crm(_ arguments: [String], databaseURL: String) async throws -> String {
        let (status, output, errors) = try await runCapturing(
            [crm] + arguments, environment: ["DATABASE_URL": databaseURL, "LOG_LEVEL": "error"])
        guard status == 0 else {
            throw CommandError.exited(["crm"] + arguments, status, errors: String(errors.suffix(2000)))
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public enum CommandError: Error {
    case spawnFailed(String, Int32)
    case failed([String], Int32)
    /// A captured command's failure with the end of what it wrote to standard error.
    case exited([String], Int32, errors: String)
}

/// Runs a program and throws unless it exits with 0.
public func run(_ arguments: [String]) async throws {
    let status = try await runCommand(arguments)
    guard status == 0 else { throw CommandError.failed(arguments, status) }
}

/// A program running in the background: the queue tests start worker processes and kill them.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let exit: Task<Int32, Never>

    /// Starts `arguments` with extra environment variables; standard output and error are
    /// inherited.
    public init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
        let (argv, envp) = spawnArguments(arguments, environment: extra)
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], nil, nil, argv, envp)
        guard spawned == 0 else { throw CommandError.spawnFailed(arguments[0], spawned) }
        self.pid = pid
        let child = pid
        exit = Task {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
                let thread = Thread {
                    var status: Int32 = 0
                    while waitpid(child, &status, 0) == -1 && errno == EINTR {}
                    let exited = (status & 0x7f) == 0
                    continuation.resume(returning: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
                }
                thread.start()
            }
        }
    }

    /// Sends a signal (SIGTERM, SIGKILL, ...).
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// The exit status (128 + signal number when a signal ended it).
    public func wait() async -> Int32 {
        await exit.value
    }
}

/// `argv` and `envp` for posix_spawn: the arguments, and this process's environment with `extra`
/// on top, as C strings the caller frees.
func spawnArguments(_ arguments: [String], environment extra: [String: String])
    -> (argv: [UnsafeMutablePointer<CChar>?], envp: [UnsafeMutablePointer<CChar>?])
{
    var environment = ProcessInfo.processInfo.environment
    environment.merge(extra) { $1 }
    return (arguments.map { strdup($0) } + [nil], environment.map { strdup("\($0.key)=\($0.value)") } + [nil])
}
