"""0.1.x's ``mlsysim.core.constants``, kept for its code: the unit registry, ``Q_`` and unit handles.

Only units and exact conversion facts live here. 0.1.x also kept hardware and model figures in this module
(``H100_MEM_BW``, ``LLAMA3_8B_PARAMS``); ours are catalog data with provenance, read from the registries
(``mlsysim.Hardware.H100.memory.bandwidth``): asking for one of those names here is an error saying where it is.
"""
from __future__ import annotations

from typing import Any

from ..units import get_ureg

ureg = get_ureg()
Q_ = ureg.Quantity

# Unit handles 0.1.x code multiplies by (``80 * GiB``, ``2 * TFLOPs``).
byte, second, ms, watt, joule, kilowatt, milliwatt, meter, hour, day = (
    ureg.byte, ureg.second, ureg.millisecond, ureg.watt, ureg.joule, ureg.kilowatt, ureg.milliwatt, ureg.meter,
    ureg.hour, ureg.day)
flop, param, count = ureg.flop, ureg.param, ureg.count
KB, MB, GB, TB, PB = ureg.KB, ureg.MB, ureg.GB, ureg.TB, ureg.PB
KiB, MiB, GiB, TiB = ureg.KiB, ureg.MiB, ureg.GiB, ureg.TiB
KFLOPs, MFLOPs, GFLOPs, TFLOPs, PFLOPs, EFLOPs, ZFLOPs = (
    ureg.KFLOP, ureg.MFLOP, ureg.GFLOP, ureg.TFLOP, ureg.PFLOP, ureg.EFLOP, ureg.ZFLOP)
GFLOP, TFLOP, EFLOP = ureg.GFLOP, ureg.TFLOP, ureg.EFLOP
Kparam, Mparam, Bparam, Tparam = ureg.Kparam, ureg.Mparam, ureg.Bparam, ureg.Tparam
USD, EUR = ureg.USD, ureg.EUR
US, MICROSECOND, NS, NANOSECOND, MS, MILLISECOND = (
    ureg.microsecond, ureg.microsecond, ureg.nanosecond, ureg.nanosecond, ureg.millisecond, ureg.millisecond)

# Bytes per element of each storage format (IEEE 754 binary16/32; int8/int4 by definition).
BYTES_FP32, BYTES_FP16, BYTES_INT32, BYTES_INT8, BYTES_INT4 = (
    Q_(4, "B"), Q_(2, "B"), Q_(4, "B"), Q_(1, "B"), Q_(0.5, "B"))
BITS_PER_BYTE = 8
THOUSAND, MILLION, BILLION, TRILLION, QUADRILLION = 1e3, 1e6, 1e9, 1e12, 1e15
SEC_PER_HOUR, SEC_PER_DAY, HOURS_PER_DAY, MINUTES_PER_HOUR, SECONDS_PER_MINUTE = 3600, 86400, 24, 60, 60
DAYS_PER_YEAR, HOURS_PER_YEAR, SEC_PER_YEAR = 365, 8760, 365 * 86400
KIB_TO_BYTES, MIB_TO_BYTES, GIB_TO_BYTES = 1024, 1024 ** 2, 1024 ** 3


def __getattr__(name: str) -> Any:
    if name.isupper() or name.endswith("_FLOPs"):
        raise AttributeError(f"mlsysim.core.constants.{name}: 0.1.x kept hardware, model and cost figures here; "
                             f"mlsysim keeps them as catalog data with sources: read them from the registries "
                             f"(mlsysim.Hardware.H100.memory.bandwidth, mlsysim.Models.Llama3_8B.parameters, "
                             f"mlsysim.Infra.Racks.AI_Standard.pue)")
    raise AttributeError(f"module 'mlsysim.core.constants' has no attribute {name!r}")
