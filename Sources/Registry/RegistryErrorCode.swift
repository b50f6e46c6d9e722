/// The error codes registries send in `{"errors":[{"code":…}]}`: the distribution spec's, and
/// the ones registries use beyond it that slipway reacts to. Codes stay strings (a registry may
/// send any); these name the ones the code compares against.
public enum RegistryErrorCode {
    public static let blobUnknown = "BLOB_UNKNOWN"
    public static let blobUploadInvalid = "BLOB_UPLOAD_INVALID"
    public static let blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
    public static let digestInvalid = "DIGEST_INVALID"
    public static let manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
    public static let manifestInvalid = "MANIFEST_INVALID"
    public static let manifestUnknown = "MANIFEST_UNKNOWN"
    public static let nameInvalid = "NAME_INVALID"
    public static let nameUnknown = "NAME_UNKNOWN"
    public static let sizeInvalid = "SIZE_INVALID"
    public static let unauthorized = "UNAUTHORIZED"
    public static let denied = "DENIED"
    public static let unsupported = "UNSUPPORTED"
    public static let tooManyRequests = "TOOMANYREQUESTS"
    /// ECR's answer to a manifest PUT on an existing tag of an immutable repository.
    public static let tagInvalid = "TAG_INVALID"
    /// Other registries' names for an immutable tag refusal.
    public static let manifestTagImmutable = "MANIFEST_TAG_IMMUTABLE"
    public static let tagImmutable = "TAG_IMMUTABLE"
    public static let immutableTag = "IMMUTABLE_TAG"
    /// What an error entry without a code is recorded as.
    public static let unknown = "UNKNOWN"
}
