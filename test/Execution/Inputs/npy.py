"""Small .npy files without NumPy, for the bad-input tests.

  npy.py OUT DTYPE SHAPE [fill]   write; DTYPE f2|f4|f8|i4|i8|b1; SHAPE like 2,2,5,8
  npy.py --print FILE N           print the first N values (f4 files)
  npy.py --set-int32 FILE I X     set entry I of an int32 file to X
  npy.py --compare A B TOL        f4/f2 files: ||A - B|| / ||B|| <= TOL, else exit 1
fill: 'random' (default, a fixed LCG), 'nan-row' (random, the first
row of every [.., S, D] matrix NaN), 'inf-row' (+inf), 'bytes2' (bool bytes
cycling 0, 1, 2), or a comma-separated list of values.
"""
import struct, sys

def read_f4(path):
    """The values of an f4 (or f2) file."""
    data = open(path, "rb").read()
    start = 10 + struct.unpack("<H", data[8:10])[0]
    size, code = (2, "e") if b"'<f2'" in data[:start] else (4, "f")
    return struct.unpack("<%d%s" % ((len(data) - start) // size, code), data[start:])

if sys.argv[1] == "--compare":
    a, b = read_f4(sys.argv[2]), read_f4(sys.argv[3])
    assert len(a) == len(b), "sizes differ: %d and %d" % (len(a), len(b))
    diff = sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5
    norm = sum(y * y for y in b) ** 0.5 or 1.0
    rel = diff / norm
    print("relative difference %.2e over %d values" % (rel, len(a)))
    sys.exit(0 if rel <= float(sys.argv[4]) else 1)

if sys.argv[1] == "--set-int32":
    data = bytearray(open(sys.argv[2], "rb").read())
    start = 10 + struct.unpack("<H", data[8:10])[0] + 4 * int(sys.argv[3])
    data[start:start + 4] = struct.pack("<i", int(sys.argv[4]))
    open(sys.argv[2], "wb").write(bytes(data))
    sys.exit(0)

if sys.argv[1] == "--print":
    data = open(sys.argv[2], "rb").read()
    start = 10 + struct.unpack("<H", data[8:10])[0]
    n = int(sys.argv[3])
    print(" ".join("%g" % x for x in struct.unpack("<%df" % n, data[start:start + 4 * n])))
    sys.exit(0)

out, dtype, shape = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
fill = sys.argv[4] if len(sys.argv) > 4 else "random"
n = 1
for d in shape:
    n *= d
seed = 12345
def rand():
    global seed
    seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
    return ((seed >> 11) / 2**53) * 2 - 1
if fill in ("random", "nan-row", "inf-row"):
    values = [rand() for _ in range(n)]
    if fill != "random":
        row = shape[-1]; rows = shape[-2] * row
        for base in range(0, n, rows):
            for i in range(row):
                values[base + i] = float("nan") if fill == "nan-row" else float("inf")
elif fill == "bytes2":
    values = [i % 3 for i in range(n)]
else:
    values = [float(x) for x in fill.split(",")]
    assert len(values) == n, "need %d values" % n
code = {"f2": "<e", "f4": "<f", "f8": "<d", "i4": "<i", "i8": "<q", "b1": "B"}[dtype]
body = b"".join(struct.pack(code, int(v) if dtype in ("i4", "i8", "b1") else v) for v in values)
descr = {"f2": "<f2", "f4": "<f4", "f8": "<f8", "i4": "<i4", "i8": "<i8", "b1": "|b1"}[dtype]
dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body)
