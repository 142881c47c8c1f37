"""A 0.1.x-style notebook script: a config dict, the evaluator's scorecard, a roofline and a scorecard plot,
all from the top-level package."""
from __future__ import annotations

import pytest

import mlsysim

_FACADES = ("load_config", "SystemEvaluator", "SystemEvaluation", "plot_roofline",
            "plot_evaluation_scorecard")
if not all(hasattr(mlsysim, name) for name in _FACADES):  # pragma: no cover - until __init__ exports them
    pytest.skip("top-level export of the 0.1.x facades is pending in mlsysim/__init__.py", allow_module_level=True)


def test_config_evaluate_and_plot_like_a_0_1_notebook():
    from mlsysim import Hardware, Models, SystemEvaluator, load_config

    config = load_config({"model": "Llama3_8B", "hardware": "H100", "batch_size": 8, "precision": "fp16",
                          "efficiency": 0.5})
    assert config.fleet_size == 1 and config.region == "US_Avg" and config.duration_days == 30.0

    model = getattr(Models, config.model)
    gpu = getattr(Hardware, config.hardware)
    with pytest.warns(DeprecationWarning):
        evaluation = SystemEvaluator.evaluate(
            scenario_name="Llama on one H100", model_obj=model, hardware_obj=gpu, batch_size=config.batch_size,
            precision=config.precision, efficiency=config.efficiency)

    card = evaluation.scorecard()
    assert "Llama on one H100" in card and "Feasibility" in card
    assert evaluation.feasibility.status == "PASS"
    assert evaluation.macro.status == "SKIPPED"
    row = evaluation.to_dict()
    assert row["scenario"] == "Llama on one H100" and row["f_status"] == "PASS"
    latency_ms = evaluation.performance.metrics["latency"]
    assert latency_ms == pytest.approx(row["p_latency"])
    assert latency_ms == pytest.approx(mlsysim.Engine.solve(model, gpu, 8, "fp16", 0.5).latency.to("ms").magnitude)
    assert row["f_memory_used_gb"] < gpu.memory.capacity.to("GB").magnitude

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mlsysim import plot_evaluation_scorecard, plot_roofline

    fig, ax = plot_roofline(gpu, [model, Models.ResNet50])
    assert "H100" in ax.get_title()
    fig, ax = plot_evaluation_scorecard(evaluation)  # 0.1.x raised KeyError on an evaluator's scorecard
    plt.close("all")


def test_a_config_that_cannot_hold_its_weights_is_a_value_error():
    from mlsysim import load_config

    with pytest.raises(ValueError, match="exceed"):
        load_config({"model": "Llama2_70B", "hardware": "RTX4090"})
