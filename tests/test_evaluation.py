"""The three-level scorecard: SystemEvaluation.from_scenario over catalog scenarios, and 0.1.x's SystemEvaluator."""
from __future__ import annotations

import warnings

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, MlsysimError
from mlsysim.evaluation import FAIL, PASS, SKIPPED, EvaluationLevel, SystemEvaluation, SystemEvaluator


def _evaluate(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return SystemEvaluator.evaluate(*args, **kwargs)


@pytest.mark.parametrize("name", [s.name for s in mlsysim.Scenarios])
def test_scorecard_of_a_scenario_has_every_check_once_and_the_same_verdict(name):
    ev = mlsysim.Scenarios.get(name).evaluate()
    card = SystemEvaluation.from_scenario(ev)
    assert card.passed_all == ev.passed
    assert sorted(c.name for c in card.checks) == sorted(
        [c.name for c in ev.profile.memory_checks()] + [c.name for c in ev.checks])
    for level in card.levels:
        expected = SKIPPED if not level.checks else PASS if all(c.passed for c in level.checks) else FAIL
        assert level.status == expected or (level is card.performance and not level.checks and level.status == PASS)
    assert card.profile is ev.profile
    assert card.performance.metrics["latency"] == pytest.approx(ev.profile.latency.to("ms").magnitude)
    assert name in card.scorecard()


def test_smart_doorbell_fails_feasibility_on_sram_and_macro_on_power():
    card = SystemEvaluation.from_scenario(mlsysim.Scenarios.SmartDoorbell.evaluate())
    assert card.feasibility.status == FAIL and card.macro.status == FAIL and card.performance.status == PASS
    assert [c.name for c in card.feasibility.checks] == ["fits in memory (SRAM)", "weights fit in flash"]
    m = card.profile.memory
    # SRAM holds everything but the weights; the metric is in decimal GB
    assert card.feasibility.metrics["memory_used_gb"] == pytest.approx((m.total - m.weights) / 1e9)
    assert card.macro.metrics["power_w"] == pytest.approx(card.macro.checks[0].value.to("W").magnitude)


def test_a_scenario_without_power_or_energy_limit_skips_macro_and_can_still_pass():
    card = SystemEvaluation.from_scenario(mlsysim.Scenarios.ChatbotServing.evaluate())
    assert card.macro.status == SKIPPED and card.macro.passed
    assert card.passed_all
    assert card.performance.metrics["sla_time_to_first_token"] == pytest.approx(500.0)


def test_to_dict_is_one_flat_row_prefixed_by_level():
    card = SystemEvaluation.from_scenario(mlsysim.Scenarios.SmartDoorbell.evaluate())
    row = card.to_dict()
    assert row["scenario"] == "SmartDoorbell"
    assert (row["f_status"], row["p_status"], row["m_status"]) == (FAIL, PASS, FAIL)
    assert {"f_memory_used_gb", "f_memory_capacity_gb", "p_latency", "p_throughput", "p_mfu", "m_power_w"} <= set(row)
    assert all(isinstance(v, (str, float, int)) for v in row.values())


def test_from_scenario_refuses_other_objects():
    with pytest.raises(InvalidInputError, match="ScenarioEvaluation"):
        SystemEvaluation.from_scenario(mlsysim.Engine.solve("Llama3_8B", "H100"))


def test_system_evaluator_warns_and_names_its_replacement():
    with pytest.warns(DeprecationWarning, match="0.2.0"):
        SystemEvaluator.evaluate("x", "Llama3_8B", "H100", 1, "fp16", 0.5)


def test_single_device_scorecard_is_engine_solve():
    card = _evaluate("Llama3_8B on H100", mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, 4, "bf16", 0.5)
    r = mlsysim.Engine.solve("Llama3_8B", "H100", 4, "bf16", 0.5)
    p = card.performance.metrics
    assert p["latency"] == pytest.approx(r.latency.to("ms").magnitude)
    assert p["throughput"] == pytest.approx(r.throughput.to("1/s").magnitude)
    assert p["mfu"] == pytest.approx(r.mfu)
    assert card.feasibility.metrics["memory_used_gb"] == pytest.approx(r.memory.total / 1e9)
    assert card.feasibility.status == PASS and card.macro.status == SKIPPED
    assert card.passed_all  # nothing failed; 0.1.x reported False whenever macro was skipped


def test_a_model_that_does_not_fit_fails_feasibility():
    card = _evaluate("70B on a 4090", "Llama2_70B", "RTX4090", 1, "fp16", 0.5)
    assert card.feasibility.status == FAIL and not card.passed_all
    assert card.feasibility.metrics["memory_used_gb"] > card.feasibility.metrics["memory_capacity_gb"]


def test_fleet_scorecard_is_the_distributed_step():
    from mlsysim.core.distributed import DistributedModel

    card = _evaluate("fleet", "Llama3_8B", "H100", 256, "bf16", None, fleet_obj="Research_256", nodes=8)
    r = DistributedModel().solve("Llama3_8B", "Research_256", 256, "bf16", None, tensor_parallel=8)
    p = card.performance.metrics
    assert p["step_latency"] == pytest.approx(r.latency.to("ms").magnitude)
    assert p["fleet_throughput"] == pytest.approx(r.throughput.to("1/s").magnitude)
    # the step is compute plus bubble plus exposed communication: each share is below the whole
    assert 0 < p["scaling_efficiency"] <= 1
    assert 0 <= p["comm_overhead"] < p["step_latency"]
    assert p["scaling_efficiency"] * p["step_latency"] + p["comm_overhead"] <= p["step_latency"] * (1 + 1e-9)


def test_nodes_without_a_fleet_is_refused():
    with pytest.raises(InvalidInputError, match="fleet_obj"):
        _evaluate("x", "Llama3_8B", "H100", 1, "fp16", 0.5, nodes=8)


@pytest.mark.parametrize("kwargs", [{"nodes": 0}, {"batch_size": 0}, {"efficiency": 1.5}])
def test_bad_numbers_raise_mlsysim_errors(kwargs):
    args = {"scenario_name": "x", "model_obj": "Llama3_8B", "hardware_obj": "H100", "batch_size": 1,
            "precision": "fp16", "efficiency": 0.5} | kwargs
    with pytest.raises(MlsysimError):
        _evaluate(**args)


def test_unknown_names_raise_mlsysim_errors():
    with pytest.raises(MlsysimError, match="H100"):
        _evaluate("x", "Llama3_8B", "H1OO", 1, "fp16", 0.5)


def test_economics_level_with_a_fleet_and_a_duration():
    pytest.importorskip("mlsysim.solvers.economics")
    card = _evaluate("fleet", "Llama3_8B", "H100", 256, "bf16", None, fleet_obj="Research_256", nodes=8,
                     duration_days=30)
    m = card.macro.metrics
    assert card.macro.status == PASS
    assert m["tco"] >= m["capex"] > 0 and m["energy_cost"] > 0 and m["carbon_footprint"] > 0


def test_evaluation_level_passed():
    assert EvaluationLevel(level_name="x", status=SKIPPED, summary="").passed
    assert not EvaluationLevel(level_name="x", status=FAIL, summary="").passed
