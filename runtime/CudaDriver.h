//===- CudaDriver.h - The CUDA driver, loaded at run time --------*- C++ -*-===//
//
// The runtime opens libcuda.so.1 with dlopen instead of linking it, so that
// every tool builds and runs (and reports "no CUDA device") on a machine
// without a GPU or a driver. The few driver types and entry points it needs
// are declared here with the driver API's own names and ABI, not taken from
// cuda.h, so building needs no CUDA toolkit either.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_CUDADRIVER_H
#define ATTN_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace attn::rt {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

/// The driver's entry points; the _v2 names are the ones cuda.h maps the
/// plain names to.
struct CudaDriver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int ordinal);
  CUresult (*cuDeviceGetAttribute)(int *, int attribute, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxGetCurrent)(CUcontext *);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxGetDevice)(CUdevice *);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *image);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction, int attribute, int value);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned gridX, unsigned gridY,
                             unsigned gridZ, unsigned blockX, unsigned blockY,
                             unsigned blockZ, unsigned sharedBytes, CUstream,
                             void **params, void **extra);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);

  /// "cuLaunchKernel: CUDA_ERROR_INVALID_VALUE (invalid argument)".
  std::string errorText(const char *call, CUresult r) const;
};

/// The driver with a context current on the calling thread: the one already
/// current (PyTorch's, say) if there is one, else device 0's primary context.
/// Returns nullptr when there is no usable device, with `why` set to one line
/// starting "no CUDA device: " that says whether the library is missing, the
/// driver sees no device, or the driver failed (with its error text).
/// Loading happens once per process; the environment variable
/// ATTN_CUDA_LIBRARY, when set, names the library to open instead of
/// libcuda.so.1 (tests point it at a missing file to get the no-GPU path).
const CudaDriver *cudaDriver(std::string &why);

} // namespace attn::rt

#endif // ATTN_RUNTIME_CUDADRIVER_H
