import Foundation
import TestSupport

/// An independent reader of cosign signatures, in Python with `cryptography` and the registry
/// API over `urllib` (nothing of slipway's): it fetches `sha256-<hex>.sig` manifests and their
/// payload blobs, checks each payload's digest, its simple-signing fields and the ECDSA
/// signature with the public key, and can rewrite signature manifests to tamper with them.
enum SignatureVerifier {
    static let script = #"""
import base64, hashlib, json, ssl, sys, urllib.request, urllib.error
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.exceptions import InvalidSignature

host, repo, ca, user, password, command = sys.argv[1:7]
args = sys.argv[7:]
context = ssl.create_default_context(cafile=ca)
auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

def call(method, path, body=None, headers=None):
    request = urllib.request.Request(f"https://{host}/v2/{repo}/{path}", data=body, method=method,
                                     headers={"Authorization": auth, **(headers or {})})
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers

def sig_tag(digest): return digest.replace(":", "-") + ".sig"

def manifest(reference):
    status, body, _ = call("GET", f"manifests/{reference}", headers={"Accept": MANIFEST})
    return (json.loads(body), body) if status == 200 else (None, None)

def blob(digest):
    status, body, _ = call("GET", f"blobs/{digest}")
    assert status == 200, (digest, status)
    return body

def put_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, _, headers = call("POST", "blobs/uploads/")
    location = headers["Location"]
    url = location if location.startswith("http") else f"https://{host}{location}"
    url += ("&" if "?" in url else "?") + f"digest={digest}"
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Authorization": auth, "Content-Type": "application/octet-stream"})
    urllib.request.urlopen(request, context=context).read()
    return digest

def put_manifest(reference, document):
    body = json.dumps(document, separators=(",", ":")).encode()
    status, text, _ = call("PUT", f"manifests/{reference}", body, {"Content-Type": MANIFEST})
    assert status in (200, 201), (status, text)

def check_layer(public, layer, digest):
    payload = blob(layer["digest"])
    if "sha256:" + hashlib.sha256(payload).hexdigest() != layer["digest"]: return "payload digest"
    if layer["mediaType"] != "application/vnd.dev.cosign.simplesigning.v1+json": return "media type " + layer["mediaType"]
    critical = json.loads(payload)["critical"]
    if critical["type"] != "cosign container image signature": return "type"
    if critical["image"]["docker-manifest-digest"] != digest: return "digest"
    if critical["identity"]["docker-reference"] != f"{host}/{repo}": return "reference"
    signature = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    try:
        public.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        return None
    except InvalidSignature:
        return "signature"

SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"

def referrers(digest):
    """The referrers API (every page, by Link rel=next) or, on 404, the sha256-<hex> tag index."""
    listed, path, api = [], f"referrers/{digest}", True
    while path:
        status, body, headers = call("GET", path, headers={"Accept": "application/vnd.oci.image.index.v1+json"})
        if status == 404 and not listed:
            api = False
            document, _ = manifest_of(digest.replace(":", "-"), "application/vnd.oci.image.index.v1+json")
            return (document or {}).get("manifests", []), api
        assert status == 200, (path, status)
        listed += json.loads(body)["manifests"]
        link = headers.get("Link") or ""
        path = None
        if 'rel="next"' in link:
            target = link.split(">")[0].lstrip("<")
            path = target.split(f"/v2/{repo}/", 1)[1]
    return listed, api

def manifest_of(reference, accept):
    status, body, _ = call("GET", f"manifests/{reference}", headers={"Accept": accept})
    return (json.loads(body), body) if status == 200 else (None, None)

if command == "verify-referrers":
    public = serialization.load_pem_public_key(open(args[0], "rb").read())
    report = {}
    for digest in args[1].split(","):
        listed, api = referrers(digest)
        entry = {"api": api, "referrers": 0, "signatures": 0, "valid": 0, "last_valid": 0, "errors": [], "shapes": []}
        seen = set()
        for item in [e for e in listed if e.get("artifactType") == SIG_ARTIFACT]:
            entry["referrers"] += 1
            document, _ = manifest_of(item["digest"], MANIFEST)
            entry["shapes"].append({"artifactType": document.get("artifactType"), "config": document["config"]["mediaType"],
                                    "subject": document.get("subject", {}).get("digest"), "layers": len(document["layers"])})
            if document.get("subject", {}).get("digest") != digest: entry["errors"].append("subject"); continue
            last = item is [e for e in listed if e.get("artifactType") == SIG_ARTIFACT][-1]
            for layer in document["layers"]:
                error = check_layer(public, layer, digest)
                key = (layer["digest"], layer["annotations"]["dev.cosignproject.cosign/signature"])
                if last and error is None: entry["last_valid"] += 1
                if key in seen: continue
                seen.add(key)
                entry["signatures"] += 1
                if error: entry["errors"].append(error)
                else: entry["valid"] += 1
        report[digest] = entry
    print(json.dumps(report))
elif command == "tamper-referrer":
    # Flips a bit of every signature in every signature referrer of the digest, pushes the altered
    # manifests by digest and lists them in the fallback index in place of the originals.
    digest = args[0]
    tag = digest.replace(":", "-")
    index, _ = manifest_of(tag, "application/vnd.oci.image.index.v1+json")
    for item in index["manifests"]:
        if item.get("artifactType") != SIG_ARTIFACT: continue
        document, _ = manifest_of(item["digest"], MANIFEST)
        for layer in document["layers"]:
            raw = bytearray(base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"]))
            raw[-1] ^= 0x01
            layer["annotations"]["dev.cosignproject.cosign/signature"] = base64.b64encode(bytes(raw)).decode()
        body = json.dumps(document, separators=(",", ":")).encode()
        item["digest"] = "sha256:" + hashlib.sha256(body).hexdigest()
        item["size"] = len(body)
        put_manifest(item["digest"], document)
    body = json.dumps(index, separators=(",", ":")).encode()
    status, text, _ = call("PUT", f"manifests/{tag}", body, {"Content-Type": "application/vnd.oci.image.index.v1+json"})
    assert status in (200, 201), (status, text)
elif command == "move-referrer":
    # Lists the referrers of args[0] (another image) of artifact type args[2] (default: cosign
    # signatures) in args[1]'s fallback index, in place of its own.
    SIG_ARTIFACT = args[2] if len(args) > 2 else SIG_ARTIFACT
    source, _ = manifest_of(args[0].replace(":", "-"), "application/vnd.oci.image.index.v1+json")
    target_tag = args[1].replace(":", "-")
    target, _ = manifest_of(target_tag, "application/vnd.oci.image.index.v1+json")
    target = target or {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    target["manifests"] = [e for e in target["manifests"] if e.get("artifactType") != SIG_ARTIFACT] + \
        [e for e in source["manifests"] if e.get("artifactType") == SIG_ARTIFACT]
    body = json.dumps(target, separators=(",", ":")).encode()
    status, text, _ = call("PUT", f"manifests/{target_tag}", body, {"Content-Type": "application/vnd.oci.image.index.v1+json"})
    assert status in (200, 201), (status, text)
elif command == "verify":
    public = serialization.load_pem_public_key(open(args[0], "rb").read())
    report = {}
    for digest in args[1].split(","):
        document, _ = manifest(sig_tag(digest))
        entry = {"signatures": 0, "valid": 0, "errors": []}
        for layer in (document or {}).get("layers", []):
            entry["signatures"] += 1
            payload = blob(layer["digest"])
            if "sha256:" + hashlib.sha256(payload).hexdigest() != layer["digest"]:
                entry["errors"].append("payload digest"); continue
            if layer["mediaType"] != "application/vnd.dev.cosign.simplesigning.v1+json":
                entry["errors"].append("media type " + layer["mediaType"]); continue
            fields = json.loads(payload)
            critical = fields["critical"]
            if critical["type"] != "cosign container image signature": entry["errors"].append("type"); continue
            if critical["image"]["docker-manifest-digest"] != digest: entry["errors"].append("digest"); continue
            if critical["identity"]["docker-reference"] != f"{host}/{repo}": entry["errors"].append("reference"); continue
            signature = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
            try:
                public.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
                entry["valid"] += 1
            except InvalidSignature:
                entry["errors"].append("signature")
        report[digest] = entry
    print(json.dumps(report))
elif command == "sig-manifest":
    document, body = manifest(sig_tag(args[0]))
    print(json.dumps({"document": document, "digest": "sha256:" + hashlib.sha256(body).hexdigest() if body else None}))
elif command == "tamper-signature":
    document, _ = manifest(sig_tag(args[0]))
    layer = document["layers"][0]
    raw = bytearray(base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"]))
    raw[-1] ^= 0x01
    layer["annotations"]["dev.cosignproject.cosign/signature"] = base64.b64encode(bytes(raw)).decode()
    put_manifest(sig_tag(args[0]), document)
elif command == "tamper-payload":
    document, _ = manifest(sig_tag(args[0]))
    layer = document["layers"][0]
    payload = blob(layer["digest"]).replace(b'"optional":null', b'"optional":{"x":"y"}')
    layer["digest"] = put_blob(payload)
    layer["size"] = len(payload)
    put_manifest(sig_tag(args[0]), document)
elif command == "payloads":
    document, _ = manifest(sig_tag(args[0]))
    print(json.dumps({"payloads": [json.loads(blob(layer["digest"])) for layer in document["layers"]]}))
elif command == "many-layers":
    document, _ = manifest(sig_tag(args[0]))
    document["layers"] = document["layers"] * int(args[1])
    put_manifest(sig_tag(args[0]), document)
elif command == "oversize-payload":
    document, _ = manifest(sig_tag(args[0]))
    layer = document["layers"][0]
    big = blob(layer["digest"]) + b" " * int(args[1])
    layer["digest"] = put_blob(big)
    layer["size"] = len(big)
    put_manifest(sig_tag(args[0]), document)
elif command == "move-signature":
    document, _ = manifest(sig_tag(args[0]))
    put_manifest(sig_tag(args[1]), document)
"""#

    /// Runs a command of the script against `repository` on `host` of the test registries.
    static func run(_ registry: TestRegistries, host: String, repository: String, _ command: String, _ arguments: [String]) throws -> String {
        let output = try Run.command("python3", ["-c", script, host, repository, registry.ca, registry.user, registry.password, command] + arguments)
        guard output.status == 0 else { throw TestError("signature verifier \(command) failed: \(output.stderr)") }
        return output.stdout
    }

    /// Per digest: how many signatures its `.sig` manifest has and how many verify with `publicKey`.
    static func verify(_ registry: TestRegistries, host: String, repository: String, publicKey: String,
                       digests: [String]) throws -> [String: (signatures: Int, valid: Int, errors: [String])] {
        let json = try Run.json(try run(registry, host: host, repository: repository, "verify", [publicKey, digests.joined(separator: ",")]))
        var out: [String: (Int, Int, [String])] = [:]
        for (digest, value) in json {
            let entry = value as? [String: Any] ?? [:]
            out[digest] = (entry["signatures"] as? Int ?? -1, entry["valid"] as? Int ?? -1, entry["errors"] as? [String] ?? [])
        }
        return out
    }

    /// Per digest, cosign's OCI 1.1 storage read independently: its signature referrers (from
    /// the referrers API, every page, else the `sha256-<hex>` tag index), their shapes, the
    /// distinct signatures and how many verify, and how many verify in the last referrer
    /// alone (what `cosign verify --experimental-oci11` reads).
    static func verifyReferrers(_ registry: TestRegistries, host: String, repository: String, publicKey: String,
                                digests: [String]) throws -> [String: [String: Any]] {
        let json = try Run.json(try run(registry, host: host, repository: repository, "verify-referrers", [publicKey, digests.joined(separator: ",")]))
        return json.compactMapValues { $0 as? [String: Any] }
    }

    /// Whether the PEM private key's public half is the PEM public key (checked by `cryptography`).
    static func keysMatch(privateKey: String, publicKey: String, password: String? = nil) throws -> Bool {
        let check = """
        import sys
        from cryptography.hazmat.primitives import serialization
        password = sys.argv[3].encode() if len(sys.argv) > 3 else None
        private = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password)
        public = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
        assert private.curve.name == "secp256r1", private.curve.name
        print(private.public_key().public_numbers() == public.public_numbers())
        """
        let output = try Run.command("python3", ["-c", check, privateKey, publicKey] + (password.map { [$0] } ?? []))
        guard output.status == 0 else { throw TestError("key check failed: \(output.stderr)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "True"
    }
}
