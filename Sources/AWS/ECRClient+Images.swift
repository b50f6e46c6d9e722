import Foundation

extension ECRClient {
    /// Every image of a repository with its details (DescribeImages, all pages); `untaggedOnly`
    /// asks ECR for `tagStatus` UNTAGGED (callers filter as well: not every endpoint does).
    public func describeAllImages(_ repository: String, untaggedOnly: Bool, registryID: String? = nil,
                                  credentials: AWSCredentials) async throws -> [ECRImageDetail] {
        struct Filter: Encodable { var tagStatus: String }
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var filter: Filter?; var nextToken: String?; var maxResults: Int }
        struct Output: Decodable { var imageDetails: [ECRImageDetail]; var nextToken: String? }
        var input = Input(repositoryName: repository, registryId: registryID, filter: untaggedOnly ? Filter(tagStatus: "UNTAGGED") : nil, maxResults: 1000)
        var all: [ECRImageDetail] = []
        for _ in 0..<10_000 {
            let out = try await rpc.call("DescribeImages", input, as: Output.self, credentials: credentials)
            all += out.imageDetails
            guard let next = out.nextToken, !next.isEmpty else { break }
            input.nextToken = next
        }
        return all
    }

    /// An image manifest as BatchGetImage returns it.
    public struct ImageManifest: Sendable, Hashable {
        public var digest: String
        public var mediaType: String?
        public var manifest: String
    }

    /// The manifests of the images with `digests` (BatchGetImage, 100 a call); images ECR
    /// cannot find are left out.
    public func batchGetImageManifests(_ repository: String, digests: [String], registryID: String? = nil,
                                       credentials: AWSCredentials) async throws -> [ImageManifest] {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var imageIds: [ImageID]; var acceptedMediaTypes: [String] }
        struct Image: Decodable {
            struct ID: Decodable { var imageDigest: String? }
            var imageId: ID?
            var imageManifest: String?
            var imageManifestMediaType: String?
        }
        struct Output: Decodable { var images: [Image]? }
        let accepted = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"]
        var result: [ImageManifest] = []
        var seen = Set<String>()
        for start in stride(from: 0, to: digests.count, by: 100) {
            let batch = digests[start..<min(start + 100, digests.count)].map { ImageID(imageDigest: $0) }
            let out = try await rpc.call("BatchGetImage", Input(repositoryName: repository, registryId: registryID, imageIds: batch, acceptedMediaTypes: accepted),
                                         as: Output.self, credentials: credentials)
            for image in out.images ?? [] {
                guard let digest = image.imageId?.imageDigest, let manifest = image.imageManifest, seen.insert(digest).inserted else { continue }
                result.append(ImageManifest(digest: digest, mediaType: image.imageManifestMediaType, manifest: manifest))
            }
        }
        return result
    }

    /// What BatchDeleteImage did: the image ids it removed and those it could not.
    public struct DeleteResult: Sendable, Hashable, Codable {
        public struct ImageID: Sendable, Hashable, Codable { public var imageDigest: String?; public var imageTag: String? }
        public struct Failure: Sendable, Hashable, Codable { public var imageId: ImageID?; public var failureCode: String?; public var failureReason: String? }
        public var imageIds: [ImageID] = []
        public var failures: [Failure] = []
    }

    /// BatchDeleteImage, 100 ids a call: a tag id removes that tag (and the image with its last
    /// tag), a digest id the image with all its tags.
    public func batchDeleteImage(_ repository: String, ids: [ECRClient.ImageSelector], registryID: String? = nil,
                                 credentials: AWSCredentials) async throws -> DeleteResult {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var imageIds: [ImageID] }
        struct Output: Decodable { var imageIds: [DeleteResult.ImageID]?; var failures: [DeleteResult.Failure]? }
        var result = DeleteResult()
        let all = ids.map { id -> ImageID in
            switch id {
            case .tag(let t): return ImageID(imageTag: t)
            case .digest(let d): return ImageID(imageDigest: d)
            }
        }
        for start in stride(from: 0, to: all.count, by: 100) {
            let out = try await rpc.call("BatchDeleteImage", Input(repositoryName: repository, registryId: registryID, imageIds: Array(all[start..<min(start + 100, all.count)])),
                                         as: Output.self, credentials: credentials)
            result.imageIds += out.imageIds ?? []
            result.failures += out.failures ?? []
        }
        return result
    }
}
