#!/usr/bin/env python3
"""Writes the SPDX 2.3 JSON SBOM of one slipway release tarball: slipway itself (the tarball
and every file in it), the Swift package it compiles in (swift-argument-parser, as
Package.resolved pins it), the Swift toolchain's runtime and Foundation, and every Debian
package whose static archive the link used (release/linked-archives). Everything in the
document derives from its inputs, so the same release gives the same bytes.

Usage: sbom.py --name N --version V --commit C --arch A --epoch S --tarball T --tree DIR
               --linked TSV --resolved Package.resolved --out FILE
(DIR: the tarball's unpacked tree, whose executable `slipway` links the listed packages)
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import uuid


def digest(path, algorithm):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spdx_id(text):
    """SPDX ids allow letters, digits, '.' and '-'."""
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", text)


def purl_version(version):
    return version.replace("+", "%2B").replace(":", "%3A").replace("~", "%7E")


def main():
    p = argparse.ArgumentParser()
    for name in ["name", "version", "commit", "arch", "epoch", "tarball", "tree", "linked", "resolved", "out"]:
        p.add_argument("--" + name, required=True)
    a = p.parse_args()

    tarball_sha256 = digest(a.tarball, "sha256")
    created = datetime.datetime.fromtimestamp(int(a.epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    slipway_id = spdx_id("Package-slipway")
    files, sha1s = [], []
    for directory, _, names in os.walk(a.tree):
        for name in names:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, a.tree)
            sha1 = digest(path, "sha1")
            sha1s.append(sha1)
            files.append({
                "SPDXID": spdx_id("File-" + relative),
                "fileName": "./" + relative,
                "fileTypes": ["BINARY"] if relative == "slipway" else ["DOCUMENTATION"] if relative.startswith(("man/", "README")) else ["TEXT"],
                "checksums": [{"algorithm": "SHA1", "checksumValue": sha1},
                              {"algorithm": "SHA256", "checksumValue": digest(path, "sha256")}],
                "licenseConcluded": "NOASSERTION",
                "copyrightText": "NOASSERTION",
            })
    files.sort(key=lambda f: f["fileName"])
    binary_id = spdx_id("File-slipway")
    packages = [{
        "SPDXID": slipway_id,
        "name": "slipway",
        "versionInfo": a.version,
        "packageFileName": a.name + ".tar.gz",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": True,
        # SPDX 2.3 section 7.9: SHA1 over the sorted SHA1s of the package's files.
        "packageVerificationCode": {"packageVerificationCodeValue": hashlib.sha1("".join(sorted(sha1s)).encode()).hexdigest()},
        "hasFiles": [f["SPDXID"] for f in files],
        "checksums": [{"algorithm": "SHA256", "checksumValue": tarball_sha256}],
        "licenseConcluded": "Apache-2.0",
        "licenseDeclared": "Apache-2.0",
        "licenseInfoFromFiles": ["NOASSERTION"],
        "copyrightText": "NOASSERTION",
        "sourceInfo": "built by scripts/release from commit " + a.commit,
        "primaryPackagePurpose": "APPLICATION",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                          "referenceLocator": "pkg:generic/slipway@%s?arch=%s" % (a.version, a.arch)}],
    }]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": slipway_id}]

    def linked(package):
        packages.append(package)
        relationships.append({"spdxElementId": binary_id, "relationshipType": "STATIC_LINK",
                              "relatedSpdxElement": package["SPDXID"]})

    with open(a.resolved) as f:
        pins = json.load(f)["pins"]
    for pin in sorted(pins, key=lambda pin: pin["identity"]):
        location = pin["location"].removesuffix(".git")
        state = pin["state"]
        host_path = re.sub(r"^https?://", "", location)
        linked({
            "SPDXID": spdx_id("Package-swift-" + pin["identity"]),
            "name": pin["identity"],
            "versionInfo": state.get("version") or state["revision"],
            "downloadLocation": "git+%s@%s" % (location, state["revision"]),
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "sourceInfo": "Swift package, revision " + state["revision"],
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": "pkg:swift/%s@%s" % (host_path, state.get("version") or state["revision"])}],
        })

    # One SPDX package per Debian (or toolchain) package, listing the archives it gave.
    archives = {}
    with open(a.linked) as f:
        for line in f:
            archive, package, version, source, source_version = line.rstrip("\n").split("\t")
            archives.setdefault((package, version, source, source_version), []).append(archive.rsplit("/", 1)[-1])
    for (package, version, source, source_version), names in sorted(archives.items()):
        entry = {
            "name": package,
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "comment": "static archives linked: " + ", ".join(sorted(names)),
        }
        if package == "swift":
            entry.update({"SPDXID": spdx_id("Package-swift-toolchain"),
                          "sourceInfo": "the Swift toolchain's static runtime, Dispatch and Foundation",
                          "supplier": "Organization: Swift.org"})
        else:
            entry.update({"SPDXID": spdx_id("Package-deb-" + package),
                          "sourceInfo": "Debian source package %s %s" % (source, source_version),
                          "supplier": "Organization: Debian",
                          "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                            "referenceLocator": "pkg:deb/debian/%s@%s?arch=%s&distro=debian-12"
                                                                % (package, purl_version(version), a.arch)}]})
        linked(entry)

    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": a.name,
        # Unique per tarball, and the same for the same tarball.
        "documentNamespace": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "slipway-release:" + tarball_sha256)),
        "creationInfo": {"created": created, "creators": ["Tool: slipway-scripts-release"]},
        "packages": packages,
        "files": files,
        "relationships": relationships,
    }
    with open(a.out, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
