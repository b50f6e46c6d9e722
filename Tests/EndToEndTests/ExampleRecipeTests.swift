import Foundation
import TestSupport
import XCTest

/// The recipes of docs/building-without-run.md (issue 12, section 3): each `examples/NAME`
/// is prepared as its `build.sh` says, built by slipway for linux/amd64 and linux/arm64, and
/// each platform's image is read back with skopeo and bsdtar: the right files, and binaries
/// and native modules for the platform's CPU (their ELF machine).
final class ExampleRecipeTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    static let platforms = ["amd64", "arm64"]

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: prebuiltDirectory)
        super.tearDown()
    }

    /// Where the toolchain of a recipe is not on this machine (cargo's musl targets, the Swift
    /// static SDK, goreleaser, native npm modules), its build.sh takes `PREBUILT`: one static
    /// binary per platform, cross-compiled here from examples/go with Go.
    static let prebuiltDirectory = NSTemporaryDirectory() + "slipway-recipes-prebuilt-\(getpid())"

    static let prebuilt: Result<String, TestError> = {
        guard Run.isInstalled("go") else { return .failure(TestError("go is not installed (apt-get install golang-go; scripts/setup does)")) }
        let directory = prebuiltDirectory
        for arch in platforms {
            let source = Run.quoted(Run.repositoryRoot.path + "/examples/go")
            let output = try? Run.shell("cd \(source) && GOOS=linux GOARCH=\(arch) CGO_ENABLED=0 GOFLAGS=-mod=mod "
                                        + "go build -trimpath -ldflags='-s -w' -o \(Run.quoted("\(directory)/linux-\(arch)/hello")) .")
            guard let output, output.status == 0 else { return .failure(TestError("go build for \(arch) failed: \(output?.stderr ?? "")")) }
        }
        return .success(directory)
    }()

    private func prebuilt() throws -> String {
        switch Self.prebuilt {
        case .success(let directory): return directory
        case .failure(let error):
            if ProcessInfo.processInfo.environment["SLIPWAY_TEST_REQUIRE_REGISTRY"] == "1" { throw error }
            throw XCTSkip(error.description)
        }
    }

    /// A stand-in for node/python/nginx images (Docker Hub is not reached in the tests): a
    /// two-platform OCI layout whose /etc/base-arch names its platform.
    private func baseLayout() throws -> String {
        let context = work + "/base-ctx"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY <<EOF /etc/base-arch\n${TARGETARCH}\nEOF\n"], under: context)
        try Run.slipway(["build", "-q", "--platform", "linux/amd64,linux/arm64", "-t", "base:1", "--output", "type=oci,dest=\(work)/base,tar=false", context],
                        environment: ["XDG_CACHE_HOME": work + "/cache"])
        return work + "/base"
    }

    /// Copies examples/NAME, runs its build.sh, builds both platforms; returns each platform's
    /// unpacked file system and config.
    private func build(_ name: String, environment: [String: String] = [:], baseArg: String? = nil) throws -> [String: (root: String, config: [String: Any])] {
        let context = work + "/" + name
        try Run.mustShell("cp -R \(Run.quoted(Run.repositoryRoot.path + "/examples/" + name)) \(Run.quoted(context))")
        let prepared = try Run.command("bash", [context + "/build.sh"], environment: environment)
        XCTAssertEqual(prepared.status, 0, "examples/\(name)/build.sh: \(prepared.stderr)")
        var arguments = ["build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64", "-t", "example/\(name):1",
                         "--output", "type=oci,dest=\(work)/out-\(name),tar=false"]
        if let baseArg {
            arguments += ["--build-arg", "\(baseArg)=base", "--build-context", "base=oci-layout://\(try baseLayout()):1"]
        }
        try Run.slipway(arguments + [context], environment: ["XDG_CACHE_HOME": work + "/cache"])
        var images: [String: (root: String, config: [String: Any])] = [:]
        for arch in Self.platforms {
            let layout = "oci:\(work)/out-\(name):1"
            let inspected = try Run.json(Run.tool("skopeo", ["inspect", "--override-os", "linux", "--override-arch", arch, layout]))
            let layers = try XCTUnwrap(inspected["Layers"] as? [String], "\(inspected)")
            let root = "\(work)/root-\(name)-\(arch)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            for layer in layers {
                try Run.tool("bsdtar", ["-xf", "\(work)/out-\(name)/blobs/sha256/\(layer.dropFirst("sha256:".count))", "-C", root])
            }
            let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "--override-os", "linux", "--override-arch", arch, layout]))
            XCTAssertEqual(config["architecture"] as? String, arch)
            images[arch] = (root, config)
        }
        return images
    }

    /// The ELF machine of a file: x86-64 (62) for amd64, AArch64 (183) for arm64.
    private func assertBinary(_ path: String, isFor arch: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let data = FileManager.default.contents(atPath: path), data.count > 20, data.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]) else {
            return XCTFail("\(path) is missing or not an ELF file", file: file, line: line)
        }
        let machine = Int(data[18]) | Int(data[19]) << 8
        XCTAssertEqual(machine, arch == "amd64" ? 62 : 183, "\(path) is built for the wrong CPU", file: file, line: line)
    }

    private func assertBaseArch(_ root: String, _ arch: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try? String(contentsOfFile: root + "/etc/base-arch", encoding: .utf8), arch + "\n", "the platform's base image", file: file, line: line)
    }

    private func assertStaticBinaryRecipe(_ name: String, prebuilt: Bool) throws {
        let images = try build(name, environment: prebuilt ? ["PREBUILT": try self.prebuilt()] : [:])
        for (arch, image) in images {
            assertBinary(image.root + "/usr/local/bin/hello", isFor: arch)
            XCTAssertEqual((image.config["config"] as? [String: Any])?["User"] as? String, "65532:65532")
        }
    }

    func testGoCrossCompiledPerTargetArch() throws {
        _ = try prebuilt()   // go is needed
        try assertStaticBinaryRecipe("go", prebuilt: false)
    }

    func testRustTargetTriplesPickedPerTargetArch() throws { try assertStaticBinaryRecipe("rust", prebuilt: true) }

    func testSwiftStaticLinuxSDKOutputPickedPerTargetArch() throws { try assertStaticBinaryRecipe("swift", prebuilt: true) }

    func testGoReleaserDistLayout() throws { try assertStaticBinaryRecipe("goreleaser", prebuilt: true) }

    func testNodeModulesPerPlatform() throws {
        let images = try build("node", environment: ["PREBUILT": try prebuilt()], baseArg: "NODE_IMAGE")
        for (arch, image) in images {
            assertBinary(image.root + "/app/node_modules/hello-native/build/Release/hello.node", isFor: arch)
            XCTAssertTrue(FileManager.default.fileExists(atPath: image.root + "/app/server.js"))
            assertBaseArch(image.root, arch)
        }
    }

    func testPythonWheelsPerPlatform() throws {
        let probe = try Run.command("python3", ["-c", "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/markupsafe/', timeout=15)"])
        if probe.status != 0 {
            throw XCTSkip("offline: PyPI cannot be reached, so the Python recipe cannot download its wheels (\(probe.stderr.split(separator: "\n").last ?? ""))")
        }
        let images = try build("python", baseArg: "PYTHON_IMAGE")
        for (arch, image) in images {
            let package = image.root + "/app/site-packages/markupsafe"
            let speedups = try FileManager.default.contentsOfDirectory(atPath: package).filter { $0.hasPrefix("_speedups.") && $0.hasSuffix(".so") }
            XCTAssertEqual(speedups.count, 1, "one compiled module in \(package)")
            for module in speedups {
                XCTAssertTrue(module.contains(arch == "amd64" ? "x86_64" : "aarch64"), module)
                assertBinary(package + "/" + module, isFor: arch)
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: image.root + "/app/app.py"))
            XCTAssertEqual((image.config["config"] as? [String: Any]).flatMap { $0["Env"] as? [String] }?.contains("PYTHONPATH=/app/site-packages"), true)
            assertBaseArch(image.root, arch)
        }
    }

    func testStaticSiteOnThePlatformsWebServerImage() throws {
        let images = try build("static-site", baseArg: "NGINX_IMAGE")
        let page = try String(contentsOfFile: Run.repositoryRoot.path + "/examples/static-site/site/index.html", encoding: .utf8)
        for (arch, image) in images {
            XCTAssertEqual(try String(contentsOfFile: image.root + "/usr/share/nginx/html/index.html", encoding: .utf8), page)
            XCTAssertTrue(FileManager.default.fileExists(atPath: image.root + "/usr/share/nginx/html/style.css"))
            assertBaseArch(image.root, arch)
        }
    }
}
