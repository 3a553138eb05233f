"""Watch it learn: a fixed probe set's answers saved each epoch in the run folder.

The probe set is chosen once per run from the validation images: PER_CLASS images of each
class (stratified, seeded), plus up to EXTRA more whose codes feed the latent film strip. After
each epoch the model's answers on them go into `probes/epoch-NNNN.npz`: the predicted class and
its confidence (classifiers) or the reconstruction (autoencoders), and every probe's code. The
images themselves are saved once (`probes/images.npz`), so a page replays a run from its folder
alone. Reading them back and aligning the codes across epochs is core.latent.film.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from core.io.atomic import atomic_path

DIR = "probes"
IMAGES = "images.npz"
PER_CLASS = 2  # probe images per class shown with their answers
EXTRA = 300  # more validation images whose codes fill the film strip's map
BATCH = 256


def choose_probes(labels: np.ndarray, seed: int, per_class: int = PER_CLASS,
                  extra: int = EXTRA) -> tuple[np.ndarray, np.ndarray]:
    """(probe rows, extra rows) into labels: per_class of each class present, then up to extra
    others, both drawn with a seeded generator (the same run always gets the same set)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    probes = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    chosen = np.concatenate(probes).astype(np.int64) if probes else np.zeros(0, np.int64)
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    return chosen, np.sort(rng.permutation(rest)[:extra]).astype(np.int64)


def epoch_path(folder: Path, epoch: int) -> Path:
    return Path(folder) / DIR / f"epoch-{epoch:04d}.npz"


class ProbeRecorder:
    """Saves the probe set's answers after each epoch; `seconds` sums what that cost."""

    def __init__(self, folder: Path, trainer, seed: int):
        self.folder, self.trainer = Path(folder), trainer
        data = trainer.data
        labels = data.y_val.cpu().numpy()
        probe, extra = choose_probes(labels, seed)
        self.rows = np.concatenate([probe, extra])
        self.n_probe = len(probe)
        self.seconds = 0.0
        (self.folder / DIR).mkdir(exist_ok=True)
        images = self.folder / DIR / IMAGES
        if not images.exists():  # a resumed run keeps the set it started with
            with atomic_path(images) as tmp, open(tmp, "wb") as f:
                np.savez(f, images=data.x_val[torch.from_numpy(probe)].cpu().numpy(),
                         labels=labels[probe], classes=np.asarray(data.classes, dtype=str),
                         n_probe=np.int64(self.n_probe), n_codes=np.int64(len(self.rows)),
                         extra_labels=labels[extra])

    @torch.no_grad()
    def record(self, epoch: int) -> None:
        """Forward the probe set in eval mode and save its answers for this epoch."""
        started = time.perf_counter()
        t = self.trainer
        model, was_training = t.model, t.model.training
        model.eval()
        codes, answers = [], []
        rows = torch.from_numpy(self.rows).to(t.data.x_val.device)
        try:
            for first in range(0, len(rows), BATCH):
                x = t.data.x_val[rows[first:first + BATCH]].float().div_(255.0)
                codes.append(model.features(x).flatten(1).float().cpu())
                if first < self.n_probe:
                    answers.append((model(x[:self.n_probe - first]), x[:self.n_probe - first]))
        finally:
            model.train(was_training)
        out = {"epoch": np.int64(epoch), "codes": torch.cat(codes).numpy().astype(np.float32)}
        if t.kind.predicts_classes:
            logits = torch.cat([o for o, _ in answers]).float()
            if logits.shape[1] == 1:  # a binary head: one logit for the second class
                p1 = torch.sigmoid(logits[:, 0])
                proba = torch.stack([1 - p1, p1], dim=1)
            else:
                proba = torch.softmax(logits, dim=1)
            confidence, predicted = proba.max(dim=1)
            out.update(predicted=predicted.cpu().numpy().astype(np.int64),
                       confidence=confidence.cpu().numpy().astype(np.float32))
        else:
            recon = torch.cat([o[0] if isinstance(o, tuple) else o for o, _ in answers]).float()
            out["reconstructions"] = (recon.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        out["seconds"] = np.float64(time.perf_counter() - started)
        with atomic_path(epoch_path(self.folder, epoch)) as tmp, open(tmp, "wb") as f:
            np.savez(f, **out)
        self.seconds += time.perf_counter() - started
