"""Parity fixtures for nearest and bilinear interpolate (engine/Ops/Interpolate.cs and its kernels).

After the first cases: odd sizes, factors below and above 1, single rows and columns (1xN, Nx1),
an axis that keeps its size, float64, and the two configurations the detectors use: FPN's top-down
nearest upsample to the lateral's size (an exact doubling and an odd lateral that is not one) and
the R-CNN transform's bilinear resize by a scale factor with recompute_scale_factor=True.
"""
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


def nearest(**kw):
    return lambda x: F.interpolate(x, mode="nearest", **kw)


def bilinear(**kw):
    return lambda x: F.interpolate(x, mode="bilinear", align_corners=False, **kw)


r.case("nearest_fpn_double", nearest(size=(14, 18)), randn(1, 3, 7, 9))
r.case("nearest_fpn_odd_lateral", nearest(size=(25, 34)), randn(1, 3, 13, 17))
r.case("nearest_size_up_h_down_w", nearest(size=(11, 3)), randn(2, 1, 7, 5))
r.case("nearest_scale_0_45", nearest(scale_factor=0.45), randn(1, 2, 9, 13))
# 2.3 on 3 rows gives exactly 6: nearest_idx takes dst/2 there. torch 1.13's CPU forward does so for a
# single channel (channels-last kernel) and its backward always; its forward for contiguous inputs with
# more channels takes floor(dst / 2.3) instead, inconsistent with its own gradient. We follow nearest_idx.
r.case("nearest_scale_2_3_x_1_6", nearest(scale_factor=(2.3, 1.6)), randn(2, 1, 3, 5))
r.case("nearest_row_1xN", nearest(size=(3, 40)), randn(1, 2, 1, 17))
r.case("nearest_column_Nx1", nearest(size=(40, 1)), randn(1, 2, 17, 1))
r.case("nearest_float64_scale_0_7", nearest(scale_factor=0.7), randn(1, 2, 11, 9, dtype=torch.float64))
r.case("bilinear_transform_recompute_1_777", bilinear(scale_factor=1.777, recompute_scale_factor=True), randn(1, 3, 9, 11))
r.case("bilinear_transform_recompute_0_61", bilinear(scale_factor=0.61, recompute_scale_factor=True), randn(1, 3, 13, 18))
r.case("bilinear_scale_0_55", bilinear(scale_factor=0.55), randn(2, 2, 7, 9))
r.case("bilinear_scale_1_83_x_0_7", bilinear(scale_factor=(1.83, 0.7)), randn(1, 2, 5, 11))
r.case("bilinear_size_13_4", bilinear(size=(13, 4)), randn(1, 2, 6, 7))
r.case("bilinear_same_width", bilinear(size=(10, 9)), randn(1, 2, 7, 9))
r.case("bilinear_row_1xN", bilinear(size=(3, 31)), randn(1, 2, 1, 19))
r.case("bilinear_column_Nx1", bilinear(size=(7, 1)), randn(1, 2, 19, 1))
r.case("bilinear_one_pixel_to_5x4", bilinear(size=(5, 4)), randn(1, 1, 1, 1))
r.case("bilinear_float64_scale_0_6", bilinear(scale_factor=0.6), randn(1, 1, 11, 7, dtype=torch.float64))
r.save()
