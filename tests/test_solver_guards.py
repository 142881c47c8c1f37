"""Solvers refuse impossible inputs and never return an impossible result; references between specs built in
Python are checked with an error naming the entry and field; the spec layer never imports the solver layer."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import attrs
import pytest

import mlsysim
from mlsysim import Engine, Hardware, Scenarios, Systems
from mlsysim.errors import CatalogError, InvalidInputError
from mlsysim.solvers import DistributedModel, ServingModel

SRC = Path(mlsysim.__file__).parent


@pytest.mark.parametrize("efficiency", [5e-324, 1e-310, 1e-7, 0.0, -0.1, 1.5, math.nan, math.inf])
def test_efficiency_outside_the_physical_range_is_refused(efficiency):
    with pytest.raises(InvalidInputError, match="efficiency"):
        Engine.solve("Llama3_8B", "H100", efficiency=efficiency)


def test_smallest_accepted_efficiency_gives_a_finite_result():
    fast, slow = Engine.solve("Llama3_8B", "H100", efficiency=1.0), Engine.solve("Llama3_8B", "H100",
                                                                                 efficiency=1e-6)
    assert math.isfinite(slow.latency.to("s").magnitude)
    assert slow.latency > fast.latency  # a lower efficiency is never faster


def test_distributed_model_with_subnormal_efficiency_is_refused_not_nan():
    with pytest.raises(InvalidInputError, match="efficiency"):
        DistributedModel().solve("Llama3_8B", Systems.Nodes.DGX_H100, batch_size=8, efficiency=1e-310)


def test_unknown_calibration_class_names_the_entry_and_field():
    hw = attrs.evolve(Hardware.H100, name="MyGPU", calibration_class="no_such_class")
    with pytest.raises(CatalogError) as err:
        Engine.solve("Llama3_8B", hw)
    assert "MyGPU" in str(err.value) and "calibration_class" in str(err.value)


def test_measured_rate_above_the_datasheet_peak_is_refused_when_the_spec_is_built():
    h = Hardware.H100
    table = attrs.evolve(h.calibration.matmul_flops, bf16=10 * h.calibration.matmul_flops.bf16)
    with pytest.raises(CatalogError, match="Overclocked.*above the dense datasheet peak"):
        attrs.evolve(h, name="Overclocked", calibration=attrs.evolve(h.calibration, matmul_flops=table))


def test_node_naming_an_unknown_fabric_is_a_catalog_error():
    node = attrs.evolve(Systems.Nodes.DGX_H100, name="MyNode", fabric="Systems.Fabrics.Nope")
    with pytest.raises(CatalogError) as err:
        DistributedModel().solve("Llama3_8B", node, batch_size=8)
    assert "MyNode" in str(err.value) and "fabric" in str(err.value)


def test_node_naming_an_unknown_accelerator_is_a_catalog_error():
    node = attrs.evolve(Systems.Nodes.DGX_H100, name="MyNode", accelerator="Hardware.Nope")
    with pytest.raises(CatalogError, match="accelerator"):
        DistributedModel().solve("Llama3_8B", node, batch_size=8)


def test_scenario_evaluate_accepts_its_documented_overrides():
    base = Scenarios.ChatbotServing.evaluate()
    bigger = Scenarios.ChatbotServing.evaluate(batch_size=4)  # reported: TypeError multiple values
    assert bigger.profile.batch_size == 4 and base.profile.batch_size != 4
    # More sequences per step move more KV-cache bytes: a decode step is never faster.
    assert bigger.profile.latency >= base.profile.latency


def test_scenario_evaluate_names_an_unknown_override():
    with pytest.raises(InvalidInputError, match="'batchsize'.*accepted: hardware, batch_size"):
        Scenarios.ChatbotServing.evaluate(batchsize=4)


def test_serving_model_results_are_finite():
    r = ServingModel().solve("Llama3_8B", "H100", batch_size=1, efficiency=1e-6, prompt_len=1024)
    assert all(math.isfinite(q.to_base_units().magnitude) and q.magnitude > 0
               for q in (r.latency, r.throughput, r.energy, r.ttft, r.tpot))


def _imports(path: Path) -> set[str]:
    """Modules a file imports, relative imports resolved against the package."""
    tree = ast.parse(path.read_text())
    package = ".".join(("mlsysim",) + path.relative_to(SRC).parent.parts)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            mod = ".".join(p for p in (base, node.module) if p)
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("layer, above", [
    ("specs", ("mlsysim.core", "mlsysim.solvers", "mlsysim.registry", "mlsysim.cli")),
    ("catalog", ("mlsysim.core", "mlsysim.solvers", "mlsysim.registry", "mlsysim.cli")),
])
def test_lower_layers_never_import_higher_ones(layer, above):
    offenders = {str(p.relative_to(SRC)): sorted(m for m in _imports(p) if m.startswith(above))
                 for p in (SRC / layer).rglob("*.py")}
    assert not {k: v for k, v in offenders.items() if v}


def test_scenario_evaluate_on_other_hardware():
    h100 = Scenarios.ChatbotServing.evaluate()
    h200 = Scenarios.ChatbotServing.evaluate(hardware="H200")  # reported: raw TypeError
    assert h200.profile.hardware == "H200" and h100.profile.hardware != "H200"
    # H200 has more HBM bandwidth than H100 (4.8 vs 3.35 TB/s): a memory-bound decode step is faster.
    assert h200.profile.latency < h100.profile.latency
    on_node = Scenarios.ChatbotServing.evaluate(hardware="Systems.Nodes.DGX_H100")
    assert any("per device of 8" in r for r in on_node.profile.reasons)
    with pytest.raises(mlsysim.errors.MlsysimError, match="H2000"):
        Scenarios.ChatbotServing.evaluate(hardware="H2000")
