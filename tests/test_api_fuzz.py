"""Fuzz the public API and the CLI: every call returns a result whose fields are finite and physical, or
raises an mlsysim.errors exception with a message. Nothing else: no inf, no NaN, no MFU above 1, no raw
TypeError/KeyError/AttributeError from inside."""
from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mlsysim.errors import MlsysimError

fuzz = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([5e-324, 1e-310, 1e-300, 1e-7, 1e-6, 0.5, 1.0, 1.0 + 1e-12, 2**53, 2**60]))
anything = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=6),
                     st.sampled_from(["fp16", "bf16", "fp8", "int8", "int4", "fp4", "fp32", "tf32", "fp64"]))
models = st.sampled_from(["Llama3_8B", "Llama3_70B", "ResNet50", "DS_CNN", "Mixtral_8x7B", "Mamba_130M", "DLRM",
                          "BERT_Base", "GPT2", "StableDiffusion_v1_5", "DeepSeek_V3", "Nope", 7, None])
devices = st.sampled_from(["H100", "H200", "A100", "V100", "STM32L4R5", "ESP32_S3", "TPUv5p", "M2Ultra",
                           "Jetson", "Nope", None, 3.5])
systems = st.sampled_from(["Systems.Nodes.DGX_H100", "Systems.Clusters.Research_256", "Systems.Clusters.Frontier_8K",
                           "H100", "Nope", None])


def physical(result) -> None:
    """The six fields every result carries are finite and physical."""
    latency = result.latency.to("s").magnitude
    throughput = result.throughput.to("1/s").magnitude
    energy = result.energy.to("J").magnitude
    for name, value in (("latency", latency), ("throughput", throughput), ("energy", energy)):
        assert math.isfinite(value) and value > 0, (name, value)
    assert math.isfinite(result.mfu) and 0.0 <= result.mfu <= 1.0, result.mfu
    assert isinstance(result.feasible, bool) and result.bottleneck


def call(fn, *args, **kwargs) -> None:
    try:
        result = fn(*args, **kwargs)
    except MlsysimError as exc:
        assert str(exc), type(exc)
    else:
        physical(result)


@fuzz
@given(models, devices, st.one_of(st.integers(-2, 4096), anything), st.one_of(anything),
       st.one_of(st.floats(0, 1.5), numbers, st.none()),
       st.dictionaries(st.sampled_from(["seq_len", "is_training", "zero_stage", "dp_size", "weight_only",
                                        "activation_recomputation", "raise_errors"]), anything, max_size=3))
@example("Llama3_8B", "H100", 1, "fp16", 5e-324, {})  # reported: infinite latency, 0 tokens/s
@example("Llama3_8B", "H100", 1, "fp16", 1e-310, {"is_training": True})
def test_engine_solve(model, hardware, batch, precision, efficiency, options):
    from mlsysim import Engine

    call(Engine.solve, model, hardware, batch, precision, efficiency, **options)


@fuzz
@given(models, devices, st.one_of(st.integers(-2, 512), anything), st.one_of(anything),
       st.one_of(st.floats(0, 1.5), numbers, st.none()),
       st.one_of(st.integers(-2, 10**5), anything), st.one_of(st.integers(-2, 10**4), anything))
def test_serving_model(model, hardware, batch, precision, efficiency, prompt_len, output_len):
    from mlsysim.solvers import ServingModel

    call(ServingModel().solve, model, hardware, batch, precision, efficiency, prompt_len=prompt_len,
         output_len=output_len)


@fuzz
@given(models, systems, st.one_of(st.sampled_from([8, 64, 256, 1024, 2048]), anything), st.one_of(anything),
       st.one_of(st.floats(0, 1.5), numbers, st.none()), st.sampled_from([1, 2, 4, 8, 3, 0, 16]),
       st.sampled_from([1, 2, 4, 3, 0]), st.sampled_from([0, 1, 2, 3, 4]))
@example("Llama3_8B", "Systems.Nodes.DGX_H100", 64, "bf16", 1e-310, 8, 1, 0)  # reported: NaN
def test_distributed_model(model, system, batch, precision, efficiency, tp, pp, zero):
    from mlsysim.solvers import DistributedModel

    call(DistributedModel().solve, model, system, batch, precision, efficiency, seq_len=2048, tensor_parallel=tp,
         pipeline_parallel=pp, zero_stage=zero)


@fuzz
@given(st.sampled_from(["ChatbotServing", "SmartDoorbell", "KeywordSpotting", "FrontierTraining", "AutonomousVehicle"]),
       st.dictionaries(st.sampled_from(["batch_size", "precision", "efficiency", "seq_len", "zero_stage",
                                        "weight_only", "bogus_key", "model", "hardware"]), anything, max_size=2))
@example("ChatbotServing", {"batch_size": 4})  # reported: TypeError, multiple values for batch_size
def test_scenario_evaluate(name, overrides):
    import mlsysim

    scenario = mlsysim.Scenarios.get(name)
    try:
        evaluation = scenario.evaluate(**overrides)
    except MlsysimError as exc:
        assert str(exc)
    else:
        physical(evaluation.profile)


cli_words = st.sampled_from(["eval", "list", "show", "scenario", "--json", "--batch-size", "--precision",
                             "--efficiency", "--seq-len", "--training", "Llama3_8B", "H100", "ResNet50", "STM32L4R5",
                             "models", "hardware", "fp8", "int4", "0", "-1", "1e-320", "5e-324", "nan", "inf", "8",
                             "ChatbotServing", "Nope", "Systems.Nodes.DGX_H100"])


@fuzz
@given(st.lists(cli_words, min_size=1, max_size=7))
@example(["eval", "Llama3_8B", "H100", "--efficiency", "5e-324", "--json"])  # reported: Infinity, exit 0
def test_cli(argv):
    from mlsysim.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:  # argparse: --help / --version (0) or a usage error (1)
        code = exc.code
    assert code in (0, 1, 2), code
    if code == 1:
        assert err.getvalue().startswith("mlsysim: error:") or "usage" in err.getvalue(), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if "--json" in argv and code in (0, 2) and out.getvalue().strip():
        json.loads(out.getvalue())  # valid JSON: no Infinity, no NaN
        assert "Infinity" not in out.getvalue() and "NaN" not in out.getvalue()
