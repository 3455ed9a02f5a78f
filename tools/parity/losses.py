"""Parity fixtures for softmax, losses and SSD's L2Norm (torch.nn.functional, PyTorch 1.13)."""
import torch
import torch.nn.functional as F
from common import Recorder

r = Recorder("losses")
randn = torch.randn


def targets(n, classes, ignored=()):
    t = torch.randint(0, classes, (n,))
    for i in ignored:
        t[i] = -100
    return t


r.case("softmax_scores", lambda x: torch.softmax(x, 1), randn(16, 91) * 3)
r.case("softmax_axis1_4d", lambda x: torch.softmax(x, 1), randn(2, 5, 3, 4))
r.case("log_softmax_last", lambda x: torch.log_softmax(x, -1), randn(8, 21) * 5)
r.case("log_softmax_axis0", lambda x: torch.log_softmax(x, 0), randn(6, 4))
r.case("log_softmax_large", lambda x: torch.log_softmax(x, 1), randn(4, 7) * 30 + 100)

r.case("cross_entropy_mean", lambda x, t: F.cross_entropy(x, t), randn(16, 91), targets(16, 91))
r.case("cross_entropy_weight_ignore", lambda x, t, w: F.cross_entropy(x, t, weight=w),
       randn(12, 6), targets(12, 6, ignored=(2, 7)), torch.rand(6) + 0.5, grad=[0])
r.case("cross_entropy_custom_ignore_sum", lambda x, t: F.cross_entropy(x, t, ignore_index=2, reduction="sum"),
       randn(10, 5), targets(10, 5))
r.case("cross_entropy_none", lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="none"),
       randn(9, 4), targets(9, 4, ignored=(0, 5)), torch.rand(4) + 0.5, grad=[0])
r.case("cross_entropy_4d", lambda x, t: F.cross_entropy(x, t), randn(2, 5, 3, 3), torch.randint(0, 5, (2, 3, 3)))
r.case("cross_entropy_all_ignored", lambda x, t: F.cross_entropy(x, t), randn(3, 4), targets(3, 4, ignored=(0, 1, 2)))

r.case("bce_logits_mean", lambda x, t: F.binary_cross_entropy_with_logits(x, t), randn(5, 6) * 3, torch.rand(5, 6))
r.case("bce_logits_weight_pos_weight_sum",
       lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction="sum"),
       randn(5, 6) * 3, torch.rand(5, 6), torch.rand(5, 1) + 0.5, torch.rand(6) * 3 + 0.5, grad=[0, 1])
r.case("bce_logits_none_extreme", lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
       torch.tensor([-120.0, -30.0, -1.0, 0.0, 0.0, 2.0, 40.0, 150.0]), torch.tensor([0.0, 1.0, 0.3, 0.0, 1.0, 1.0, 0.0, 0.5]))

r.case("smooth_l1_beta_ninth_sum", lambda x, t: F.smooth_l1_loss(x, t, beta=1 / 9, reduction="sum"), randn(40, 4) * 0.3, randn(40, 4) * 0.3)
r.case("smooth_l1_beta1_mean", lambda x, t: F.smooth_l1_loss(x, t, beta=1.0), randn(40, 4), randn(40, 4))
r.case("smooth_l1_beta0_none", lambda x, t: F.smooth_l1_loss(x, t, beta=0.0, reduction="none"), randn(6, 4), randn(6, 4))

# ssd.pytorch layers/modules/l2norm.py, written out (weight initialised to 20 there; random here).
r.case("l2norm_ssd", lambda x, w: x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10) * w.view(1, -1, 1, 1),
       randn(2, 8, 3, 4), torch.rand(8) * 10 + 15)
# torchvision's SSD300 (ssd.py, SSDFeatureExtractorVGG.forward): scale_weight.view(1, -1, 1, 1) * F.normalize(x).
r.case("normalize_torchvision", lambda x, w: w.view(1, -1, 1, 1) * F.normalize(x), randn(2, 8, 3, 4), torch.rand(8) * 10 + 15)
r.save()
