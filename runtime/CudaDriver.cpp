//===- CudaDriver.cpp - The CUDA driver, loaded at run time ---------------===//

#include "runtime/CudaDriver.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace attn::rt {

std::string CudaDriver::errorText(const char *call, CUresult r) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName(r, &name) != CUDA_SUCCESS || !name)
    name = "unknown CUresult";
  if (cuGetErrorString(r, &text) != CUDA_SUCCESS || !text)
    text = "no description";
  return std::string(call) + ": " + name + " " + std::to_string(r) + " (" +
         text + ")";
}

namespace {

// What loading found, once per process.
struct Loaded {
  CudaDriver driver{};
  std::string error;             // "" when the driver and a device are usable
  CUcontext primary = nullptr;   // device 0's primary context, once retained
  std::mutex primaryMutex;
};

template <typename F> bool resolve(void *lib, const char *symbol, F &fn) {
  fn = reinterpret_cast<F>(dlsym(lib, symbol));
  return fn != nullptr;
}

std::string load(CudaDriver &d) {
  const char *override = std::getenv("ATTN_CUDA_LIBRARY");
  const char *path = override && *override ? override : "libcuda.so.1";
  // Never closed: the driver must outlive every module and context it made.
  void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!lib) {
    const char *why = dlerror();
    return std::string("no CUDA device: cannot load the CUDA driver library ") +
           path + " (" + (why ? why : "dlopen failed") +
           "); install the NVIDIA driver or run on a machine with a GPU";
  }
  struct Entry {
    const char *symbol;
    bool ok;
  };
  Entry entries[] = {
      {"cuInit", resolve(lib, "cuInit", d.cuInit)},
      {"cuGetErrorName", resolve(lib, "cuGetErrorName", d.cuGetErrorName)},
      {"cuGetErrorString",
       resolve(lib, "cuGetErrorString", d.cuGetErrorString)},
      {"cuDriverGetVersion",
       resolve(lib, "cuDriverGetVersion", d.cuDriverGetVersion)},
      {"cuDeviceGetCount",
       resolve(lib, "cuDeviceGetCount", d.cuDeviceGetCount)},
      {"cuDeviceGet", resolve(lib, "cuDeviceGet", d.cuDeviceGet)},
      {"cuDeviceGetAttribute",
       resolve(lib, "cuDeviceGetAttribute", d.cuDeviceGetAttribute)},
      {"cuDevicePrimaryCtxRetain",
       resolve(lib, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain)},
      {"cuCtxGetCurrent", resolve(lib, "cuCtxGetCurrent", d.cuCtxGetCurrent)},
      {"cuCtxSetCurrent", resolve(lib, "cuCtxSetCurrent", d.cuCtxSetCurrent)},
      {"cuCtxGetDevice", resolve(lib, "cuCtxGetDevice", d.cuCtxGetDevice)},
      {"cuCtxSynchronize",
       resolve(lib, "cuCtxSynchronize", d.cuCtxSynchronize)},
      {"cuModuleLoadData",
       resolve(lib, "cuModuleLoadData", d.cuModuleLoadData)},
      {"cuModuleUnload", resolve(lib, "cuModuleUnload", d.cuModuleUnload)},
      {"cuModuleGetFunction",
       resolve(lib, "cuModuleGetFunction", d.cuModuleGetFunction)},
      {"cuFuncSetAttribute",
       resolve(lib, "cuFuncSetAttribute", d.cuFuncSetAttribute)},
      {"cuLaunchKernel", resolve(lib, "cuLaunchKernel", d.cuLaunchKernel)},
      {"cuMemAlloc_v2", resolve(lib, "cuMemAlloc_v2", d.cuMemAlloc)},
      {"cuMemFree_v2", resolve(lib, "cuMemFree_v2", d.cuMemFree)},
      {"cuMemcpyHtoD_v2", resolve(lib, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD)},
      {"cuMemcpyDtoH_v2", resolve(lib, "cuMemcpyDtoH_v2", d.cuMemcpyDtoH)},
  };
  for (const Entry &e : entries)
    if (!e.ok)
      return std::string("no CUDA device: ") + path + " lacks " + e.symbol +
             " (a driver too old or not NVIDIA's); update the NVIDIA driver";

  if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS) {
    if (r == CUDA_ERROR_NO_DEVICE)
      return "no CUDA device: the driver found no GPU (cuInit: "
             "CUDA_ERROR_NO_DEVICE; check CUDA_VISIBLE_DEVICES)";
    return "no CUDA device: the driver failed to start: " +
           d.errorText("cuInit", r);
  }
  int count = 0;
  if (CUresult r = d.cuDeviceGetCount(&count); r != CUDA_SUCCESS)
    return "no CUDA device: driver error: " +
           d.errorText("cuDeviceGetCount", r);
  if (count == 0)
    return "no CUDA device: the driver reports 0 devices (check "
           "CUDA_VISIBLE_DEVICES)";
  return "";
}

Loaded &loaded() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] { l.error = load(l.driver); });
  return l;
}

// Makes a context current on this thread unless one already is.
std::string makeContextCurrent(Loaded &l) {
  const CudaDriver &d = l.driver;
  CUcontext current = nullptr;
  if (CUresult r = d.cuCtxGetCurrent(&current); r != CUDA_SUCCESS)
    return "no CUDA device: driver error: " + d.errorText("cuCtxGetCurrent", r);
  if (current)
    return "";
  std::lock_guard<std::mutex> lock(l.primaryMutex);
  if (!l.primary) {
    CUdevice dev = 0;
    if (CUresult r = d.cuDeviceGet(&dev, 0); r != CUDA_SUCCESS)
      return "no CUDA device: driver error: " + d.errorText("cuDeviceGet", r);
    // Retained for the life of the process, as the CUDA runtime does.
    if (CUresult r = d.cuDevicePrimaryCtxRetain(&l.primary, dev);
        r != CUDA_SUCCESS)
      return "no CUDA device: driver error: " +
             d.errorText("cuDevicePrimaryCtxRetain", r);
  }
  if (CUresult r = d.cuCtxSetCurrent(l.primary); r != CUDA_SUCCESS)
    return "no CUDA device: driver error: " + d.errorText("cuCtxSetCurrent", r);
  return "";
}

} // namespace

const CudaDriver *cudaDriver(std::string &why) {
  Loaded &l = loaded();
  why = l.error;
  if (why.empty())
    why = makeContextCurrent(l);
  return why.empty() ? &l.driver : nullptr;
}

} // namespace attn::rt
