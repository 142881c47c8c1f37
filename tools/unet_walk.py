"""Layer walk of a diffusers UNet2DConditionModel (Stable Diffusion 1.5 and SDXL configs): parameters, conv/linear
and attention multiply-accumulates of one forward (one image, no classifier-free guidance), activation outputs and
conv + linear layer count. Reproduces unet.num_parameters() exactly (859,520,964 for SD 1.5; 2,567,463,684 for SDXL),
which validates the shapes.

Usage: python tools/unet_walk.py
Conventions: GroupNorm/LayerNorm/activations fused (no MACs); attention = QK^T + AV multiply-adds over all heads;
activations = conv outputs + 14 x width per token per transformer layer (q, k, v, o, cross q, o, GEGLU 8 x width).
"""


class Walk:
    def __init__(self, cross_dim: int, text_tokens: int = 77, temb: int = 1280):
        self.params = self.macs = self.acts = self.layers = 0
        self.cross, self.text, self.temb = cross_dim, text_tokens, temb

    def lin(self, i, o, bias=True, tokens=1):
        self.params += i * o + (o if bias else 0); self.macs += i * o * tokens; self.layers += 1  # noqa: E702

    def conv(self, ci, co, k, h, w, stride=1):
        ho, wo = (h + stride - 1) // stride, (w + stride - 1) // stride  # padding k // 2
        self.params += co * ci * k * k + co; self.macs += ho * wo * co * ci * k * k  # noqa: E702
        self.acts += co * ho * wo; self.layers += 1  # noqa: E702
        return ho, wo

    def norm(self, c):
        self.params += 2 * c  # GroupNorm / LayerNorm scale and shift

    def resnet(self, ci, co, h, w):  # ResnetBlock2D: GN, conv3x3, time projection, GN, conv3x3 (+ 1x1 shortcut)
        self.norm(ci); self.conv(ci, co, 3, h, w); self.lin(self.temb, co); self.norm(co); self.conv(co, co, 3, h, w)
        if ci != co:
            self.conv(ci, co, 1, h, w)

    def transformer(self, c, n, h, w):  # Transformer2DModel with linear proj_in/out and n BasicTransformerBlocks
        t = h * w
        self.norm(c); self.lin(c, c, tokens=t)
        for _ in range(n):
            self.norm(c)
            for _ in range(3):
                self.lin(c, c, False, t)
            self.lin(c, c, True, t); self.macs += 2 * t * t * c  # noqa: E702  self-attention
            self.norm(c); self.lin(c, c, False, t)
            self.lin(self.cross, c, False, self.text); self.lin(self.cross, c, False, self.text)
            self.lin(c, c, True, t); self.macs += 2 * t * self.text * c  # noqa: E702  cross-attention
            self.norm(c); self.lin(c, 8 * c, True, t); self.lin(4 * c, c, True, t)  # GEGLU feed-forward
            self.acts += 14 * t * c
        self.lin(c, c, tokens=t)


def unet(channels, layers_down, layers_mid, latent, cross_dim, add_embedding: int | None):
    g = Walk(cross_dim)
    h = w = latent
    g.conv(4, channels[0], 3, h, w)
    g.lin(channels[0], g.temb); g.lin(g.temb, g.temb)  # noqa: E702  time embedding
    if add_embedding:  # SDXL text_time: pooled text + size/crop embeddings
        g.lin(add_embedding, g.temb); g.lin(g.temb, g.temb)  # noqa: E702
    skips, c = [channels[0]], channels[0]
    for i, (co, n) in enumerate(zip(channels, layers_down)):
        for _ in range(2):  # layers_per_block
            g.resnet(c, co, h, w); c = co  # noqa: E702
            if n:
                g.transformer(c, n, h, w)
            skips.append(c)
        if i < len(channels) - 1:
            h, w = g.conv(c, c, 3, h, w, 2); skips.append(c)  # noqa: E702
    g.resnet(c, c, h, w); g.transformer(c, layers_mid, h, w); g.resnet(c, c, h, w)  # noqa: E702
    for i, (co, n) in enumerate(zip(reversed(channels), reversed(layers_down))):
        for _ in range(3):  # layers_per_block + 1, each with a skip
            g.resnet(c + skips.pop(), co, h, w); c = co  # noqa: E702
            if n:
                g.transformer(c, n, h, w)
        if i < len(channels) - 1:
            h, w = 2 * h, 2 * w; g.conv(c, c, 3, h, w)  # noqa: E702  nearest upsample + conv
    g.norm(channels[0]); g.conv(channels[0], 4, 3, h, w)  # noqa: E702
    return g


MODELS = {
    "StableDiffusion_v1_5": lambda: unet((320, 640, 1280, 1280), (1, 1, 1, 0), 1, 64, 768, None),
    "SDXL_Base": lambda: unet((320, 640, 1280), (0, 2, 10), 10, 128, 2048, 2816),
}

if __name__ == "__main__":
    for name, build in MODELS.items():
        g = build()
        print(f"{name}: params {g.params:,} MACs {g.macs:,} ({2 * g.macs / 1e9:.5g} GFLOP) activations {g.acts:,} "
              f"layers {g.layers}")
