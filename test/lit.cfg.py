# -*- Python -*-
import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "ATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR", "CUDA_PATH", "PTXAS"])
llvm_config.use_default_substitutions()
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
# attn-compile caches ptxas results only where a test asks for it.
config.environment["ATTN_CACHE_DIR"] = ""

# The conformance vectors live next to the checkout, never in it.
shared = os.path.abspath(os.path.join(config.attn_src_root, "..", "shared"))
config.substitutions.append(("%shared", shared))
config.substitutions.append(("%attn_lib", config.attn_lib_dir))
config.substitutions.append(("%attn_src", config.attn_src_root))
if os.path.isdir(os.path.join(shared, "conformance")):
    config.available_features.add("conformance")

# A GPU test needs a CUDA driver that finds a device.
def has_cuda_device():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except Exception:
        return False

if has_cuda_device():
    config.available_features.add("cuda")
ptxas = os.environ.get("PTXAS") or os.path.join(
    os.environ.get("CUDA_PATH", "/usr/local/cuda"), "bin", "ptxas")
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
config.substitutions.append(("%ptxas", ptxas))
if os.path.exists(os.path.join(os.environ.get("CUDA_PATH", "/usr/local/cuda"), "bin", "nvcc")):
    config.available_features.add("nvcc")

# The Python that CMake found (lit's own %python may be another one), resolved
# past any shim, and the packages that optional runtime tests use (never the
# build).
def python_with(module):
    try:
        run = subprocess.run([config.python_executable, "-c",
                              "import sys; import " + module + "; print(sys.executable)"],
                             capture_output=True, text=True, timeout=120)
        return run.stdout.strip() if run.returncode == 0 else None
    except Exception:
        return None

config.substitutions.append(("%attn_python", python_with("sys") or config.python_executable))
for module in ["triton", "torch"]:
    if python_with(module):
        config.available_features.add(module)

tool_dirs = [config.attn_tools_dir, config.llvm_tools_dir]
tools = [
    "attn-opt", "not", "count", "split-file",
    ToolSubst("upstream-mlir-opt", os.path.join(config.mlir_tools_dir, "mlir-opt"),
              unresolved="ignore"),
]
for optional in ["attn-run", "attn-conformance", "attn-compile", "attn-bench",
                 "attn-runtime-test", "attn-random-test", "attn-reference-check",
                 "attn-runtime-unit", "attn-gpu-test", "attn-gpu-runtime-unit"]:
    tools.append(ToolSubst(optional, unresolved="ignore"))
llvm_config.add_tool_substitutions(tools, tool_dirs)
