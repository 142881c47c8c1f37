"""0.1.x's ``mlsysim.models.types``: its workload class names, mapped to our model spec classes.

The classes play the same role (``isinstance`` checks and annotations work); their constructors are ours
(``TransformerSpec(layers=..., hidden_size=..., ...)``, see each spec's docstring). 0.1.x's
``ComputationGraph`` (the lowered form of a workload) has no counterpart: our engine lowers internally.
"""
from .._compat01 import Renamed, lazy_names

__all__ = ["Workload", "TransformerWorkload", "SparseTransformerWorkload", "CNNWorkload", "SSMWorkload",
           "DiffusionWorkload"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Workload": Renamed("mlsysim.specs", "ModelSpec"),
    "TransformerWorkload": Renamed("mlsysim.specs", "TransformerSpec"),
    "SparseTransformerWorkload": Renamed("mlsysim.specs", "MoESpec"),  # 0.1.x's mixture-of-experts type
    "CNNWorkload": Renamed("mlsysim.specs", "CNNSpec"),
    "SSMWorkload": Renamed("mlsysim.specs", "SSMSpec"),
    "DiffusionWorkload": Renamed("mlsysim.specs", "DiffusionSpec"),
})
