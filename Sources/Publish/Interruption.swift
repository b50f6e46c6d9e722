import Dispatch
import Foundation
import HTTP
#if canImport(Glibc)
import Glibc
#endif

/// What an interrupted run undoes on its way out. Ctrl-C (SIGINT), SIGTERM and SIGHUP run
/// every registered cleanup — scratch directories, this process's partial files in the cache —
/// and then end the process by the same signal (default disposition, re-raised), so the exit
/// status stays 130/143/129 and a calling shell sees an interruption, not a failure.
/// SIGKILL cannot be caught: what it leaves, `cache prune` and the next build remove.
public enum Interruption {
    private static let cleanups = Locked<[UUID: @Sendable () -> Void]>([:])
    private static let sources = Locked<[any DispatchSourceSignal]?>(nil)
    private static let interrupting = Locked(false)

    /// Registers work to do if the process is interrupted; returns the key to `unregister` it
    /// with once the resource is gone.
    @discardableResult
    public static func register(_ cleanup: @escaping @Sendable () -> Void) -> UUID {
        let key = UUID()
        cleanups.withLock { $0[key] = cleanup }
        return key
    }

    public static func unregister(_ key: UUID) {
        cleanups.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// Catches SIGINT, SIGTERM and SIGHUP from now on (idempotent). The signals are ignored at
    /// the process level and read by dispatch sources, so the cleanups run on an ordinary
    /// thread (they may take locks and allocate), never in a signal handler.
    public static func installHandlers() {
        sources.withLock { installed in
            guard installed == nil else { return }
            installed = [SIGINT, SIGTERM, SIGHUP].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue.global(qos: .userInitiated))
                source.setEventHandler { interrupted(by: number) }
                source.resume()
                return source
            }
        }
    }

    /// The first signal runs the cleanups (each once) on another thread, then dies of it; a
    /// second one while they run (cleanups stuck on a slow disk) dies at once.
    static func interrupted(by number: Int32) {
        let first = interrupting.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { die(of: number) }
        DispatchQueue.global(qos: .userInitiated).async {
            let pending = cleanups.withLock { all -> [@Sendable () -> Void] in
                defer { all.removeAll() }
                return Array(all.values)
            }
            for cleanup in pending { cleanup() }
            die(of: number)
        }
    }

    /// Ends the process by `number` with its default disposition, so the exit status is the
    /// signal's (the shell's 128 + N).
    private static func die(of number: Int32) -> Never {
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        // Still here (the signal stayed blocked somewhere): the shell's convention.
        _exit(128 + number)
    }
}
