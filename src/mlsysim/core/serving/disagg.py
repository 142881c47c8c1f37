"""Disaggregated prefill/decode (DistServe, Zhong et al. 2024; Splitwise, Patel et al. 2024): a prefill pool
and a decode pool of replicas, each with its own parallelism and worker count; the prompt's KV cache moves
from the prefill worker to a decode worker over the fabric.

ServingModel.solve(..., disaggregated={"prefill": {"tensor_parallel": 2, "workers": 2},
                                      "decode": {"tensor_parallel": 4, "workers": 1}})
Each pool entry may set tensor_parallel, data_parallel, expert_parallel, pipeline_parallel, workers (default
1), max_num_batched_tokens, memory_fraction and max_num_seqs (a pool's own flags; the call's memory_fraction and
max_num_seqs apply to a pool that gives none). batch_size = requests in flight per decode worker (closed loop). Steady state:
the deployment serves X = min(prefill capacity, decode rate) requests/s and names the pool that limits it;
TTFT = the wait for a prefill worker (Little's law on the closed loop) + the prompt's prefill + the KV transfer; TPOT = a decode-only step
of the decode pool at its steady population (n_d = X_worker (O - 1) TPOT, Little's law).
KV transfer: the prompt's KV bytes over the prefill worker's links -- its GPUs' share of the node's NICs on
a Systems node (RDMA, as NIXL/Mooncake move KV between nodes), the device link for a bare device (same node).
"""
from __future__ import annotations

import math
from typing import Any

from ...errors import InvalidInputError
from ...units import quantity
from .kv import usable_memory
from .power import serving_power, step_activity
from .result import ServingResult
from .scheduler import MAX_ITERATIONS, TOLERANCE

POOL_KEYS = ("tensor_parallel", "data_parallel", "expert_parallel", "pipeline_parallel", "workers",
             "max_num_batched_tokens", "memory_fraction", "max_num_seqs")
# Host/NIC stack latency of one RDMA KV transfer (same estimate as DistributedModel's inter-node stack).
KV_TRANSFER_LATENCY = 5e-6


def _pool(spec: Any, name: str) -> dict:
    if not isinstance(spec, dict):
        raise InvalidInputError(f"disaggregated[{name!r}] must be a dict of {', '.join(POOL_KEYS)}")
    bad = [k for k in spec if k not in POOL_KEYS]
    if bad:
        raise InvalidInputError(f"disaggregated[{name!r}] has unknown keys {bad}; accepted: {', '.join(POOL_KEYS)}")
    return {"tensor_parallel": 1, "data_parallel": 1, "expert_parallel": 1, "pipeline_parallel": 1, "workers": 1,
            "max_num_batched_tokens": None, "memory_fraction": None, "max_num_seqs": None} | spec


def _given(pool_value: Any, call_value: Any) -> Any:
    """A pool's own flag, else the call's."""
    return call_value if pool_value is None else pool_value


def _kv_link(hardware: Any, lay) -> float:
    """B/s one prefill worker sends KV at: its GPUs' NIC share on a node, else the device link."""
    from ...specs.systems import FabricSpec
    from ..inputs import resolve_reference
    from .layout import resolve_serving_hardware

    _, node = resolve_serving_hardware(hardware)
    if node is None:
        return lay.link_bw * lay.gpus
    fabric = resolve_reference(node, "fabric", FabricSpec, "a fabric", "Systems")
    return node.nics_per_node * fabric._bandwidth / node.accelerators_per_node * lay.gpus


def solve_disaggregated(model_solver, m, hardware, batch, precision, efficiency, prompt, output, spec, *,
                        runtime=None, weight_only=False, kv_precision=None, memory_fraction=None,
                        max_num_seqs=None) -> ServingResult:
    if not isinstance(spec, dict) or set(spec) != {"prefill", "decode"}:
        raise InvalidInputError("disaggregated must be {'prefill': {...}, 'decode': {...}} (pools of replicas)")
    pools = {k: _pool(spec[k], k) for k in ("prefill", "decode")}
    built = {}
    for k, p in pools.items():
        built[k] = model_solver.build_step(m, hardware, precision, efficiency, p["tensor_parallel"],
                                           p["expert_parallel"], p["data_parallel"], p["pipeline_parallel"],
                                           runtime, weight_only, kv_precision,
                                           _given(p["memory_fraction"], memory_fraction),
                                           _given(p["max_num_seqs"], max_num_seqs))
    lay_p, hw, rt, prec, kvb, cls, params_p, step_p = built["prefill"]
    lay_d, _, _, _, _, _, params_d, step_d = built["decode"]
    workers_p = int(pools["prefill"]["workers"])
    workers_d = int(pools["decode"]["workers"])
    if workers_p < 1 or workers_d < 1:
        raise InvalidInputError("each pool needs at least one worker")
    budget = pools["prefill"]["max_num_batched_tokens"] or params_p.token_budget
    # Prefill worker: prompts packed into steps of the token budget (chunks when a prompt exceeds it)
    per_step = max(budget // prompt, 1) if prompt <= budget else 1
    chunks = 1 if prompt <= budget else math.ceil(prompt / budget)
    tokens = per_step * prompt if prompt <= budget else budget
    t_step = step_p.pass_time(0.0, 0.0, tokens, prompt / 2.0, out_tokens=per_step, graph=0.0)
    t_prompt = chunks * step_p.pass_time(0.0, 0.0, min(prompt, budget), prompt / 2.0, out_tokens=1, graph=0.0)
    cap_p = workers_p * lay_p.dp * per_step / (t_step * chunks)
    # KV of the prompt for the whole model (all layers, all KV heads), sent once
    kv_bytes = m.kv_elements_at(prompt) * kvb  # windowed layers send at most their window
    t_kv = kv_bytes / _kv_link(hardware, lay_p) + KV_TRANSFER_LATENCY
    # Decode worker: closed loop of `batch` requests; if prefill limits, fewer run (Little's law)
    cd = prompt + output / 2.0
    decode_steps = max(output - 1, 1)
    # A decode worker runs at most its max_num_seqs of them; the rest of its clients wait (in `wait` below).
    n_run = float(batch) if params_d.max_num_seqs is None else float(min(batch, params_d.max_num_seqs))
    nd = n_run
    rate = 0.0
    for _ in range(MAX_ITERATIONS):
        tpot = step_d.pass_time(max(nd, 1.0), cd)
        rate_d = workers_d * lay_d.dp * nd / (decode_steps * tpot)
        rate_full = workers_d * lay_d.dp * n_run / (decode_steps * step_d.pass_time(n_run, cd))
        rate = min(cap_p * (1.0 - 1e-6), rate_full)
        nd_new = min(n_run, rate / (workers_d * lay_d.dp) * decode_steps * tpot)
        if abs(nd_new - nd) <= TOLERANCE * max(nd, 1.0):
            nd = nd_new
            break
        nd = 0.5 * nd + 0.5 * nd_new
    tpot = step_d.pass_time(max(nd, 1.0), cd)
    service = t_prompt
    # Closed loop of batch x decode workers x DP clients: Little's law sets the time a request spends before
    # its first decode step; what exceeds its own prefill and KV transfer is the wait for a prefill worker.
    clients = workers_d * lay_d.dp * batch
    wait = max(clients / rate - decode_steps * tpot - service - t_kv, 0.0)
    ttft = wait + service + t_kv
    latency = ttft + (output - 1) * tpot
    limiting = "prefill" if cap_p <= rate_full else "decode"
    gpus = workers_p * lay_p.gpus + workers_d * lay_d.gpus
    throughput = rate * output
    reasons = [f"disaggregated: {workers_p} prefill worker(s) x {lay_p.gpus} GPU(s), {workers_d} decode worker(s) x "
               f"{lay_d.gpus} GPU(s); the {limiting} pool limits the deployment"]
    weights_d = step_d.weight_bytes_per_gpu()
    usable = usable_memory(hw.memory._capacity, params_d, cls, rt, weights_d)
    # what a sequence holds: windows, linear-attention states and attention-free layers as kv_tokens counts them
    kv_seq = step_d.kv_tokens(prompt + output) * step_d.kv_bytes_per_token()
    slots = int(max(usable - weights_d, 0.0) // kv_seq)
    feasible = slots >= n_run and step_p.weight_bytes_per_gpu() < usable
    if n_run < batch:
        reasons.append(f"batch_size {batch} exceeds the decode pool's max_num_seqs {params_d.max_num_seqs}: "
                       f"{batch - int(n_run)} requests per decode worker wait in its queue")
    if slots < n_run:
        reasons.append(f"preemption: {int(n_run)} sequences need more KV cache than a decode worker holds "
                       f"({slots} fit)")
    power_p, power_d = _pool_power(m, hw, prec, step_p, step_d, lay_p, lay_d, workers_p, workers_d, rate, cap_p,
                                   tokens, t_step, nd, cd, tpot, cls.memory_bound_power_fraction)
    power = power_p + power_d
    return ServingResult(
        latency=quantity(latency, "s"), throughput=quantity(throughput, "token/s"), bottleneck="Memory",
        mfu=min(2.0 * m.matmul_parameters_per_token * (prompt + output) * rate / (gpus * prec.peak_flops), 1.0),
        feasible=feasible, energy=quantity(power / rate, "J"), ttft=quantity(ttft, "s"), tpot=quantity(tpot, "s"),
        max_concurrent_sequences=slots, kv_cache_per_sequence_bytes=kv_seq, prefill=None, decode=None,
        batch_size=batch, reasons=tuple(reasons), throughput_per_gpu=quantity(throughput / gpus, "token/s"),
        gpus=gpus, parallelism={"tp": lay_d.tp, "dp": lay_d.dp, "ep": lay_d.ep, "pp": lay_d.pp},
        batching="continuous", runtime=params_d.name, request_rate=quantity(rate, "1/s"),
        weights_per_gpu_bytes=weights_d, memory_capacity_bytes=hw.memory._capacity,
        memory_other_bytes=hw.memory._capacity - usable, kv_block_size=params_d.block_tokens,
        kv_precision=kv_precision or "", prefill_chunk_tokens=float(tokens),
        disaggregation={"limiting_pool": limiting, "prefill_gpus": workers_p * lay_p.gpus,
                        "decode_gpus": workers_d * lay_d.gpus, "prefill_capacity_rps": cap_p,
                        "decode_capacity_rps": rate_full, "kv_transfer_s": t_kv, "kv_bytes_per_request": kv_bytes,
                        "prefill_wait_s": wait, "prefill_power_w": power_p, "decode_power_w": power_d})


def _pool_power(m, hw, prec, step_p, step_d, lay_p, lay_d, workers_p, workers_d, rate, cap_p, tokens, t_step,
                nd, cd, tpot, mem_power: float) -> tuple[float, float]:
    """Board power of each pool, W: every GPU at P_idle + (TDP - P_idle) x its activity (power.serving_power).
    A prefill worker runs prefill steps a share rate / capacity of the time (idle between), each as busy as its
    bottleneck unit; a decode worker steps continuously with n_d requests (scaled down when under one)."""
    idle, tdp = hw.power._idle, hw.power._tdp
    busy_p = min(1.0, rate / cap_p) if cap_p > 0 else 0.0
    # one prefill step per GPU: its matmul FLOPs over the step time against the peak, its weight bytes read once
    mfu_p = 2.0 * m.matmul_parameters_per_token * tokens / lay_p.gpus / t_step / prec.peak_flops
    act_p = busy_p * step_activity(mfu_p, prec.peak_flops, step_p.flops, step_p.weight_bytes_per_gpu(), step_p.bw,
                                   t_step, mem_power)
    n = max(nd, 1.0)
    mfu_d = 2.0 * m.matmul_parameters_per_token * n / lay_d.gpus / tpot / prec.peak_flops
    bytes_d = step_d.weight_bytes_per_gpu() + n * step_d.kv_tokens(cd) * step_d.kv_bytes_per_token()
    act_d = min(1.0, nd) * step_activity(mfu_d, prec.peak_flops, step_d.flops, bytes_d, step_d.bw, tpot, mem_power)
    return (workers_p * lay_p.gpus * serving_power(idle, tdp, act_p),
            workers_d * lay_d.gpus * serving_power(idle, tdp, act_d))
