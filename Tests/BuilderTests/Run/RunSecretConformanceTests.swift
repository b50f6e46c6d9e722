@testable import Builder
import Foundation
import HTTP
import TestSupport
import XCTest

/// BuildKit's dockerfile_secrets_test.go and the RUN heredoc cases of
/// dockerfile_heredoc_test.go not ported elsewhere, on the busybox base made in the test.
final class RunSecretConformanceTests: XCTestCase {
    private var keep: BuildFixture?
    private var layout = ""

    override func setUp() async throws {
        let (fixture, path) = try await BusyboxBase.layout()
        keep = fixture
        layout = path
    }

    private func configure(_ secrets: [String: String], lines: Locked<[String]>? = nil) -> (inout BuildRequest) -> Void {
        let layout = self.layout
        return { request in
            BusyboxBase.configure(layout)(&request)
            request.runSettings.secrets = secrets.mapValues { SecretValue(Array($0.utf8)) }
            if let lines {
                request.progress = { event in
                    if case .runOutput(_, _, _, let text) = event { lines.withLock { $0.append(text) } }
                }
            }
        }
    }

    func testSecretFileParams() async throws {
        let image = try await BuildFixture().build("""
            FROM base
            RUN --mount=type=secret,required=false,mode=741,uid=100,gid=102,target=/mysecret [ "$(stat -c "%u %g %f" /mysecret)" = "100 102 81e1" ]
            RUN [ ! -f /mysecret ] # check no stub left behind
            """, configure: configure(["mysecret": "pw"]))
        XCTAssertEqual(image.result.images[0].layers.count, 1, "no layer: the secret's mount point was a stub")
    }

    func testSecretRequiredWithoutValue() async throws {
        let error = await (try BuildFixture()).failure("FROM base \n\t\tRUN --mount=type=secret,required,id=mysecret foo", configure: configure([:]))
        XCTAssertEqual(error?.description.contains("secret mysecret: not found"), true, error?.description ?? "built")
    }

    /// BuildKit shows `$SECRET_ENV` masked in the step's name; slipway shows the instruction
    /// as written (never expanded), and masks secret values in what the command prints.
    func testSecretAsEnviron() async throws {
        let lines = Locked<[String]>([])
        let image = try await BuildFixture().build("""
            FROM base
            ENV SECRET_ENV=foo
            RUN --mount=type=secret,id=mysecret,env=SECRET_ENV [ "$SECRET_ENV" == "pw-value" ] && [ ! -f /run/secrets/mysecret ] && echo "got $SECRET_ENV" || false
            """, configure: configure(["mysecret": "pw-value"], lines: lines))
        XCTAssertEqual(lines.withLock { $0 }, ["got ****"], "the value is masked in RUN output")
        XCTAssertEqual(image.result.images[0].layers.count, 1, "no /run/secrets stub in a layer")
        let env = try image.config().config?.env ?? []
        XCTAssertTrue(env.contains("SECRET_ENV=foo"), "the image keeps its own ENV: \(env)")
    }

    func testSecretAsEnvironWithFileMount() async throws {
        _ = try await BuildFixture().build("""
            FROM base
            RUN --mount=type=secret,id=mysecret,target=/run/secrets/secret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ -f /run/secrets/secret ] || false
            """, configure: configure(["mysecret": "pw"]))
    }

    /// Defaults: /run/secrets/<id>, mode 0400 root's; optional when missing; id from target.
    func testSecretDefaultsAndOptionalMissing() async throws {
        let image = try await BuildFixture().build("""
            FROM base
            RUN --mount=type=secret,id=tok [ "$(stat -c "%a %u %g" /run/secrets/tok)" = "400 0 0" ] && [ "$(cat /run/secrets/tok)" = "s3cr3t-token" ]
            RUN --mount=type=secret,id=absent [ ! -e /run/secrets/absent ]
            RUN --mount=type=secret,target=/etc/app.key [ "$(cat /etc/app.key)" = "k" ]
            """, configure: configure(["tok": "s3cr3t-token", "app.key": "k"]))
        XCTAssertEqual(image.result.images[0].layers.count, 1)
        XCTAssertNil(try image.files()["run"])
    }

    func testRunFakeHeredoc() async throws {
        let image = try await BuildFixture().build("""
            FROM base AS build

            SHELL ["/bin/awk"]
            RUN <<EOF
            BEGIN {
            \tprint "foo" > "/dest"
            }
            EOF

            FROM scratch
            COPY --from=build /dest /dest
            """, configure: configure([:]))
        XCTAssertEqual(try image.text("dest"), "foo\n")
    }

    func testRunShebangHeredoc() async throws {
        let image = try await BuildFixture().build("""
            FROM base AS build

            WORKDIR /dest

            RUN <<EOF
            #!/bin/awk -f
            BEGIN {
            \tprint "hello" >> "./out1"
            \tprint "world" >> "./out1"
            }
            EOF

            RUN <<-EOF
            \t#!/bin/awk -f
            \tBEGIN {
            \t\tprint "hello" >> "./out2"
            \t\tprint "world" >> "./out2"
            \t}
            EOF

            FROM scratch
            COPY --from=build /dest /
            """, configure: configure([:]))
        XCTAssertEqual(try image.text("out1"), "hello\nworld\n")
        XCTAssertEqual(try image.text("out2"), "hello\nworld\n")
        XCTAssertNil(try image.files()["dev"], "the script's /dev/pipes is not in a layer")
    }
}
