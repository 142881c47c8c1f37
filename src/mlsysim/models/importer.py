"""0.1.x's ``import_hf_model``, kept so that code importing it still imports; calling it explains the way now.

0.1.x downloaded a model's ``config.json`` from the Hugging Face Hub at call time. mlsysim does not reach the
network while simulating: a model is a catalog entry (TOML) whose geometry and parameter count are checked
against its published figures when it is loaded.
"""
from __future__ import annotations

from ..errors import InvalidInputError


def import_hf_model(model_id: str, name: str | None = None) -> None:
    """Refuse with the supported alternative: mlsysim 0.1.2 has no Hugging Face Hub importer."""
    raise InvalidInputError(
        f"import_hf_model({model_id!r}) is not supported: mlsysim does not download model configs. Use a "
        f"registry entry (mlsysim.Models.get(name); list them with mlsysim.Models.names()), or describe the "
        f"model as a [[models]] entry in a catalog TOML file (layers, hidden_size, heads, kv_heads, head_dim, "
        f"ffn_size, vocab_size ... as in the model's config.json) in a directory listed in the "
        f"MLSYSIM_CATALOG_PATH environment variable.")
