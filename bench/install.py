"""How big and how slow a fresh ``pip install`` of slabot is, per set of extras.

Each variant gets a fresh virtualenv; the script times ``pip install`` of this tree with each
set of extras and, with ``--ref``, of that git ref exported to a scratch folder (its default
install only: its extras may differ), for a before and after in one run. Then it counts the
installed distributions (pip itself left out, slabot counted) and the size they added to the
virtualenv. pip's cache is whatever the machine has: run the script twice and read the second
run for installs from a warm cache, as a CI or a redeploy sees them.

    .venv/bin/python bench/install.py                    # default, [postgres], [all]
    .venv/bin/python bench/install.py --ref main         # and main's default install first
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("", "[postgres]", "[all]")


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def measure(source: Path, extras: str, scratch: Path) -> tuple[int, float, float]:
    """(distributions, MB added, seconds) of installing ``source`` with ``extras``."""
    venv = scratch / f"venv{abs(hash((source, extras)))}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    empty = size(venv)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    started = time.perf_counter()
    subprocess.run([*pip, "install", "-q", f"{source}{extras}"], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    frozen = subprocess.run(
        [*pip, "list", "--format=freeze"], check=True, capture_output=True, text=True
    ).stdout.split()
    count = len([line for line in frozen if not line.startswith("pip==")])
    added = (size(venv) - empty) / 1e6
    shutil.rmtree(venv)
    return count, added, seconds


def export(ref: str, scratch: Path) -> Path:
    """The tree of git ``ref``, as files in ``scratch``."""
    target = scratch / f"src-{ref.replace('/', '-')}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="also measure this git ref (e.g. main), as a peer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        sources = [("this tree", ROOT, VARIANTS)]
        if args.ref:
            sources.insert(0, (args.ref, export(args.ref, scratch), ("",)))
        print(f"{'source':<12} {'install':<22} {'packages':>8} {'MB':>7} {'seconds':>8}")
        for name, source, variants in sources:
            for extras in variants:
                try:
                    count, added, seconds = measure(source, extras, scratch)
                except subprocess.CalledProcessError as exc:
                    print(f"{name:<12} pip install .{extras:<12} failed: {exc.stderr[-200:]!r}")
                    continue
                label = f"pip install .{extras}"
                print(f"{name:<12} {label:<22} {count:>8} {added:>7.0f} {seconds:>8.1f}")


if __name__ == "__main__":
    main()
