"""umap's one-time compilation: the marker says for which versions a numba cache is warm."""
from __future__ import annotations

import subprocess
import sys

from core.io.atomic import write_json
from core.latent import warmup


def test_a_cache_is_warm_only_for_the_installed_versions(tmp_path) -> None:
    assert not warmup.is_warm(tmp_path)
    write_json(tmp_path / warmup.MARKER, {"versions": warmup._versions()})
    assert warmup.is_warm(tmp_path)
    write_json(tmp_path / warmup.MARKER, {"versions": {**warmup._versions(), "numba": "0.0"}})
    assert not warmup.is_warm(tmp_path)  # numba upgraded: compile again


def test_warm_up_is_a_command(settings, monkeypatch) -> None:
    from core.latent.projection import numba_dir

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)  # the workspace's own, not the session's
    assert numba_dir(settings) == settings.cache_dir / "numba"

    folder = numba_dir(settings)
    folder.mkdir(parents=True)
    write_json(folder / warmup.MARKER, {"versions": warmup._versions()})
    done = subprocess.run([sys.executable, "-m", "core", "warm-up"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "compiled already" in done.stdout, done.stderr
