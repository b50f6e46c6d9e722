import ArgumentParser
import Publish

/// `build --push-by-digest`: the per-runner half of a fanned-out build (buildx's
/// `--output type=image,push-by-digest=true,name-canonical=true,push=true`).
struct PushByDigestOptions: ParsableArguments {
    @Flag(name: .customLong("push-by-digest"),
          help: "Push the image untagged, by digest only, to the repository of each --tag (tags are not written); the digest goes to --metadata-file. Merge the runners' digests with 'slipway imagetools create'.")
    var enabled = false

    /// The job with the flag applied.
    func applied(to job: BuildJob) -> BuildJob {
        var job = job
        if enabled { job.pushByDigest = true }
        return job
    }
}
