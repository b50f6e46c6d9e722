import ArgumentParser
import Publish

/// `build`'s layer cache flags, in buildx's syntax. Layers whose input is unchanged are
/// taken from the cache (the local one under `--cache-dir`, then every `--cache-from`)
/// instead of being tarred and compressed again; the result is byte-identical.
struct LayerCacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-from"), help: ArgumentHelp(
        "Reuse layers from a cache: type=registry,ref=REPO:TAG (a cache artifact or an image built with --cache-to type=inline; REF alone means the same) or type=local,src=DIR (repeatable).",
        valueName: "spec"))
    var cacheFrom: [String] = []

    @Option(name: .customLong("cache-to"), help: ArgumentHelp(
        "Export the layer cache: type=registry,ref=REPO:TAG with optional ,mode=max and ,ignore-error=true; type=local,dest=DIR; or type=inline (each layer's key in the image's layer descriptors) (repeatable).",
        valueName: "spec"))
    var cacheTo: [String] = []

    @Flag(name: .customLong("no-cache"), help: "Reuse no layer from any cache (every layer is written; keys are still recorded and exported).")
    var noCache = false

    func apply(to job: inout BuildJob) {
        job.cacheFrom = cacheFrom
        job.cacheTo = cacheTo
        job.noCache = noCache
    }
}
