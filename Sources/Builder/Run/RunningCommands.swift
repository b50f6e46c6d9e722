#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTP

/// The RUN commands running now (their sandbox supervisors), so that an interrupted build
/// stops them before it removes their roots: a command still writing into its root would
/// refill the scratch directory as it is removed, and survive slipway for a moment.
public enum RunningCommands {
    private struct State {
        var supervisors: Set<pid_t> = []
        /// Spawns under way (their pid not known yet).
        var starting = 0
        var stopping = false
    }
    private static let state = Locked(State())

    /// Stops every running RUN command (SIGTERM to its supervisor, which kills the command's
    /// PID 1 and with it the PID namespace) and returns once all are gone (at most `timeout`
    /// seconds); no RUN starts afterwards. For the interruption cleanup only: the thread of a
    /// stopped command never returns, since the process is about to end by the signal.
    public static func stopAll(timeout: TimeInterval = 10) {
        let running = state.withLock { current -> Set<pid_t> in
            current.stopping = true
            return current.supervisors
        }
        for pid in running { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !state.withLock({ $0.supervisors.isEmpty && $0.starting == 0 }) { usleep(10_000) }
    }

    /// Before a spawn; parks the thread when the build is being stopped.
    static func willStart() {
        let stopping = state.withLock { current -> Bool in
            if !current.stopping { current.starting += 1 }
            return current.stopping
        }
        if stopping { park() }
    }

    /// After the spawn (`pid` <= 0: it failed); a supervisor started while stopping is stopped.
    static func started(_ pid: pid_t) {
        let stop = state.withLock { current -> Bool in
            current.starting -= 1
            if pid > 0 { current.supervisors.insert(pid) }
            return current.stopping
        }
        if stop && pid > 0 { kill(pid, SIGTERM) }
    }

    /// The supervisor was reaped. While stopping, the thread parks: the killed command's
    /// outcome must not become a build error printed before the process ends by the signal.
    static func ended(_ pid: pid_t) {
        let stopping = state.withLock { current -> Bool in
            current.supervisors.remove(pid)
            return current.stopping
        }
        if stopping { park() }
    }

    private static func park() -> Never {
        while true { sleep(60) }
    }
}
