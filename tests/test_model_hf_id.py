"""Models.get accepts a model's Hugging Face id (the `hf_id` catalog field), case-insensitively, and an id
names one entry only."""
from __future__ import annotations

import pytest

from mlsysim import Models
from mlsysim.catalog.loader import load_catalog
from mlsysim.errors import CatalogError, UnknownEntryError
from mlsysim.registry import RegistrySet


@pytest.mark.parametrize("hf_id,name", [
    ("Qwen/Qwen3-32B", "Qwen3_32B"), ("qwen/qwen3-235b-a22b", "Qwen3_235B_A22B"),
    ("openai/gpt-oss-120b", "GPT_OSS_120B"), ("deepseek-ai/DeepSeek-R1", "DeepSeek_R1"),
    ("meta-llama/Llama-3.1-70B", "Llama3_70B"), ("deepseek-ai/DeepSeek-V3", "DeepSeekV3"),
])
def test_get_by_hugging_face_id(hf_id, name):
    spec = Models.get(hf_id)
    assert spec.name == name
    assert spec.hf_id.casefold() == hf_id.casefold()
    assert spec is getattr(Models, name)  # the same entry, not a copy


def test_issue_style_names_reach_the_existing_entries():
    assert Models.get("Llama31_8B") is Models.Llama3_8B
    assert Models.Llama31_70B is Models.Llama3_70B
    assert Models.DeepSeek_V3 is Models.DeepSeekV3


def test_unknown_hugging_face_id_is_an_unknown_entry():
    with pytest.raises(UnknownEntryError):
        Models.get("Qwen/Qwen3-999B")


def test_hf_ids_are_unique_across_the_shipped_catalog():
    ids = [m.hf_id.casefold() for m in Models if getattr(m, "hf_id", None)]
    assert len(ids) == len(set(ids)) >= 30


def _user_model(hf_id: str, name: str = "PrivateQwen", display: str = "Private Qwen") -> str:
    return f"""schema_version = 1

[[models]]
name = "{name}"
display_name = "{display}"
hf_id = "{hf_id}"
category = "Language"
architecture = "decoder"
layers = 2
hidden_size = 64
heads = 4
kv_heads = 4
head_dim = 16
ffn_size = 128
ffn_gated = true
vocab_size = 100
tied_embeddings = true
context_length = 128
position_embedding = "rotary"
norm = "rmsnorm"
bias = false
provenance = {{ source = "test fixture", checked = "2026-12-03", kind = "estimate" }}
"""


def test_duplicate_hugging_face_id_is_a_catalog_error(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.toml").write_text(_user_model("Qwen/QWEN3-32B"))
    with pytest.raises(CatalogError, match="hf_id 'Qwen/QWEN3-32B' is already used by entry 'Qwen3_32B'"):
        RegistrySet(load_catalog(extra_dirs=[tmp_path], use_cache=False))


def test_user_model_is_found_by_its_hugging_face_id(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.toml").write_text(_user_model("acme/tiny-qwen"))
    reg = RegistrySet(load_catalog(extra_dirs=[tmp_path], use_cache=False))
    assert reg.roots["Models"].get("ACME/Tiny-Qwen").name == "PrivateQwen"


def test_malformed_hugging_face_id_is_refused_by_the_schema(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.toml").write_text(_user_model("not an id"))
    with pytest.raises(CatalogError, match="hf_id"):
        load_catalog(extra_dirs=[tmp_path], use_cache=False)
