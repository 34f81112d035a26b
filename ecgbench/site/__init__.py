"""The static leaderboard site: ``ecgbench leaderboard --html DIR``.

Rebuilt from the run records alone (and the model cards kept beside the tables), byte for
byte reproducible, with no CDN and no server: it works from ``file://`` and from any static
host. Jinja2 templates render it; a small dependency-free script sorts and filters tables.
"""

from ecgbench.site.build import MARKER, SiteError, build_site

__all__ = ["MARKER", "SiteError", "build_site"]
