"""Organisation identity: validated once, before it reaches a path, dataset name or SQL."""

from __future__ import annotations

import re

from focusline.errors import UsageError

ORG_SLUG_PATTERN = re.compile(r"^[a-z0-9_]{3,50}$")


def validate_org_slug(org_slug: str) -> str:
    """Return ``org_slug`` unchanged if it is a valid organisation slug, else raise UsageError."""
    if not isinstance(org_slug, str) or not ORG_SLUG_PATTERN.fullmatch(org_slug):
        raise UsageError(
            f"invalid organisation slug {org_slug!r}: use 3-50 characters from a-z, 0-9 and _",
            org=None,
        )
    return org_slug
