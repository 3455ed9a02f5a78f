#!/usr/bin/env bash
# Step 2 of the GPU check, on the accelerator machine (no .NET SDK, no network; PyTorch with
# torchvision and its CUDA libraries in the Python environment). Run from the repository root
# with artifacts/gpu-bundle carried (see tools/gpu/publish.sh). Writes to $OUT (or ./gpu-out):
#   environment.txt  nvidia-smi, the library folders found, versions
#   selftest.txt     `scratchdetect selftest --device cuda`: every kernel against the CPU backend
#   torchvision.md   the reference benchmark on the same GPU (tools/gpu/bench_torchvision.py)
# PYTHON=... picks the interpreter that has torch (default: python3 on PATH).
# Exit status: the selftest's.
set -uo pipefail
cd "$(dirname "$0")/../.." 2>/dev/null || true
bundle=${BUNDLE:-artifacts/gpu-bundle}
out=${OUT:-gpu-out}
mkdir -p "$out"
python=${PYTHON:-$(command -v python3 || command -v python)}

{
  date -u
  nvidia-smi || echo "nvidia-smi: not found"
  "$python" -c "import torch, torchvision; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), 'torchvision', torchvision.__version__)"
} > "$out/environment.txt" 2>&1

libs=$("$python" "$bundle/cuda_libs.py" 2>>"$out/environment.txt")
echo "library folders: $libs" >> "$out/environment.txt"
export SCRATCHDETECT_CUDA_LIB_DIR="$libs"
# cuDNN 9 loads its sub-libraries (libcudnn_cnn.so.9, ...) by name, so its folder must be on the loader path too.
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

"$bundle/cli/scratchdetect" selftest --device cuda > "$out/selftest.txt" 2>&1
status=$?
tail -n 3 "$out/selftest.txt"

timeout 420 "$python" "$bundle/bench_torchvision.py" > "$out/torchvision.md" 2> "$out/torchvision.log"
tail -n 20 "$out/torchvision.md"
exit $status
