"""The demo's calibration: a PyTorch copy of ScratchDetect's small SSD trained on make-shapes data.

Usage:
  scratchdetect make-shapes --out shapes --train 2000 --test 200 --size 96..128 --objects 1..2 --object-scale 0.2..0.45
  /usr/bin/python3 tools/demo/torch_small_ssd.py --data shapes --images 20000 --batch 16 --opt adamw --lr 0.003 \
      --wd 0.01 --sched step60 --eval-at 625

(the demo's recipe: 0.417 after 10,000 images and 0.673 after 20,000 on the demo's 200 held-out images, 3 minutes
on the quiet 2-core machine). It prints the loss every 25 iterations and VOC07 mAP@0.5 on the test split at --eval-at iterations and at the
end, against the number of IMAGES SEEN, which is what carries over to our engine (only the time per image
differs). The defaults are the demo's model, ssd_tiny (TrainableModels.TinySsd); the recipe's options (DemoSettings) are given above.

What is the same as ours: the network is built as models/Backbones/Vgg.cs builds it from an ssd.pytorch
configuration string (batch norm after every convolution with --bn-all 1, SsdConfig.BatchNormInExtras;
Kaiming-normal base, Xavier-uniform conv6/conv7/extras/heads, zero biases, L2Norm scale 20), and
torchvision 0.14's SSD class supplies the transform (square resize, mean (0.48235, 0.45882, 0.40784),
std 1/255), DefaultBoxGenerator(scales, clip), matching at IoU 0.5, the MultiBoxLoss (3 hard negatives per
positive) and the postprocess, which our Ssd reproduces. SGD with momentum 0.9 and weight decay 5e-4 (or AdamW with --opt adamw),
linear warm-up from lr/1000, epochs over the train split in a shuffled order. VOC07 11-point AP, difficult
objects ignored, as data/Evaluation/VocEvaluator.cs.

What differs: the photometric distortion is a simpler one (brightness, contrast, saturation, channel order;
SsdAugmentation's draws also shift the hue), the random crop keeps ssd.pytorch's modes but not its exact
draws, and the random streams are numpy's, so runs agree with ours in distribution, not number for number.
"""
import argparse, math, os, time
import xml.etree.ElementTree as ET
from collections import OrderedDict
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
from torchvision.models.detection.ssd import SSD
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator

torch.set_num_threads(int(os.environ.get("THREADS", "2")))  # the machine has two cores
CLASSES = ["circle", "square", "triangle", "diamond", "star", "ring"]


class Backbone(nn.Module):
    def __init__(self, base, fc, dil, extras, bn_base=True, bn_all=False):
        super().__init__()
        toks = base.split()
        layers, ch, last_pool, src_ch = [], 3, -1, 0
        for t in toks:
            if t in ("M", "C"):
                if t == "M":
                    last_pool, src_ch = len(layers), ch
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=(t == "C")))
                continue
            w = int(t)
            conv = nn.Conv2d(ch, w, 3, padding=1)
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu"); nn.init.zeros_(conv.bias)
            layers.append(conv)
            if bn_base: layers.append(nn.BatchNorm2d(w))
            layers.append(nn.ReLU(inplace=True))
            ch = w
        self.features = nn.Sequential(*layers[:last_pool])
        self.scale_weight = nn.Parameter(torch.full((src_ch,), 20.0))

        def xconv(i, o, k, s=1, p=0, d=1):
            c = nn.Conv2d(i, o, k, stride=s, padding=p, dilation=d)
            nn.init.xavier_uniform_(c.weight); nn.init.zeros_(c.bias)
            return c

        def block(*convs):
            mods = []
            for c in convs:
                mods.append(c)
                if bn_all: mods.append(nn.BatchNorm2d(c.out_channels))
                mods.append(nn.ReLU(inplace=True))
            return mods
        fcl = [nn.MaxPool2d(3, 1, 1)] + block(xconv(ch, fc, 3, p=dil, d=dil), xconv(fc, fc, 1))
        self.extra = nn.ModuleList([nn.Sequential(*layers[last_pool:], *fcl)])
        ch = fc
        for mid, out in extras:
            self.extra.append(nn.Sequential(*block(xconv(ch, mid, 1), xconv(mid, out, 3, 2, 1))))
            ch = out

    def forward(self, x):
        x = self.features(x)
        out = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        x = self.extra[0](x); out.append(x)
        for b in self.extra[1:]:
            x = b(x); out.append(x)
        return OrderedDict((str(i), v) for i, v in enumerate(out))


def load_split(root, split):
    ids = [l.strip() for l in open(os.path.join(root, "ImageSets/Main", split + ".txt")) if l.strip()]
    data = []
    for i in ids:
        img = np.asarray(Image.open(os.path.join(root, "JPEGImages", i + ".jpg")).convert("RGB"), dtype=np.uint8)
        t = ET.parse(os.path.join(root, "Annotations", i + ".xml")).getroot()
        boxes, labels, diff = [], [], []
        for o in t.findall("object"):
            b = o.find("bndbox")
            # VOC 1-based inclusive -> our continuous frame: x1-1, y1-1, x2, y2
            boxes.append([float(b.find("xmin").text) - 1, float(b.find("ymin").text) - 1, float(b.find("xmax").text), float(b.find("ymax").text)])
            labels.append(CLASSES.index(o.find("name").text) + 1)
            diff.append(int(o.find("difficult").text) if o.find("difficult") is not None else 0)
        data.append((img, np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int64), np.array(diff, bool)))
    return data


def photometric(img, rng):
    img = img.astype(np.float32)
    if rng.random() < 0.5: img += rng.uniform(-32, 32)
    if rng.random() < 0.5: img *= rng.uniform(0.5, 1.5)
    if rng.random() < 0.5:
        g = img.mean(2, keepdims=True); img = g + (img - g) * rng.uniform(0.5, 1.5)
    if rng.random() < 0.5: img = img[:, :, rng.permutation(3)]
    return np.clip(img, 0, 255)


def iou_rect(boxes, r):
    iw = np.clip(np.minimum(boxes[:, 2], r[2]) - np.maximum(boxes[:, 0], r[0]), 0, None)
    ih = np.clip(np.minimum(boxes[:, 3], r[3]) - np.maximum(boxes[:, 1], r[1]), 0, None)
    inter = iw * ih
    return inter / ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (r[2] - r[0]) * (r[3] - r[1]) - inter)


def sample_crop(img, boxes, labels, rng, modes, min_side=0.3):
    H, W = img.shape[:2]
    while True:
        m = modes[rng.integers(len(modes))]
        if m is None: return img, boxes, labels
        for _ in range(50):
            w = rng.uniform(min_side * W, W); h = rng.uniform(min_side * H, H)
            if h / w < 0.5 or h / w > 2: continue
            l = rng.uniform(0, W - w); t = rng.uniform(0, H - h)
            r = np.array([int(l), int(t), int(l + w), int(t + h)])
            if len(boxes) == 0:
                return img[r[1]:r[3], r[0]:r[2]], boxes, labels
            if iou_rect(boxes, r).max() < m: continue
            c = (boxes[:, :2] + boxes[:, 2:]) / 2
            mask = (r[0] < c[:, 0]) & (r[1] < c[:, 1]) & (r[2] > c[:, 0]) & (r[3] > c[:, 1])
            if not mask.any(): continue
            b = boxes[mask].copy()
            b[:, :2] = np.maximum(b[:, :2], r[:2]) - r[:2]; b[:, 2:] = np.minimum(b[:, 2:], r[2:]) - r[:2]
            return img[r[1]:r[3], r[0]:r[2]], b, labels[mask]


def expand(img, boxes, rng, max_ratio):
    if rng.random() < 0.5: return img, boxes
    H, W = img.shape[:2]
    ratio = rng.uniform(1, max_ratio)
    l = int(rng.uniform(0, W * ratio - W)); t = int(rng.uniform(0, H * ratio - H))
    out = np.empty((int(H * ratio), int(W * ratio), 3), np.float32); out[:] = [123, 117, 104]
    out[t:t + H, l:l + W] = img
    b = boxes.copy(); b[:, [0, 2]] += l; b[:, [1, 3]] += t
    return out, b


SSD_MODES = [None, 0.1, 0.3, 0.7, 0.9, -1.0]


def augment(sample, rng, aug):
    img, boxes, labels, diff = sample
    keep = ~diff
    boxes, labels = boxes[keep], labels[keep]
    img = photometric(img, rng) if aug["photo"] else img.astype(np.float32)
    if aug["expand"] > 1: img, boxes = expand(img, boxes, rng, aug["expand"])
    if aug["crop"]: img, boxes, labels = sample_crop(img, boxes, labels, rng, aug["modes"], aug["min_side"])
    if rng.random() < 0.5:
        img = img[:, ::-1]; W = img.shape[1]
        boxes = boxes.copy(); boxes[:, [0, 2]] = W - boxes[:, [2, 0]]
    return (torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1) / 255.0,
            {"boxes": torch.from_numpy(np.ascontiguousarray(boxes)).float().reshape(-1, 4), "labels": torch.from_numpy(labels)})


def voc07_ap(rec, prec):
    ap = 0.0
    for t in np.arange(0, 1.1, 0.1):
        p = prec[rec >= t].max() if (rec >= t).any() else 0
        ap += p / 11
    return ap


def iou_mat(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2]); rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None); inter = wh[..., 0] * wh[..., 1]
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    return inter / (area(a)[:, None] + area(b)[None] - inter)


@torch.no_grad()
def evaluate(model, data):
    model.eval()
    dets = []
    for i in range(0, len(data), 50):
        imgs = [torch.from_numpy(d[0]).permute(2, 0, 1).float() / 255 for d in data[i:i + 50]]
        dets += model(imgs)
    model.train()
    aps = []
    for c in range(1, len(CLASSES) + 1):
        npos = sum(int(((d[2] == c) & ~d[3]).sum()) for d in data)
        recs = []
        used = [np.zeros(int((d[2] == c).sum()), bool) for d in data]
        for k, det in enumerate(dets):
            m = det["labels"] == c
            for b, s in zip(det["boxes"][m].numpy(), det["scores"][m].numpy()):
                recs.append((s, k, b))
        recs.sort(key=lambda r: -r[0])
        tp, fp = [], []
        for s, k, b in recs:
            g = data[k][1][data[k][2] == c]; gd = data[k][3][data[k][2] == c]
            if len(g):
                ov = iou_mat(b[None], g)[0]; j = ov.argmax()
                if ov[j] > 0.5:
                    if gd[j]: continue
                    if not used[k][j]: used[k][j] = True; tp.append(1); fp.append(0)
                    else: tp.append(0); fp.append(1)
                    continue
            tp.append(0); fp.append(1)
        tp, fp = np.cumsum(tp), np.cumsum(fp)
        rec = tp / max(npos, 1); prec = tp / np.maximum(tp + fp, 1e-9)
        aps.append(voc07_ap(rec, prec) if len(recs) else 0.0)
    return float(np.mean(aps)), aps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True); p.add_argument("--val", default=None)
    p.add_argument("--base", default="16 M 32 M 64 64 C 128 128 M 128"); p.add_argument("--fc", type=int, default=128)
    p.add_argument("--dil", type=int, default=1); p.add_argument("--extras", default="32,64;32,64")
    p.add_argument("--bn-all", type=int, default=1); p.add_argument("--size", type=int, default=96)
    p.add_argument("--scales", default="0.2,0.35,0.55,0.75,0.95"); p.add_argument("--ars", default="2;2,3;2,3;2")
    p.add_argument("--batch", type=int, default=16); p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--wd", type=float, default=5e-4); p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--images", type=int, default=10000, help="images seen in all")
    p.add_argument("--sched", default="step80", help="cos, step (/10 at 67%% and 90%%), step80 (/10 at 80%%), step60 (/10 at 60%% and 80%%), const")
    p.add_argument("--expand", type=float, default=1.0, help="largest Expand ratio (1: none)"); p.add_argument("--crop", type=int, default=0, help="1: RandomSampleCrop")
    p.add_argument("--modes", default="ssd"); p.add_argument("--min-side", type=float, default=0.3)
    p.add_argument("--photo", type=int, default=1); p.add_argument("--eval-at", default="")
    p.add_argument("--unit", type=int, default=0, help="1: ImageNet std instead of 1/255 (inputs of unit scale)")
    p.add_argument("--opt", default="sgd", help="sgd (momentum 0.9) or adamw (--wd is then its decoupled decay)"); p.add_argument("--seed", type=int, default=0); p.add_argument("--train-n", type=int, default=0, help="use only the first N train images")
    a = p.parse_args()
    torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)
    train = load_split(a.data, "train")
    if a.train_n: train = train[:a.train_n]
    test = load_split(a.val or a.data, "test")
    extras = [tuple(int(v) for v in e.split(",")) for e in a.extras.split(";") if e]
    ars = [[int(v) for v in s.split(",")] for s in a.ars.split(";")]
    scales = [float(v) for v in a.scales.split(",")]
    bb = Backbone(a.base, a.fc, a.dil, extras, True, bool(a.bn_all))
    model = SSD(bb, DefaultBoxGenerator(ars, scales=scales, steps=None, clip=True), (a.size, a.size), len(CLASSES) + 1,
                image_mean=[0.48235, 0.45882, 0.40784], image_std=[0.229, 0.224, 0.225] if a.unit else [1 / 255.0] * 3)
    with torch.no_grad():
        fm = bb(torch.zeros(1, 3, a.size, a.size))
    print("grids", [tuple(v.shape[-2:]) for v in fm.values()], "params", sum(q.numel() for q in model.parameters()), flush=True)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.wd) if a.opt == "adamw" else torch.optim.SGD(params, lr=a.lr, momentum=0.9, weight_decay=a.wd)
    iters = a.images // a.batch
    aug = {"photo": a.photo, "expand": a.expand, "crop": a.crop, "modes": SSD_MODES if a.modes == "ssd" else [None, 0.3, 0.5, 0.7, 0.9], "min_side": a.min_side}
    eval_at = set(int(v) for v in a.eval_at.split(",") if v) | {iters}

    def factor(it):
        w = min(1.0, 0.001 + (1 - 0.001) * it / max(1, a.warmup)) if it < a.warmup else 1.0
        if a.sched == "cos": return w * 0.5 * (1 + math.cos(math.pi * it / iters))
        if a.sched == "step": return w * (1 if it < 0.67 * iters else 0.1 if it < 0.9 * iters else 0.01)
        if a.sched == "step80": return w * (1 if it < 0.8 * iters else 0.1)
        if a.sched == "step60": return w * (1 if it < 0.6 * iters else 0.1 if it < 0.8 * iters else 0.01)
        return w
    model.train(); t0 = time.time(); order = []
    for it in range(iters):
        for g in opt.param_groups: g["lr"] = a.lr * factor(it)
        if len(order) < a.batch: order += list(rng.permutation(len(train)))
        idx, order = order[:a.batch], order[a.batch:]
        batch = [augment(train[i], rng, aug) for i in idx]
        losses = model([b[0] for b in batch], [b[1] for b in batch])
        loss = losses["bbox_regression"] + losses["classification"]
        opt.zero_grad(); loss.backward(); opt.step()
        if it % 25 == 0:
            print(f"it {it} seen {(it + 1) * a.batch} loss {loss.item():.3f} reg {losses['bbox_regression'].item():.3f} cls {losses['classification'].item():.3f} lr {a.lr * factor(it):.4f} {time.time() - t0:.0f}s", flush=True)
        if it + 1 in eval_at:
            m, aps = evaluate(model, test)
            print(f"EVAL it {it + 1} seen {(it + 1) * a.batch} mAP {m:.4f} aps {' '.join(f'{x:.2f}' for x in aps)} {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
