"""Prints the folders that hold the CUDA libraries of the Python environment's PyTorch (the pip
wheels put them in site-packages/nvidia/<component>/lib), joined by ':', for
SCRATCHDETECT_CUDA_LIB_DIR and LD_LIBRARY_PATH. Prints nothing when there are none.

Usage: python3 tools/gpu/cuda_libs.py
"""
import glob
import os
import site
import sys


def library_folders():
    roots = list(site.getsitepackages()) + [site.getusersitepackages()]
    try:
        import torch  # torch's own lib folder holds the CUDA libraries in some builds (conda, bundled wheels)
        roots.append(os.path.dirname(torch.__file__))
    except ImportError:
        pass
    folders = []
    for root in roots:
        folders += sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib")))
        lib = os.path.join(root, "lib")
        if glob.glob(os.path.join(lib, "libcudnn.so*")) or glob.glob(os.path.join(lib, "libcublas.so*")):
            folders.append(lib)
    seen = []
    for folder in folders:
        if os.path.isdir(folder) and folder not in seen:
            seen.append(folder)
    return seen


if __name__ == "__main__":
    folders = library_folders()
    for name in ("libcudart.so", "libcublas.so", "libcudnn.so"):
        found = [f for f in folders if glob.glob(os.path.join(f, name + ".*"))]
        print(f"cuda_libs: {name}: {found[0] if found else 'NOT FOUND'}", file=sys.stderr)
    print(":".join(folders))
