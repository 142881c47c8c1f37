"""Issue 13 catalog entries MAX78000, Dimensity9300 and the refreshed Trainium prices.

Every figure is checked against the derivation its notes state, and each new device is solved against a sibling of
its tier: a device with at least the peak (and the bandwidth) of another is never slower on the same model."""
import pytest

from mlsysim import Engine, Hardware, Models
from mlsysim.dse.search import cost_per_hour
from mlsysim.errors import CatalogError, UnsupportedPrecisionError

NEW = ("MAX78000", "Dimensity9300")
CNN_CLOCK = 50e6        # MAX78000 accelerator clock by default (ai8x-synthesis README: APB clock / PCLK divided by 1)
PROCESSORS = 64         # ai8x-synthesis README: 64 parallel processors, four quadrants of 16
TAPS = 9                # one 3x3 kernel (a 72-bit weight word) per processor per clock
DATA_INSTANCES = 16     # 16 single-port data memories of 32 KiB, one 32-bit word per clock each


def _latency(model, hw, precision="int8"):
    return Engine.solve(model, hw, batch_size=1, precision=precision)


@pytest.mark.parametrize("name", NEW)
def test_entries_exist_with_dated_provenance(name):
    hw = getattr(Hardware, name)
    assert str(hw.provenance.checked) == "2026-12-04"
    assert hw.provenance.kind == "estimate"  # no vendor prints these peaks: each is derived, as its notes say
    assert hw.power.tdp.m_as("W") > hw.power.idle.m_as("W") > 0
    assert [p for p, _ in hw.peak_dense.items()] == ["int8"]  # no guessed float peak
    with pytest.raises(UnsupportedPrecisionError):
        _latency(Models.DS_CNN, hw, "fp16")


def test_max78000_figures_follow_from_the_accelerator_structure():
    hw = Hardware.MAX78000
    assert hw.peak_dense.int8.m_as("FLOP/s") == pytest.approx(PROCESSORS * TAPS * 2 * CNN_CLOCK)
    assert hw.flash.capacity.m_as("B") == 768 * PROCESSORS * TAPS    # 768 x 64 3x3 8-bit kernels = ADI's 442 KB
    assert hw.flash.bandwidth.m_as("B/s") == pytest.approx(PROCESSORS * TAPS * CNN_CLOCK)
    assert hw.memory.capacity.m_as("B") == DATA_INSTANCES * 32 * 1024
    assert hw.memory.bandwidth.m_as("B/s") == pytest.approx(DATA_INSTANCES * 4 * CNN_CLOCK)
    assert hw.core is None  # a roofline device: its layers run on the accelerator, not in CPU kernels


def test_max78000_fits_a_kws_network_but_not_mobilenet():
    kws = _latency(Models.DS_CNN, Hardware.MAX78000)
    assert kws.feasible and kws.bottleneck == "Compute"
    # roofline floor: never faster than the model's operations over the derived peak
    assert kws.latency.m_as("s") >= Models.DS_CNN.inference_flops.m_as("FLOP") / 57.6e9
    # MobileNetV2's 3.5 M int8 weights exceed the 432 KiB weight memory
    assert not _latency(Models.MobileNetV2, Hardware.MAX78000).feasible


def test_max78000_sits_between_cpu_microcontrollers_and_the_npu_microcontroller():
    t = {n: _latency(Models.DS_CNN, getattr(Hardware, n)).latency.m_as("s")
         for n in ("MAX78000", "ESP32_S3", "STM32N6", "STM32L4R5")}
    # ESP32-S3: same class roofline, compute-bound, 15.36 GOP/s < 57.6 GOP/s -> the MAX78000 is not slower
    assert t["MAX78000"] < t["ESP32_S3"]
    # STM32N6: 600 GOP/s NPU and 5x the SRAM bandwidth -> not slower than the MAX78000
    assert t["STM32N6"] <= t["MAX78000"]
    # Held-out plausibility (not tuned): Maxim claims a ~200x KWS speed-up over a 96 MHz Cortex-M4F; the
    # STM32L4R5 cycles model at 120 MHz, scaled to 96 MHz, should give the same order of magnitude.
    speedup = t["STM32L4R5"] * 120 / 96 / t["MAX78000"]
    assert 60 < speedup < 600


def test_dimensity9300_is_a_snapdragon8gen3_peer_and_never_slower_than_pixel8():
    d, s = Hardware.Dimensity9300, Hardware.Snapdragon8Gen3
    assert d.peak_dense.int8.m_as("TFLOP/s") == s.peak_dense.int8.m_as("TFLOP/s") == 45
    assert d.memory.bandwidth.m_as("GB/s") == pytest.approx(9600e6 * 8 / 1e9)  # LPDDR5T-9600 on 64 bits
    pixel = Hardware.Pixel8
    assert d.peak_dense.int8 >= pixel.peak_dense.int8 and d.memory.bandwidth >= pixel.memory.bandwidth
    for model in (Models.MobileNetV2, Models.ResNet50):
        r = _latency(model, d)
        assert r.feasible
        assert r.latency <= _latency(model, pixel).latency
        assert r.latency.m_as("s") == pytest.approx(_latency(model, s).latency.m_as("s"))  # same figures, same class


def test_trainium1_rental_rows_are_the_instance_prices_over_16_chips():
    rows = Hardware.Trainium1.economics.rental
    od = next(r for r in rows if r._on_demand is not None)
    assert od._on_demand == pytest.approx(21.50 / 16)        # trn1.32xlarge on demand, us-east-1
    assert od._reserved == pytest.approx(13.22895 / 16, rel=1e-4)  # 1-year no-upfront Standard RI
    cb = next(r for r in rows if "Capacity Block" in r.reserved_term)
    assert cb._reserved == pytest.approx(9.532 / 16, rel=1e-3)
    assert all(r.provenance.checked == "2026-12-04" for r in rows)
    usd, source = cost_per_hour("Trainium1", pricing="reserved")  # the cheapest commitment wins
    assert usd == pytest.approx(0.596) and "capacityblocks" in source
    assert cost_per_hour("Trainium1", pricing="on_demand")[0] == pytest.approx(1.34375)


def test_trainium2_has_no_invented_on_demand_price():
    assert cost_per_hour("Trainium2", pricing="reserved")[0] == pytest.approx(35.7608 / 16, rel=1e-3)
    with pytest.raises(CatalogError, match="no on_demand rental price"):
        cost_per_hour("Trainium2", pricing="on_demand")
