"""bench.profile sums py-spy's collapsed stacks by layer, each sample once."""

from __future__ import annotations

from pathlib import Path

from bench.profile import summarise

ROOT = "Runner.run (asyncio/runners.py:118)"
APP = f"{ROOT};RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:422)"
RAW = f"""\
{ROOT} 10
{APP};RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:524) 30
{APP};solve_dependencies (fastapi/dependencies/utils.py:705);hit (dreamer/deps.py:346);\
Connection._do_execute (asyncpg/connection.py:2066) 25
{APP};solve_dependencies (fastapi/dependencies/utils.py:705) 5
{APP};RequestInfoMiddleware.__call__ (dreamer/core/http.py:150) 20
{APP};BaseModel.model_dump (pydantic/main.py:520) 10
"""


def test_samples_are_summed_by_the_first_layer_that_matches(tmp_path: Path) -> None:
    profile = tmp_path / "worker.raw"
    profile.write_text(RAW)
    total, layers = summarise(profile)
    assert total == 100
    assert layers == {
        "event loop (epoll, scheduling)": 10,
        "uvicorn: writing the response": 30,
        # sent from inside a dependency: a round trip, not dependency solving
        "statements sent to PostgreSQL (asyncpg)": 25,
        "FastAPI: dependency solving (ours included)": 5,
        "Dreamer's own frames": 20,
        "pydantic: validation and serialisation": 10,
    }
