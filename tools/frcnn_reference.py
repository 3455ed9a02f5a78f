"""Reference outputs of torchvision 0.14's fasterrcnn_resnet50_fpn for the Faster R-CNN parity tests.

Usage: /usr/bin/python3 tools/frcnn_reference.py OUT_DIR [--precision-check]

Writes to OUT_DIR (nothing here is committed: the weights alone are ~170 MB; the tests run this
script into a cache folder keyed by the script's hash):
  weights.safetensors    the model's state_dict under torchvision's names
  eval_320.safetensors   eval at min_size 320 / max_size 533 on a batch of two real photos:
                         input images, batched tensor, FPN features, anchors, RPN proposals and
                         scores, final detections (boxes, labels, scores) per image
  eval_800.safetensors   the same at 800 / 1333 (without the FPN features, which are large)
  detect.safetensors     eval at 800 / 1333 on one more photo, used only by the `detect` CLI test
  train.safetensors      a training step in a deterministic configuration: inputs, targets, the
                         four losses, the gradient of every parameter in float32 ("grad/<name>") and
                         from the same step in float64 ("grad64/<name>", stored as float32)

Model: fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None), 91 classes, seed 0. Without
pretrained weights torchvision uses nn.BatchNorm2d (not FrozenBatchNorm2d) and trains all five
backbone stages (trainable_backbone_layers falls back to 5); the C# model mirrors that choice.

Rounding: every discrete decision (top-k cut, score threshold, NMS, top-100 cut) can flip when
two candidates are closer than float32 noise. `--precision-check` reruns the evaluations in
float64 and reports how far torchvision's own float32 detections are from them (with these
weights: every detection matched, boxes within 8e-3 px, scores within 3e-5), which is the noise
floor the C# tests' tolerances must allow for.
"""
import copy
import os
import sys

import torch
import torchvision
from PIL import Image
from torchvision.models.detection import fasterrcnn_resnet50_fpn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
from common import save_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SCRATCHDETECT_SHARED") or os.path.join(REPO, "..", "shared")  # as tests/TestSupport/RepoPaths
IMAGES = os.path.join(SHARED, "fixtures", "images")

EVAL_IMAGES = ["baseline_420_q90.jpg", "odd_size_333x217.jpg"]  # chelsea 451x300, coffee 333x217
DETECT_IMAGE = "optimized_q75.jpg"  # astronaut 256x256, seen by no other parity test
TRAIN_IMAGES = ["restart_markers.jpg", "png_palette.png"]  # coffee 300x200 with boxes, 320x240 without


def load_image(name):
    """Decodes with PIL to float32 [0, 1] CHW RGB (alpha dropped, gray and palette expanded)."""
    with Image.open(os.path.join(IMAGES, name)) as im:
        rgb = im.convert("RGB")
        data = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
        return data.view(rgb.height, rgb.width, 3).permute(2, 0, 1).float() / 255


def build_model():
    torch.manual_seed(0)
    model = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91)
    # With BatchNorm2d at its initial running statistics (mean 0, var 1) the random backbone's
    # activations grow stage by stage (layer4 |x| ~ 30), so the box predictor's logits already
    # spread (std ~5). We scale cls_score's weight by 2 and give it a bias in [-1, 1] so that some
    # classes clearly win (top scores ~0.9, well above the 0.05 threshold, rather than a crowd of
    # near-equal scores whose order rounding decides), and scale bbox_pred by 0.5 so decoded
    # boxes stay near their proposals (deltas of std ~4 would push many outside the image). The
    # RPN's objectness logits (std ~1.5, max ~7) are left as they are: scaling them up saturates
    # the sigmoid to exactly 1.0, and exact ties make torch's (unstable) sort and NMS arbitrary.
    with torch.no_grad():
        model.roi_heads.box_predictor.cls_score.weight.mul_(2.0)
        model.roi_heads.box_predictor.cls_score.bias.uniform_(-1.0, 1.0)
        model.roi_heads.box_predictor.bbox_pred.weight.mul_(0.5)
    return model


def capture(model):
    """Hooks that keep the intermediate values the tests compare stage by stage."""
    seen = {}
    model.backbone.register_forward_hook(lambda m, i, o: seen.__setitem__("features", o))
    model.transform.register_forward_hook(lambda m, i, o: seen.__setitem__("transformed", o))
    model.rpn.register_forward_hook(lambda m, i, o: seen.__setitem__("proposals", o[0]))
    model.rpn.head.register_forward_hook(lambda m, i, o: seen.__setitem__("rpn_head", o))
    model.rpn.anchor_generator.register_forward_hook(lambda m, i, o: seen.__setitem__("anchors", o))
    model.roi_heads.box_predictor.register_forward_hook(lambda m, i, o: seen.__setitem__("predictor", o))
    return seen


def precision_check(model, images, min_size, max_size, detections):
    """How far torchvision's own float32 detections are from its float64 ones: the scale of the
    rounding noise any float32 implementation carries, which sets the tests' tolerances. Each
    float64 detection is matched to an unused float32 one with the same label."""
    model64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        exact = model64([img.double() for img in images])
    for i, (ours, ref) in enumerate(zip(detections, exact)):
        used, unmatched, box_err, score_err = set(), 0, 0.0, 0.0
        for j in range(len(ref["scores"])):
            for k in range(len(ours["scores"])):
                if k in used or ours["labels"][k] != ref["labels"][j]:
                    continue
                db = (ours["boxes"][k].double() - ref["boxes"][j]).abs().max().item()
                ds = abs(ours["scores"][k].item() - ref["scores"][j].item())
                if db < 0.1 and ds < 1e-3:
                    used.add(k)
                    box_err, score_err = max(box_err, db), max(score_err, ds)
                    break
            else:
                unmatched += 1
        print(f"{min_size}/{max_size} image {i}: float32 vs float64: {unmatched} unmatched of {len(ref['scores'])}, "
              f"max box diff {box_err:.1e} px, max score diff {score_err:.1e}")


def run_eval(model, images, min_size, max_size, with_features):
    model.transform.min_size = (min_size,)
    model.transform.max_size = max_size
    model.eval()
    seen = capture(model)
    with torch.no_grad():
        detections = model([img.clone() for img in images])
    out = {}
    for i, img in enumerate(images):
        out[f"image{i}"] = img
        out[f"image{i}/boxes"] = detections[i]["boxes"]
        out[f"image{i}/labels"] = detections[i]["labels"]
        out[f"image{i}/scores"] = detections[i]["scores"]
        out[f"image{i}/proposals"] = seen["proposals"][i]
    image_list, _ = seen["transformed"]
    out["batch"] = image_list.tensors
    out["image_sizes"] = torch.tensor(image_list.image_sizes, dtype=torch.int64)
    for level, anchors in enumerate(torch.split(seen["anchors"][0], [
            f.shape[-2] * f.shape[-1] * 3 for f in list(seen["features"].values())[:5]])):
        out[f"anchors/{level}"] = anchors
    if with_features:
        for name, feature in seen["features"].items():
            out[f"features/{name}"] = feature
    return out, detections, seen


def run_train(model):
    """One training step where nothing is sampled at random: both samplers keep every candidate
    (batch sizes far above the candidate counts, so torch.randperm only permutes indices that are
    then turned back into a mask), and the transform has one min size (torch_choice of one)."""
    model.train()
    # Size 192/320: every sampled RoI's FPN level value 4 + log2(sqrt(area)/224) is at least 7e-3
    # from an integer. At 160/256 one RoI sat 7e-6 from the level 2/3 boundary, so float32 noise
    # in its box (~1e-3 px) decided which level it was pooled from.
    model.transform.min_size = (192,)
    model.transform.max_size = 320
    model.rpn.fg_bg_sampler.batch_size_per_image = 1 << 20
    model.roi_heads.fg_bg_sampler.batch_size_per_image = 1 << 20
    model.rpn._pre_nms_top_n["training"] = 600
    model.rpn._post_nms_top_n["training"] = 300
    images = [load_image(n) for n in TRAIN_IMAGES]
    # Boxes on the coffee photo (300x200): the cup, the saucer, the spoon (labels are arbitrary
    # COCO ids; the weights are random). The second image has no objects, which is valid.
    targets = [
        {"boxes": torch.tensor([[62.0, 8.0, 215.0, 128.0], [22.0, 52.0, 262.0, 196.0], [190.0, 110.0, 252.0, 160.0]]),
         "labels": torch.tensor([47, 45, 50], dtype=torch.int64)},
        {"boxes": torch.zeros((0, 4)), "labels": torch.zeros((0,), dtype=torch.int64)},
    ]
    model64 = copy.deepcopy(model).double()
    seen = capture(model)
    losses = model([img.clone() for img in images], targets)
    total = sum(losses.values())
    total.backward()
    # The same step in float64: how far torchvision's own float32 gradients are from exact ones.
    # BatchNorm2d's training backward on a batch of two small images cancels heavily, so in the
    # backbone this reaches ~20% of a tensor's largest gradient; the tests allow for it.
    targets64 = [{"boxes": t["boxes"].double(), "labels": t["labels"]} for t in targets]
    sum(model64([img.double() for img in images], targets64).values()).backward()
    exact = dict(model64.named_parameters())
    out = {f"image{i}": img for i, img in enumerate(images)}
    for i, t in enumerate(targets):
        out[f"target{i}/boxes"] = t["boxes"]
        out[f"target{i}/labels"] = t["labels"]
        out[f"image{i}/proposals"] = seen["proposals"][i].detach()
    for name, value in losses.items():
        out[f"loss/{name}"] = value.detach()
    for name, p in model.named_parameters():
        out[f"grad/{name}"] = p.grad if p.grad is not None else torch.zeros_like(p)
        out[f"grad64/{name}"] = exact[name].grad.float()
    # BatchNorm2d in training mode updates its running statistics: the tests check those too.
    for name, b in model.named_buffers():
        out[f"buffer/{name}"] = b
    print("train losses", {k: round(v.item(), 6) for k, v in losses.items()})
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    meta = {"generator": "tools/frcnn_reference.py", "torch": torch.__version__, "torchvision": torchvision.__version__}

    model = build_model()
    save_safetensors(os.path.join(out_dir, "weights.safetensors"), model.state_dict(), meta)

    images = [load_image(n) for n in EVAL_IMAGES]
    for min_size, max_size in [(320, 533), (800, 1333)]:
        name = f"eval_{min_size}"
        out, detections, seen = run_eval(model, images, min_size, max_size, with_features=min_size == 320)
        if "--precision-check" in sys.argv:
            precision_check(model, images, min_size, max_size, detections)
        save_safetensors(os.path.join(out_dir, name + ".safetensors"), out, meta)

    out, detections, seen = run_eval(model, [load_image(DETECT_IMAGE)], 800, 1333, with_features=False)
    save_safetensors(os.path.join(out_dir, "detect.safetensors"), out, meta)

    save_safetensors(os.path.join(out_dir, "train.safetensors"), run_train(model), meta)


if __name__ == "__main__":
    main()
