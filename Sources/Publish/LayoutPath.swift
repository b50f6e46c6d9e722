/// `PATH[:TAG|@sha256:…]`, how `push`, `copy oci:` and `--build-context NAME=oci-layout://`
/// name one image of an OCI layout: split once, here, so every command reads it alike.
enum LayoutPath {
    /// The layout's path and the tag or digest after it (nil when none is given). A colon
    /// counts as a tag separator only in the last path component (`./dir:with/colon` is a path).
    static func split(_ text: String) -> (path: String, reference: String?) {
        if let at = text.range(of: "@sha256:") {
            return (String(text[..<at.lowerBound]), String(text[text.index(after: at.lowerBound)...]))
        }
        if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        }
        return (text, nil)
    }
}
