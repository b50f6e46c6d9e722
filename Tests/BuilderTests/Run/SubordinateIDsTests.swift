@testable import Builder
import Foundation
import TestSupport
import XCTest

/// /etc/subuid and /etc/subgid as newuidmap reads them: `NAME-or-UID:START:COUNT`, the first
/// line of the user counts, malformed lines and empty ranges do not.
final class SubordinateIDsTests: XCTestCase {
    func testTheFirstWellFormedRangeOfTheUserByNameOrUIDCounts() throws {
        let fixture = try BuildFixture(files: ["subuid": "other:100000:65536\nbroken line\nme:x:10\nme:300000:0\n1234:200000:1000\nme:400000:65536\n"])
        let file = fixture.context + "/subuid"
        XCTAssertEqual(SubordinateIDs.range(in: file, owners: ["me", "1234"]), SubordinateIDs.Range(start: 200000, count: 1000))
        XCTAssertEqual(SubordinateIDs.range(in: file, owners: ["me"]), SubordinateIDs.Range(start: 400000, count: 65536))
        XCTAssertNil(SubordinateIDs.range(in: file, owners: ["nobody"]))
        XCTAssertNil(SubordinateIDs.range(in: fixture.context + "/missing", owners: ["me"]))
        XCTAssertEqual(SubordinateIDs.mapArguments(pid: 42, own: 1000, range: .init(start: 400000, count: 65536)),
                       ["42", "0", "1000", "1", "1", "400000", "65536"])
    }

    func testTheCurrentUserNeedsRangesInBothFilesAndBothHelpers() throws {
        guard let name = getpwuid(getuid()).flatMap({ $0.pointee.pw_name.map { String(cString: $0) } }) else { throw TestError("no passwd entry") }
        let fixture = try BuildFixture(files: ["subuid": "\(name):500000:65536\n", "subgid": "\(name):600000:1000\n",
                                               "other": "someone-else:100000:65536\n"])
        let (subuid, subgid, other) = (fixture.context + "/subuid", fixture.context + "/subgid", fixture.context + "/other")
        let found = SubordinateIDs.forCurrentUser(subuid: subuid, subgid: subgid)
        XCTAssertEqual(found?.uids, .init(start: 500000, count: 65536))
        XCTAssertEqual(found?.gids, .init(start: 600000, count: 1000))
        XCTAssertEqual(found?.newuidmap, "/usr/bin/newuidmap", "uidmap is installed by scripts/setup")
        XCTAssertNil(SubordinateIDs.forCurrentUser(subuid: subuid, subgid: other), "no subgid range")
        XCTAssertNil(SubordinateIDs.forCurrentUser(subuid: subuid, subgid: subgid, helpers: [fixture.context]),
                     "no newuidmap/newgidmap in the directories searched")
    }
}

/// Only a build that may RUN re-executes in the subordinate-ID namespace.
final class RootlessNamespaceTests: XCTestCase {
    func testOnlyADockerfileWithRunOrAnUnreadableOneMayRun() throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "FROM scratch\nCOPY run /run\n# RUN in a comment\n",
                                               "with-run": "FROM scratch\n  run echo hi\n", "onbuild": "FROM scratch\nONBUILD RUN make\n",
                                               "exec": "FROM scratch\nRUN[\"/bin/true\"]\n"])
        XCTAssertFalse(RootlessNamespace.mayRun(dockerfile: nil, context: fixture.context))
        XCTAssertTrue(RootlessNamespace.mayRun(dockerfile: fixture.context + "/with-run", context: fixture.context))
        XCTAssertTrue(RootlessNamespace.mayRun(dockerfile: fixture.context + "/onbuild", context: fixture.context))
        XCTAssertTrue(RootlessNamespace.mayRun(dockerfile: fixture.context + "/exec", context: fixture.context))
        XCTAssertTrue(RootlessNamespace.mayRun(dockerfile: "-", context: fixture.context), "standard input is not read ahead")
        XCTAssertTrue(RootlessNamespace.mayRun(dockerfile: fixture.context + "/missing", context: fixture.context))
    }
}
