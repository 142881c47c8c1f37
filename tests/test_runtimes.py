"""Runtimes as catalog data (catalog/runtimes, schemas/runtimes.schema.json) and the physics they change in
Engine.solve(..., runtime=...): kernels per layer x per-kernel cost, and quantisation formats' real bits."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import attrs
import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.catalog.loader import load_catalog
from mlsysim.cli import main
from mlsysim.core.solver import RooflineModel
from mlsysim.errors import (CatalogError, InvalidInputError, InvalidTypeError, UnknownEntryError,
                            UnsupportedPrecisionError)
from mlsysim.registry import RegistrySet, registries
from mlsysim.specs import RuntimeSpec
from mlsysim.specs.fields import figure

REQUIRED = ("tensorrt", "trtllm", "vllm", "sglang", "llamacpp", "pytorch_eager", "torch_compile", "onnxruntime",
            "tflite", "tflite_micro", "cmsis_nn", "x_cube_ai", "microtvm", "mlx", "coreml")
RUNTIMES = list(mlsysim.Runtimes)


# -- loading -------------------------------------------------------------------------------------------------
def test_every_required_runtime_is_in_the_registry():
    assert set(REQUIRED) <= set(mlsysim.Runtimes.names())
    assert mlsysim.Runtimes.llamacpp is mlsysim.Runtimes.get("llama.cpp") is registries().roots["Runtimes"].llamacpp
    assert isinstance(mlsysim.Runtimes.vllm, RuntimeSpec)


@pytest.mark.parametrize("rt", RUNTIMES, ids=lambda r: r.name)
def test_every_figure_has_units_and_provenance(rt):
    for part in (rt, rt.kernels, rt.launch):
        assert part.provenance.source and part.provenance.kind in ("datasheet", "paper", "measured", "estimate")
    assert rt.launch.kernel_cost.to("us").magnitude > 0  # a pint Quantity in seconds
    assert figure(rt, "launch.kernel_cost") == pytest.approx(rt.launch.kernel_cost.m_as("s"))
    if rt.launch.graph_phases:
        assert rt.launch.graph_kernel_cost <= rt.launch.kernel_cost
    for fmt in rt.quantization:
        assert fmt.provenance.source and fmt.provenance.checked


@pytest.mark.parametrize("rt", RUNTIMES, ids=lambda r: r.name)
def test_hardware_classes_are_calibration_classes(rt):
    assert set(rt.hardware_classes) <= set(registries().calibration)


def test_a_format_name_means_the_same_bits_in_every_runtime():
    bits: dict[str, set[float]] = {}
    for rt in RUNTIMES:
        for fmt in rt.quantization:
            bits.setdefault(fmt.name, set()).add(fmt.bits_per_weight)
    assert {name: b for name, b in bits.items() if len(b) > 1} == {}


# Bits per weight derived by hand from each format's block layout (scales and zero points included).
HAND = {
    ("llamacpp", "q4_0"): 4 + 16 / 32,          # 32 x 4-bit + one fp16 scale
    ("llamacpp", "q8_0"): 8 + 16 / 32,          # 32 x int8 + one fp16 scale
    ("vllm", "awq_int4"): 4 + (16 + 4) / 128,   # fp16 scale + packed 4-bit zero per group of 128
    ("vllm", "mxfp4"): 4 + 8 / 32,              # OCP MX: E8M0 scale per 32 E2M1
    ("vllm", "nvfp4"): 4 + 8 / 16,              # E4M3 scale per 16 E2M1
    ("vllm", "fp8_e4m3"): 8.0,                  # per-tensor scale: negligible
    ("pytorch_eager", "int4wo_g128"): 4 + 32 / 128,  # bf16 scale + bf16 zero per group of 128
    ("mlx", "mlx_q4"): 4 + 32 / 64,             # fp16 scale + fp16 bias per group of 64
}


@pytest.mark.parametrize("key", sorted(HAND), ids=lambda k: "-".join(k))
def test_bits_per_weight_from_the_block_layout(key):
    fmt = mlsysim.Runtimes.get(key[0]).quant_format(key[1])
    assert fmt.bits_per_weight == pytest.approx(HAND[key], rel=1e-3)
    if fmt.layout_bits is not None:
        assert fmt.layout_bits == pytest.approx(HAND[key], rel=1e-9)


def test_q4_k_m_is_a_mix_near_4_8_bits():
    fmt = mlsysim.Runtimes.llamacpp.quant_format("Q4_K_M")  # case-insensitive
    assert fmt.block_size is None and 4.7 < fmt.bits_per_weight < 4.95


def test_list_runtimes_cli(capsys):
    assert main(["list", "runtimes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= set(REQUIRED) and {r["kind"] for r in rows} == {"RuntimeSpec"}


def test_show_runtime_lists_its_formats(capsys):
    assert main(["show", "llamacpp"]) == 0
    out = capsys.readouterr().out
    assert "quantization.q4_0.bits_per_weight" in out and "launch.kernel_cost" in out


# -- schema and spec errors name the file, the entry and the field ----------------------------------------------
ENTRY = """\
    schema_version = 1

    [[runtimes]]
    name = "private_rt"
    display_name = "Private RT"
    hardware_classes = ["datacenter_gpu"]
    precisions = ["fp16"]
    packs_ragged = false
    kernels = { decode = 9, prefill = 9, per_pass = 2, provenance = { source = "test", checked = "2026-12-03", kind = "estimate" } }
    launch = { kernel_cost = "KERNEL_COST", graph_phases = GRAPHS, provenance = { source = "test", checked = "2026-12-03", kind = "estimate" } }
    fusion = { norm = true, activation = true, residual = true, batchnorm = true }
    provenance = { source = "test", checked = "2026-12-03", kind = "estimate" }

    [[runtimes.quantization]]
    name = "q4_test"
    storage = "int4"
    bits_per_weight = BITS
    weight_only = true
    block_size = 32
    element_bits = 4
    scale_bits = 16
    provenance = { source = "test", checked = "2026-12-03", kind = "datasheet" }
"""


def private(tmp_path: Path, **subs: str) -> RegistrySet:
    text = textwrap.dedent(ENTRY)
    for key, value in {"KERNEL_COST": "5 us", "GRAPHS": "[]", "BITS": "4.5", **subs}.items():
        text = text.replace(key, value)
    (tmp_path / "runtimes").mkdir()
    (tmp_path / "runtimes" / "private.toml").write_text(text)
    return RegistrySet(load_catalog(extra_dirs=[tmp_path], use_cache=False))


def test_valid_private_runtime_is_merged(tmp_path):
    reg = private(tmp_path)
    rt = reg.roots["Runtimes"].private_rt
    assert rt.launch.kernel_cost.m_as("us") == pytest.approx(5.0) and rt.quant_format("q4_test").bits_per_weight == 4.5
    assert reg.roots["Runtimes"].llamacpp.name == "llamacpp"


@pytest.mark.parametrize("subs,fragments", [
    ({"KERNEL_COST": "5 parsecs"}, ["private.toml", "'private_rt'", "launch.kernel_cost", "s"]),
    ({"KERNEL_COST": "-5 us"}, ["private.toml", "'private_rt'", "launch.kernel_cost"]),
    ({"BITS": "4.0"}, ["private.toml", "'private_rt'", "quantization.q4_test.bits_per_weight", "block layout"]),
    ({"GRAPHS": '["decode"]'}, ["private.toml", "'private_rt'", "launch.graph_kernel_cost"]),
    ({"GRAPHS": '["warp"]'}, ["private.toml", "'private_rt'", "launch.graph_phases"]),
    ({'precisions = ["fp16"]': 'precisions = ["fp12"]'}, ["private.toml", "'private_rt'", "precisions"]),
    ({'packs_ragged = false': 'packs_ragged = false\nflops = 3'}, ["private.toml", "'private_rt'", "flops"]),
    ({'decode = 9, ': ''}, ["private.toml", "'private_rt'", "kernels.decode", "required"]),
])
def test_broken_runtime_names_file_entry_field(tmp_path, subs, fragments):
    with pytest.raises(CatalogError) as info:
        private(tmp_path, **subs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert "\n" not in message


def test_graph_cost_above_eager_cost_is_refused():
    launch = mlsysim.Runtimes.vllm.launch
    with pytest.raises(CatalogError, match="graph_kernel_cost"):
        attrs.evolve(launch, graph_kernel_cost=2 * figure(launch, "kernel_cost"))


# -- physics ------------------------------------------------------------------------------------------------------
def without_graphs(rt: RuntimeSpec) -> RuntimeSpec:
    return attrs.evolve(rt, launch=attrs.evolve(rt.launch, graph_phases=(), graph_kernel_cost=None))


def with_kernels(rt: RuntimeSpec, extra: int) -> RuntimeSpec:
    k = rt.kernels
    return attrs.evolve(rt, kernels=attrs.evolve(k, decode=k.decode + extra, prefill=k.prefill + extra))


GPU_CASES = [("Llama3_8B", "H100", 1, "fp16", {}), ("Llama3_8B", "H100", 32, "bf16", {}),
             ("Llama3_70B", "H200", 8, "fp16", {}), ("Llama3_8B", "A100", 4, "fp16", {"prefill": True}),
             ("Llama3_8B", "RTX4090", 1, "fp16", {})]


@pytest.mark.parametrize("name", ["vllm", "sglang", "trtllm", "llamacpp"])
@pytest.mark.parametrize("case", GPU_CASES, ids=lambda c: f"{c[0]}-{c[1]}-b{c[2]}-{'prefill' if c[4] else 'decode'}")
def test_cuda_graphs_are_never_slower(name, case):
    model, hw, batch, prec, opts = case
    rt = mlsysim.Runtimes.get(name)
    if mlsysim.Hardware.get(hw).calibration_class not in rt.hardware_classes:
        pytest.skip(f"{name} does not run on {hw}")
    graphs = RooflineModel().solve(model, hw, batch, prec, runtime=rt, **opts)
    eager = RooflineModel().solve(model, hw, batch, prec, runtime=without_graphs(rt), **opts)
    assert graphs.latency <= eager.latency
    if not opts:  # decode is the phase these runtimes capture: strictly faster there
        assert graphs.latency < eager.latency


@pytest.mark.parametrize("name", ["pytorch_eager", "llamacpp", "vllm", "tensorrt"])
@pytest.mark.parametrize("model,hw,prec,train", [("Llama3_8B", "H100", "bf16", False),
                                                 ("BERT_Base", "A100", "fp16", False),
                                                 ("Llama3_8B", "H100", "bf16", True),
                                                 ("ResNet50", "A100", "fp16", False)])
def test_more_kernels_per_layer_is_never_faster(name, model, hw, prec, train):
    rt = mlsysim.Runtimes.get(name)
    if prec not in rt.precisions or (train and name not in ("pytorch_eager",)):
        pytest.skip(f"{name} does not run {prec}{' training' if train else ''} here")
    times = [Engine.solve(model, hw, 8, prec, runtime=with_kernels(rt, extra), is_training=train).latency.m_as("s")
             for extra in (0, 1, 5, 20)]
    assert times == sorted(times)
    if mlsysim.Models.get(model).architecture in ("decoder", "encoder"):  # transformer layers: strictly slower
        assert times[0] < times[-1]


def test_llamacpp_decode_has_a_fixed_per_token_overhead_by_hand():
    rt, m = mlsysim.Runtimes.llamacpp, mlsysim.Models.Llama3_8B
    r = Engine.solve(m, "H100", 1, "q4_0", runtime="llamacpp")
    # decode is replayed from a CUDA graph, at the datacenter_gpu figure of launch.by_class
    per_kernel = figure(rt.launch.override("datacenter_gpu"), "graph_kernel_cost")
    assert rt.kernels.decode == 26 and m.layers == 32
    # layers x kernels per layer x cost, plus the runtime's kernels outside the layers
    assert r.overhead_s == pytest.approx((32 * 26 + rt.kernels.per_pass) * per_kernel, rel=1e-12)
    assert r.overhead_s == pytest.approx(837 * 6.48e-6, rel=1e-12)
    assert r.latency.m_as("s") == pytest.approx(max(r.compute_time_s, r.memory_time_s) + r.overhead_s, rel=0.05)
    # the fixed cost does not scale with bandwidth: a workstation GPU pays its own class's per-kernel figure
    slow = Engine.solve(m, "RTX4090", 1, "q4_0", runtime="llamacpp")
    assert slow.overhead_s == pytest.approx(837 * rt.launch.per_kernel("decode", "workstation_gpu"))
    assert any("llama.cpp" in line and "837 kernels" in line for line in r.reasons)


def test_q4_0_weights_take_4_5_bits():
    m = mlsysim.Models.Llama3_8B
    r = Engine.solve(m, "H100", 1, "q4_0", runtime="llamacpp")
    assert r.memory.weights == pytest.approx(m.parameter_count * 4.5 / 8, rel=1e-12)
    plain = Engine.solve(m, "H100", 1, "int4")  # bare 4-bit weights without scales
    assert r.memory.weights == pytest.approx(plain.memory.weights * 4.5 / 4, rel=1e-12)
    assert r.precision == "q4_0" and r.compute_precision in ("fp16", "bf16")
    assert any("q4_0" in line and "4.5 bits" in line for line in r.reasons)


def test_more_bits_per_weight_is_slower_in_memory_bound_decode():
    times = [Engine.solve("Llama3_8B", "H100", 1, p, runtime="llamacpp").latency.m_as("s")
             for p in ("q4_0", "q4_k_m", "q8_0", "fp16")]
    assert times == sorted(times) and times[0] < times[-1]


def test_native_format_uses_native_units_where_they_exist():
    on_b200 = Engine.solve("Llama3_70B", "B200", 64, "nvfp4", runtime="trtllm")
    on_h100 = Engine.solve("Llama3_70B", "H100", 64, "nvfp4", runtime="trtllm")
    assert on_b200.compute_precision == "fp4" and on_h100.compute_precision in ("fp16", "bf16")
    assert on_b200.memory.weights == pytest.approx(on_h100.memory.weights)
    assert on_b200.memory.weights == pytest.approx(mlsysim.Models.Llama3_70B.parameter_count * 4.5 / 8)


def test_training_launches_three_times_the_forward_kernels():
    rt = mlsysim.Runtimes.pytorch_eager
    m = mlsysim.Models.Llama3_8B
    r = Engine.solve(m, "H100", 1, "bf16", runtime=rt, is_training=True, seq_len=1024)
    assert r.overhead_s == pytest.approx(3 * (m.layers * rt.kernels.prefill + rt.kernels.per_pass)
                                         * figure(rt, "launch.kernel_cost"))


def test_fixed_graph_models_keep_their_layer_count_at_the_runtime_cost():
    base = Engine.solve("ResNet50", "A100", 32, "fp16")
    trt = Engine.solve("ResNet50", "A100", 32, "fp16", runtime="tensorrt")
    hw_cost = figure(mlsysim.Hardware.A100, "launch_overhead")
    kernels = base.overhead_s / hw_cost
    assert trt.overhead_s == pytest.approx(kernels * figure(mlsysim.Runtimes.tensorrt, "launch.kernel_cost"))


# -- runtime=None is the default stack, unchanged --------------------------------------------------------------
NONE_CASES = [("Llama3_70B", "H100", 8, "fp8"), ("ResNet50", "A100", 256, "int8"), ("DS_CNN", "STM32L4R5", 1, "fp32"),
              ("Mixtral_8x7B", "H200", 32, "fp16"), ("Llama3_8B", "H100", 1, "int4")]


@pytest.mark.parametrize("case", NONE_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_runtime_none_is_the_old_result(case):
    old = Engine.solve(*case)
    assert Engine.solve(*case, runtime=None).to_dict() == old.to_dict()
    # The reasons name the stack runtime=None stands for (its class's default_stack), never a runtime's figures.
    assert [line for line in old.reasons if line.startswith("runtime")] == [
        f"runtime: engine default ({mlsysim.registry.registries().calibration[mlsysim.Hardware.get(case[1]).calibration_class].default_stack or 'fused kernels'})"]


def test_runtime_none_keeps_eight_kernels_per_layer_at_the_device_launch_overhead():
    r = Engine.solve("Llama3_8B", "H100", 1, "fp16")
    assert r.overhead_s == pytest.approx((32 * 8 + 2) * figure(mlsysim.Hardware.H100, "launch_overhead"))


# -- bad input -----------------------------------------------------------------------------------------------------
def test_a_format_the_runtime_lacks_names_the_formats_it_has():
    with pytest.raises(UnsupportedPrecisionError) as info:
        Engine.solve("Llama3_8B", "H100", 1, "awq_int4", runtime="llamacpp")
    message = str(info.value)
    assert "llama.cpp" in message and "q4_0 (4.5 bits)" in message and "q4_k_m" in message and "fp16" in message


def test_a_format_name_without_a_runtime_is_refused():
    with pytest.raises(UnsupportedPrecisionError):
        Engine.solve("Llama3_8B", "H100", 1, "q4_0")


def test_runtime_on_the_wrong_hardware_class_is_refused():
    with pytest.raises(InvalidInputError, match="microcontroller"):
        Engine.solve("Llama3_8B", "H100", 1, "int8", runtime="tflite_micro")
    with pytest.raises(InvalidInputError, match="datacenter_gpu"):
        Engine.solve("DS_CNN", "STM32L4R5", 1, "int8", runtime="vllm")


@pytest.mark.parametrize("bad", [3, 1.5, ["vllm"], mlsysim.Hardware.H100])
def test_runtime_of_the_wrong_type_is_refused(bad):
    with pytest.raises(InvalidTypeError, match="runtime"):
        Engine.solve("Llama3_8B", "H100", runtime=bad)


def test_unknown_runtime_name_suggests():
    with pytest.raises(UnknownEntryError, match="llamacpp"):
        Engine.solve("Llama3_8B", "H100", runtime="llama_cpp2")


def test_non_string_precision_under_a_runtime_is_a_type_error():
    with pytest.raises(InvalidTypeError):
        Engine.solve("Llama3_8B", "H100", 1, 16, runtime="vllm")


def test_runtime_names_follow_a_reloaded_catalog():
    from mlsysim import registry

    before = Engine.solve("Llama3_8B", "H100", 1, "q4_0", runtime="llamacpp")
    old = registry.registries().roots["Runtimes"].llamacpp
    registry.reload()
    try:
        new = registry.registries().roots["Runtimes"].llamacpp
        assert new is not old
        from mlsysim.core import solver

        assert solver.resolve_runtime("llamacpp", mlsysim.Hardware.H100) is new
        assert Engine.solve("Llama3_8B", "H100", 1, "q4_0", runtime="llamacpp").to_dict() == before.to_dict()
    finally:
        registry.reload()
