# Shared by scripts/*: makes .venv from the hash-pinned lock on first use (or when the lock changes).
# Needs only Python 3.11+ and the package index. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOCK="${LOMMEBOK_LOCK:-requirements/dev.txt}"
PY="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.lock-stamp"
want="$(cat "$LOCK" pyproject.toml | sha256sum | cut -d' ' -f1) $LOCK"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Lommebok needs Python 3.11 or newer")'
  echo "Setting up .venv from $LOCK (first run only)..." >&2
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade "pip>=23" "setuptools>=64" >&2
  "$VENV/bin/python" -m pip install -q --require-hashes -r "$LOCK" >&2
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e . >&2
  echo "$want" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
