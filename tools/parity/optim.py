"""Parity fixtures for the optimizer and learning-rate schedules (tests/fixtures/parity/optim.safetensors).

A fixed tiny linear model (3 -> 2) is trained for 10 steps on a fixed batch with the MSE loss by
torch.optim.SGD with two parameter groups (weight: lr 0.1, weight decay 1e-4; bias: lr 0.2, no
weight decay, as torchvision's references treat normalisation parameters), under LinearLR warm-up
(start factor 0.1 over 4 steps) and MultiStepLR (milestones 6 and 8, gamma 0.1) stepped every
iteration. Stored: the data (x, y), the initial parameters, and per case and step the learning
rate used by the weight group and the parameters after the step.
"""
import torch
from common import OUT_DIR, save_safetensors

STEPS = 10
CASES = {
    "momentum": dict(momentum=0.9),
    "nesterov": dict(momentum=0.9, nesterov=True),
    "dampening": dict(momentum=0.9, dampening=0.5),
    "plain": dict(momentum=0.0),
}

torch.manual_seed(0)
tensors = {}
for dtype, suffix in ((torch.float64, ""), (torch.float32, "_f32")):
    x = torch.randn(6, 3, dtype=torch.float64).to(dtype)
    y = torch.randn(6, 2, dtype=torch.float64).to(dtype)
    init = torch.nn.Linear(3, 2).to(dtype)
    tensors[f"data{suffix}/x"], tensors[f"data{suffix}/y"] = x, y
    tensors[f"data{suffix}/weight"], tensors[f"data{suffix}/bias"] = init.weight, init.bias
    for name, options in CASES.items():
        model = torch.nn.Linear(3, 2).to(dtype)
        model.load_state_dict(init.state_dict())
        groups = [{"params": [model.weight], "lr": 0.1, "weight_decay": 1e-4}, {"params": [model.bias], "lr": 0.2, "weight_decay": 0.0}]
        optimizer = torch.optim.SGD(groups, lr=0.1, **options)
        warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=4)
        decay = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[6, 8], gamma=0.1)
        for step in range(STEPS):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            tensors[f"{name}{suffix}/{step}/lr"] = torch.tensor(optimizer.param_groups[0]["lr"], dtype=torch.float64)
            optimizer.step()
            warmup.step()
            decay.step()
            tensors[f"{name}{suffix}/{step}/weight"] = model.weight.detach().clone()
            tensors[f"{name}{suffix}/{step}/bias"] = model.bias.detach().clone()

path = f"{OUT_DIR}/optim.safetensors"
save_safetensors(path, tensors, {"generator": "tools/parity/optim.py", "torch": torch.__version__})
print(f"wrote {path}")
