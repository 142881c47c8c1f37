"""ServingModel: an LLM served as deployed -- tensor/expert/data/pipeline-parallel replicas, continuous
batching with chunked prefill, a serving runtime, KV-cache capacity, disaggregated prefill/decode."""
from __future__ import annotations

import math
from typing import Any

from ...errors import InvalidInputError, UnsupportedModelError
from ...specs.hardware import BYTES_PER_ELEMENT
from ...specs.models import TransformerSpec
from ...units import quantity
from ..inputs import check_outputs, check_positive_int, resolve_model
from ..precision import resolve_precision
from ..solver import (ForwardModel, RooflineModel, _measured_efficiency, _measured_matmul, calibration_class,
                      resolve_runtime, runtime_precision)
from .kv import kv_capacity, live_activations, usable_memory
from .layout import build_layout
from .power import serving_power, step_activity
from .result import ServingResult
from .runtime_params import serving_params, with_deployment_limits
from .scheduler import _Saturated, saturation_error, steady_state
from .static_legacy import legacy_static
from .step import StepModel

BATCHING = ("continuous", "static")
PROMPT_LENGTHS = ("fixed", "exponential")
KV_PRECISIONS = ("fp8", "fp16", "bf16", "fp32", "int8")
# Bytes of a served activation element: bf16 (the dtype of the residual stream and the KV cache of served
# fp8/int4 checkpoints: vLLM "auto" dtype, TRT-LLM ModelOpt checkpoints keep bf16 activations between GEMMs).
SERVING_ACTIVATION_BYTES = 2.0


def _positional_trap() -> InvalidInputError:
    return InvalidInputError(
        "ServingModel.solve needs prompt_len= (tokens per prompt). Note: in mlsysim 0.1.1 the third positional "
        "argument was seq_len; it is now batch_size (solve(model, hardware, batch_size, precision, *, prompt_len, "
        "output_len)): write solve(m, hw, prompt_len=2048) or the 0.1.x keyword seq_len=2048")


def _from_01x_positional(batch_size: Any, precision: Any, efficiency: Any) -> tuple[int, Any, Any, None]:
    """A call with neither prompt_len nor seq_len is in 0.1.x's positional order, (model, hardware, seq_len,
    batch_size, precision): seq_len was required there and prompt_len is required here, so no call of the
    current order reaches this. Returns (seq_len, batch_size, precision, efficiency) read that way, with a
    DeprecationWarning; anything 0.1.x could not have passed is the clear prompt_len error."""
    import warnings

    batch = 1 if precision == "fp16" and type(precision) is str else precision
    prec = "fp16" if efficiency is None else efficiency
    if isinstance(batch, bool) or not isinstance(batch, int) or not isinstance(prec, str) or \
            isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise _positional_trap()
    warnings.warn(f"ServingModel.solve read in mlsysim 0.1.x's positional order (seq_len={batch_size}, "
                  f"batch_size={batch}, precision={prec!r}) because no prompt_len was given; write "
                  f"solve(model, hardware, {batch}, {prec!r}, prompt_len={batch_size})", DeprecationWarning,
                  stacklevel=3)
    return batch_size, batch, prec, None


class ServingModel(ForwardModel):
    """Prefill + decode of a decoder LLM on one GPU or a tensor/expert/data/pipeline-parallel replica."""

    def __init__(self, roofline: RooflineModel | None = None):
        self._roofline = roofline or RooflineModel()

    def solve(self, model: Any, hardware: Any, batch_size: int = 1, precision: str = "fp16",
              efficiency: float | None = None, *, prompt_len: int | None = None, output_len: int = 256,
              tensor_parallel: int = 1, expert_parallel: int = 1, data_parallel: int = 1,
              pipeline_parallel: int = 1, batching: str = "continuous", runtime: Any = None,
              weight_only: bool = False, kv_precision: str | None = None,
              max_num_batched_tokens: int | None = None, arrival_rate: float | None = None,
              disaggregated: dict | None = None, speculative: dict | None = None,
              seq_len: int | None = None, prompt_lengths: str = "fixed", memory_fraction: float | None = None,
              max_num_seqs: int | None = None) -> ServingResult:
        """`batch_size` requests in flight per DP rank (closed loop, continuous batching) or one static batch.

        prompt_len (required; ``seq_len`` is 0.1.x's name of it), output_len: tokens per request.
        arrival_rate: requests/s offered to the replica (Poisson, open loop) instead of the closed loop;
        batch_size is then the scheduler's cap on running requests. disaggregated: {"prefill": {...},
        "decode": {...}} pools (see mlsysim.core.serving.disagg). speculative: {"tokens": k, "acceptance": a,
        "draft": model or None (MTP heads)} (see mlsysim.core.serving.speculative; continuous batching).
        prompt_lengths: "fixed" (every prompt prompt_len tokens, as synthetic benchmarks send) or "exponential"
        (varied, mean prompt_len: chat prompts); it sets the median inter-token gap (itl_p50).
        memory_fraction, max_num_seqs: the deployment's own flags, replacing the runtime's catalog figures: the share
        (0, 1] of each GPU the runtime may allocate for weights, activations and KV cache (vLLM
        --gpu-memory-utilization, SGLang --mem-fraction-static) and the cap on running requests (vLLM --max-num-seqs,
        SGLang --max-running-requests, TensorRT-LLM max_batch_size); requests past the cap wait in its queue."""
        m = resolve_model(model)
        if not isinstance(m, TransformerSpec) or m.architecture == "encoder":
            raise UnsupportedModelError(f"ServingModel serves decoder transformers (prefill + decode); "
                                        f"{m.display_name} is {m.architecture}: use Engine.solve")
        if seq_len is not None and prompt_len is not None and seq_len != prompt_len:
            raise InvalidInputError(f"seq_len ({seq_len}) is 0.1.x's name of prompt_len ({prompt_len}): give one")
        if prompt_len is None and seq_len is None:
            seq_len, batch_size, precision, efficiency = _from_01x_positional(batch_size, precision, efficiency)
        prompt = check_positive_int("prompt_len", seq_len if seq_len is not None else prompt_len)
        output = check_positive_int("output_len", output_len)
        batch = check_positive_int("batch_size", batch_size)
        if prompt_lengths not in PROMPT_LENGTHS:
            raise InvalidInputError(f"prompt_lengths must be one of {', '.join(PROMPT_LENGTHS)}, "
                                    f"got {prompt_lengths!r}")
        if batching not in BATCHING:
            raise InvalidInputError(f"batching must be one of {', '.join(BATCHING)}, got {batching!r}")
        if m.position_embedding == "learned" and prompt + output > m.context_length:
            raise InvalidInputError(f"prompt_len + output_len = {prompt + output} exceeds the {m.context_length} "
                                    f"learned positions of {m.display_name}")
        if disaggregated is not None:
            from .disagg import solve_disaggregated
            return solve_disaggregated(self, m, hardware, batch, precision, efficiency, prompt, output,
                                       disaggregated, runtime=runtime, weight_only=weight_only,
                                       kv_precision=kv_precision, memory_fraction=memory_fraction,
                                       max_num_seqs=max_num_seqs)
        plain = (tensor_parallel, expert_parallel, data_parallel, pipeline_parallel) == (1, 1, 1, 1)
        if speculative is not None and batching != "continuous":
            raise InvalidInputError("speculative decoding is modelled with batching='continuous'")
        if batching == "static" and plain and runtime is None and kv_precision is None and arrival_rate is None \
                and memory_fraction is None and max_num_seqs is None:
            # today's meaning, unchanged: one static batch on one device (RooflineModel prefill + decode)
            return legacy_static(self._roofline, m, hardware, batch, precision, efficiency, prompt, output,
                                 weight_only)
        return self._solve_parallel(m, hardware, batch, precision, efficiency, prompt, output, tensor_parallel,
                                    expert_parallel, data_parallel, pipeline_parallel, batching, runtime,
                                    weight_only, kv_precision, max_num_batched_tokens, arrival_rate, speculative,
                                    prompt_lengths == "exponential", memory_fraction, max_num_seqs)

    # ------------------------------------------------------------------------------------------------------
    def build_step(self, m, hardware, precision, efficiency, tp, ep, dp, pp, runtime, weight_only, kv_precision,
                   memory_fraction=None, max_num_seqs=None):
        """The replica's layout, precisions, runtime parameters (under the deployment's memory_fraction and
        max_num_seqs, runtime_params.with_deployment_limits) and per-GPU step model."""
        lay = build_layout(m, hardware, tp, dp, ep, pp)
        hw = lay.device
        rt = None if runtime is None else resolve_runtime(runtime, hw)
        if rt is None:
            prec = resolve_precision(hw, precision, weight_only=weight_only)
        else:
            prec, _ = runtime_precision(rt, hw, precision, weight_only, False)
        # Activations (residual stream, all-reduce payloads) stay 16-bit under fp8/fp4 weights and W8A8 GEMMs
        # (vLLM/TRT-LLM quantise a GEMM's input inside the kernel); the KV cache takes the model dtype unless
        # kv_precision says otherwise (vLLM CacheConfig cache_dtype "auto").
        act_bytes = max(prec.activation_bytes, SERVING_ACTIVATION_BYTES)
        if kv_precision is None:
            kvb = act_bytes
        else:
            if kv_precision not in KV_PRECISIONS:
                raise InvalidInputError(f"kv_precision must be one of {', '.join(KV_PRECISIONS)}, got {kv_precision!r}")
            kvb = BYTES_PER_ELEMENT[kv_precision]
        cls = calibration_class(hw)
        params = with_deployment_limits(serving_params(rt, m, hw._launch_overhead), memory_fraction, max_num_seqs)
        eff = efficiency
        if eff is None:
            measured = _measured_matmul(hw, prec.compute)
            eff = _measured_efficiency(hw, prec.compute, measured / prec.peak_flops) if measured \
                else cls.matmul_efficiency
            eff *= params.compute_efficiency
        flops = prec.peak_flops * eff
        measured_bw = hw.calibration._memory_bandwidth if hw.calibration else None
        bandwidth = (measured_bw or hw.memory._bandwidth * cls.memory_efficiency) * params.bandwidth_efficiency
        step = StepModel(m, lay, prec.weight_bytes, act_bytes, kvb, flops, bandwidth,
                         params.per_kernel_eager, params.per_kernel_graph, params.kernels_per_step,
                         params.host_overhead, params.attention_efficiency, params.request_overhead)
        return lay, hw, rt, prec, kvb, cls, params, step

    def _solve_parallel(self, m, hardware, batch, precision, efficiency, prompt, output, tp, ep, dp, pp, batching,
                        runtime, weight_only, kv_precision, budget, arrival_rate, speculative=None,
                        varied=False, memory_fraction=None, max_num_seqs=None) -> ServingResult:
        lay, hw, rt, prec, kvb, cls, params, step = self.build_step(m, hardware, precision, efficiency, tp, ep, dp,
                                                                   pp, runtime, weight_only, kv_precision,
                                                                   memory_fraction, max_num_seqs)
        plain_step = step
        if speculative is not None:
            from .speculative import SpeculativeStep, check_speculative

            k, a, draft = check_speculative(speculative)
            draft_step = None
            if draft is not None:
                draft_step = self.build_step(resolve_model(draft), hardware, precision, efficiency, tp, 1, dp, pp,
                                             runtime, weight_only, kv_precision)[-1]
            step = SpeculativeStep(plain_step, draft_step, k, a)
        budget = params.token_budget if budget is None else check_positive_int("max_num_batched_tokens", budget)
        reasons: list[str] = []
        # KV capacity per GPU: what the runtime's memory fraction leaves beside weights and a full-budget step
        cap = hw.memory._capacity
        weights = plain_step.weight_bytes_per_gpu()
        if speculative is not None and step.draft is not None:  # the draft model's weights share the GPUs
            weights += step.draft.weight_bytes_per_gpu()
        step_tokens = budget if batching == "continuous" else batch * prompt
        acts = live_activations(step_tokens, m.hidden_size, plain_step.ffn_width, m.vocab_size / lay.tp, batch,
                                plain_step.ab)
        usable = usable_memory(cap, params, cls, rt, weights + acts)
        if memory_fraction is not None:
            reasons.append(f"memory_fraction {params.memory_limit_fraction:g}: {usable / 2**30:.1f} of "
                           f"{cap / 2**30:.1f} GiB per GPU for weights, activations and KV cache")
        # on-demand paging: a running request holds its prompt plus half its output on average (the cache
        # grows linearly over the decode), so the pool admits by that mean, not the whole length
        # (windowed / linear / sparse layers: the dense-equivalent tokens a sequence holds, StepModel.kv_tokens)
        kv = kv_capacity(cap, usable, weights, acts, plain_step.kv_bytes_per_token(),
                         plain_step.kv_tokens(prompt + output), params.block_tokens, on_demand=params.on_demand_kv,
                         mean_tokens=plain_step.kv_tokens(prompt + output / 2.0))
        if prompt + output > m.context_length:
            reasons.append(f"prompt_len + output_len = {prompt + output} is beyond the trained context "
                           f"({m.context_length})")
        feasible = weights + acts < usable
        if not feasible:
            reasons.append(f"weights {weights / 2**30:.2f} GiB + activations {acts / 2**30:.2f} GiB per GPU exceed "
                           f"the {usable / 2**30:.2f} GiB usable on {hw.display_name}: raise tensor_parallel or "
                           f"pipeline_parallel, or quantise")
        cd = prompt + output / 2.0
        p50 = p99 = itl50 = None
        if batching == "static":
            ttft = step.pass_time(0.0, 0.0, batch * prompt, prompt / 2.0, out_tokens=batch, graph=0.0)
            tpot = step.pass_time(batch, cd)
            latency = ttft + (output - 1) * tpot
            rate = batch / latency
            chunk = batch * prompt
            running = batch
        else:
            preempting = 0
            if arrival_rate is None:
                queued = 0
                if params.max_num_seqs is not None and batch > params.max_num_seqs:
                    queued = batch - params.max_num_seqs
                    whose = "the deployment's" if max_num_seqs is not None else f"{rt.display_name}'s"
                    reasons.append(f"batch_size {batch} exceeds {whose} max_num_seqs "
                                   f"{params.max_num_seqs}: {queued} requests wait in its queue")
                if 0 < kv.slots < batch - queued:
                    # a full cache admits no more: the rest wait (TRT-LLM GUARANTEED_NO_EVICT admits a request
                    # only when its whole KV fits; vLLM preempts the newest and re-queues it; SGLang admits by
                    # free tokens), so only the slots run; past them the run preempts (feasible False below)
                    over = batch - queued - kv.slots
                    queued += over
                    preempting = batch - queued + over
                st = steady_state(step, prompt, output, budget, clients=batch - queued,
                                  mixed=params.mixed_prefill, frontend=params.frontend_latency,
                                  chunk_count=params.chunk_count_steps, varied_prompts=varied)
            else:
                rate_total = float(arrival_rate)
                if not (rate_total > 0 and math.isfinite(rate_total)):
                    raise InvalidInputError(f"arrival_rate must be a positive number of requests/s, got {arrival_rate!r}")
                limit = min(batch, kv.slots) if kv.slots else batch
                if params.max_num_seqs is not None:  # the scheduler runs at most max_num_seqs; the rest queue
                    limit = min(limit, params.max_num_seqs)
                cap_state = steady_state(step, prompt, output, budget, clients=max(limit, 1),
                                         mixed=params.mixed_prefill, frontend=params.frontend_latency,
                                         chunk_count=params.chunk_count_steps, varied_prompts=varied)
                capacity = cap_state.request_rate * lay.dp
                try:
                    st = steady_state(step, prompt, output, budget, rate=rate_total / lay.dp,
                                      mixed=params.mixed_prefill, frontend=params.frontend_latency,
                                      chunk_count=params.chunk_count_steps, varied_prompts=varied)
                except _Saturated:
                    raise saturation_error(rate_total, capacity, "the prefill token budget is full") from None
                running = st.decoding + st.ttft * st.request_rate
                if running > limit:
                    raise saturation_error(rate_total, capacity, f"{running:.0f} requests would run at once; "
                                           f"{limit} fit (KV cache / batch_size / max_num_seqs)")
                p50, p99 = st.ttft_p50, st.ttft_p99
            ttft, tpot, rate, chunk, itl50 = st.ttft, st.tpot, st.request_rate, st.chunk, st.itl_p50
            if arrival_rate is None and queued:  # Little's law: the queued clients wait queued / X before admission
                ttft += queued / rate
            latency = ttft + (output - 1) * tpot
            running = (batch - queued) if arrival_rate is None else st.decoding + st.ttft * st.request_rate
            if preempting:
                running = preempting
        slots = kv.slots
        if slots < math.ceil(running):
            feasible = False
            held = kv.mean_tokens_per_sequence if kv.on_demand else kv.tokens_per_sequence
            reasons.append(f"preemption: {math.ceil(running)} sequences of {prompt + output} tokens "
                           f"({'holding ~%.0f on average, paged on demand' % held if kv.on_demand else 'reserved whole'}) "
                           f"need {math.ceil(running) * held * kv.kv_bytes_per_token / 2**30:.2f} GiB of KV cache per GPU; "
                           f"{slots} fit ({kv.kv_pool / 2**30:.2f} GiB free in {kv.block_tokens}-token blocks): "
                           f"lower batch_size, raise tensor_parallel or use kv_precision='fp8'")
        rate_replica = rate * lay.dp
        throughput = rate_replica * output if batching == "continuous" else batch * lay.dp / tpot
        per_gpu = throughput / lay.gpus
        flops_req = 2.0 * m.matmul_parameters_per_token * (prompt + output)
        mfu = flops_req * rate_replica / (lay.gpus * prec.peak_flops)
        n_dec = max(running, 1.0)
        step_bytes = plain_step.weight_bytes_per_gpu() + n_dec * plain_step.kv_tokens(cd) * plain_step.kv_bytes_per_token()
        activity = step_activity(mfu, prec.peak_flops, plain_step.flops, step_bytes, plain_step.bw, tpot,
                                 cls.memory_bound_power_fraction)
        if arrival_rate is not None:  # open loop: the GPUs idle while no request runs (Little's L = running)
            activity *= min(1.0, running)
        power = serving_power(hw.power._idle, hw.power._tdp, activity) * lay.gpus
        energy = power / rate_replica if rate_replica > 0 else power * latency
        mfu = check_outputs(f"ServingModel ({m.name} on {lay.system})", latency=latency, throughput=throughput,
                            energy=energy, mfu=mfu, terms=(), mfu_source=None)
        # single-device reference profiles of the prompt and of one decode step (0.1.x's prefill/decode fields)
        pre = self._roofline.solve(m, hw, batch, precision, efficiency, seq_len=prompt, prefill=True,
                                   weight_only=weight_only, runtime=rt)
        dec = self._roofline.solve(m, hw, batch, precision, efficiency, seq_len=min(int(cd), m.context_length),
                                   weight_only=weight_only, runtime=rt)
        decode_bound = "Memory" if _decode_memory_bound(plain_step, max(running, 1.0), cd) else "Compute"
        if params.name:
            reasons.append(f"runtime {rt.display_name}: {budget}-token step budget, {params.block_tokens}-token KV "
                           f"blocks, {params.host_overhead * 1e6:.0f} us host work per step")
        return ServingResult(
            latency=quantity(latency, "s"), throughput=quantity(throughput, "token/s"), bottleneck=decode_bound,
            mfu=mfu, feasible=feasible, energy=quantity(energy, "J"), ttft=quantity(ttft, "s"),
            tpot=quantity(tpot, "s"), max_concurrent_sequences=slots,
            kv_cache_per_sequence_bytes=kv.kv_bytes_per_sequence, prefill=pre, decode=dec, batch_size=batch,
            reasons=tuple(dict.fromkeys(reasons)), throughput_per_gpu=quantity(per_gpu, "token/s"), gpus=lay.gpus,
            parallelism={"tp": lay.tp, "dp": lay.dp, "ep": lay.ep, "pp": lay.pp}, batching=batching,
            runtime=params.name, request_rate=quantity(rate_replica, "1/s"),
            ttft_p50=None if p50 is None else quantity(p50, "s"), ttft_p99=None if p99 is None else quantity(p99, "s"),
            itl_p50=None if itl50 is None else quantity(itl50, "s"),
            weights_per_gpu_bytes=weights, memory_capacity_bytes=cap, memory_other_bytes=acts + (cap - usable),
            kv_block_size=kv.block_tokens, kv_precision=kv_precision or prec.compute, prefill_chunk_tokens=chunk)


def _decode_memory_bound(step: StepModel, n: float, cd: float) -> bool:
    """Decode step memory-bound: its bytes take longer than its FLOPs (the roofline's verdict)."""
    m = step.m
    flops = 2.0 * n * m.matmul_parameters_per_token / step.lay.tp / step.lay.pp
    weight_bytes = step.weight_bytes_per_gpu() + n * step.kv_tokens(cd) * step.kv_bytes_per_token()
    return weight_bytes / step.bw >= flops / step.flops
