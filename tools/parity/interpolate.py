"""Parity fixtures for nearest and bilinear interpolate (engine/Ops/Interpolate.cs)."""
import torch
import torch.nn.functional as F

from common import Recorder

r = Recorder("interpolate")
randn = torch.randn

# interpolate: legacy nearest and bilinear (align_corners=False), sizes and non-integer factors,
# with the scale factor kept (recompute_scale_factor None) or recomputed from the sizes.
r.case("nearest_scale_1_7_x_0_6", lambda x: F.interpolate(x, scale_factor=(1.7, 0.6), mode="nearest"), randn(1, 2, 5, 7))
r.case("nearest_scale_0_3", lambda x: F.interpolate(x, scale_factor=0.3, mode="nearest"), randn(1, 1, 10, 10))
r.case("nearest_scale_2", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), randn(1, 2, 3, 4))
r.case("nearest_size_7_3", lambda x: F.interpolate(x, size=(7, 3), mode="nearest"), randn(2, 1, 4, 5))
r.case("nearest_recompute_1_3_x_2_7", lambda x: F.interpolate(x, scale_factor=(1.3, 2.7), mode="nearest", recompute_scale_factor=True), randn(1, 2, 4, 3))
r.case("bilinear_scale_1_5_x_0_75", lambda x: F.interpolate(x, scale_factor=(1.5, 0.75), mode="bilinear", align_corners=False), randn(1, 2, 4, 6))
r.case("bilinear_scale_0_4", lambda x: F.interpolate(x, scale_factor=0.4, mode="bilinear", align_corners=False), randn(1, 2, 10, 12))
r.case("bilinear_size_5_9", lambda x: F.interpolate(x, size=(5, 9), mode="bilinear", align_corners=False), randn(2, 1, 3, 4))
r.case("bilinear_recompute_1_37", lambda x: F.interpolate(x, scale_factor=1.37, mode="bilinear", align_corners=False, recompute_scale_factor=True), randn(1, 2, 5, 6))
r.case("bilinear_same_height", lambda x: F.interpolate(x, size=(4, 7), mode="bilinear", align_corners=False), randn(1, 2, 4, 3))
r.save()
