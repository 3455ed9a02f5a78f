"""Parity fixtures for max, average and adaptive average pooling (engine/Ops/Pooling.cs)."""
import torch
import torch.nn.functional as F

from common import Recorder

r = Recorder("pooling")
randn = torch.randn

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
r.save()
