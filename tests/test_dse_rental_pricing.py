"""Cost searches can price a device by its catalog rental quotes, not only by its amortised purchase price."""
import json

import pytest

import mlsysim
from mlsysim import dse
from mlsysim.errors import CatalogError, InvalidInputError


def _quotes(name, kind):
    econ = mlsysim.Hardware.get(name).economics
    rows = econ.rental if econ is not None else ()
    return [getattr(q, "_" + kind) for q in rows if getattr(q, "_" + kind) is not None]


def test_on_demand_is_the_cheapest_catalog_quote():
    usd, source = dse.cost_per_hour("H100", pricing="on_demand")
    assert usd == min(_quotes("H100", "on_demand"))
    assert "on_demand" in source and "checked" in source


def test_reserved_is_the_cheapest_committed_quote_and_below_that_offerings_on_demand():
    names = [n for n in mlsysim.Hardware.names() if _quotes(n, "reserved")]
    assert names, "the catalog has reserved quotes (TPU v6e, AWS capacity blocks)"
    for name in names:
        usd, source = dse.cost_per_hour(name, pricing="reserved")
        assert usd == min(_quotes(name, "reserved")) and "reserved" in source
        for q in mlsysim.Hardware.get(name).economics.rental:
            if q._reserved is not None and q._on_demand is not None:
                assert q._reserved <= q._on_demand  # a commitment buys a discount (checked at load too)


def test_missing_rental_quote_is_an_error_naming_the_field():
    unpriced = next(n for n in mlsysim.Hardware.names() if not _quotes(n, "on_demand"))
    with pytest.raises(CatalogError, match="economics.rental|rental"):
        dse.cost_per_hour(unpriced, pricing="on_demand")
    with pytest.raises(InvalidInputError, match="pricing"):
        dse.cost_per_hour("H100", pricing="spot")


def test_search_per_dollar_scales_inversely_with_the_hourly_price():
    space = {"models": ["Llama3_8B"], "hardware": ["H100"], "batch_sizes": [8], "precisions": ["fp16"]}
    own = dse.search(space, "tokens_per_dollar", pricing="own", top=1)[0]
    rent = dse.search(space, "tokens_per_dollar", pricing="on_demand", top=1)[0]
    assert own["throughput"] == rent["throughput"]
    ratio = own["tokens_per_dollar"] / rent["tokens_per_dollar"]
    assert ratio == pytest.approx(rent["usd_per_hour"] / own["usd_per_hour"], rel=1e-12)


def test_cli_search_takes_pricing(capsys):
    from mlsysim.cli import main

    rc = main(["search", "--models", "Llama3_8B", "--hardware", "H100,L4", "--batch-sizes", "1,8",
               "--maximize", "tokens_per_dollar", "--pricing", "on_demand", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert "on_demand" in json.dumps(out)
