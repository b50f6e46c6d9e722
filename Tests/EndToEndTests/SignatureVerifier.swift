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

if command == "verify":
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
