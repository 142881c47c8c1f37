"""Data ingestion: can storage and the host link feed an accelerator the bytes its workload consumes?

Training data flows storage -> host memory -> host link (PCIe, ...) -> accelerator. The links are in series,
so the supply is the slowest of them (the bottleneck of a pipeline of stages, each a rate limit):
  supply = min(storage bandwidth, host link bandwidth),  utilisation = demand / supply.
Above a utilisation of 1 the input pipeline stalls: with prefetching the accelerator is busy at most
supply / demand of the time.

The host link is the device's catalog figure (interconnect.host_link_bandwidth, per direction). Storage is
not a figure of an accelerator: it belongs to the node or the site. By default one local PCIe Gen4 x4 NVMe
drive is assumed (its link bound, DEFAULT_STORAGE_BANDWIDTH); pass `storage_bandwidth` for the real one
(a RAID of drives, a parallel file system share), or None when the data already sits in host memory.

Not modelled: random-read IOPS limits and small files, decompression and decoding (see
TransformationModel), page-cache hits, network file-system contention, several devices sharing a drive.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..core.inputs import resolve_hardware
from ..errors import CatalogError
from ..specs.fields import figure
from ..units import quantity
from ._design import as_figure
from ._result import SolverResult

# One PCIe 4.0 x4 NVMe drive is bounded by its link: 4 lanes x 16 GT/s x 128b/130b encoding / 8 bits
# = 7.88 GB/s (PCI-SIG PCI Express Base Specification 4.0). Datacenter Gen4 drives read sequentially at
# ~7 GB/s, just below the link. Estimate of the storage behind one accelerator.
PCIE4_TRANSFERS_PER_LANE = 16e9
NVME_LANES = 4
PCIE_128B130B = 128.0 / 130.0
BITS_PER_BYTE = 8.0
DEFAULT_STORAGE_BANDWIDTH = PCIE4_TRANSFERS_PER_LANE * NVME_LANES * PCIE_128B130B / BITS_PER_BYTE
GB = 1e9


@attrs.frozen(kw_only=True)
class DataResult(SolverResult):
    is_stalled: bool              # demand above supply
    utilization: float            # demand / supply
    demand_bw: Any
    supply_bw: Any                # min(storage, host link)
    bottleneck: str               # "Storage" or "Interconnect" (the host link)
    margin: Any                   # supply - demand (negative when stalled)
    storage_bw: Any               # None when storage is not in the path
    host_link_bw: Any
    accelerator_busy_fraction: float  # min(1, supply / demand): the most the input lets the device work
    constraint_trace: tuple[str, ...] = ()


class DataModel:
    """Storage and host-link feed rate against a workload's data rate."""

    def solve(self, workload_data_rate: Any, hardware: Any, *,
              storage_bandwidth: Any = DEFAULT_STORAGE_BANDWIDTH, host_link_bandwidth: Any = None) -> DataResult:
        """workload_data_rate: bytes/s the workload consumes (a rate Quantity such as 2 GB/s or 5 TB/hour, or a
        plain number in B/s). hardware: a Hardware entry or its name. Keyword-only: storage_bandwidth (B/s or a
        Quantity; None: data already in host memory), host_link_bandwidth (overrides the catalog figure)."""
        demand = as_figure("workload_data_rate", workload_data_rate, "B/s")
        hw = resolve_hardware(hardware)
        trace: list[str] = []
        if host_link_bandwidth is None:
            link = figure(hw, "interconnect.host_link_bandwidth") if hw.interconnect is not None else None
            if link is None:
                raise CatalogError("has no host link bandwidth", entry=hw.name,
                                   field="interconnect.host_link_bandwidth",
                                   expected="a catalog figure, or pass host_link_bandwidth=... to DataModel.solve")
            trace.append(f"host link {hw.interconnect.host_link or 'of ' + hw.name}: {link / GB:.4g} GB/s")
        else:
            link = as_figure("host_link_bandwidth", host_link_bandwidth, "B/s")
            trace.append(f"host link {link / GB:.4g} GB/s (argument)")
        if storage_bandwidth is None:
            storage = None
            trace.append("storage not in the path (data in host memory)")
        else:
            storage = as_figure("storage_bandwidth", storage_bandwidth, "B/s")
            if storage_bandwidth is DEFAULT_STORAGE_BANDWIDTH:
                trace.append(f"storage: one PCIe Gen4 x4 NVMe drive, {storage / GB:.4g} GB/s (assumed; pass "
                             "storage_bandwidth)")
        supply = link if storage is None else min(storage, link)  # stages in series: the slowest sets the rate
        utilization = demand / supply
        bottleneck = "Storage" if storage is not None and storage < link else "Interconnect"
        return DataResult(
            is_stalled=utilization > 1.0, utilization=utilization, demand_bw=quantity(demand / GB, "GB/s"),
            supply_bw=quantity(supply / GB, "GB/s"), bottleneck=bottleneck,
            margin=quantity((supply - demand) / GB, "GB/s"),
            storage_bw=None if storage is None else quantity(storage / GB, "GB/s"),
            host_link_bw=quantity(link / GB, "GB/s"), accelerator_busy_fraction=min(1.0, supply / demand),
            constraint_trace=tuple(trace))
