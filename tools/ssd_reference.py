"""Reference outputs of torchvision 0.14's ssd300_vgg16 and of ssd.pytorch's SSD300 for the SSD parity tests.

Usage: /usr/bin/python3 tools/ssd_reference.py OUT_DIR

Writes to OUT_DIR (nothing here is committed: the weights alone are ~140 MB; the tests run this
script into a cache folder keyed by the script's hash, as tools/frcnn_reference.py):
  tv_weights.safetensors  torchvision's seeded ssd300_vgg16(weights=None, weights_backbone=None),
                          91 classes, under torchvision's names
  tv_eval.safetensors     eval on a batch of two real photos of different sizes: the images, the
                          transformed batch, the head outputs, the default boxes, the detections
  tv_detect.safetensors   eval on one more photo, used only by the `detect` CLI test
  tv_train.safetensors    a training step on two photos with several objects each: images, targets,
                          the two losses and the gradient of every parameter in float32 ("grad/<name>")
                          and from the same step in float64 ("grad64/<name>", stored as float32)
  sp_weights.safetensors  ssd.pytorch's SSD300 (21 VOC classes) built below as that repository
                          defines it, seeded, under its own names (vgg.N, L2Norm.weight, extras.N, loc.N, conf.N)
  sp_train.safetensors    ssd.pytorch's network on two photos: the images, its BGR input, its
                          PriorBox, its loc/conf outputs, the targets and its MultiBoxLoss
  sp_detect.safetensors   ssd.pytorch's network on the CLI test photo, its outputs postprocessed by
                          torchvision's SSD.postprocess_detections over PriorBox's boxes (ssd.pytorch's
                          own Detect differs; the C# model uses torchvision's postprocess for both)

Hard negative mining and matching make discrete choices that float32 noise (~1e-6 relative)
could flip: a negative whose confidence loss ties the last one mined, an IoU at the 0.5
threshold, a ground-truth box with two equally good default boxes, a score at the 0.01 threshold
or at a top-k or 200-detection cut. Every such margin is measured here and the script fails if
one is below 1e-5, so the C# tests cannot be flaky for that reason.
"""
import copy
import os
import sys
from itertools import product
from math import sqrt

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.detection import ssd300_vgg16
from torchvision.models.detection.ssd import SSD
from torchvision.ops import box_iou

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import save_safetensors  # noqa: E402
from frcnn_reference import load_image  # noqa: E402  (PIL decode to float [0, 1] CHW RGB)

EVAL_IMAGES = ["baseline_420_q90.jpg", "odd_size_333x217.jpg"]  # chelsea 451x300, coffee 333x217
DETECT_IMAGE = "optimized_q75.jpg"  # astronaut 256x256, seen by no other SSD parity test
TRAIN_IMAGES = ["restart_markers.jpg", "baseline_444.jpg"]  # coffee 300x200, chelsea 451x300
# Boxes in pixels: the cup, the saucer, the spoon; the cat's head, its body, the left ear (labels
# are arbitrary: the weights are random). No box is symmetric on the default-box grid, so no
# ground-truth box has two equally good default boxes (a box that wholly contains two default
# boxes of one size has the same IoU with both: the ear is smaller than every default box in one side).
TRAIN_BOXES = [
    [[62.0, 8.0, 215.0, 128.0], [22.0, 52.0, 262.0, 196.0], [190.0, 110.0, 252.0, 160.0]],
    [[101.0, 33.0, 263.0, 187.0], [37.0, 61.0, 429.0, 297.0], [117.0, 21.0, 154.5, 56.0], [300.0, 150.0, 380.0, 270.0]],
]
TV_LABELS = [[47, 45, 50], [17, 18, 17, 62]]  # COCO ids
SP_LABELS = [[11, 9, 4], [8, 8, 8, 15]]  # VOC classes 1..20 as our targets carry them (ssd.pytorch's label + 1)
MARGIN = 1e-5


def check_margin(what, value):
    print(f"  margin {what}: {value:.2e}")
    if not value > MARGIN:
        raise SystemExit(f"{what}: margin {value:.2e} below {MARGIN:.0e}; choose other weights or boxes")


# ---------------------------------------------------------------- torchvision

def build_torchvision():
    torch.manual_seed(0)
    model = ssd300_vgg16(weights=None, weights_backbone=None, num_classes=91)
    # The random network's class logits have std ~2.6 and reach ~27, so the top scores saturate at
    # 1.0 (ties that rounding orders). Halving the classification head and giving each class a bias
    # in [-2, 1] spreads the scores below 1 and makes some classes win; a third of the regression
    # head keeps decoded boxes near their default boxes (codes of std ~3.5 would throw them out).
    with torch.no_grad():
        for conv in model.head.classification_head.module_list:
            conv.weight.mul_(0.5)
            conv.bias.copy_(torch.rand(conv.bias.shape[0] // 91, 91).mul(3).sub(2).flatten())
        for conv in model.head.regression_head.module_list:
            conv.weight.mul_(0.3)
    return model


def capture(model):
    seen = {}
    model.transform.register_forward_hook(lambda m, i, o: seen.__setitem__("transformed", o))
    model.head.register_forward_hook(lambda m, i, o: seen.__setitem__("head", o))
    model.anchor_generator.register_forward_hook(lambda m, i, o: seen.__setitem__("anchors", o))
    return seen


def detection_margins(model, head, anchors, what):
    """How far the postprocess's cuts are from a tie. The 200-detection cut: the 200th score ahead of
    the 201st. The score threshold and the per-class top-400 cut only matter where they are above
    the last detection kept (a candidate below it can neither be kept nor suppress a kept one)."""
    kept = model.detections_per_img
    model.detections_per_img = 1 << 30
    try:
        full = SSD.postprocess_detections(model, head, anchors, [(300, 300)] * len(anchors))
    finally:
        model.detections_per_img = kept
    scores = F.softmax(head["cls_logits"], dim=-1)[..., 1:]
    for i, d in enumerate(full):
        s = d["scores"]
        if len(s) > kept:
            check_margin(f"{what} image {i}: {kept}th vs {kept + 1}th detection", (s[kept - 1] - s[kept]).item())
            floor = s[kept - 1].item()
        else:
            floor = model.score_thresh
        near = scores[i][(scores[i] - model.score_thresh).abs() < 1e-3]
        if floor - model.score_thresh < 1e-3:
            check_margin(f"{what} image {i} score threshold", (near - model.score_thresh).abs().min().item() if len(near) else 1.0)
        for label in range(scores.shape[2]):
            c = scores[i, :, label]
            c = c[c > model.score_thresh].sort(descending=True).values
            k = model.topk_candidates
            if len(c) > k and c[k].item() > floor - 1e-3:
                check_margin(f"{what} image {i} class {label + 1} top-{k}", (c[k - 1] - c[k]).item())
        print(f"  {what} image {i}: {len(s)} detections after NMS, last kept score {floor:.4f}")


def run_torchvision_eval(model, names):
    model.eval()
    seen = capture(model)
    images = [load_image(n) for n in names]
    with torch.no_grad():
        detections = model([img.clone() for img in images])
    detection_margins(model, seen["head"], seen["anchors"], "eval " + ", ".join(names))
    out = {}
    for i, img in enumerate(images):
        out[f"image{i}"] = img
        for key in ("boxes", "labels", "scores"):
            out[f"image{i}/{key}"] = detections[i][key]
        print(f"  {names[i]}: {len(detections[i]['scores'])} detections, top scores {detections[i]['scores'][:3].tolist()}")
    out["batch"] = seen["transformed"][0].tensors
    out["cls_logits"] = seen["head"]["cls_logits"]
    out["bbox_regression"] = seen["head"]["bbox_regression"]
    out["anchors"] = seen["anchors"][0]
    return out


def mining_margins(cls_loss, positive, ratio, what):
    """The gap between the last mined negative's loss and the next one's, per image."""
    for i in range(cls_loss.shape[0]):
        k = int(ratio * positive[i].sum().item())
        negatives = cls_loss[i][~positive[i]].sort(descending=True).values
        check_margin(f"{what} image {i}: {int(positive[i].sum())} positives, {k} negatives, relative loss gap at the cut",
                     ((negatives[k - 1] - negatives[k]) / negatives[k - 1]).item())


def matching_margins(truths, priors_xyxy, threshold, what):
    """IoUs away from the threshold, and each box's best default box ahead of its second best."""
    iou = box_iou(truths, priors_xyxy)
    check_margin(f"{what} IoU distance from {threshold}", (iou - threshold).abs().min().item())
    top2 = iou.topk(2, dim=1).values
    check_margin(f"{what} best vs second-best default box of each ground truth", (top2[:, 0] - top2[:, 1]).min().item())


def run_torchvision_train(model):
    model.train()
    model64 = copy.deepcopy(model).double()  # before capture(), whose hooks the copy would share
    seen = capture(model)
    images = [load_image(n) for n in TRAIN_IMAGES]
    targets = [{"boxes": torch.tensor(b), "labels": torch.tensor(l, dtype=torch.int64)} for b, l in zip(TRAIN_BOXES, TV_LABELS)]
    losses = model([img.clone() for img in images], [dict(t) for t in targets])
    sum(losses.values()).backward()
    # The same step in float64: how far torchvision's own float32 gradients are from exact ones.
    # A ReLU input or a max-pool pair within rounding of a tie sends a gradient element another
    # way, which reaches ~1e-3 of a tensor's largest gradient in a few early layers.
    targets64 = [{"boxes": t["boxes"].double(), "labels": t["labels"]} for t in targets]
    sum(model64([img.double() for img in images], targets64).values()).backward()
    exact = dict(model64.named_parameters())

    # The choices the loss made, recomputed from the captured values.
    anchors = seen["anchors"][0].detach()
    logits = seen["head"]["cls_logits"].detach()
    resized = seen["transformed"][1]
    cls_targets = []
    for t in resized:
        matching_margins(t["boxes"], anchors, model.proposal_matcher.high_threshold, "torchvision train")
        matches = model.proposal_matcher(box_iou(t["boxes"], anchors))
        cls_targets.append(torch.where(matches >= 0, t["labels"][matches.clamp(min=0)], torch.zeros_like(matches)))
    cls_targets = torch.stack(cls_targets)
    cls_loss = F.cross_entropy(logits.reshape(-1, 91), cls_targets.reshape(-1), reduction="none").view(cls_targets.shape)
    mining_margins(cls_loss, cls_targets > 0, model.neg_to_pos_ratio, "torchvision train")

    out = {f"image{i}": img for i, img in enumerate(images)}
    for i, t in enumerate(targets):
        out[f"target{i}/boxes"] = t["boxes"]
        out[f"target{i}/labels"] = t["labels"]
    for name, value in losses.items():
        out[f"loss/{name}"] = value.detach()
    for name, p in model.named_parameters():
        out[f"grad/{name}"] = p.grad
        out[f"grad64/{name}"] = exact[name].grad.float()
    worst = max(((p.grad - exact[n].grad.float()).abs().max() / exact[n].grad.abs().max()).item() for n, p in model.named_parameters())
    print(f"  torchvision's float32 gradients vs float64: worst error {worst:.2e} of a tensor's largest")
    print("  train losses", {k: round(v.item(), 6) for k, v in losses.items()})
    return out


# ---------------------------------------------------------------- ssd.pytorch (amdegroot/ssd.pytorch, as it defines them)

VOC = {
    "num_classes": 21,
    "feature_maps": [38, 19, 10, 5, 3, 1],
    "min_dim": 300,
    "steps": [8, 16, 32, 64, 100, 300],
    "min_sizes": [30, 60, 111, 162, 213, 264],
    "max_sizes": [60, 111, 162, 213, 264, 315],
    "aspect_ratios": [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    "variance": [0.1, 0.2],
    "clip": True,
}
BASE = [64, 64, "M", 128, 128, "M", 256, 256, 256, "C", 512, 512, 512, "M", 512, 512, 512]
EXTRAS = [256, "S", 512, 128, "S", 256, 128, 256, 128, 256]
MBOX = [4, 6, 6, 6, 4, 4]


def vgg(cfg, i, batch_norm=False):
    layers = []
    in_channels = i
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        elif v == "C":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    pool5 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
    conv6 = nn.Conv2d(512, 1024, kernel_size=3, padding=6, dilation=6)
    conv7 = nn.Conv2d(1024, 1024, kernel_size=1)
    layers += [pool5, conv6, nn.ReLU(inplace=True), conv7, nn.ReLU(inplace=True)]
    return layers


def add_extras(cfg, i):
    layers = []
    in_channels = i
    flag = False
    for k, v in enumerate(cfg):
        if in_channels != "S":
            if v == "S":
                layers += [nn.Conv2d(in_channels, cfg[k + 1], kernel_size=(1, 3)[flag], stride=2, padding=1)]
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=(1, 3)[flag])]
            flag = not flag
        in_channels = v
    return layers


def multibox(vgg_layers, extra_layers, cfg, num_classes):
    loc_layers, conf_layers = [], []
    vgg_source = [21, -2]
    for k, v in enumerate(vgg_source):
        loc_layers += [nn.Conv2d(vgg_layers[v].out_channels, cfg[k] * 4, kernel_size=3, padding=1)]
        conf_layers += [nn.Conv2d(vgg_layers[v].out_channels, cfg[k] * num_classes, kernel_size=3, padding=1)]
    for k, v in enumerate(extra_layers[1::2], 2):
        loc_layers += [nn.Conv2d(v.out_channels, cfg[k] * 4, kernel_size=3, padding=1)]
        conf_layers += [nn.Conv2d(v.out_channels, cfg[k] * num_classes, kernel_size=3, padding=1)]
    return vgg_layers, extra_layers, (loc_layers, conf_layers)


class L2Norm(nn.Module):
    def __init__(self, n_channels, scale):
        super().__init__()
        self.n_channels = n_channels
        self.gamma = scale or None
        self.eps = 1e-10
        self.weight = nn.Parameter(torch.Tensor(self.n_channels))
        nn.init.constant_(self.weight, self.gamma)

    def forward(self, x):
        norm = x.pow(2).sum(dim=1, keepdim=True).sqrt() + self.eps
        x = torch.div(x, norm)
        return self.weight.unsqueeze(0).unsqueeze(2).unsqueeze(3).expand_as(x) * x


class PriorBox:
    def __init__(self, cfg):
        self.image_size = cfg["min_dim"]
        self.feature_maps = cfg["feature_maps"]
        self.min_sizes = cfg["min_sizes"]
        self.max_sizes = cfg["max_sizes"]
        self.steps = cfg["steps"]
        self.aspect_ratios = cfg["aspect_ratios"]
        self.clip = cfg["clip"]

    def forward(self):
        mean = []
        for k, f in enumerate(self.feature_maps):
            for i, j in product(range(f), repeat=2):
                f_k = self.image_size / self.steps[k]
                cx = (j + 0.5) / f_k
                cy = (i + 0.5) / f_k
                s_k = self.min_sizes[k] / self.image_size
                mean += [cx, cy, s_k, s_k]
                s_k_prime = sqrt(s_k * (self.max_sizes[k] / self.image_size))
                mean += [cx, cy, s_k_prime, s_k_prime]
                for ar in self.aspect_ratios[k]:
                    mean += [cx, cy, s_k * sqrt(ar), s_k / sqrt(ar)]
                    mean += [cx, cy, s_k / sqrt(ar), s_k * sqrt(ar)]
        output = torch.Tensor(mean).view(-1, 4)
        if self.clip:
            output.clamp_(max=1, min=0)
        return output


class SSDPytorch(nn.Module):
    """ssd.pytorch's SSD in the train phase: returns (loc [N, P, 4], conf [N, P, classes], priors)."""

    def __init__(self, base, extras, head, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.priors = PriorBox(VOC).forward()
        self.vgg = nn.ModuleList(base)
        self.L2Norm = L2Norm(512, 20)
        self.extras = nn.ModuleList(extras)
        self.loc = nn.ModuleList(head[0])
        self.conf = nn.ModuleList(head[1])

    def forward(self, x):
        sources, loc, conf = [], [], []
        for k in range(23):
            x = self.vgg[k](x)
        sources.append(self.L2Norm(x))
        for k in range(23, len(self.vgg)):
            x = self.vgg[k](x)
        sources.append(x)
        for k, v in enumerate(self.extras):
            x = F.relu(v(x), inplace=True)
            if k % 2 == 1:
                sources.append(x)
        for (x, l, c) in zip(sources, self.loc, self.conf):
            loc.append(l(x).permute(0, 2, 3, 1).contiguous())
            conf.append(c(x).permute(0, 2, 3, 1).contiguous())
        loc = torch.cat([o.view(o.size(0), -1) for o in loc], 1)
        conf = torch.cat([o.view(o.size(0), -1) for o in conf], 1)
        return loc.view(loc.size(0), -1, 4), conf.view(conf.size(0), -1, self.num_classes), self.priors


def point_form(boxes):
    return torch.cat((boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2), 1)


def intersect(box_a, box_b):
    A, B = box_a.size(0), box_b.size(0)
    max_xy = torch.min(box_a[:, 2:].unsqueeze(1).expand(A, B, 2), box_b[:, 2:].unsqueeze(0).expand(A, B, 2))
    min_xy = torch.max(box_a[:, :2].unsqueeze(1).expand(A, B, 2), box_b[:, :2].unsqueeze(0).expand(A, B, 2))
    inter = torch.clamp((max_xy - min_xy), min=0)
    return inter[:, :, 0] * inter[:, :, 1]


def jaccard(box_a, box_b):
    inter = intersect(box_a, box_b)
    area_a = ((box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])).unsqueeze(1).expand_as(inter)
    area_b = ((box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])).unsqueeze(0).expand_as(inter)
    return inter / (area_a + area_b - inter)


def encode(matched, priors, variances):
    g_cxcy = (matched[:, :2] + matched[:, 2:]) / 2 - priors[:, :2]
    g_cxcy /= (variances[0] * priors[:, 2:])
    g_wh = (matched[:, 2:] - matched[:, :2]) / priors[:, 2:]
    g_wh = torch.log(g_wh) / variances[1]
    return torch.cat([g_cxcy, g_wh], 1)


def match(threshold, truths, priors, variances, labels, loc_t, conf_t, idx):
    overlaps = jaccard(truths, point_form(priors))
    best_prior_overlap, best_prior_idx = overlaps.max(1, keepdim=True)
    best_truth_overlap, best_truth_idx = overlaps.max(0, keepdim=True)
    best_truth_idx.squeeze_(0)
    best_truth_overlap.squeeze_(0)
    best_prior_idx.squeeze_(1)
    best_prior_overlap.squeeze_(1)
    best_truth_overlap.index_fill_(0, best_prior_idx, 2)
    for j in range(best_prior_idx.size(0)):
        best_truth_idx[best_prior_idx[j]] = j
    matches = truths[best_truth_idx]
    conf = labels[best_truth_idx] + 1
    conf[best_truth_overlap < threshold] = 0
    loc_t[idx] = encode(matches, priors, variances)
    conf_t[idx] = conf


def log_sum_exp(x):
    x_max = x.data.max()
    return torch.log(torch.sum(torch.exp(x - x_max), 1, keepdim=True)) + x_max


class MultiBoxLoss(nn.Module):
    """ssd.pytorch's MultiBoxLoss(21, 0.5, True, 0, True, 3, 0.5, False), with the one fix newer
    PyTorch needs (its issues #99, #173, #292): loss_c is reshaped to [num, num_priors] before the
    positives are zeroed, instead of masking the flat [num * num_priors, 1] tensor with a [num, num_priors] mask."""

    def __init__(self, num_classes, overlap_thresh, negpos_ratio):
        super().__init__()
        self.num_classes = num_classes
        self.threshold = overlap_thresh
        self.negpos_ratio = negpos_ratio
        self.variance = VOC["variance"]
        self.seen = {}

    def forward(self, predictions, targets):
        loc_data, conf_data, priors = predictions
        num = loc_data.size(0)
        priors = priors[:loc_data.size(1), :]
        num_priors = priors.size(0)
        loc_t = torch.Tensor(num, num_priors, 4)
        conf_t = torch.LongTensor(num, num_priors)
        for idx in range(num):
            truths = targets[idx][:, :-1].data
            labels = targets[idx][:, -1].data
            match(self.threshold, truths, priors.data, self.variance, labels, loc_t, conf_t, idx)
        pos = conf_t > 0
        pos_idx = pos.unsqueeze(pos.dim()).expand_as(loc_data)
        loc_p = loc_data[pos_idx].view(-1, 4)
        loc_t = loc_t[pos_idx].view(-1, 4)
        loss_l = F.smooth_l1_loss(loc_p, loc_t, reduction="sum")

        batch_conf = conf_data.view(-1, self.num_classes)
        loss_c = log_sum_exp(batch_conf) - batch_conf.gather(1, conf_t.view(-1, 1))
        loss_c = loss_c.view(num, -1)  # the fix: reshape first
        self.seen["loss_c"], self.seen["pos"] = loss_c.detach().clone(), pos.clone()
        loss_c[pos] = 0
        _, loss_idx = loss_c.sort(1, descending=True)
        _, idx_rank = loss_idx.sort(1)
        num_pos = pos.long().sum(1, keepdim=True)
        num_neg = torch.clamp(self.negpos_ratio * num_pos, max=pos.size(1) - 1)
        neg = idx_rank < num_neg.expand_as(idx_rank)
        pos_idx = pos.unsqueeze(2).expand_as(conf_data)
        neg_idx = neg.unsqueeze(2).expand_as(conf_data)
        conf_p = conf_data[(pos_idx + neg_idx).gt(0)].view(-1, self.num_classes)
        targets_weighted = conf_t[(pos + neg).gt(0)]
        loss_c = F.cross_entropy(conf_p, targets_weighted, reduction="sum")
        N = num_pos.data.sum()
        return loss_l / N, loss_c / N


def build_ssd_pytorch():
    torch.manual_seed(1)
    net = SSDPytorch(*multibox(vgg(BASE, 3), add_extras(EXTRAS, 1024), MBOX, 21), 21)
    # train.py initialises extras, loc and conf with xavier_uniform and zero biases and loads an
    # ImageNet VGG; here the VGG is random, Kaiming-normal (fan out) as torchvision's VGG, so that
    # activations keep their scale through 15 layers. conf is halved and biased per class as the
    # torchvision model's classification head, loc scaled to a third, for the same reasons.
    for m in net.vgg:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    for m in list(net.extras) + list(net.loc) + list(net.conf):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    with torch.no_grad():
        for conv in net.conf:
            conv.weight.mul_(0.5)
            conv.bias.copy_(torch.rand(conv.bias.shape[0] // 21, 21).mul(3).sub(2).flatten())
        for conv in net.loc:
            conv.weight.mul_(0.3)
    return net


def ssd_pytorch_input(image):
    """ssd.pytorch's BaseTransform on a [0, 1] RGB image, resizing the float image (see SsdTransform)."""
    bgr = (image * 255)[[2, 1, 0]]
    resized = F.interpolate(bgr[None], size=(300, 300), mode="bilinear", align_corners=False)[0]
    return resized - torch.tensor([104.0, 117.0, 123.0]).view(3, 1, 1)


def run_ssd_pytorch_train(net):
    net.train()
    images = [load_image(n) for n in TRAIN_IMAGES]
    batch = torch.stack([ssd_pytorch_input(img) for img in images])
    loc, conf, priors = net(batch)
    # Targets as ssd.pytorch's VOCAnnotationTransform gives them: [x1, y1, x2, y2] / (w, h), label - 1.
    targets = []
    for img, boxes, labels in zip(images, TRAIN_BOXES, SP_LABELS):
        h, w = img.shape[1:]
        rel = torch.tensor(boxes) / torch.tensor([w, h, w, h], dtype=torch.float32)
        targets.append(torch.cat([rel, torch.tensor(labels, dtype=torch.float32)[:, None] - 1], 1))
        matching_margins(rel, point_form(priors), 0.5, "ssd.pytorch train")
    criterion = MultiBoxLoss(21, 0.5, 3)
    loss_l, loss_c = criterion((loc, conf, priors), targets)
    loss_c_all, pos = criterion.seen["loss_c"], criterion.seen["pos"]
    mining_margins(loss_c_all, pos, 3, "ssd.pytorch train")
    print(f"  ssd.pytorch losses: loss_l {loss_l.item():.6f}, loss_c {loss_c.item():.6f}")
    out = {f"image{i}": img for i, img in enumerate(images)}
    for i, (boxes, labels) in enumerate(zip(TRAIN_BOXES, SP_LABELS)):
        out[f"target{i}/boxes"] = torch.tensor(boxes)
        out[f"target{i}/labels"] = torch.tensor(labels, dtype=torch.int64)
    out.update({"input": batch, "loc": loc.detach(), "conf": conf.detach(), "priors": priors,
                "loss_l": loss_l.detach(), "loss_c": loss_c.detach()})
    return out


def run_ssd_pytorch_detect(net, torchvision_model):
    """ssd.pytorch's outputs through torchvision's postprocess (the one the C# model has for both)."""
    net.eval()
    image = load_image(DETECT_IMAGE)
    with torch.no_grad():
        loc, conf, priors = net(ssd_pytorch_input(image)[None])
    anchors = point_form(priors) * 300
    postprocess = torchvision_model.eval()
    head = {"bbox_regression": loc, "cls_logits": conf}
    detection_margins(postprocess, head, [anchors], "ssd.pytorch detect")
    detections = SSD.postprocess_detections(postprocess, head, [anchors], [(300, 300)])
    detections = postprocess.transform.postprocess(detections, [(300, 300)], [tuple(image.shape[1:])])
    d = detections[0]
    print(f"  ssd.pytorch detect: {len(d['scores'])} detections, top scores {d['scores'][:3].tolist()}")
    return {"image0": image, "image0/boxes": d["boxes"], "image0/labels": d["labels"], "image0/scores": d["scores"]}


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    meta = {"generator": "tools/ssd_reference.py", "torch": torch.__version__, "torchvision": torchvision.__version__}

    model = build_torchvision()
    save_safetensors(os.path.join(out_dir, "tv_weights.safetensors"), model.state_dict(), meta)
    print("torchvision eval")
    save_safetensors(os.path.join(out_dir, "tv_eval.safetensors"), run_torchvision_eval(model, EVAL_IMAGES), meta)
    print("torchvision detect")
    save_safetensors(os.path.join(out_dir, "tv_detect.safetensors"), run_torchvision_eval(model, [DETECT_IMAGE]), meta)
    print("torchvision train")
    save_safetensors(os.path.join(out_dir, "tv_train.safetensors"), run_torchvision_train(model), meta)

    net = build_ssd_pytorch()
    save_safetensors(os.path.join(out_dir, "sp_weights.safetensors"), net.state_dict(), meta)
    print("ssd.pytorch train")
    save_safetensors(os.path.join(out_dir, "sp_train.safetensors"), run_ssd_pytorch_train(net), meta)
    print("ssd.pytorch detect")
    voc_model = ssd300_vgg16(weights=None, weights_backbone=None, num_classes=21)
    save_safetensors(os.path.join(out_dir, "sp_detect.safetensors"), run_ssd_pytorch_detect(net, voc_model), meta)


if __name__ == "__main__":
    main()
