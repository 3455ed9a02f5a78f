"""Parity fixtures for RoI pooling and box ops (torchvision 0.14 ops: roi_align, roi_pool, box_iou, nms, ...)."""
import torch
import torchvision.ops as ops
from common import Recorder

r = Recorder("roi")

# A [2, 3, 10, 12] feature map; at spatial scale 1/4 the image is 40 x 48 pixels.
features = torch.randn(2, 3, 10, 12)
special = torch.tensor([
    [0, 4.3, 3.1, 30.7, 25.2],     # ordinary
    [1, 30.0, 20.0, 60.0, 50.0],   # crosses the right and bottom borders
    [0, -10.0, -6.0, 12.0, 9.0],   # crosses the left and top borders
    [1, 17.2, 13.9, 18.0, 14.5],   # smaller than one bin
    [0, 0.0, 0.0, 47.9, 39.9],     # the whole image
    [1, -20.0, -20.0, -8.0, -8.0],  # entirely outside: empty samples / empty bins
    [0, 25.0, 20.0, 20.0, 15.0],   # inverted (x2 < x1, y2 < y1)
    [0, 5.0, 3.0, 13.0, 9.0],      # corners at .5 after scale 1/2: roi_pool rounds half away from zero
])
xy = torch.rand(10, 2) * torch.tensor([44.0, 36.0])
wh = torch.rand(10, 2) * 20 + 1
rois = torch.cat([special, torch.cat([torch.randint(0, 2, (10, 1)).float(), xy, xy + wh], 1)])

r.case("roi_align_7x7_s2_unaligned", lambda x, b: ops.roi_align(x, b, (7, 7), 0.25, 2, False), features, rois, grad=[0])
r.case("roi_align_3x4_adaptive_aligned", lambda x, b: ops.roi_align(x, b, (3, 4), 0.25, -1, True), features, rois, grad=[0])
r.case("roi_align_2x2_adaptive_unaligned", lambda x, b: ops.roi_align(x, b, (2, 2), 0.5, 0, False), features, rois, grad=[0])
r.case("roi_align_5x5_s3_aligned_scale_eighth", lambda x, b: ops.roi_align(x, b, (5, 5), 0.125, 3, True), features, rois, grad=[0])
r.case("roi_align_float64", lambda x, b: ops.roi_align(x, b, (3, 4), 0.25, -1, True), features.double(), rois.double(), grad=[0])
r.case("roi_align_box_list", lambda x, b0, b1: ops.roi_align(x, [b0, b1], (2, 3), 0.25, 2, False),
       features, rois[:5, 1:], rois[5:9, 1:], grad=[0])
r.case("roi_pool_2x2", lambda x, b: ops.roi_pool(x, b, (2, 2), 0.25), features, rois, grad=[0])
r.case("roi_pool_7x7_scale_half", lambda x, b: ops.roi_pool(x, b, (7, 7), 0.5), features, rois, grad=[0])


def random_boxes(n, size=100.0):
    xy = torch.rand(n, 2) * size
    return torch.cat([xy, xy + torch.rand(n, 2) * size / 3 + 0.5], 1)


def clustered_boxes(n, clusters=8):
    """Boxes jittered around a few centres, so that many overlap and NMS has work to do."""
    centres = random_boxes(clusters)
    return centres[torch.randint(0, clusters, (n,))] + torch.randn(n, 4) * 3


def distinct_scores(n):
    """Scores without ties (a shuffled ramp), so the kept order is unambiguous."""
    return (torch.randperm(n).float() + 1) / n


boxes_a, boxes_b = random_boxes(6), random_boxes(5)
boxes_a[5] = torch.tensor([10.0, 10.0, 10.0, 20.0])  # empty (zero width) ...
boxes_b[4] = torch.tensor([10.0, 10.0, 10.0, 20.0])  # ... twice: IoU 0/0 = NaN
r.case("box_iou", ops.box_iou, boxes_a, boxes_b, grad=[])
r.case("box_area", ops.box_area, boxes_a)

nms_boxes = clustered_boxes(150)
nms_scores = distinct_scores(150)
r.case("nms_0.5", lambda b, s: ops.nms(b, s, 0.5), nms_boxes, nms_scores, grad=[])
r.case("nms_0.7", lambda b, s: ops.nms(b, s, 0.7), nms_boxes, nms_scores, grad=[])
# Equal scores: boxes 0, 1 and 3 tie at 0.9 (1 overlaps 0 with IoU 81/119, 3 equals 0), boxes 2
# and 4 at 0.8. Visiting ties lower index first keeps [0, 2]; visiting 1 first would keep [1, 2].
r.case("nms_ties", lambda b, s: ops.nms(b, s, 0.5),
       torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10], [21, 21, 31, 31]]),
       torch.tensor([0.9, 0.9, 0.8, 0.9, 0.8]), grad=[])

batched_boxes = clustered_boxes(200)
r.case("batched_nms", lambda b, s, i: ops.batched_nms(b, s, i, 0.5),
       batched_boxes, distinct_scores(200), torch.randint(0, 4, (200,)), grad=[])
# Above 4000 coordinates torchvision's CPU path loops over the classes instead of shifting boxes.
many_boxes = clustered_boxes(1200, clusters=30)
r.case("batched_nms_class_loop_path", lambda b, s, i: ops.batched_nms(b, s, i, 0.6),
       many_boxes, distinct_scores(1200), torch.randint(0, 5, (1200,)), grad=[])

r.case("clip_boxes_to_image", lambda b: ops.clip_boxes_to_image(b, (40, 60)), random_boxes(12) - 20)
r.case("remove_small_boxes", lambda b: ops.remove_small_boxes(b, 8.0), random_boxes(30), grad=[])
r.save()
