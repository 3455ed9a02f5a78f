"""torchvision's side of the `detect` peak-memory comparison: one Faster R-CNN inference on one image.

    /usr/bin/time -v /usr/bin/python3 tools/memory/torchvision_detect.py PHOTO.jpg [--min-size 800 --max-size 1333]

Builds fasterrcnn_resnet50_fpn with random weights (seed 0, as tools/export_torchvision.py without
--weights writes them), decodes the image with PIL, and runs one no-grad forward in eval mode, as
`scratchdetect detect` does. Compare "Maximum resident set size" of both commands from the same run.
"""
import argparse

import numpy as np
import torch
import torchvision
from PIL import Image

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("image")
parser.add_argument("--min-size", type=int, default=800)
parser.add_argument("--max-size", type=int, default=1333)
args = parser.parse_args()

torch.manual_seed(0)
model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None,
                                                             min_size=args.min_size, max_size=args.max_size).eval()
rgb = np.asarray(Image.open(args.image).convert("RGB"), dtype=np.float32) / 255.0
image = torch.from_numpy(rgb).permute(2, 0, 1).contiguous()
with torch.no_grad():
    detections = model([image])[0]
print(f"{args.image} ({rgb.shape[1]}x{rgb.shape[0]}): {detections['boxes'].shape[0]} detections")
