"""Figures read by attribute are pint Quantities of mlsysim.ureg; the solvers' float view holds the same
number; specs built or evolved with quantities convert them; the package leaves pint's globals alone."""
from __future__ import annotations

import pickle
import subprocess
import sys

import attrs
import pytest

import mlsysim
from mlsysim import Engine, Hardware
from mlsysim.errors import CatalogError
from mlsysim.specs import MemorySpec
from mlsysim.specs.fields import figure


def test_quantity_and_float_view_hold_the_same_number():
    h = Hardware.H100
    assert figure(h, "memory.bandwidth") == h.memory._bandwidth == h.memory.bandwidth.m_as("B/s")
    assert figure(h, "peak_dense.fp8") == h.peak_dense.get("fp8") == h.peak_dense.fp8.m_as("flop/s")
    assert figure(h, "flash.capacity") is None and h.flash is None


def test_evolving_with_a_quantity_converts_to_canonical_units():
    h = Hardware.H100
    h = attrs.evolve(h, calibration=None)  # a measured bandwidth would take precedence over the datasheet
    faster = attrs.evolve(h, memory=attrs.evolve(h.memory, bandwidth=2 * h.memory.bandwidth))
    assert faster.memory._bandwidth == pytest.approx(2 * h.memory._bandwidth)
    # Twice the bandwidth never slows a memory-bound decode step, and at most halves it.
    slow, fast = Engine.solve("Llama3_8B", h), Engine.solve("Llama3_8B", faster)
    assert slow.latency / 2 <= fast.latency < slow.latency


def test_a_quantity_of_the_wrong_dimension_is_refused():
    with pytest.raises(CatalogError, match="cannot be converted to B/s"):
        MemorySpec(kind="HBM3", capacity=80 * mlsysim.ureg.GiB, bandwidth=3 * mlsysim.ureg.W)


def test_repr_shows_public_names_with_units():
    text = repr(Hardware.H100.memory)
    assert "bandwidth=3.35 TB/s" in text and "_bandwidth" not in text


def test_quantities_pickle_into_the_mlsysim_registry():
    q = Engine.solve("Llama3_8B", "H100").throughput
    back = pickle.loads(pickle.dumps(q))
    assert back == q and back._REGISTRY is mlsysim.ureg


def test_import_leaves_pint_application_registry_and_dir_clean():
    code = ("import pint; before = pint.get_application_registry()._registry; import mlsysim; mlsysim.ureg; "
            "mlsysim.Hardware.H100.tdp; assert pint.get_application_registry()._registry is before; "
            "names = dir(mlsysim); assert not {'Any', 'sys', 'warnings', 'annotations'} & set(names), names; "
            "assert 'Engine' in names and 'HardwareNode' in names")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_specs_and_results_render_in_notebooks():
    html = Hardware.H100._repr_html_()
    assert html.startswith("<table>") and "memory.bandwidth" in html and "3.35 TB/s" in html
    assert "<table>" in Engine.solve("Llama3_8B", "H100")._repr_html_()
