"""Parity fixtures for the optimizer and learning-rate schedules (tests/fixtures/parity/optim.safetensors).

A fixed tiny linear model (3 -> 2) is trained for 10 steps on a fixed batch with the MSE loss by
torch.optim.SGD with two parameter groups (weight: lr 0.1, weight decay 1e-4; bias: lr 0.2, no
weight decay, as torchvision's references treat normalisation parameters), under LinearLR warm-up
(start factor 0.1 over 4 steps) and MultiStepLR (milestones 6 and 8, gamma 0.1) stepped every
iteration. Stored: the data (x, y), the initial parameters, and per case and step the learning
rate used by the weight group and the parameters after the step.

The same model and data are then trained by torch.optim.AdamW (two groups: weight lr 0.01 with
weight decay 0.05, bias lr 0.02 without; default and non-default betas/eps) under the same schedules,
stored as "adamw/<case><suffix>/<step>/..." together with the optimizer's state after the last step
under torch's state_dict names ("adamw/<case><suffix>/state.<i>.exp_avg", ...).
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
ADAMW_CASES = {
    "default": dict(),
    "betas": dict(betas=(0.8, 0.99), eps=1e-6),
}


def train(prefix, init, x, y, make_optimizer, groups_lr):
    """Ten steps of the linear model from `init` under warm-up and step decay; records every step."""
    model = torch.nn.Linear(3, 2).to(init.weight.dtype)
    model.load_state_dict(init.state_dict())
    (weight_lr, weight_decay), bias_lr = groups_lr
    groups = [{"params": [model.weight], "lr": weight_lr, "weight_decay": weight_decay}, {"params": [model.bias], "lr": bias_lr, "weight_decay": 0.0}]
    optimizer = make_optimizer(groups)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=4)
    decay = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[6, 8], gamma=0.1)
    for step in range(STEPS):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        tensors[f"{prefix}/{step}/lr"] = torch.tensor(optimizer.param_groups[0]["lr"], dtype=torch.float64)
        optimizer.step()
        warmup.step()
        decay.step()
        tensors[f"{prefix}/{step}/weight"] = model.weight.detach().clone()
        tensors[f"{prefix}/{step}/bias"] = model.bias.detach().clone()
    return optimizer


torch.manual_seed(0)
tensors = {}
for dtype, suffix in ((torch.float64, ""), (torch.float32, "_f32")):
    x = torch.randn(6, 3, dtype=torch.float64).to(dtype)
    y = torch.randn(6, 2, dtype=torch.float64).to(dtype)
    init = torch.nn.Linear(3, 2).to(dtype)
    tensors[f"data{suffix}/x"], tensors[f"data{suffix}/y"] = x, y
    tensors[f"data{suffix}/weight"], tensors[f"data{suffix}/bias"] = init.weight, init.bias
    for name, options in CASES.items():
        train(f"{name}{suffix}", init, x, y, lambda groups: torch.optim.SGD(groups, lr=0.1, **options), ((0.1, 1e-4), 0.2))

# AdamW after both SGD passes, on the stored data, so the SGD cases' random draws are as before.
for suffix in ("", "_f32"):
    x, y = tensors[f"data{suffix}/x"], tensors[f"data{suffix}/y"]
    init = torch.nn.Linear(3, 2).to(x.dtype)
    init.load_state_dict({"weight": tensors[f"data{suffix}/weight"], "bias": tensors[f"data{suffix}/bias"]})
    for name, options in ADAMW_CASES.items():
        optimizer = train(f"adamw/{name}{suffix}", init, x, y, lambda groups: torch.optim.AdamW(groups, lr=0.01, **options), ((0.01, 0.05), 0.02))
        for index, state in optimizer.state_dict()["state"].items():
            for key, value in state.items():
                tensors[f"adamw/{name}{suffix}/state.{index}.{key}"] = value.detach().clone()

path = f"{OUT_DIR}/optim.safetensors"
save_safetensors(path, tensors, {"generator": "tools/parity/optim.py", "torch": torch.__version__})
print(f"wrote {path}")
