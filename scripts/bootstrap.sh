#!/usr/bin/env bash
# Create .venv and install exactly the locked versions (hash-checked), then the project itself.
#   scripts/bootstrap.sh runtime   what `make run` needs    (requirements/runtime.lock)
#   scripts/bootstrap.sh dev       plus the test/lint tools (requirements/dev.lock)
# Re-runs only when the lock or pyproject.toml is newer than the last install. `make lock`
# refreshes the locks from the ranges in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
LEVEL=${1:-dev}
LOCK=requirements/$LEVEL.lock
STAMP=$VENV/.installed-$LEVEL

[ -f "$LOCK" ] || { echo "no such lock: $LOCK" >&2; exit 1; }
# The browser tests (tests/browser) drive Debian's chromium through Playwright; Playwright's own
# browser download is never used. As root with apt we add it; otherwise those tests say how.
if [ "$LEVEL" = dev ] && [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt "$LOCK" ]; then
  exit 0
fi
"$PYTHON" - <<'PY' || { echo "Python 3.11 or newer is required" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    # Debian ships venv separately; as root we can add it, otherwise say what is missing.
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      ver=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt-get update -qq && apt-get install -y -qq "python${ver}-venv" >/dev/null
      "$PYTHON" -m venv "$VENV"
    else
      echo "python3 -m venv failed: install the python3-venv package" >&2
      exit 1
    fi
  fi
fi
PIP=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check)
"${PIP[@]}" install --require-hashes --no-deps -r "$LOCK"
"${PIP[@]}" install --no-deps -e .
touch "$STAMP"
