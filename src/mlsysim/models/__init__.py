"""0.1.x's ``mlsysim.models``: the model registry (``Models``) and ``import_hf_model``.

``Models`` is ``mlsysim.Models``; the 0.1.x workload class names live in :mod:`mlsysim.models.types`.
Nothing is loaded until a name is used.
"""
from .._compat01 import Registry, Same, lazy_names

__all__ = ["Models", "import_hf_model"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Models": Registry("Models"),
    "import_hf_model": Same("mlsysim.models.importer", "import_hf_model"),
})
