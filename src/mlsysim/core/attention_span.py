"""How far attention reaches, per layer: the KV a sequence holds and the tokens a query attends when not
every layer spans the whole context (plain floats; no pint).

- Sliding window (Mistral 7B, arXiv:2310.06825 sec. 2; Gemma 2/3; gpt-oss): a windowed layer attends the
  last W tokens and keeps a rolling buffer of W (vLLM/TRT-LLM free the blocks that slide out), so its KV and
  attention FLOPs stop growing at W; the other layers grow with the context.
- Linear attention (Qwen3-Next Gated DeltaNet, arXiv:2412.06464): no KV cache; a fixed recurrent state per
  sequence, read and written once per token, and a recurrence cost per token independent of the context.
- DeepSeek Sparse Attention (DeepSeek-V3.2 report sec. 2.1): the main attention attends top_k tokens; the
  lightning indexer scores every cached token (its own key cache of indexer_head_dim per token per layer).
- Attention-free layers (Puzzle NAS no-op attention blocks, arXiv:2411.19146; Nemotron-H's MoE-only layers):
  no KV, no attention FLOPs.

Functions take a TransformerSpec `m`; the KV a sequence holds is the spec's geometry (m.kv_elements_at);
models with none of these fields keep the dense formulas (m.spans_whole_context is the fast check the hot
paths make first).
"""
from __future__ import annotations


def _layer_split(m) -> tuple[int, int, int]:
    """(full-context softmax layers, windowed layers, linear-attention layers); attention-free layers (no
    sequence mixer: DeciLM no_op blocks, Nemotron-H MoE layers) are in none of them."""
    lin = m.linear_attention.layers if m.linear_attention is not None else 0
    win = m.sliding_window.layers if m.sliding_window is not None else 0
    return m.softmax_attention_layers - win, win, lin


def written_elements_per_token(m) -> float:
    """Cache elements one new token writes: K and V in every softmax layer (windowed ones too: the rolling
    buffer overwrites its oldest slot), the DSA indexer key, and each linear-attention state rewritten whole."""
    full, win, lin = _layer_split(m)
    out = m.kv_elements_per_token / m.layers * (full + win)
    if m.sparse_attention is not None:
        out += m.layers * m.sparse_attention.indexer_head_dim
    if lin:
        out += lin * m.linear_attention.state_elements
    return out


def read_elements_per_query(m, context: float) -> float:
    """Cache elements one decode query at `context` reads: each windowed layer its window, each full layer the
    whole context (a DSA layer only its top_k selected latents, Sparse Attention reading through the indexer's
    selection), the DSA indexer keys of every cached token, and each linear-attention state once."""
    full, win, lin = _layer_split(m)
    per_layer = m.kv_elements_per_token / m.layers
    sa = m.sparse_attention
    out = per_layer * full * (min(context, float(sa.top_k)) if sa is not None else context)
    if win:
        out += per_layer * win * min(context, float(m.sliding_window.size))
    if sa is not None:
        out += m.layers * sa.indexer_head_dim * context
    if lin:
        out += lin * m.linear_attention.state_elements
    return out


def _capped_mean(limit: float, seq: float) -> float:
    """Mean over the positions i in [0, seq) of min(i, limit): a causal prompt's attended tokens per query."""
    if seq <= limit:
        return seq / 2.0
    return limit - limit * limit / (2.0 * seq)


def attended_tokens(m, context: float, causal_prompt: bool = False) -> float:
    """Query-key pairs per query token summed over the layers, in units of one dense layer's pair: a decode
    query at `context`, or the mean query of a causal prompt of `context` tokens (causal_prompt)."""
    full, win, _ = _layer_split(m)
    sa = m.sparse_attention
    reach = (lambda limit: _capped_mean(limit, context)) if causal_prompt else (lambda limit: min(context, limit))
    whole = context / 2.0 if causal_prompt else context
    pairs = full * (reach(float(sa.top_k)) if sa is not None else whole)
    if win:
        pairs += win * reach(float(m.sliding_window.size))
    return pairs


def attention_flops_per_query(m, context: float, causal_prompt: bool = False) -> float:
    """Attention-core FLOPs of one query token: score + weighted sum over the attended tokens of each softmax
    layer, the DSA indexer over the whole (causal) context, and the linear-attention recurrence."""
    # one layer's QK^T + AV per pair; a prompt's or training step's queries run MLA expanded per head
    per_pair = (m.expanded_attention_flops_per_token_per_context if causal_prompt
                else m.attention_flops_per_token_per_context) / m.layers
    if m.spans_whole_context:
        return per_pair * m.layers * (context / 2.0 if causal_prompt else context)
    flops = per_pair * attended_tokens(m, context, causal_prompt)
    sa = m.sparse_attention
    if sa is not None:  # indexer: a dot product per indexer head per cached token, every layer
        flops += 2.0 * sa.indexer_heads * sa.indexer_head_dim * m.layers * (context / 2.0 if causal_prompt else context)
    la = m.linear_attention
    if la is not None:
        flops += la.layers * la.flops_per_token
    return flops
