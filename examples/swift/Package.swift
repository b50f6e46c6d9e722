// swift-tools-version:5.9
import PackageDescription

let package = Package(name: "hello", targets: [.executableTarget(name: "hello")])
