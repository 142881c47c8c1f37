"""Time of one serving step on one GPU of a replica: decode tokens of the running requests plus a prefill
chunk, split by the replica's layout (plain floats; built once per solve, evaluated many times).

Each kernel phase waits on its slower roof (Williams et al. 2009, applied per phase as in the engine's
workload model): projections, attention core, dense FFN, routed experts, element-wise ops, LM head. The
weights are read once per step whatever the mix (why chunked prefill rides almost free on memory-bound
decode steps: Agrawal et al. 2024, Sarathi-Serve sec. 3). Communication is not overlapped with compute
(vLLM and SGLang run TP all-reduces on the compute stream).
"""
from __future__ import annotations

from ...specs.models import MoESpec, TransformerSpec
from ..attention_span import attention_flops_per_query, read_elements_per_query
from .comm import ep_all_to_all, max_expert_load, pp_send, tp_all_reduce
from .layout import Layout

# Element-wise bytes per token per layer over d: two norms (read+write) and two residual adds (2 reads + 1
# write) -- the engine's workload model (core/workload.py).
ELEMENTWISE_HIDDEN_PASSES = 10


class StepModel:
    """Per-GPU costs of a step with `nd` decode tokens (mean context `cd`) and `np` prefill tokens (mean
    attention context `cp`, `prior` KV tokens of earlier chunks read), on stage 1 of `pp` (stages equal)."""

    def __init__(self, m: TransformerSpec, lay: Layout, weight_bytes: float, act_bytes: float, kv_bytes: float,
                 flops: float, bandwidth: float, per_kernel_eager: float, per_kernel_graph: float | None,
                 kernels_per_step: float, host_overhead: float, attention_efficiency: float = 1.0,
                 host_per_request: float = 0.0):
        tp, dp, pp = lay.tp, lay.dp, lay.pp
        d, h, hd, L = m.hidden_size, m.heads, m.head_dim, m.layers
        self.m, self.lay = m, lay
        self.wb, self.ab, self.kvb = weight_bytes, act_bytes, kv_bytes
        self.flops, self.bw = flops, bandwidth
        self.Ls = L / pp  # layers per stage
        # Attention weights per GPU per layer: Q and O split over TP; K and V heads split, replicated once
        # each GPU holds a single head (kv_heads < TP: vLLM QKVParallelLinear replicates KV heads).
        if m.mla is None:
            kv_gpu = max(m.kv_heads // tp, 1)
            self.attn_w = 2 * d * h * hd / tp + 2 * d * hd * kv_gpu
            self.kv_el = 2 * kv_gpu * hd                     # KV elements per token per layer on this GPU
            self.qkvo_width = (2 * h / tp + 2 * kv_gpu) * hd  # Q, K, V, O widths per GPU
            if m.linear_attention is not None or m.attention_output_gate or m.attention_free_layers:
                # hybrid / gated attention: the spec's mean weights per layer (Gated DeltaNet / Mamba-2 layers,
                # attention-free layers, the output gate's q_proj rows), split over TP (KV-head replication of
                # the few softmax layers left out)
                self.attn_w = m.attention_parameters_per_layer / tp
        else:  # MLA: head-split projections over TP, the latent cache replicated on every TP rank
            self.attn_w = m.attention_parameters_per_layer / tp
            self.kv_el = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
            self.qkvo_width = 2 * h * hd / tp + self.kv_el
        self.attn_flops = m.attention_flops_per_token_per_context / L / tp  # per token per context per layer
        # a prompt's queries run MLA expanded per head (decode scores the latent): their pairs at this ratio
        self.prompt_pair_scale = m.expanded_attention_flops_per_token_per_context / m.attention_flops_per_token_per_context
        # windowed / linear / sparse attention (core/attention_span.py): KV held and pairs attended are capped
        self.span = not m.spans_whole_context
        moe = isinstance(m, MoESpec)
        self.moe = moe
        if moe:
            self.dense_layers = m.ffn_layer_count / pp  # dense layers that run an FFN
            self.moe_layers = m.moe_layers / pp
            self.dense_w = (m.ffn_parameters_per_layer * m.dense_layers
                            + m.shared_experts * m.expert_parameters * m.moe_layers) / tp / pp
            self.expert_w = m.expert_parameters / lay.expert_tp       # one expert's share on this GPU
            self.ffn_width = (m.experts_per_token + m.shared_experts) * m.expert_ffn_size / tp
        else:
            self.dense_layers, self.moe_layers = m.ffn_layer_count / pp, 0.0
            self.dense_w = m.ffn_parameters_per_layer * self.Ls / tp
            self.expert_w = 0.0
            self.ffn_width = m.mean_ffn_size / tp  # per-block widths (ffn_layers): their mean
        self.head_w = m.vocab_size * d / tp  # vocabulary-parallel LM head (Megatron-LM)
        self.gated = 3 if m.ffn_gated else 2
        self.per_kernel_eager, self.per_kernel_graph = per_kernel_eager, per_kernel_graph
        self.kernels = kernels_per_step / pp
        self.host = host_overhead
        self.host_req = host_per_request  # host work per request in the step (scheduler, input prep, outputs)
        self.attn_bw = bandwidth * attention_efficiency  # what the attention kernel streams the cache at

    # --- memory -----------------------------------------------------------------------------------------
    def weight_bytes_per_gpu(self) -> float:
        m, lay = self.m, self.lay
        layers = self.Ls * self.attn_w + self.dense_w
        if self.moe:
            layers += self.moe_layers * (m.experts / lay.ep) * self.expert_w \
                + self.moe_layers * m.router_parameters_per_layer
        emb = m.embedding_parameters / lay.tp + (self.head_w if not m.tied_embeddings else 0.0)
        return (layers + emb) * self.wb  # first/last stage carry the embedding and head (the larger stage)

    def kv_bytes_per_token(self) -> float:
        """KV bytes per token of context held on one GPU (its stage's layers, its heads), dense layers."""
        return self.Ls * self.kv_el * self.kvb

    def kv_tokens(self, context: float) -> float:
        """Tokens of dense-layer KV a sequence of `context` tokens holds: `context`, less what sliding windows
        drop, plus indexer keys and linear-attention states in the same units (m.kv_elements_at)."""
        if not self.span:
            return context
        return self.m.kv_elements_at(context) / self.m.kv_elements_per_token

    def read_tokens(self, context: float) -> float:
        """Dense-equivalent tokens one decode query at `context` reads (windows, DSA selection, states)."""
        return read_elements_per_query(self.m, context) / self.m.kv_elements_per_token

    def _pairs(self, nd: float, cd: float, np_: float, cp: float) -> float:
        """Attention pairs per layer on this GPU of nd decode queries at cd and np_ prompt queries (mean causal
        context cp), in units of one dense layer's query-key pair."""
        if not self.span:
            return nd * cd + np_ * cp * self.prompt_pair_scale
        per_pair = self.m.attention_flops_per_token_per_context
        out = nd * attention_flops_per_query(self.m, cd) / per_pair
        if np_:
            out += np_ * attention_flops_per_query(self.m, 2.0 * cp, causal_prompt=True) / per_pair
        return out

    # --- time -------------------------------------------------------------------------------------------
    def time(self, nd: float, cd: float, np_: float = 0.0, cp: float = 0.0, prior: float = 0.0,
             out_tokens: float | None = None, graph: float = 1.0) -> float:
        """Seconds of one step of one stage plus the stage sends (the whole step when pp = 1)."""
        m, lay, ab, wb = self.m, self.lay, self.ab, self.wb
        d, Ls = m.hidden_size, self.Ls
        T = nd + np_
        if T <= 0:
            return 0.0
        F, B = self.flops, self.bw
        heads = nd + (1.0 if np_ > 0 else 0.0) if out_tokens is None else out_tokens
        busy = 0.0
        # QKV/O projections (FLOPs = 2 x MACs, Kaplan et al. 2020)
        busy += max(2.0 * T * self.attn_w * Ls / F,
                    (self.attn_w * Ls * wb + Ls * T * (2 * d + self.qkvo_width) * ab) / B)
        # Attention core: decode reads its whole cache (Pope et al. 2022); a chunk reads the earlier chunks' KV
        kv_read = Ls * self.kv_el * self.kvb * ((nd * self.read_tokens(cd) + self.kv_tokens(prior)) if self.span
                                                else (nd * cd + prior))
        kv_write = Ls * self.kv_el * self.kvb * T
        busy += max(self.attn_flops * Ls * self._pairs(nd, cd, np_, cp) / F,
                    (kv_read + kv_write + Ls * np_ * self.qkvo_width * ab) / self.attn_bw)
        # Dense FFN (and shared experts)
        if self.dense_w:
            ffn_tokens_layers = self.dense_layers + (self.moe_layers if self.moe and m.shared_experts else 0.0)
            busy += max(2.0 * T * self.dense_w / F,
                        (self.dense_w * wb + ffn_tokens_layers * T * (2 * d + self.gated * self.ffn_width) * ab) / B)
        # Routed experts: the most-loaded EP rank sets the pace; distinct experts hit are read once
        a2a = 0.0
        if self.moe:
            k, E, ep = m.experts_per_token, m.experts, lay.ep
            routed = T * lay.dp * k
            load = max_expert_load(routed, ep)  # token-expert pairs on the busiest EP rank
            hit = (E / ep) * (1.0 - (1.0 - k / E) ** max(T * lay.dp, 1.0))
            busy += self.moe_layers * max(
                2.0 * load * self.expert_w / F,
                (hit * self.expert_w * wb + load * (2 * d + self.gated * m.expert_ffn_size / lay.expert_tp) * ab
                 + m.router_parameters_per_layer * wb) / B)
            a2a = 2.0 * self.moe_layers * ep_all_to_all(T, k, d, ab, ep, lay.a2a_bw)
        # Element-wise: norms, residuals, activation
        busy += Ls * T * (ELEMENTWISE_HIDDEN_PASSES * d + self.gated * self.ffn_width) * ab / B
        # LM head over the positions that sample a token
        busy += max(2.0 * heads * self.head_w / F, (self.head_w * wb + heads * (d + m.vocab_size / lay.tp) * ab) / B)
        # Tensor-parallel all-reduces: two per layer on T x d activations
        tp_comm = 2.0 * Ls * tp_all_reduce(T * d * ab, lay.tp, lay.link_bw, lay.hop_latency)
        sends = pp_send(T * d * ab, lay.pp, lay.link_bw, lay.hop_latency) / lay.pp
        # graph: share of such steps replayed from a CUDA graph (decode-only steps of a runtime capturing decode)
        g = graph if self.per_kernel_graph is not None else 0.0
        per_kernel = g * self.per_kernel_graph + (1.0 - g) * self.per_kernel_eager if g else self.per_kernel_eager
        # host work: a fixed part per step plus one per request that samples a token (vLLM V1 Scheduler.schedule
        # walks self.running, update_from_output every scheduled request: a + b n, not hidden behind the GPU)
        host = self.host + self.host_req * heads if self.host_req else self.host
        return busy + tp_comm + a2a + sends + self.kernels * per_kernel + host / lay.pp

    def pass_time(self, nd: float, cd: float, np_: float = 0.0, cp: float = 0.0, prior: float = 0.0,
                  out_tokens: float | None = None, graph: float = 1.0) -> float:
        """One step through all pp stages (a token's wait): pp x stage time of a 1/pp micro-batch."""
        pp = self.lay.pp
        if pp == 1:
            return self.time(nd, cd, np_, cp, prior, out_tokens, graph)
        return pp * self.time(nd / pp, cd, np_ / pp, cp, prior / pp,
                              None if out_tokens is None else out_tokens / pp, graph)
