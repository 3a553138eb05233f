"""The warm launcher: `python -m core.launcher`, a process that imports torch and the training
code once and then forks each run from itself (core.runs.warm starts it and talks to it).

A fresh `python -m core train` spends seconds importing torch and, at its first model build,
torch's meta kernels (the size check of core.models.registry); a child forked from here has
all of that already. The child is otherwise the command a user would type: its own session
(closing the app or this launcher never stops it), cwd, environment and log of the request,
`core.cli.main(args)`, its exit code. If the code under core/ changed since this process
started, the child runs a fresh interpreter instead (execve, same pid).

Protocol, one JSON line each way on stdin/stdout: first {"ready": true} once warm; then per
request {"args": [...], "env": {...}, "cwd": "...", "log": "..."} -> {"pid": N} or
{"error": "..."}. End of stdin (the app is gone) ends this process; its children go on.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import traceback
from pathlib import Path

CORE = Path(__file__).resolve().parent
# What every run needs before its first batch (imports), done once here.
PRELOAD = ("torch", "core.cli", "core.training.runner", "core.training.probes",
           "core.data.dataset", "core.models.registry")
# Models whose size check (a forward on torch's meta device) is run once here: the first one
# in a process imports torch._dynamo and the meta kernels (1-3 s), whichever model it is.
WARM_MODELS = ("default_cnn", "conv_ae")


def source_fingerprint(root: Path = CORE) -> tuple[int, int]:
    """(files, newest mtime in ns) of the .py files under core/: changes when the code does."""
    count = newest = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                count += 1
                try:
                    newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
                except OSError:
                    pass
    return count, newest


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from core.models.registry import measure_model

    for model in WARM_MODELS:
        try:  # meta tensors only: no memory, and no thread pool started before the forks
            measure_model(model, (1, 8, 8), 10)
        except Exception:  # noqa: BLE001 - a model missing here only makes its first run cold
            pass


def _child(request: dict, fingerprint: tuple[int, int], started: int) -> None:
    """In the forked child: become the requested command, never return. Closing `started`
    tells the launcher that the child leads its own session (a killpg(pid) reaches it)."""
    code = 1
    try:
        os.setsid()
        os.close(started)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        os.chdir(request["cwd"])
        env = {str(k): str(v) for k, v in request["env"].items()}
        os.environ.clear()
        os.environ.update(env)
        args = [str(a) for a in request["args"]]
        if source_fingerprint() != fingerprint:  # edited since the preload: run the code as it is now
            os.execve(sys.executable, [sys.executable, "-m", "core", *args], env)
        import torch

        threads = env.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:  # read by OpenMP at import, here long ago
            torch.set_num_threads(int(threads))
        sys.argv = [str(CORE / "__main__.py"), *args]
        from core.cli import main

        code = main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported in the run's log, as a fresh process would
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def serve(requests, replies) -> None:
    """Answer requests (binary line streams) until the end of `requests`."""
    fingerprint = source_fingerprint()

    def reply(message: dict) -> None:
        replies.write((json.dumps(message) + "\n").encode())
        replies.flush()

    reply({"ready": True, "pid": os.getpid()})
    for line in iter(requests.readline, b""):
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not {"args", "env", "cwd", "log"} <= set(request):
                raise ValueError("a request needs args, env, cwd and log")
        except ValueError as exc:
            reply({"error": str(exc)[:200]})
            continue
        sys.stderr.flush()
        wait_end, started = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(wait_end)
            _child(request, fingerprint, started)
        os.close(started)
        os.read(wait_end, 1)  # end of file once the child has its session (or is gone)
        os.close(wait_end)
        reply({"pid": pid})


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C ends the app, whose exit ends this
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    preload()
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
