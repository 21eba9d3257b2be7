#!/usr/bin/env python3
"""The layering rule is enforced by the build (docs/ARCHITECTURE.md, "Layering").

1. Every dogsearch_library() that does not declare USES TORCH / OPENCV / GRPC compiles each of
   its sources with the guard include directory (cmake/layering/no_torch, no_opencv, no_grpc).
2. With those flags, a source that includes LibTorch, OpenCV or gRPC, directly or through one of
   our headers that does, fails to compile with the guard's message; the same source compiles
   in a library that declares the use.

Usage: layering_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

build, source = sys.argv[1], sys.argv[2]
failures = []


def libraries():
    """{name: set of USES} for every dogsearch_library() in the tree's CMakeLists.txt files."""
    out = {}
    for root, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not d.startswith(("build", ".", "node_modules"))]
        if "CMakeLists.txt" not in files:
            continue
        text = open(os.path.join(root, "CMakeLists.txt")).read()
        for m in re.finditer(r"dogsearch_library\((\w+)(.*?)\)", text, re.S):
            uses = re.search(r"USES\s+([A-Z ]+)", m.group(2))
            out[m.group(1)] = set(uses.group(1).split()) if uses else set()
    return out


commands = json.load(open(os.path.join(build, "compile_commands.json")))
by_target = {}
for c in commands:
    m = re.search(r"CMakeFiles/([\w.-]+)\.dir/", c.get("output", "") or c["command"])
    if m:
        by_target.setdefault(m.group(1), []).append(c)

libs = libraries()
if len(libs) < 20:
    failures.append(f"found only {len(libs)} dogsearch_library() calls")
checked = 0
for name, uses in sorted(libs.items()):
    for c in by_target.get(name, []):
        checked += 1
        for family, guard in (("TORCH", "layering/no_torch"), ("OPENCV", "layering/no_opencv"),
                              ("GRPC", "layering/no_grpc")):
            has = guard in c["command"]
            if family in uses and has:
                failures.append(f"{name} declares USES {family} but {c['file']} has the guard")
            if family not in uses and not has:
                failures.append(f"{name} does not declare USES {family}, yet {c['file']} compiles without the guard")
if checked < 50:
    failures.append(f"only {checked} library sources found in compile_commands.json")


def syntax_check(command, text):
    """Compiles `text` with `command`'s flags (-fsyntax-only); returns (ok, output)."""
    args = shlex.split(command["command"])
    flags, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-MD",) or a == command["file"]:
            continue
        flags.append(a)
    with tempfile.NamedTemporaryFile("w", suffix=".cc", delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([args[0], *flags, "-fsyntax-only", f.name], cwd=command["directory"],
                           capture_output=True, text=True, timeout=300)
        return r.returncode == 0, r.stdout + r.stderr
    finally:
        os.unlink(f.name)


def first(target):
    cs = by_target.get(target)
    if not cs:
        failures.append(f"no compile command for {target}")
    return cs[0] if cs else None


light = first("gateway_core")
cases = [
    ("#include <torch/torch.h>\n", "LibTorch"),
    ('#include "common/torch_model/nets.h"\n', "LibTorch"),
    ('#include "common/image/image_decoder.h"\n', "OpenCV"),
    ('#include "dogsearch/v1/index.grpc.pb.h"\n', "gRPC"),
    ('#include "common/rpc/handler.h"\n', "gRPC"),
]
if light:
    for text, lib in cases:
        ok, out = syntax_check(light, text)
        want = "a core library includes a gRPC header" if lib == "gRPC" else \
            f"a light library includes a {lib} header"
        if ok or want not in out:
            failures.append(f"gateway_core compiled {text.strip()!r} (want the layering error):\n{out[:800]}")
heavy_torch, heavy_cv = first("common_torch_model"), first("common_image")
adapter = first("index_service")
if adapter:
    ok, out = syntax_check(adapter, cases[3][0] + cases[4][0])
    if not ok:
        failures.append(f"index_service cannot include gRPC:\n{out[:800]}")
    ok, out = syntax_check(adapter, cases[0][0])
    if ok:
        failures.append("index_service (USES GRPC only) compiled <torch/torch.h>")
if heavy_torch:
    ok, out = syntax_check(heavy_torch, cases[1][0])
    if not ok:
        failures.append(f"common_torch_model cannot include its own header:\n{out[:800]}")
if heavy_cv:
    ok, out = syntax_check(heavy_cv, cases[2][0])
    if not ok:
        failures.append(f"common_image cannot include its own header:\n{out[:800]}")

if failures:
    print("FAIL:\n" + "\n".join(failures))
    sys.exit(1)
print(f"layering enforced: {len(libs)} libraries, {checked} sources checked; code including "
      "LibTorch, OpenCV or gRPC without declaring it fails to compile")
