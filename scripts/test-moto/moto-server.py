#!/usr/bin/env python3
"""moto_server with ECR's tag-immutability exclusions as ECR documents them (moto 5.2 crashes
on an untagged PutImage in a repository with exclusion filters, and reads the WILDCARD
filters as regular expressions). Same arguments as moto_server."""
import re
import sys

from moto.ecr import models
from moto.ecr.exceptions import ImageAlreadyExistsException


def wildcard(pattern, text):
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text) is not None


def resolve_image_tag_mutability(self, repository, proposed_image_tag):
    """The images holding the tag; ImageAlreadyExists when the tag may not move: IMMUTABLE,
    IMMUTABLE_WITH_EXCLUSION unless a filter matches, MUTABLE_WITH_EXCLUSION when one does."""
    if not proposed_image_tag:
        return []
    existing = [i for i in repository.images if proposed_image_tag in i.image_tags]
    mode = str(getattr(repository.image_tag_mutability, "value", repository.image_tag_mutability))
    filters = repository.image_tag_mutability_exclusion_filters or []
    matched = any(wildcard(f.get("filter", ""), proposed_image_tag) for f in filters)
    immutable = mode == "IMMUTABLE" or (mode == "IMMUTABLE_WITH_EXCLUSION" and not matched) or (mode == "MUTABLE_WITH_EXCLUSION" and matched)
    if existing and immutable:
        raise ImageAlreadyExistsException(registry_id=repository.registry_id, image_tag=proposed_image_tag,
                                          digest=existing[0].get_image_digest(), repository_name=repository.name)
    return existing


models.ECRBackend._resolve_image_tag_mutability = resolve_image_tag_mutability

from moto.server import main  # noqa: E402  (after the patch)

sys.exit(main(sys.argv[1:]))
