"""Python binding of the GPU runtime's C API (runtime/AttnRuntime.h), with ctypes.

    import torch
    from attn_runtime import Kernel, AttnError

    kernel = Kernel("out/attn_sm_90_bf16_d128_g4_....json")
    q = torch.randn(2, 32, 130, 128, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(2, 8, 130, 128, device="cuda", dtype=torch.bfloat16)
    ...
    out = torch.empty(2, 32, 130, 128, device="cuda", dtype=torch.bfloat16)
    kernel.launch(q, k, v, out)            # on torch's current stream

Tensors are passed in the canonical [B, H, S, D] view ([B, H, S] for lse,
[B] for kv_lengths and q_offsets, int32 [B, Hsel, Qblocks, K] for block_idx),
with any strides: a [B, S, H, D] buffer
is passed as ``x.transpose(1, 2)``. Head counts are free (q has the
kernel's group times k's heads); the optional operands are keyword-only and
given exactly when the kernel was compiled with them. Anything with ``data_ptr()``, ``stride()``, ``shape``
and a torch-named ``dtype`` works; torch itself is never imported here (it is
used, when the caller has imported it, for the current stream and device).

The shared library is looked up in $ATTN_RUNTIME_LIB, then in the build tree
next to this checkout (build/lib/libattn_runtime.so), then on the loader path.
"""

import ctypes
import os
import sys

__all__ = ["AttnError", "Kernel", "device_init", "library_path"]

# attn_status, in the C enum's order.
STATUS_NAMES = [
    "ATTN_OK", "ATTN_ERROR_NO_DEVICE", "ATTN_ERROR_DRIVER", "ATTN_ERROR_ARTEFACT",
    "ATTN_ERROR_ARGUMENT", "ATTN_ERROR_DTYPE", "ATTN_ERROR_SHAPE",
    "ATTN_ERROR_LAYOUT", "ATTN_ERROR_ALIGNMENT", "ATTN_ERROR_GRID",
    "ATTN_ERROR_LAUNCH", "ATTN_ERROR_INTERNAL",
]

# torch dtypes by name, so that no torch import is needed to map them.
DTYPES = {
    "torch.float16": 0, "torch.bfloat16": 1, "torch.float32": 2,
    "torch.bool": 3, "torch.int32": 4, "torch.int64": 5,
}


class AttnError(RuntimeError):
    """A runtime call failed: `status` is the status name ("ATTN_ERROR_SHAPE"),
    `message` the runtime's one-line explanation."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class _Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int),
        ("shape", ctypes.c_int64 * 4),
        ("strides", ctypes.c_int64 * 4),
    ]


T = ctypes.POINTER(_Tensor)

# The operands of an attention kernel, in attn_attention_args' order.
OPERANDS = ("q", "k", "v", "mask", "kv_lengths", "q_offsets", "out", "lse",
            "block_idx", "select_idx")


class _Args(ctypes.Structure):
    _fields_ = [(name, T) for name in OPERANDS]


def library_path():
    """The libattn_runtime.so this module loads."""
    env = os.environ.get("ATTN_RUNTIME_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "build", "lib", "libattn_runtime.so")
    return os.path.normpath(built) if os.path.exists(built) else "libattn_runtime.so"


_lib = None


def _library():
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(library_path())
    K = ctypes.c_void_p
    A = ctypes.POINTER(_Args)
    signatures = {
        "attn_status_name": (ctypes.c_char_p, [ctypes.c_int]),
        "attn_last_error": (ctypes.c_char_p, []),
        "attn_device_init": (ctypes.c_int, []),
        "attn_kernel_load": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(K)]),
        "attn_kernel_free": (None, [K]),
        "attn_kernel_name": (ctypes.c_char_p, [K]),
        "attn_kernel_is_attention": (ctypes.c_int, [K]),
        "attn_kernel_param_count": (ctypes.c_int, [K]),
        "attn_kernel_param_size": (ctypes.c_int, [K, ctypes.c_int]),
        "attn_attention_check": (ctypes.c_int, [K, A, ctypes.c_uint * 3]),
        "attn_attention_launch": (ctypes.c_int, [K, A, ctypes.c_void_p]),
        "attn_launch_raw": (ctypes.c_int, [K, ctypes.c_uint * 3,
                                           ctypes.POINTER(ctypes.c_void_p),
                                           ctypes.c_int, ctypes.c_void_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    _lib = lib
    return lib


def _check(status):
    if status != 0:
        name = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else str(status)
        raise AttnError(name, _library().attn_last_error().decode())


def device_init():
    """Loads the CUDA driver; raises AttnError (ATTN_ERROR_NO_DEVICE) without one."""
    _check(_library().attn_device_init())


def _tensor(name, t):
    """The attn_tensor of `t`, or None."""
    if t is None:
        return None
    dtype = DTYPES.get(str(t.dtype))
    if dtype is None:
        raise AttnError("ATTN_ERROR_DTYPE", f"{name}: unsupported dtype {t.dtype}")
    shape, strides = tuple(t.shape), tuple(t.stride())
    if len(shape) > 4:
        raise AttnError("ATTN_ERROR_SHAPE", f"{name}: rank {len(shape)}, at most 4")
    c = _Tensor(t.data_ptr() or None, dtype, len(shape))
    for i, (n, s) in enumerate(zip(shape, strides)):
        c.shape[i], c.strides[i] = n, s
    return c


def _torch():
    """torch, if the caller imported it (never imported here)."""
    return sys.modules.get("torch")


class Kernel:
    """A compiled kernel: NAME.json with its NAME.cubin or NAME.ptx beside it."""

    def __init__(self, json_path):
        lib = _library()
        handle = ctypes.c_void_p()
        _check(lib.attn_kernel_load(os.fsencode(json_path), ctypes.byref(handle)))
        self._handle = handle
        self.name = lib.attn_kernel_name(handle).decode()
        self.is_attention = bool(lib.attn_kernel_is_attention(handle))
        count = lib.attn_kernel_param_count(handle)
        # Byte size of each parameter, from the PTX; None without a .ptx.
        self.param_sizes = (None if count < 0 else
                            [lib.attn_kernel_param_size(handle, i) for i in range(count)])

    def close(self):
        if self._handle:
            _library().attn_kernel_free(self._handle)
            self._handle = None

    def __del__(self):
        if getattr(self, "_handle", None) and _lib is not None:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def _args(operands):
        """attn_attention_args of {name: tensor or None}; the attn_tensors
        live as long as the returned structure."""
        args = _Args()
        args._keep = []
        for name in OPERANDS:
            t = _tensor(name, operands[name])
            if t is not None:
                args._keep.append(t)
                setattr(args, name, ctypes.pointer(t))
        return args

    def check(self, q, k, v, out, *, mask=None, kv_lengths=None, q_offsets=None,
              lse=None, block_idx=None, select_idx=None):
        """Checks the operands without touching the GPU; returns the grid.
        (A selection kernel without values takes v=None and out=None.)"""
        grid = (ctypes.c_uint * 3)()
        args = self._args(dict(q=q, k=k, v=v, mask=mask, kv_lengths=kv_lengths,
                               q_offsets=q_offsets, out=out, lse=lse,
                               block_idx=block_idx, select_idx=select_idx))
        _check(_library().attn_attention_check(self._handle, ctypes.byref(args), grid))
        return tuple(grid)

    def launch(self, q, k, v, out, *, mask=None, kv_lengths=None, q_offsets=None,
               lse=None, block_idx=None, select_idx=None, stream=None):
        """Checks the operands and launches on `stream` (a CUstream as int or
        torch.cuda.Stream; default torch's current stream on q's device)."""
        operands = dict(q=q, k=k, v=v, mask=mask, kv_lengths=kv_lengths,
                        q_offsets=q_offsets, out=out, lse=lse, block_idx=block_idx,
                        select_idx=select_idx)
        for name, t in operands.items():
            # A host pointer would fault on the device: refuse it here.
            if t is not None and hasattr(t, "is_cuda"):
                if not t.is_cuda:
                    raise AttnError("ATTN_ERROR_ARGUMENT",
                                    f"{name}: a CPU tensor; launch needs CUDA tensors")
                if t.device != q.device:
                    raise AttnError("ATTN_ERROR_ARGUMENT",
                                    f"{name}: on {t.device}, q on {q.device}; "
                                    "put every operand on one device")
        args = self._args(operands)
        self._launch(q, stream, lambda s: _library().attn_attention_launch(
            self._handle, ctypes.byref(args), s))

    def launch_raw(self, grid, args, stream=None):
        """Launches with raw arguments in the kernel's order (Triton's
        signature order, without constexprs). Each argument is a ctypes value,
        a tensor (its data pointer), None (a null pointer), or an int/float
        sized by the PTX's parameter list."""
        grid = tuple(grid) + (1,) * (3 - len(grid))
        values = [self._raw_value(i, a) for i, a in enumerate(args)]
        pointers = (ctypes.c_void_p * max(len(values), 1))(
            *[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in values])
        device_of = next((a for a in args if hasattr(a, "data_ptr")), None)
        self._launch(device_of, stream, lambda s: _library().attn_launch_raw(
            self._handle, (ctypes.c_uint * 3)(*grid), pointers, len(values), s))

    def _raw_value(self, i, a):
        if isinstance(a, (ctypes._SimpleCData, ctypes.Structure)):
            return a
        if a is None:
            return ctypes.c_void_p(None)
        if hasattr(a, "data_ptr"):
            return ctypes.c_void_p(a.data_ptr())
        sizes = self.param_sizes
        if sizes is None or i >= len(sizes):
            raise AttnError("ATTN_ERROR_ARGUMENT",
                            f"argument {i}: the kernel has no .ptx (or fewer parameters) "
                            "to size a Python number by; pass a ctypes value")
        if isinstance(a, float):
            kinds = {4: ctypes.c_float, 8: ctypes.c_double}
        else:
            kinds = {1: ctypes.c_int8, 2: ctypes.c_int16, 4: ctypes.c_int32,
                     8: ctypes.c_int64}
        if sizes[i] not in kinds:
            raise AttnError("ATTN_ERROR_ARGUMENT",
                            f"argument {i}: cannot pass {a!r} as a {sizes[i]}-byte parameter")
        return kinds[sizes[i]](a)

    def _launch(self, tensor, stream, call):
        """Runs call(stream) on the device of `tensor`, on torch's current
        stream when none is given and torch is in use."""
        torch = _torch()
        on_cuda = torch is not None and getattr(tensor, "is_cuda", False)
        if stream is None:
            stream = torch.cuda.current_stream(tensor.device).cuda_stream if on_cuda else 0
        elif hasattr(stream, "cuda_stream"):
            stream = stream.cuda_stream
        if on_cuda:
            with torch.cuda.device(tensor.device):
                _check(call(ctypes.c_void_p(stream or None)))
        else:
            _check(call(ctypes.c_void_p(stream or None)))
