import Foundation
import HTTP
import Registry
import TestSupport

/// The test registries seen through slipway's own clients: the test login for both, and the
/// libcurl transport trusting their CA.
extension TestRegistries {
    var credentials: StaticCredentials {
        let c = Credential(username: user, password: password)
        return StaticCredentials([basic: c, token: c])
    }

    func httpClient(log: (@Sendable (String) -> Void)? = nil) -> HTTPClient {
        var c = HTTPClient.Configuration()
        c.certsDirectories = [certsDir]
        c.allowLoopbackHTTP = false
        c.debugLog = log
        return HTTPClient(configuration: c)
    }
}
