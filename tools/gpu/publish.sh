#!/usr/bin/env bash
# Step 1 of the GPU check, on the CPU machine (needs the .NET SDK): publishes the `scratchdetect`
# CLI self-contained for linux-x64, trimmed, into artifacts/gpu-bundle (git-ignored), and checks
# it stays under the device tool's 64 MiB transfer limit. Then, from the session:
#   run(command="tools/gpu/run_on_gpu.sh", carry=["artifacts/gpu-bundle"], timeout_s=540)
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle=artifacts/gpu-bundle
rm -rf "$bundle"
# TrimMode=partial trims only the framework (ILGPU is kept whole; its reflection roots into the
# core library are in samples/ScratchDetect.Cli/ILLink.Descriptors.xml). Trim analysis warnings
# are reported by the normal build's analyzers; here they would only repeat as errors.
dotnet publish samples/ScratchDetect.Cli/ScratchDetect.Cli.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true -p:TreatWarningsAsErrors=false \
  -p:JsonSerializerIsReflectionEnabledByDefault=true -o "$bundle/cli"
cp tools/gpu/run_on_gpu.sh tools/gpu/cuda_libs.py tools/gpu/bench_torchvision.py "$bundle/"
size_kib=$(du -sk "$bundle" | cut -f1)
echo "publish: $bundle is $((size_kib / 1024)) MiB"
if [ "$size_kib" -ge $((64 * 1024)) ]; then
  echo "publish: over the 64 MiB transfer limit" >&2
  exit 1
fi
# The bundle must run here before it travels: the emulated selftest needs no GPU.
"$bundle/cli/scratchdetect" selftest --emulated | tail -1
