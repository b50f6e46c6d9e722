/// One image's contents for its SBOM: its layers' findings applied in order, so a package
/// database or file that an upper layer deletes (whiteout) or replaces is gone.
struct ImageInventory {
    var packages: [FoundPackage] = []
    var files: [LayerFindings.File] = []
    var osRelease: OSRelease?
    var oversized: [String] = []

    init(layers: [LayerFindings]) {
        var packagesByLocation: [String: [FoundPackage]] = [:]
        var releases: [String: OSRelease] = [:]
        var filesByPath: [String: LayerFindings.File] = [:]
        func drop<Value>(_ map: inout [String: Value], below directory: String, includingItself: Bool) {
            let prefix = directory.isEmpty ? "" : directory + "/"
            for key in map.keys where (includingItself && key == directory) || key.hasPrefix(prefix) {
                map[key] = nil
            }
        }
        for layer in layers {
            for directory in layer.opaqueDirectories {
                drop(&packagesByLocation, below: directory, includingItself: false)
                drop(&releases, below: directory, includingItself: false)
                drop(&filesByPath, below: directory, includingItself: false)
            }
            for path in layer.removed {
                drop(&packagesByLocation, below: path, includingItself: true)
                drop(&releases, below: path, includingItself: true)
                drop(&filesByPath, below: path, includingItself: true)
            }
            for (location, found) in layer.packages { packagesByLocation[location] = found }
            for (path, release) in layer.osReleases { releases[path] = release }
            for file in layer.files { filesByPath[file.path] = file }
            oversized += layer.oversized
        }
        packages = packagesByLocation.keys.sorted().flatMap { packagesByLocation[$0] ?? [] }
        files = filesByPath.keys.sorted().compactMap { filesByPath[$0] }
        osRelease = releases["etc/os-release"] ?? releases["usr/lib/os-release"]
    }
}
