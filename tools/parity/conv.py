"""Parity fixtures for conv2d (engine/Ops/Conv.cs)."""
import torch
import torch.nn.functional as F

from common import Recorder

r = Recorder("conv")
randn = torch.randn

# conv2d: strides, padding, dilation, groups, no bias, 1x1 (plain GEMM and strided), the 7x7 stem,
# and a patch of 32*3*3 = 288 > 256 elements (more than one packed block of the GEMM's k axis).
r.case("conv_stride2_pad1", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), randn(2, 3, 9, 8), randn(4, 3, 3, 3), randn(4))
r.case("conv_dilation2_pad2", lambda x, w, b: F.conv2d(x, w, b, padding=2, dilation=2), randn(1, 4, 10, 9), randn(6, 4, 3, 3), randn(6))
r.case("conv_groups2_nobias", lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1, groups=2), randn(2, 4, 7, 7), randn(6, 2, 3, 3))
r.case("conv_1x1", lambda x, w, b: F.conv2d(x, w, b), randn(2, 16, 5, 5), randn(8, 16, 1, 1), randn(8))
r.case("conv_1x1_stride2", lambda x, w: F.conv2d(x, w, stride=2), randn(1, 8, 7, 7), randn(4, 8, 1, 1))
r.case("conv_7x7_stem", lambda x, w: F.conv2d(x, w, stride=2, padding=3), randn(1, 3, 20, 18), randn(8, 3, 7, 7))
r.case("conv_deep_patch", lambda x, w, b: F.conv2d(x, w, b, padding=1), randn(1, 32, 6, 6), randn(16, 32, 3, 3) * 0.1, randn(16))
r.save()
