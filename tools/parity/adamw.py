"""Parity fixtures for AdamW (tests/fixtures/parity/adamw.safetensors).

The same tiny linear model (3 -> 2), batch and MSE loss as optim.py, trained for 10 steps by
torch.optim.AdamW with two parameter groups (weight: lr 0.01, weight decay 0.05; bias: lr 0.02, no
weight decay) and non-default betas and eps in one case, under LinearLR warm-up (start factor 0.1
over 4 steps) and MultiStepLR (milestones 6 and 8, gamma 0.1) stepped every iteration. Stored: the
data, the initial parameters, per case and step the parameters after the step, and after the last
step the optimizer's state (exp_avg, exp_avg_sq, step) under torch's state_dict names.
"""
import torch
from common import OUT_DIR, save_safetensors

STEPS = 10
CASES = {
    "default": dict(),
    "betas": dict(betas=(0.8, 0.99), eps=1e-6),
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
        groups = [{"params": [model.weight], "lr": 0.01, "weight_decay": 0.05}, {"params": [model.bias], "lr": 0.02, "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW(groups, lr=0.01, **options)
        warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=4)
        decay = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[6, 8], gamma=0.1)
        for step in range(STEPS):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
            warmup.step()
            decay.step()
            tensors[f"{name}{suffix}/{step}/weight"] = model.weight.detach().clone()
            tensors[f"{name}{suffix}/{step}/bias"] = model.bias.detach().clone()
        for index, state in optimizer.state_dict()["state"].items():
            for key, value in state.items():
                tensors[f"{name}{suffix}/state.{index}.{key}"] = value.detach().clone()

path = f"{OUT_DIR}/adamw.safetensors"
save_safetensors(path, tensors, {"generator": "tools/parity/adamw.py", "torch": torch.__version__})
print(f"wrote {path}")
