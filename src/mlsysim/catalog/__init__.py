"""The TOML catalog: where it lives, how it is validated (JSON Schema, pint units) and cached, and the one
cattrs converter that turns validated data into spec objects."""
from .loader import Catalog, build_spec, load_catalog

__all__ = ["Catalog", "build_spec", "load_catalog"]
