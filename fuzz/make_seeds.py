#!/usr/bin/env python3
"""Write a seed corpus for fuzz_readers: small valid IDX and CIFAR files.

Usage: make_seeds.py OUTPUT_FOLDER. The first byte of each seed is the reader
selector of fuzz_readers.cpp (bit 7: gzip the rest; low bits mod 5: reader).
"""
import struct
import sys
from pathlib import Path


def idx_images(count, rows, columns):
    pixels = bytes((i * 7) % 256 for i in range(count * rows * columns))
    return struct.pack(">IIII", 0x803, count, rows, columns) + pixels


def idx_labels(count):
    return struct.pack(">II", 0x801, count) + bytes(i % 10 for i in range(count))


def cifar(count, label_bytes):
    return b"".join(bytes([i % 10] * label_bytes) + bytes(range(256)) * 12 for i in range(count))


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    seeds = {
        "idx_images": bytes([0]) + idx_images(3, 4, 5),
        "idx_images_gz": bytes([0x80]) + idx_images(3, 4, 5),
        "idx_images_limit": bytes([0x10]) + idx_images(4, 2, 2),
        "idx_labels": bytes([1]) + idx_labels(7),
        "idx_labels_gz": bytes([0x81]) + idx_labels(7),
        "cifar10": bytes([2]) + cifar(2, 1),
        "cifar10_gz": bytes([0x82]) + cifar(2, 1),
        "cifar100_fine": bytes([3]) + cifar(2, 2),
        "cifar100_coarse_gz": bytes([0x84]) + cifar(1, 2),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
