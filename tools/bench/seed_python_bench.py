#!/usr/bin/python3
"""Baseline for embedding_bench: the seed project's way of serving, measured on this machine.

Decodes each JPEG with PIL, converts through numpy float64 (transpose, /255) to a torch tensor,
and runs one photo per forward of the seed network (the same architecture as the C++
seed_inception at 224x224) in Python with Debian's Torch 1.13. Prints one Markdown table row.

    /usr/bin/python3 tools/bench/seed_python_bench.py [--seconds 8] [--threads 2]
"""
import argparse
import io
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k, s=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, cin, b1, b2r, b2, b3r, b3, b4):
        super().__init__()
        self.b1 = ConvBnRelu(cin, b1, 1)
        self.b2 = nn.Sequential(ConvBnRelu(cin, b2r, 1), ConvBnRelu(b2r, b2, 3))
        self.b3 = nn.Sequential(ConvBnRelu(cin, b3r, 1), ConvBnRelu(b3r, b3, 5))
        self.b4 = ConvBnRelu(cin, b4, 1)

    def forward(self, x):
        pooled = F.max_pool2d(x, 3, 1, 1)
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(pooled)], 1)


class SeedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvBnRelu(3, 64, 7, 2)
        self.conv2 = ConvBnRelu(64, 192, 3)
        self.inc3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inc3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.dense = nn.Linear(69120, 128)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 3, 2, 1)
        x = F.max_pool2d(self.conv2(x), 3, 2, 1)
        x = F.max_pool2d(self.inc3b(self.inc3a(x)), 3, 2, 1)
        x = F.avg_pool2d(x, 3, 1).flatten(1)
        return F.normalize(self.dense(x), dim=1)


def make_jpegs(n, side):
    out = []
    for i in range(n):
        y, x = np.mgrid[0:side, 0:side]
        rgb = np.stack([x * 255 // side, y * 255 // side, (x * y + i * 37) % 256], -1)
        buf = io.BytesIO()
        Image.fromarray(rgb.astype(np.uint8)).save(buf, format="JPEG")
        out.append(buf.getvalue())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = SeedNet().eval()
    photos = make_jpegs(32, 224)
    latencies = []
    start = time.perf_counter()
    i = 0
    with torch.no_grad():
        while time.perf_counter() - start < args.seconds:
            t0 = time.perf_counter()
            img = Image.open(io.BytesIO(photos[i % len(photos)])).convert("RGB")
            arr = np.transpose(np.asarray(img, dtype=np.float64), (2, 0, 1)) / 255.0
            x = torch.tensor(arr, dtype=torch.float32).unsqueeze(0)
            net(x)
            latencies.append((time.perf_counter() - t0) * 1000)
            i += 1
    elapsed = time.perf_counter() - start
    latencies.sort()
    print("| seed's way: Python, PIL decode, batch 1 (torch %s, %d threads) | 1 client | %.1f | %.1f | %.1f |"
          % (torch.__version__, args.threads, len(latencies) / elapsed,
             latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)]))


if __name__ == "__main__":
    main()
