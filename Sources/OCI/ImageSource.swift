import Foundation

/// Somewhere images can be read from — an OCI layout, a content store, a registry — behind
/// one small interface, so that choosing a platform's manifest (`ImageResolver`) is written
/// once and a base image picks the same manifest wherever it comes from.
/// Every method returns content verified against its digest. Async because a registry needs
/// the network; local sources simply answer at once.
public protocol ImageSource: Sendable {
    /// How the source names an image: a registry reference, a layout's tag or digest, a digest.
    associatedtype Reference: Sendable

    /// The root (index or manifest) a reference names.
    func resolveRoot(_ reference: Reference) async throws -> FetchedManifest
    /// A manifest or index listed by an index of the image `reference` names.
    func manifest(_ descriptor: Descriptor, from reference: Reference) async throws -> FetchedManifest
    /// A config-sized blob (at most 16 MiB) of that image.
    func smallBlob(_ descriptor: Descriptor, from reference: Reference) async throws -> Data
    /// Makes sure a blob of that image is in `store` (a layer, usually); nothing is copied
    /// when the store already has it.
    func copyBlob(_ descriptor: Descriptor, from reference: Reference, into store: ContentStore) async throws
}

/// A manifest or index exactly as its source holds it, with its verified digest.
public struct FetchedManifest: Sendable, Hashable {
    /// Media type (from the document, its index entry or `Content-Type`), digest and size of `data`.
    public var descriptor: Descriptor
    public var data: Data

    public init(descriptor: Descriptor, data: Data) {
        self.descriptor = descriptor
        self.data = data
    }

    public var isIndex: Bool { MediaType.isIndex(descriptor.mediaType) }
}

extension FetchedManifest {
    /// Verified bytes read from a local source: the media type is the descriptor's when that
    /// names a manifest or index (an index entry), else what the document says it is.
    public init(local data: Data, as descriptor: Descriptor) {
        let known = MediaType.isIndex(descriptor.mediaType) || MediaType.isManifest(descriptor.mediaType)
        self.init(descriptor: Descriptor(mediaType: known ? descriptor.mediaType : MediaType.ofDocument(data),
                                         digest: descriptor.digest, size: Int64(data.count)), data: data)
    }
}
