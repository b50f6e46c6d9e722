#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport

/// A socket listening on 127.0.0.1 (a free port): a connection to it succeeds from the host's
/// network and is refused from an empty network namespace. The kernel completes connects
/// from its backlog, so nothing needs to accept.
final class TCPListener {
    let fd: Int32
    private(set) var port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        guard fd >= 0 else { throw TestError("socket failed") }
        var address = sockaddr_in()
        port = 0
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw TestError("bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw TestError("getsockname failed") }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        // Accepts and closes at once, so a client sees the connection made and ended.
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                _ = Glibc.close(client)
            }
        }
        thread.start()
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        _ = Glibc.close(fd)
    }
}
