"""The root of every error the kit raises on purpose."""

from __future__ import annotations


class ProsperMockError(Exception):
    """Base class of the kit's own errors: catch this to catch them all.

    Subclasses name what went wrong in the kit's terms (a refused world change, a
    spec that cannot be served, an unusable fault rule, a refused control request);
    an HTTP status, where one applies, is chosen where the error meets HTTP.
    """
