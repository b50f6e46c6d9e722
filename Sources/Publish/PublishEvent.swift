import Builder
import OCI
import Registry

/// What the workflows report while they work, for a front end to render. Delivered from many
/// tasks at once: the handler must be thread-safe and quick.
public enum PublishEvent: Sendable {
    /// A build starts for these platforms from this Dockerfile (as messages name it).
    case building(platforms: [Platform], dockerfile: String)
    case build(BuildEvent)
    /// Something worth knowing that did not stop the work (e.g. a build warning).
    case warning(String)
    /// The build result was written to this output.
    case exported(BuildOutput)
    /// The build finished (and every output is written): its digests.
    case built(BuildResult)
    /// A copy starts: the source pinned to its digest, and the root's media type.
    case copying(source: String, mediaType: String)
    case pull(PullEvent)
    /// `--create-repository` created this ECR repository (its URI).
    case repositoryCreated(String)
    case push(PushEvent)
    /// Every blob and manifest of a push is done.
    case pushFinished(seconds: Double)
    /// `--scan-gate`: waiting for ECR's scans, and each image's result.
    case scanGate(ECRScanGateEvent)
    /// A reference now names the image; `alreadyPublished` when an immutable tag already did.
    case published(PushedReference)
    /// `--cache-to`: the layer cache (`layers` entries) was written to this destination.
    case cacheExported(destination: String, digest: Digest, layers: Int)
    /// The cache was over its size bound (`limit` bytes): least recently used blobs went.
    case cachePruned(ContentStore.PruneResult, limit: Int64)
}

/// Receives workflow events.
public typealias PublishEventHandler = @Sendable (PublishEvent) -> Void
