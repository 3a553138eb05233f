#!/usr/bin/env bash
# One entry point for people and CI:
#   ./run.sh app     set up .venv if needed, then open the dashboard
#   ./run.sh test    set up .venv (with test tools) if needed, then run every test
#   ./run.sh bench   run the benchmarks in tests/bench and print their figures
# Set VENV=/some/path to keep the environment elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

setup() {  # $1: requirements file
    local req="$1" stamp="$VENV/.installed-$(basename "$1")" sig
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating $VENV with $("$PY" --version)"
        "$PY" -m venv "$VENV"
    fi
    # Reinstall only when a requirements file changed since the last install.
    sig=$(cat requirements*.txt | sha256sum)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sig" ]; then
        echo "Installing $req (the first time takes a few minutes: torch is large)"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -r "$req"
        echo "$sig" > "$stamp"
    fi
}

case "${1:-}" in
    app)
        setup requirements.txt
        shift
        # umap's numba functions, compiled once per workspace in the background (seconds when
        # done already), so the first UMAP on a fresh clone does not spend ~90 s compiling.
        "$VENV/bin/python" -m core warm-up >/dev/null 2>&1 &
        exec "$VENV/bin/python" -m streamlit run dashboard/app.py "$@"
        ;;
    test)
        setup requirements-dev.txt
        shift
        # Two workers (TEST_WORKERS): the browser tests run one after another on one of them,
        # a file with module fixtures stays on one, every other test goes to whichever is free
        # (tests/conftest.py); TEST_WORKERS=0 runs in-process.
        exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadgroup "$@"
        ;;
    bench)
        setup requirements-dev.txt
        shift
        exec "$VENV/bin/python" -m tests.bench "$@"
        ;;
    *)
        echo "usage: ./run.sh app|test|bench [extra arguments]" >&2
        exit 2
        ;;
esac
