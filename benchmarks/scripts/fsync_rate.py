#!/usr/bin/env python3
"""Measures the disk's sync rate the way a write-ahead log sees it: 4 KiB written, then synced.

Four patterns, 3,000 syncs each, in a scratch file under benchmarks/target (same filesystem as
the benchmark's temp dirs unless -Dmnemo.bench.dir points elsewhere):
  append + fdatasync   what RocksDB's WAL does (the file grows, so ext4 also commits metadata)
  append + fsync
  overwrite + fdatasync  a preallocated/recycled log (no size change)
  overwrite + fsync
"""
import os, sys, time, statistics

def run(path, append, sync, n=3000, size=4096):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    buf = os.urandom(size)
    os.write(fd, buf); os.fsync(fd)
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        if append:
            os.write(fd, buf)
        else:
            os.pwrite(fd, buf, 0)
        sync(fd)
        lat.append(time.perf_counter() - t)
    dt = time.perf_counter() - t0
    os.close(fd); os.unlink(path)
    lat.sort()
    return n / dt, statistics.median(lat) * 1e3, lat[int(len(lat) * 0.99)] * 1e3

def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'target')
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, 'fsync-rate.tmp')
    for name, append, sync in [("append + fdatasync", True, os.fdatasync), ("append + fsync", True, os.fsync),
                               ("overwrite + fdatasync", False, os.fdatasync), ("overwrite + fsync", False, os.fsync)]:
        rate, p50, p99 = run(path, append, sync)
        print(f"# fsync-rate {name:22s} {rate:8.0f} syncs/s  p50 {p50:.3f} ms  p99 {p99:.3f} ms")

if __name__ == '__main__':
    main()
