"""Parity fixtures for module state dicts.

Writes the state_dict of torch.nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3)) exactly as
PyTorch names it (0.weight, 0.bias, 2.weight, 2.bias) to tests/fixtures/parity/nn_sequential_state_dict.safetensors,
and to nn.safetensors an input batch, the network's output, a cotangent and the gradients it
gives the input and each parameter (grad/<state_dict key>).
"""
import torch
from common import OUT_DIR, save_safetensors

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
save_safetensors(f"{OUT_DIR}/nn_sequential_state_dict.safetensors", model.state_dict())

x = torch.randn(5, 4, requires_grad=True)
out = model(x)
gout = torch.randn_like(out)
out.backward(gout)
tensors = {"sequential/input": x, "sequential/output": out, "sequential/gout": gout, "sequential/grad_input": x.grad}
for name, parameter in model.named_parameters():
    tensors[f"sequential/grad/{name}"] = parameter.grad
save_safetensors(f"{OUT_DIR}/nn.safetensors", tensors, {"generator": "tools/parity/nn.py", "torch": torch.__version__})
print(f"wrote {OUT_DIR}/nn_sequential_state_dict.safetensors and nn.safetensors")
