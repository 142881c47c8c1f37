"""Layer walker for the cnn_zoo catalog entries (ResNet-18/101, EfficientNet-B0, MobileNetV3 Large/Small, YOLOv8s),
with the conventions of tools/cnn_layers.py (whose G recorder it reuses): conv/linear MACs and parameters (incl.
BatchNorm scale+shift), BN/activation/residual fused into the producing conv, one row per kernel.

Usage: python tools/cnn_zoo_layers.py [MODEL_NAME ...]    prints the totals (the catalog generator prints the tables).
Architectures follow torchvision (torchvision/models/resnet.py, efficientnet.py, mobilenetv3.py) and Ultralytics
(ultralytics/cfg/models/v8/yolov8.yaml, scale s: depth 0.33, width 0.50, max_channels 1024).
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cnn_layers import G  # noqa: E402


def _div(v, d=8):
    """torchvision/_utils._make_divisible: round to a multiple of d, never below 90 % of v."""
    nv = max(d, int(v + d / 2) // d * d)
    return nv + d if nv < 0.9 * v else nv


def resnet(blocks, bottleneck, name):
    g = G(name)
    c, h, w = g.conv(3, 224, 224, 64, 7, 2, bn=True, pad=(3, 3))
    c, h, w = g.pool(c, h, w, 3, 2, 1)
    inp = c
    for planes, n, stride in zip((64, 128, 256, 512), blocks, (1, 2, 2, 2)):
        for b in range(n):
            st = stride if b == 0 else 1
            out = planes * (4 if bottleneck else 1)
            if bottleneck:  # v1.5: stride on the 3x3
                c1, h1, w1 = g.conv(inp, h, w, planes, 1, 1, bn=True, pad=(0, 0))
                c1, h1, w1 = g.conv(c1, h1, w1, planes, 3, st, bn=True, pad=(1, 1))
                c1, h1, w1 = g.conv(c1, h1, w1, out, 1, 1, bn=True, pad=(0, 0))
            else:
                c1, h1, w1 = g.conv(inp, h, w, planes, 3, st, bn=True, pad=(1, 1))
                c1, h1, w1 = g.conv(c1, h1, w1, planes, 3, 1, bn=True, pad=(1, 1))
            if st != 1 or inp != out:
                g.conv(inp, h, w, out, 1, st, bn=True, pad=(0, 0))
            inp, h, w = c1, h1, w1
    c, h, w = g.gpool(inp, h, w)
    g.fc(inp, 1000)
    return g


def _se(g, c, h, w, squeeze):
    """Squeeze-and-excitation: global pool, 1x1 conv c->s (bias), 1x1 conv s->c (bias) on the 1x1 map."""
    g.gpool(c, h, w)
    g.conv(c, 1, 1, squeeze, 1, 1, bias=True)
    g.conv(squeeze, 1, 1, c, 1, 1, bias=True)


def efficientnet_b0():
    g = G("EfficientNet-B0 (torchvision, 224)")
    c, h, w = g.conv(3, 224, 224, 32, 3, 2, bn=True)
    # (expand ratio, kernel, stride, in, out, layers): Tan & Le 2019, Table 1
    for t, k, s, cin, cout, n in [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                                  (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]:
        for i in range(n):
            inp = cin if i == 0 else cout
            st = s if i == 0 else 1
            exp = inp * t
            cc = inp
            if exp != inp:
                cc, _, _ = g.conv(inp, h, w, exp, 1, 1, bn=True)
            cc, h2, w2 = g.conv(cc, h, w, cc, k, st, groups=cc, bn=True)
            _se(g, cc, h2, w2, max(1, inp // 4))
            cc, h, w = g.conv(cc, h2, w2, cout, 1, 1, bn=True)
    c, h, w = g.conv(320, h, w, 1280, 1, 1, bn=True)
    g.gpool(c, h, w)
    g.fc(1280, 1000)
    return g


V3_LARGE = [(16, 3, 16, 16, 0, 1), (16, 3, 64, 24, 0, 2), (24, 3, 72, 24, 0, 1), (24, 5, 72, 40, 1, 2),
            (40, 5, 120, 40, 1, 1), (40, 5, 120, 40, 1, 1), (40, 3, 240, 80, 0, 2), (80, 3, 200, 80, 0, 1),
            (80, 3, 184, 80, 0, 1), (80, 3, 184, 80, 0, 1), (80, 3, 480, 112, 1, 1), (112, 3, 672, 112, 1, 1),
            (112, 5, 672, 160, 1, 2), (160, 5, 960, 160, 1, 1), (160, 5, 960, 160, 1, 1)]
V3_SMALL = [(16, 3, 16, 16, 1, 2), (16, 3, 72, 24, 0, 2), (24, 3, 88, 24, 0, 1), (24, 5, 96, 40, 1, 2),
            (40, 5, 240, 40, 1, 1), (40, 5, 240, 40, 1, 1), (40, 5, 120, 48, 1, 1), (48, 5, 144, 48, 1, 1),
            (48, 5, 288, 96, 1, 2), (96, 5, 576, 96, 1, 1), (96, 5, 576, 96, 1, 1)]


def mobilenet_v3(cfg, last, name):
    """torchvision mobilenetv3.py: (in, kernel, expanded, out, SE, stride) per inverted residual (Howard et al. 2019
    Tables 1-2); SE squeeze = _make_divisible(expanded // 4, 8); head conv to 6 x last block, Linear to `last`."""
    g = G(name)
    c, h, w = g.conv(3, 224, 224, 16, 3, 2, bn=True)
    for cin, k, exp, cout, se, s in cfg:
        cc = cin
        if exp != cin:
            cc, _, _ = g.conv(cin, h, w, exp, 1, 1, bn=True)
        cc, h, w = g.conv(cc, h, w, cc, k, s, groups=cc, bn=True)
        if se:
            _se(g, cc, h, w, _div(exp // 4, 8))
        cc, h, w = g.conv(cc, h, w, cout, 1, 1, bn=True)
        c = cc
    c, h, w = g.conv(c, h, w, 6 * c, 1, 1, bn=True)
    g.gpool(c, h, w)
    f = g.fc(c, last)
    g.fc(f, 1000)
    return g


def yolov8(width, depth, name, res=640, nc=80, max_channels=1024):
    """ultralytics/cfg/models/v8/yolov8.yaml at a (depth, width) scale; channels make_divisible(min(c, max) x width, 8),
    repeats max(round(n x depth), 1); head: c2 = max(16, ch0 // 4, 64), c3 = max(ch0, min(nc, 100)); DFL 1x1 16->1."""
    g = G(name)
    ch = lambda c: math.ceil(min(c, max_channels) * width / 8) * 8  # noqa: E731
    rep = lambda n: max(round(n * depth), 1)  # noqa: E731

    def Conv(cin, h, w, cout, k=1, s=1):
        return g.conv(cin, h, w, cout, k, s, bn=True)

    def C2f(cin, h, w, cout, n):
        c = int(cout * 0.5)
        _, h, w = Conv(cin, h, w, 2 * c, 1)
        for _ in range(n):
            Conv(c, h, w, c, 3)
            Conv(c, h, w, c, 3)
        return Conv((2 + n) * c, h, w, cout, 1)

    def SPPF(cin, h, w, cout):
        c_ = cin // 2
        Conv(cin, h, w, c_, 1)
        for _ in range(3):
            g.rec("pool", c_ * h * w, c_ * h * w)
        return Conv(4 * c_, h, w, cout, 1)

    def up(c, h, w):
        g.rec("upsample", c * h * w, c * 4 * h * w)
        return c, 2 * h, 2 * w

    c, h, w = Conv(3, res, res, ch(64), 3, 2)
    c, h, w = Conv(c, h, w, ch(128), 3, 2)
    c, h, w = C2f(c, h, w, ch(128), rep(3))
    c, h, w = Conv(c, h, w, ch(256), 3, 2)
    p3 = C2f(c, h, w, ch(256), rep(6))
    c, h, w = Conv(*p3, ch(512), 3, 2)
    p4 = C2f(c, h, w, ch(512), rep(6))
    c, h, w = Conv(*p4, ch(1024), 3, 2)
    c, h, w = C2f(c, h, w, ch(1024), rep(3))
    p5 = SPPF(c, h, w, ch(1024))
    u = up(*p5)
    h12 = C2f(u[0] + p4[0], p4[1], p4[2], ch(512), rep(3))
    u = up(*h12)
    o3 = C2f(u[0] + p3[0], p3[1], p3[2], ch(256), rep(3))
    d = Conv(*o3, ch(256), 3, 2)
    o4 = C2f(d[0] + h12[0], h12[1], h12[2], ch(512), rep(3))
    d = Conv(*o4, ch(512), 3, 2)
    o5 = C2f(d[0] + p5[0], p5[1], p5[2], ch(1024), rep(3))
    reg = 16
    c2, c3 = max(16, o3[0] // 4, reg * 4), max(o3[0], min(nc, 100))
    for (cc, hh, ww) in (o3, o4, o5):
        Conv(cc, hh, ww, c2, 3); Conv(c2, hh, ww, c2, 3); g.conv(c2, hh, ww, 4 * reg, 1, bias=True)  # noqa: E702
        Conv(cc, hh, ww, c3, 3); Conv(c3, hh, ww, c3, 3); g.conv(c3, hh, ww, nc, 1, bias=True)  # noqa: E702
    anchors = sum(hh * ww for (_, hh, ww) in (o3, o4, o5))
    g.rec("conv", 16 * 4 * anchors, 4 * anchors, 16 * 4 * anchors, 16)  # DFL: fixed 1x1 conv 16 -> 1 per box side
    return g


def yolo11(width, depth, name, res=640, nc=80, max_channels=1024):
    """ultralytics/cfg/models/11/yolo11.yaml at a (depth, width) scale (n: 0.50/0.25, s: 0.50/0.50; c3k as the yaml
    gives it, Ultralytics forces c3k=True only for m/l/x), modules of ultralytics/nn/modules/block.py: C3k2 = C2f
    whose inner blocks are Bottleneck(e=0.5) or C3k (C3 with 2 Bottleneck(e=1.0)); SPPF; C2PSA with one PSABlock
    (Attention: qkv 1x1, heads = c // 64, key_dim = head_dim / 2, depthwise 3x3 positional conv, proj 1x1; FFN 1x1
    c->2c->c); head (Detect, non-legacy): box branch like v8, class branch DWConv 3x3 + 1x1 twice, DFL 1x1 16->1.
    The two attention matmuls (q^T k and v attn^T) are rows too; Ultralytics' thop GFLOPs leave them out."""
    g = G(name)
    ch = lambda c: math.ceil(min(c, max_channels) * width / 8) * 8  # noqa: E731
    rep = lambda n: max(round(n * depth), 1)  # noqa: E731

    def Conv(cin, h, w, cout, k=1, s=1, groups=1):
        return g.conv(cin, h, w, cout, k, s, groups=groups, bn=True)

    def Bottleneck(c1, h, w, c2, e):
        c_ = int(c2 * e)
        Conv(c1, h, w, c_, 3)
        return Conv(c_, h, w, c2, 3)

    def C3k(c1, h, w, c2, n=2, e=0.5):
        c_ = int(c2 * e)
        Conv(c1, h, w, c_, 1)
        Conv(c1, h, w, c_, 1)
        for _ in range(n):
            Bottleneck(c_, h, w, c_, 1.0)
        return Conv(2 * c_, h, w, c2, 1)

    def C3k2(cin, h, w, cout, n, c3k, e=0.5):
        c = int(cout * e)
        Conv(cin, h, w, 2 * c, 1)
        for _ in range(n):
            C3k(c, h, w, c) if c3k else Bottleneck(c, h, w, c, 0.5)
        return Conv((2 + n) * c, h, w, cout, 1)

    def SPPF(cin, h, w, cout):
        c_ = cin // 2
        Conv(cin, h, w, c_, 1)
        for _ in range(3):
            g.rec("pool", c_ * h * w, c_ * h * w)
        return Conv(4 * c_, h, w, cout, 1)

    def C2PSA(c1, h, w, n):
        c = int(c1 * 0.5)
        Conv(c1, h, w, 2 * c, 1)
        heads = c // 64
        head_dim = c // heads
        key_dim = int(head_dim * 0.5)
        tokens = h * w
        for _ in range(n):
            Conv(c, h, w, c + 2 * key_dim * heads, 1)  # qkv
            # attention scores q^T k and the weighted sum v attn^T (Ultralytics Attention.forward)
            g.rec("matmul", 2 * key_dim * heads * tokens, heads * tokens * tokens, heads * tokens * tokens * key_dim,
                  layer_kind="dense")
            g.rec("matmul", heads * tokens * (tokens + head_dim), c * tokens, heads * tokens * tokens * head_dim,
                  layer_kind="dense")
            Conv(c, h, w, c, 3, groups=c)  # positional encoding on v
            Conv(c, h, w, c, 1)  # proj
            Conv(c, h, w, 2 * c, 1)  # FFN
            Conv(2 * c, h, w, c, 1)
        return Conv(2 * c, h, w, c1, 1)

    def up(c, h, w):
        g.rec("upsample", c * h * w, c * 4 * h * w)
        return c, 2 * h, 2 * w

    c, h, w = Conv(3, res, res, ch(64), 3, 2)
    c, h, w = Conv(c, h, w, ch(128), 3, 2)
    c, h, w = C3k2(c, h, w, ch(256), rep(2), False, 0.25)
    c, h, w = Conv(c, h, w, ch(256), 3, 2)
    p3 = C3k2(c, h, w, ch(512), rep(2), False, 0.25)
    c, h, w = Conv(*p3, ch(512), 3, 2)
    p4 = C3k2(c, h, w, ch(512), rep(2), True)
    c, h, w = Conv(*p4, ch(1024), 3, 2)
    c, h, w = C3k2(c, h, w, ch(1024), rep(2), True)
    c, h, w = SPPF(c, h, w, ch(1024))
    p5 = C2PSA(c, h, w, rep(2))
    u = up(*p5)
    h13 = C3k2(u[0] + p4[0], p4[1], p4[2], ch(512), rep(2), False)
    u = up(*h13)
    o3 = C3k2(u[0] + p3[0], p3[1], p3[2], ch(256), rep(2), False)
    d = Conv(*o3, ch(256), 3, 2)
    o4 = C3k2(d[0] + h13[0], h13[1], h13[2], ch(512), rep(2), False)
    d = Conv(*o4, ch(512), 3, 2)
    o5 = C3k2(d[0] + p5[0], p5[1], p5[2], ch(1024), rep(2), True)
    reg = 16
    c2, c3 = max(16, o3[0] // 4, reg * 4), max(o3[0], min(nc, 100))
    for (cc, hh, ww) in (o3, o4, o5):
        Conv(cc, hh, ww, c2, 3); Conv(c2, hh, ww, c2, 3); g.conv(c2, hh, ww, 4 * reg, 1, bias=True)  # noqa: E702
        Conv(cc, hh, ww, cc, 3, groups=cc); Conv(cc, hh, ww, c3, 1)  # noqa: E702
        Conv(c3, hh, ww, c3, 3, groups=c3); Conv(c3, hh, ww, c3, 1)  # noqa: E702
        g.conv(c3, hh, ww, nc, 1, bias=True)
    anchors = sum(hh * ww for (_, hh, ww) in (o3, o4, o5))
    g.rec("conv", 16 * 4 * anchors, 4 * anchors, 16 * 4 * anchors, 16)  # DFL: fixed 1x1 conv 16 -> 1 per box side
    return g


def unet():
    """Ronneberger et al. 2015 (arXiv:1505.04597) fig. 1: 572x572x1 in, unpadded 3x3 convs with bias, 2x2 max-pool,
    2x2 up-convolutions (transposed, stride 2) halving the channels, crop-and-copy skips (free views), 1x1 conv to
    2 classes: 23 convolutional layers, 388x388x2 out."""
    g = G("U-Net (Ronneberger 2015, 572x572)")
    c, h, w = 1, 572, 572
    for co in (64, 128, 256, 512):
        c, h, w = g.conv(c, h, w, co, 3, 1, bias=True, pad=(0, 0))
        c, h, w = g.conv(c, h, w, co, 3, 1, bias=True, pad=(0, 0))
        c, h, w = g.pool(c, h, w, 2, 2)
    c, h, w = g.conv(c, h, w, 1024, 3, 1, bias=True, pad=(0, 0))
    c, h, w = g.conv(c, h, w, 1024, 3, 1, bias=True, pad=(0, 0))
    for co in (512, 256, 128, 64):
        # up-convolution: every input pixel writes a 2x2 output block through c x co weights per position
        g.rec("conv", c * h * w, co * 4 * h * w, h * w * c * co * 4, c * co * 4 + co, layer_kind="conv")
        h, w, c = 2 * h, 2 * w, 2 * co  # concatenated with the cropped skip
        c, h, w = g.conv(c, h, w, co, 3, 1, bias=True, pad=(0, 0))
        c, h, w = g.conv(c, h, w, co, 3, 1, bias=True, pad=(0, 0))
    g.conv(c, h, w, 2, 1, 1, bias=True, pad=(0, 0))
    return g


BUILDERS = {
    "ResNet18": lambda: resnet((2, 2, 2, 2), False, "ResNet-18 (torchvision, 224)"),
    "ResNet101": lambda: resnet((3, 4, 23, 3), True, "ResNet-101 v1.5 (torchvision, 224)"),
    "EfficientNet_B0": efficientnet_b0,
    "MobileNetV3_Large": lambda: mobilenet_v3(V3_LARGE, 1280, "MobileNetV3-Large (torchvision, 224)"),
    "MobileNetV3_Small": lambda: mobilenet_v3(V3_SMALL, 1024, "MobileNetV3-Small (torchvision, 224)"),
    "YOLOv8s": lambda: yolov8(0.50, 0.33, "YOLOv8s detect 640"),
    "YOLO11n": lambda: yolo11(0.25, 0.50, "YOLO11n detect 640"),
    "YOLO11s": lambda: yolo11(0.50, 0.50, "YOLO11s detect 640"),
    "UNet": unet,
}


def layer_table_toml(g) -> str:
    rows = ",\n".join(f"  [{macs}, {inp}, {out}, {params}]" for _kind, inp, out, macs, params in g.log)
    kinds = ", ".join(f'"{k}"' for k in g.kinds)
    return ("[models.layer_table]\n# generated by tools/cnn_zoo_layers.py: one row per kernel\n"
            'columns = ["macs", "input_elements", "output_elements", "parameters"]\n'
            f"rows = [\n{rows},\n]\nkinds = [{kinds}]\n")


if __name__ == "__main__":
    for model in sys.argv[1:] or list(BUILDERS):
        g = BUILDERS[model]()
        s = g.summary()
        print(f"# {model}: params {s['params']:,} MACs {s['macs']:,} activations {s['acts']:,} peak {s['peak']:,} "
              f"layers {s['layers']}")
