"""Parity fixtures for the convolution family: conv2d, pooling, batch norm, frozen batch norm, interpolate."""
import torch
import torch.nn.functional as F
from torchvision.ops import FrozenBatchNorm2d

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

# max pooling: ceil_mode windows over the edge, padding, dilation, ties (first wins), NaN (wins).
r.case("maxpool_3x3_s2_p1_ceil", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), randn(2, 3, 8, 9))
r.case("maxpool_dilated_ceil", lambda x: F.max_pool2d(x, (2, 3), (2, 1), 1, dilation=2, ceil_mode=True), randn(1, 2, 7, 5))
r.case("maxpool_2x2", lambda x: F.max_pool2d(x, 2), randn(1, 2, 6, 7))
r.case("maxpool_ties", lambda x: F.max_pool2d(x, 3, 1, 1), torch.randint(0, 3, (1, 2, 5, 5)).float())
nan_input = randn(1, 1, 6, 6)
nan_input[0, 0, 1, 1] = float("nan")
nan_input[0, 0, 4, 3] = float("nan")
r.case("maxpool_nan", lambda x: F.max_pool2d(x, 2, 2), nan_input)
r.case("maxpool_indices", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)[1], randn(1, 2, 6, 7), grad=[])

# average pooling: ceil_mode with and without padding in the divisor, divisor override; adaptive.
r.case("avgpool_ceil_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), randn(2, 2, 6, 7))
r.case("avgpool_ceil_include_pad", lambda x: F.avg_pool2d(x, 2, 2, 1, ceil_mode=True), randn(1, 2, 5, 4))
r.case("avgpool_divisor_override", lambda x: F.avg_pool2d(x, (3, 2), 1, divisor_override=5), randn(1, 2, 4, 4))
r.case("adaptive_7x5_to_3x2", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), randn(2, 2, 7, 5))
r.case("adaptive_3x4_to_5x6", lambda x: F.adaptive_avg_pool2d(x, (5, 6)), randn(1, 2, 3, 4))
r.case("adaptive_global", lambda x: F.adaptive_avg_pool2d(x, 1), randn(2, 4, 5, 3))

# batch norm: training (batch statistics, full backward), running-stat updates, evaluation, frozen.
bn_input = randn(4, 3, 5, 5) * 2 + 3
r.case("bn_train_affine", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), bn_input, torch.rand(3) + 0.5, randn(3))
r.case("bn_train_no_affine", lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3), randn(6, 2, 3))


def running_stats(x, running_mean, running_var, momentum):
    running_mean, running_var = running_mean.clone(), running_var.clone()
    F.batch_norm(x, running_mean, running_var, training=True, momentum=momentum)
    return torch.stack([running_mean, running_var])


r.case("bn_running_stats", lambda x, m, v: running_stats(x, m, v, 0.1), bn_input, randn(3), torch.rand(3) + 0.5, grad=[])
r.case("bn_running_stats_momentum_0_3", lambda x, m, v: running_stats(x, m, v, 0.3), randn(2, 3, 4, 2), randn(3), torch.rand(3) + 0.5, grad=[])
r.case("bn_eval", lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False), randn(2, 3, 4, 4), torch.rand(3) + 0.5, randn(3), randn(3), torch.rand(3) + 0.5, grad=[0, 1, 2])


def frozen_bn(x, w, b, m, v):
    layer = FrozenBatchNorm2d(3)
    for name, value in (("weight", w), ("bias", b), ("running_mean", m), ("running_var", v)):
        getattr(layer, name).copy_(value)
    return layer(x)


r.case("frozen_bn", frozen_bn, randn(2, 3, 4, 4), torch.rand(3) + 0.5, randn(3), randn(3), torch.rand(3) * 1e-3, grad=[0])

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
