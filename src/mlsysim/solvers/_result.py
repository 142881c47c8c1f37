"""SolverResult, the base of every solver family's result (defined with the other results in mlsysim.core)."""
from ..core.results import SolverResult

__all__ = ["SolverResult"]
