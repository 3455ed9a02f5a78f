"""The reference side of the GPU benchmark: PyTorch/torchvision on the GPU the CUDA backend is
measured on, in the shapes the issue names. Medians of timed repetitions after warm-up, with
torch.cuda.synchronize around each; TF32 left at PyTorch's defaults (off for matmul, on for cuDNN
convolutions). Prints one Markdown table (and peak GPU memory per row).

Usage: python3 tools/gpu/bench_torchvision.py [--quick]
"""
import argparse
import statistics
import time

import torch
import torchvision


def timed(step, warmup, repeats):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, torch.cuda.max_memory_allocated() / 2**20


def gemm_rows(device):
    for m, n, k in [(4096, 4096, 4096), (1024, 12544, 1024), (2048, 1024, 12544), (512, 1024, 1024)]:
        a = torch.randn(m, k, device=device)
        b = torch.randn(k, n, device=device)
        ms, mib = timed(lambda: a @ b, 3, 10)
        yield f"gemm {m}x{k} @ {k}x{n}", ms, mib, f"{2 * m * n * k / ms / 1e9:.1f} TFLOP/s"


def conv_rows(device):
    # (name, batch, in, out, size, kernel, stride, padding, dilation): ResNet50 and VGG16 shapes.
    shapes = [
        ("resnet50 conv1", 2, 3, 64, 800, 7, 2, 3, 1),
        ("resnet50 layer1 3x3", 2, 64, 64, 200, 3, 1, 1, 1),
        ("resnet50 layer3 3x3", 2, 256, 256, 50, 3, 1, 1, 1),
        ("resnet50 layer4 1x1", 2, 2048, 512, 25, 1, 1, 0, 1),
        ("vgg16 conv1_2", 32, 64, 64, 300, 3, 1, 1, 1),
        ("vgg16 conv4_3", 32, 512, 512, 38, 3, 1, 1, 1),
        ("ssd fc6 dilated", 32, 512, 1024, 19, 3, 1, 6, 6),
    ]
    for name, batch, cin, cout, size, k, s, p, d in shapes:
        conv = torch.nn.Conv2d(cin, cout, k, s, p, d).to(device)
        x = torch.randn(batch, cin, size, size, device=device, requires_grad=True)

        def step():
            conv(x).sum().backward()

        ms, mib = timed(step, 3, 10)
        yield f"conv fwd+bwd {name} [{batch},{cin},{size},{size}]", ms, mib, ""


def detector_rows(device, quick):
    from torchvision.models.detection import fasterrcnn_resnet50_fpn, ssd300_vgg16

    def images_and_targets(batch, height, width, classes):
        images = [torch.rand(3, height, width, device=device) for _ in range(batch)]
        targets = []
        for _ in range(batch):
            xy = torch.rand(4, 2, device=device) * torch.tensor([width * 0.6, height * 0.6], device=device)
            wh = torch.rand(4, 2, device=device) * 200 + 32
            targets.append({"boxes": torch.cat([xy, xy + wh], 1), "labels": torch.randint(1, classes, (4,), device=device)})
        return images, targets

    configs = [("fasterrcnn_resnet50_fpn", fasterrcnn_resnet50_fpn, 2, 800, 1333, 91)]
    if not quick:
        configs.append(("fasterrcnn_resnet50_fpn", fasterrcnn_resnet50_fpn, 4, 800, 1333, 91))
    configs.append(("ssd300_vgg16", ssd300_vgg16, 32, 300, 300, 21))
    for name, build, batch, height, width, classes in configs:
        model = build(weights=None, weights_backbone=None, num_classes=classes).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        images, targets = images_and_targets(batch, height, width, classes)
        model.train()

        def train_step():
            losses = model(images, targets)
            optimizer.zero_grad()
            sum(losses.values()).backward()
            optimizer.step()

        ms, mib = timed(train_step, 2, 5)
        yield f"{name} train step batch {batch} {height}x{width}", ms, mib, ""
        model.eval()
        with torch.no_grad():
            ms, mib = timed(lambda: model(images), 2, 5)
        yield f"{name} inference batch {batch} {height}x{width}", ms, mib, ""
        del model, optimizer
        torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the batch-4 Faster R-CNN rows")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench_torchvision: no CUDA device visible to PyTorch")
    device = torch.device("cuda")
    print(f"torchvision {torchvision.__version__}, torch {torch.__version__}, {torch.cuda.get_device_name()}, "
          f"matmul TF32 {torch.backends.cuda.matmul.allow_tf32}, cuDNN TF32 {torch.backends.cudnn.allow_tf32}\n")
    print("| case | torchvision median ms | peak MiB | note |")
    print("|---|---:|---:|---|")
    for rows in (gemm_rows(device), conv_rows(device), detector_rows(device, args.quick)):
        for name, ms, mib, note in rows:
            print(f"| {name} | {ms:.2f} | {mib:.0f} | {note} |", flush=True)


if __name__ == "__main__":
    main()
