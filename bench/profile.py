"""Where a worker's time goes: a py-spy profile summed by layer.

Record one worker of ``dreamer serve`` while wrk loads it, in py-spy's raw (collapsed) format,
then sum the samples by the layer their innermost frame belongs to::

    pip install py-spy    # any virtualenv: it is a standalone binary, not a dependency
    py-spy record -p <worker pid> -d 10 -r 200 -f raw --nonblocking -o worker.raw
    python -m bench.profile worker.raw [more.raw …]    # or .raw.gz

A sample counts once, for the first layer below that matches its stack, so a statement sent
to PostgreSQL from inside a dependency is counted as a round trip, not as dependency solving.
"""

from __future__ import annotations

import argparse
import gzip
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path


def _any_frame(*marks: str) -> Callable[[Sequence[str]], bool]:
    return lambda frames: any(mark in frame for frame in frames for mark in marks)


def _innermost(*marks: str) -> Callable[[Sequence[str]], bool]:
    return lambda frames: any(mark in frames[-1] for mark in marks)


# (layer, test on the stack), first match wins
LAYERS: list[tuple[str, Callable[[Sequence[str]], bool]]] = [
    (
        "statements sent to PostgreSQL (asyncpg)",
        _any_frame("_do_execute (asyncpg", "__do_execute (asyncpg", "Connection.execute (asyncpg"),
    ),
    (  # its header loop and the two socket writes (head, body) of each response
        "uvicorn: writing the response",
        _innermost("RequestResponseCycle.send "),
    ),
    ("event loop (epoll, scheduling)", lambda frames: "runners.py" in frames[-1] or not frames[-1]),
    (
        "uvicorn: parsing and the rest of its cycle",
        _innermost("HttpToolsProtocol", "RequestResponseCycle"),
    ),
    ("Argon2id", _any_frame("argon2")),
    ("FastAPI: dependency solving (ours included)", _any_frame("solve_dependencies")),
    ("pydantic: validation and serialisation", _innermost("pydantic", "email_validator")),
    ("SQLAlchemy", _innermost("sqlalchemy")),
    ("Dreamer's own frames", _innermost("dreamer/")),
    ("Starlette/FastAPI: middleware, routing, responses", _innermost("starlette/", "fastapi/")),
]


def layer_of(frames: Sequence[str]) -> str:
    for name, test in LAYERS:
        if test(frames):
            return name
    return "other (standard library, drivers)"


def summarise(path: Path) -> tuple[int, Counter[str]]:
    counts: Counter[str] = Counter()
    total = 0
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    for line in text.splitlines():
        if not line.strip():
            continue
        stack, _, samples = line.rpartition(" ")
        total += int(samples)
        counts[layer_of(stack.split(";"))] += int(samples)
    return total, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("profiles", nargs="+", type=Path, help="py-spy raw output files")
    args = parser.parse_args()
    for path in args.profiles:
        total, counts = summarise(path)
        print(f"{path} ({total} samples)")
        for name, samples in counts.most_common():
            print(f"  {100 * samples / max(total, 1):5.1f} %  {name}")


if __name__ == "__main__":
    main()
