"""Parity fixtures for batch norm (training, running statistics, evaluation) and frozen batch norm (engine/Ops/BatchNorm.cs)."""
import torch
import torch.nn.functional as F
from torchvision.ops import FrozenBatchNorm2d

from common import Recorder

r = Recorder("batch_norm")
randn = torch.randn

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
r.save()
