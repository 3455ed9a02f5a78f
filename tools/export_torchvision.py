"""Exports a torchvision detection model's state_dict as safetensors for `scratchdetect detect`.

    /usr/bin/python3 tools/export_torchvision.py fasterrcnn_resnet50_fpn OUT.safetensors [--weights DEFAULT]
    /usr/bin/python3 tools/export_torchvision.py ssd300_vgg16 OUT.safetensors [--weights DEFAULT]

--weights names a torchvision weights enum value (DEFAULT, COCO_V1, ...); torchvision downloads it
on first use, so run this where the internet is reachable. Without --weights the model keeps its
random initialisation (useful for tests). Keys keep torchvision's names, which ScratchDetect mirrors.
"""
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
from common import save_safetensors  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model", help="a torchvision.models.detection builder name: fasterrcnn_resnet50_fpn or ssd300_vgg16")
parser.add_argument("output", help="the .safetensors file to write")
parser.add_argument("--weights", default=None, help="a weights enum value such as DEFAULT (downloads)")
parser.add_argument("--seed", type=int, default=0, help="seed for a randomly initialised model")
args = parser.parse_args()

torch.manual_seed(args.seed)
builder = getattr(torchvision.models.detection, args.model)
model = builder(weights=args.weights, weights_backbone=None)
save_safetensors(args.output, model.state_dict(), {"model": args.model, "weights": args.weights or "random", "torchvision": torchvision.__version__})
print(f"wrote {args.output} ({len(model.state_dict())} tensors)")
