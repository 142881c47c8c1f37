"""Re-export of mlsysim.formatting (the leaf module every layer may use, specs included)."""
from ..formatting import human

__all__ = ["human"]
