"""0.1.x's ``mlsysim.models.registry``: the model registry and its per-domain groups."""
from .._compat01 import Registry, lazy_names

__all__ = ["Models", "LanguageModels", "VisionModels", "TinyModels", "RecommendationModels",
           "StateSpaceModels", "GenerativeVisionModels"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Models": Registry("Models"),
    "LanguageModels": Registry("Models.Language"),
    "VisionModels": Registry("Models.Vision"),
    "TinyModels": Registry("Models.Tiny"),
    "RecommendationModels": Registry("Models.Recommendation"),
    "StateSpaceModels": Registry("Models.StateSpace"),
    "GenerativeVisionModels": Registry("Models.GenerativeVision"),
})
