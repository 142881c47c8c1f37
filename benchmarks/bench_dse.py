"""Engine-tier sweep speed: configurations per second on one core (numpy tier and pure-Python tier), beside a
loop over Engine.solve. Run: PYTHONPATH=src python benchmarks/bench_dse.py"""
from __future__ import annotations

import time

import mlsysim
from mlsysim import Engine, dse

DEVICES = [h for h in mlsysim.Hardware if h.core is None and h.flash is None]  # the vectorised path
MODELS = ["Llama3_8B", "Llama3_70B", "Llama3_405B", "Mixtral_8x7B", "GPT3_175B", "BERT_Base", "ResNet50"]
MODELS = [m for m in MODELS if hasattr(mlsysim.Models, m)]
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
PRECISIONS = ["fp16", "bf16", "fp8", "int8", "int4"]
SEQ_LENS = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    grid = dict(models=MODELS, hardware=DEVICES, batch_sizes=BATCHES, precisions=PRECISIONS, seq_lens=SEQ_LENS)
    dse.sweep(**grid)  # warm the registry and caches
    Engine.solve("Llama3_8B", "H100")  # and pint, which results build (the numpy tier never does)
    pts = [(m, h, b) for m in MODELS[:2] for h in DEVICES[:10] for b in BATCHES[:5]]
    t0 = time.perf_counter()
    for m, h, b in pts:
        try:
            Engine.solve(m, h, b, "fp16")
        except Exception:  # noqa: BLE001
            pass
    t = time.perf_counter() - t0
    print(f"Engine.solve loop (same arithmetic, one point a call): {len(pts) / t:,.0f} configurations/s")
    t, table = best_of(lambda: dse.sweep(**grid, backend="numpy"))
    n = len(table)
    print(f"numpy tier : {n:,} configurations in {t * 1e3:.1f} ms = {n / t:,.0f} configurations/s "
          f"({len(table.errors):,} error rows)")
    small = dict(grid, seq_lens=SEQ_LENS[:1], batch_sizes=BATCHES[:4])
    big = dict(models=[m for m in mlsysim.Models if type(m).__name__ == "TransformerSpec"][:12], hardware=DEVICES,
               batch_sizes=BATCHES + [1024], precisions=PRECISIONS, seq_lens=SEQ_LENS + [131072])
    t, table = best_of(lambda: dse.sweep(**big, backend="numpy"))
    print(f"numpy tier, 12 dense transformers: {len(table):,} configurations in {t * 1e3:.1f} ms = "
          f"{len(table) / t:,.0f} configurations/s")
    t, table = best_of(lambda: dse.sweep(**small, backend="python"), 1)
    print(f"python tier: {len(table):,} configurations in {t * 1e3:.1f} ms = {len(table) / t:,.0f} configurations/s")
    train = dict(grid, batch_sizes=[1, 8, 64], precisions=["bf16", "fp8"], seq_lens=[2048, 8192])
    t, table = best_of(lambda: dse.sweep(**train, solver="training"))
    pts = list(table)[:300]
    t0 = time.perf_counter()
    for r in pts:
        try:
            Engine.solve(r["model"], r["hardware"], r["batch_size"], r["precision"] or "bf16", is_training=True,
                         seq_len=r["seq_len"])
        except Exception:  # noqa: BLE001
            pass
    loop = len(pts) / (time.perf_counter() - t0)
    print(f"training tier: {len(table) / t:,.0f} configurations/s vs an Engine.solve(is_training=True) loop "
          f"{loop:,.0f}/s ({len(table) / t / loop:.1f}x)")


if __name__ == "__main__":
    main()
