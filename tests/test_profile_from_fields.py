"""The fast path builds its PerformanceProfile through from_fields (a filled __dict__, no __init__): the result
must be the object __init__ would build -- every field set, equal, evolvable, picklable, its views lazy."""
import pickle

import attrs

from mlsysim import Engine, Hardware, Models
from mlsysim.core import solve_plan


def _fast():
    assert solve_plan.ENABLED
    return Engine.solve(Models.Llama3_70B, Hardware.H100, 8, "fp8")


def test_every_field_is_set_once_and_nothing_else():
    r = _fast()
    assert list(vars(r)) == [f.name for f in attrs.fields(type(r))]


def test_equals_the_init_built_profile():
    r = _fast()
    rebuilt = type(r)(**{f.name: getattr(r, f.name) for f in attrs.fields(type(r)) if f.init})
    assert rebuilt == r and vars(rebuilt).keys() == vars(r).keys()


def test_evolve_pickle_and_frozen():
    r = _fast()
    assert r.latency is r.latency  # the view is cached, and not part of equality
    e = attrs.evolve(r, batch_size=9)
    assert e.batch_size == 9 and e.latency_s == r.latency_s and e.latency == r.latency
    assert pickle.loads(pickle.dumps(r)) == r
    try:
        r.batch_size = 3
    except attrs.exceptions.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a profile must stay frozen")


def test_summary_is_built_once_and_follows_evolve():
    r = _fast()
    text = r.summary()
    assert r.summary() is text and str(r) is text and "batch 8" in text
    e = attrs.evolve(r, batch_size=9)
    assert "batch 9" in e.summary() and r.summary() is text
    assert pickle.loads(pickle.dumps(r)).summary() == text
