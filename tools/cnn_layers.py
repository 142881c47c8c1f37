"""Layer walker for the catalog's fixed-graph models (CNNs, MLPs): per-layer MACs, activation sizes and
parameters, printed as the `[models.layer_table]` TOML block the engine's per-layer roofline reads.

Usage: python tools/cnn_layers.py MODEL_NAME     (ResNet50, MobileNetV2, AlexNet, YOLOv8_Nano, DS_CNN,
                                                  MobileNetV1_025, WakeVision, AnomalyDetector, ResNet8)
Conventions:
 - params: learnable tensors (conv/linear weights+biases, BN scale+shift) = PyTorch numel / Keras trainable.
 - MACs: conv + linear; BN/activation/pool/add not counted (fused or negligible).
 - activations: output elements of every conv/linear/pool/upsample kernel, BN + activation (+ residual add)
   fused into the producing conv; concat/chunk are views.
 - one row per kernel: [macs, input_elements, output_elements, parameters].
 - elementwise (ResNet-50): elements per sample under BatchNorm, activation and residual add, and their kernel
   count, for runtimes that run them unfused (eager PyTorch); printed as [models.elementwise].
"""
import math
class G:
    def __init__(s, name):
        s.name=name; s.params=0; s.macs=0; s.acts=0; s.peak=0; s.nconv=0; s.log=[]; s.kinds=[]
        s.elt = {'normalization': 0, 'activation': 0, 'residual': 0, 'kernels': 0}  # unfused element-wise ops
    def eltwise(s, kind, elems):
        """An element-wise op over `elems` elements that a fusing runtime folds into the producing conv."""
        s.elt[kind] += elems; s.elt['kernels'] += 1
    def rec(s, kind, inp, out, macs=0, params=0, count_layer=True, count_act=True, layer_kind=None):
        # layer_kind (the microcontroller cycles model's layer type): first conv, depthwise, other conv, dense, none
        s.kinds.append(layer_kind or {"conv": "conv", "fc": "dense"}.get(kind, "none"))
        s.params+=params; s.macs+=macs
        if count_act:
            s.acts+=out; s.peak=max(s.peak, inp+out)
        if count_layer and kind in ("conv","fc"): s.nconv+=1
        s.log.append((kind,inp,out,macs,params))
    def conv(s, cin, h, w, cout, k, stride=1, groups=1, bias=False, bn=False, pad=None, kh=None, kw=None):
        kh = kh or k; kw = kw or k
        if pad is None:  # 'same'-style
            ho, wo = math.ceil(h/stride), math.ceil(w/stride)
        else:
            ho = (h + 2*pad[0] - kh)//stride + 1; wo = (w + 2*pad[1] - kw)//stride + 1
        p = cout*(cin//groups)*kh*kw + (cout if bias else 0) + (2*cout if bn else 0)
        m = ho*wo*cout*(cin//groups)*kh*kw
        first = not any(k in ("first", "conv", "depthwise") for k in s.kinds)
        lk = "first" if first else ("depthwise" if groups > 1 and groups == cin else "conv")
        s.rec("conv", cin*h*w, cout*ho*wo, m, p, layer_kind=lk)
        if bn: s.eltwise('normalization', cout*ho*wo)
        return cout, ho, wo
    def fc(s, fin, fout, bias=True, bn=False, tokens=1):
        p = fin*fout + (fout if bias else 0) + (2*fout if bn else 0)
        s.rec("fc", fin*tokens, fout*tokens, fin*fout*tokens, p)
        return fout
    def pool(s, c, h, w, k, stride, pad=0, ceil=False):
        f = math.ceil if ceil else math.floor
        ho = f((h+2*pad-k)/stride)+1; wo = f((w+2*pad-k)/stride)+1
        s.rec("pool", c*h*w, c*ho*wo, 0, 0)
        return c, ho, wo
    def gpool(s, c, h, w):
        s.rec("pool", c*h*w, c, 0, 0); return c,1,1
    def summary(s):
        return dict(name=s.name, params=s.params, macs=s.macs, flops=2*s.macs, acts=s.acts, peak=s.peak, layers=s.nconv)

def resnet50():
    g=G("ResNet-50 (torchvision v1.5, 224)")
    c,h,w = g.conv(3,224,224,64,7,2,bn=True,pad=(3,3))
    g.eltwise('activation', c*h*w)
    c,h,w = g.pool(c,h,w,3,2,1)
    inp=c
    for planes,blocks,stride in [(64,3,1),(128,4,2),(256,6,2),(512,3,2)]:
        for b in range(blocks):
            st = stride if b==0 else 1
            c1,h1,w1 = g.conv(inp,h,w,planes,1,1,bn=True,pad=(0,0))
            g.eltwise('activation', c1*h1*w1)
            c2,h2,w2 = g.conv(c1,h1,w1,planes,3,st,bn=True,pad=(1,1))
            g.eltwise('activation', c2*h2*w2)
            c3,h3,w3 = g.conv(c2,h2,w2,planes*4,1,1,bn=True,pad=(0,0))
            if b==0: g.conv(inp,h,w,planes*4,1,st,bn=True,pad=(0,0))
            g.eltwise('residual', c3*h3*w3)  # out = relu(bn3(conv3) + identity): the add, then its ReLU
            g.eltwise('activation', c3*h3*w3)
            inp,h,w = c3,h3,w3
    c,h,w = g.gpool(inp,h,w)
    g.fc(2048,1000)
    return g

def mbv2(alpha=1.0, res=224, classes=1000, name="MobileNetV2", keras=False):
    def md(v, d=8):
        nv = max(d, int(v + d/2)//d*d)
        if nv < 0.9*v: nv += d
        return nv
    g=G(name)
    first = md(32*alpha)
    c,h,w = g.conv(3,res,res,first,3,2,bn=True)
    inp=c
    cfg=[(1,16,1,1),(6,24,2,2),(6,32,3,2),(6,64,4,2),(6,96,3,1),(6,160,3,2),(6,320,1,1)]
    for t,ch,n,s_ in cfg:
        out = md(ch*alpha)
        for i in range(n):
            st = s_ if i==0 else 1
            hid = inp*t if keras else int(round(inp*t))
            cc,hh,ww = inp,h,w
            if t!=1: cc,hh,ww = g.conv(cc,hh,ww,hid,1,1,bn=True)
            cc,hh,ww = g.conv(cc,hh,ww,cc,3,st,groups=cc,bn=True)
            cc,hh,ww = g.conv(cc,hh,ww,out,1,1,bn=True)
            inp,h,w = cc,hh,ww
    last = md(1280*alpha) if alpha>1.0 else 1280
    c,h,w = g.conv(inp,h,w,last,1,1,bn=True)
    g.gpool(c,h,w)
    g.fc(last,classes)
    return g

def alexnet_orig():
    g=G("AlexNet (Krizhevsky 2012, 227 input, 2-group convs)")
    c,h,w = g.conv(3,227,227,96,11,4,bias=True,pad=(0,0))
    c,h,w = g.pool(c,h,w,3,2)
    c,h,w = g.conv(c,h,w,256,5,1,groups=2,bias=True,pad=(2,2))
    c,h,w = g.pool(c,h,w,3,2)
    c,h,w = g.conv(c,h,w,384,3,1,bias=True,pad=(1,1))
    c,h,w = g.conv(c,h,w,384,3,1,groups=2,bias=True,pad=(1,1))
    c,h,w = g.conv(c,h,w,256,3,1,groups=2,bias=True,pad=(1,1))
    c,h,w = g.pool(c,h,w,3,2)
    f = g.fc(c*h*w,4096); f=g.fc(f,4096); g.fc(f,1000)
    return g

def yolov8n(res=640, nc=80):
    g=G("YOLOv8n detect 640")
    def Conv(cin,h,w,cout,k=1,s=1):
        return g.conv(cin,h,w,cout,k,s,bn=True)
    def C2f(cin,h,w,cout,n,shortcut):
        c=int(cout*0.5)
        _,h,w = Conv(cin,h,w,2*c,1)
        for _ in range(n):
            Conv(c,h,w,c,3); Conv(c,h,w,c,3)
        return Conv((2+n)*c,h,w,cout,1)
    def SPPF(cin,h,w,cout):
        c_=cin//2
        Conv(cin,h,w,c_,1)
        for _ in range(3): g.rec("pool", c_*h*w, c_*h*w)
        return Conv(4*c_,h,w,cout,1)
    def up(c,h,w):
        g.rec("upsample", c*h*w, c*4*h*w); return c,2*h,2*w
    c,h,w = Conv(3,res,res,16,3,2)
    c,h,w = Conv(c,h,w,32,3,2)
    c,h,w = C2f(c,h,w,32,1,True)
    c,h,w = Conv(c,h,w,64,3,2)
    p3 = C2f(c,h,w,64,2,True)
    c,h,w = Conv(*p3,128,3,2)
    p4 = C2f(c,h,w,128,2,True)
    c,h,w = Conv(*p4,256,3,2)
    c,h,w = C2f(c,h,w,256,1,True)
    p5 = SPPF(c,h,w,256)
    u = up(*p5)
    h12 = C2f(u[0]+p4[0],p4[1],p4[2],128,1,False)
    u = up(*h12)
    o3 = C2f(u[0]+p3[0],p3[1],p3[2],64,1,False)
    d = Conv(*o3,64,3,2)
    o4 = C2f(d[0]+h12[0],h12[1],h12[2],128,1,False)
    d = Conv(*o4,128,3,2)
    o5 = C2f(d[0]+p5[0],p5[1],p5[2],256,1,False)
    reg=16; c2=max(16,64//4,reg*4); c3=max(64,min(nc,100))
    for (ch,hh,ww) in (o3,o4,o5):
        Conv(ch,hh,ww,c2,3); Conv(c2,hh,ww,c2,3); g.conv(c2,hh,ww,4*reg,1,bias=True)
        Conv(ch,hh,ww,c3,3); Conv(c3,hh,ww,c3,3); g.conv(c3,hh,ww,nc,1,bias=True)
    A = sum(hh*ww for (_,hh,ww) in (o3,o4,o5))
    # DFL: 1x1 conv 16->1 over 4*A anchors-sides (fixed weights, counted as params by ultralytics)
    g.rec("conv", 16*4*A, 4*A, 16*4*A, 16)
    return g

def dscnn():
    g=G("DS-CNN (MLPerf Tiny KWS)")
    c,h,w = g.conv(1,49,10,64,None,2,bias=True,bn=True,kh=10,kw=4)
    for _ in range(4):
        c,h,w = g.conv(c,h,w,c,3,1,groups=c,bias=True,bn=True)
        c,h,w = g.conv(c,h,w,64,1,1,bias=True,bn=True)
    g.rec("pool", c*h*w, c)  # AveragePooling2D((24,5)) on 25x5 -> 1x1
    g.fc(64,12)
    return g

def mbv1_vww():
    g=G("MobileNetV1 0.25 VWW (MLPerf Tiny)")
    c,h,w = g.conv(3,96,96,8,3,2,bias=True,bn=True)
    nf=8
    for (st,dbl) in [(1,1),(2,1),(1,0),(2,1),(1,0),(2,1),(1,0),(1,0),(1,0),(1,0),(1,0),(2,1),(1,0)]:
        c,h,w = g.conv(c,h,w,c,3,st,groups=c,bias=True,bn=True)
        if dbl: nf*=2
        c,h,w = g.conv(c,h,w,nf,1,1,bias=True,bn=True)
    g.gpool(c,h,w)
    g.fc(c,2)
    return g

def resnet8():
    # MLPerf Tiny IC reference (resnet_v1_eembc, 16 first-stage filters; mlcommons/tiny commit bceb91c):
    # Conv2D default use_bias=True, BatchNormalization after every conv except the 1x1 shortcuts.
    g=G("ResNet-8 (MLPerf Tiny IC, CIFAR-10)")
    c,h,w = g.conv(3,32,32,16,3,1,bias=True,bn=True)
    for cout, st in ((16,1),(32,2),(64,2)):
        cin, hi, wi = c, h, w
        c,h,w = g.conv(cin,hi,wi,cout,3,st,bias=True,bn=True)
        c,h,w = g.conv(c,h,w,cout,3,1,bias=True,bn=True)
        if st != 1:
            g.conv(cin,hi,wi,cout,1,st,bias=True)
    g.rec("pool", c*h*w, c)  # AveragePooling2D over the 8x8 map
    g.fc(c,10)
    return g

def anomaly_ae():
    g=G("MLPerf Tiny AD FC autoencoder")
    dims=[640,128,128,128,128,8,128,128,128,128,640]
    for i in range(10):
        g.fc(dims[i],dims[i+1],bias=True,bn=(i<9))
    return g


BUILDERS = {
    "ResNet50": resnet50, "MobileNetV2": mbv2, "AlexNet": alexnet_orig, "YOLOv8_Nano": yolov8n, "DS_CNN": dscnn,
    "MobileNetV1_025": mbv1_vww, "AnomalyDetector": anomaly_ae, "ResNet8": resnet8,
    "WakeVision": lambda: mbv2(0.25, 224, 2, "WakeVision MobileNetV2 0.25 (keras) 224", keras=True),
}


def layer_table_toml(name: str) -> str:
    g = BUILDERS[name]()
    rows = ",\n".join(f"  [{macs}, {inp}, {out}, {params}]" for _kind, inp, out, macs, params in g.log)
    kinds = ", ".join(f'"{k}"' for k in g.kinds)
    return ("[models.layer_table]\n"
            "# generated by tools/cnn_layers.py: one row per kernel\n"
            'columns = ["macs", "input_elements", "output_elements", "parameters"]\n'
            f"rows = [\n{rows},\n]\n"
            f"kinds = [{kinds}]\n")


if __name__ == "__main__":
    import sys

    for model in sys.argv[1:] or list(BUILDERS):
        s = BUILDERS[model]().summary()
        print(f"# {model}: params {s['params']:,} MACs {s['macs']:,} activations {s['acts']:,} peak {s['peak']:,}")
        print(layer_table_toml(model))
        g = BUILDERS[model]()
        if model == "ResNet50":  # element-wise counts are walked for ResNet-50 only so far
            print("[models.elementwise]\n# generated by tools/cnn_layers.py\n" + ", ".join(
                f"{k} = {v}" for k, v in g.elt.items()))
