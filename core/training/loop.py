"""The one training loop: index slices over in-memory tensors, seeded, resumable, reporting
through callbacks so the CLI prints a table and the dashboard reads the run folder.

It knows models only through their contract (core.models.output): the model gives a ModelOutput,
the loss takes (output, batch), penalties are added; what is measured follows the output's
fields (logits: accuracy, recon: per-pixel MSE), never the model's kind."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from core.errors import UserError
from core.models import build_model, count_parameters, model_kind
from core.models.losses import default_loss, make_loss
from core.models.output import Batch, ModelOutput, TypedModel
from core.runs.metrics import RecordType
from core.runs.status import RunState
from core.training.augment import corrupt, random_shift
from core.training.config import TrainConfig
from core.training.data import TrainData
from core.training.distributed import DistContext
from core.training.preflight import loss_problems

EVAL_BATCH = 1024
# A loss this many times its first logged value has blown up even if it is still finite: with
# ReLUs it then often sits at a huge constant instead of reaching inf/NaN.
EXPLODED_FACTOR = 1e4


@dataclass
class Callbacks:
    on_step: Callable[[dict], None] | None = None  # every log_every steps: step, epoch, train_loss
    on_epoch: Callable[[dict], None] | None = None  # per epoch: losses, accuracy, images/s, lr
    on_checkpoint: Callable[[str, dict], None] | None = None  # ("last" | "best", state)
    should_stop: Callable[[], bool] | None = None  # polled every step


def predicted_class(out: torch.Tensor) -> torch.Tensor:
    """Class ids from logits: argmax, or logit > 0 for a one-output binary head."""
    return (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(1)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("device cuda was asked for but no CUDA GPU is available")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise UserError("device mps was asked for but this machine has no Apple GPU (MPS)")
    return torch.device(name)


class Trainer:
    """Model, optimizer, schedule and RNG state for one config; fit() runs the epochs."""

    def __init__(self, config: TrainConfig, data: TrainData, device: torch.device,
                 ctx: DistContext = DistContext(), callbacks: Callbacks | None = None):
        self.config, self.data, self.device, self.ctx = config, data, device, ctx
        self.callbacks = callbacks or Callbacks()
        torch.manual_seed(config.seed)
        if device.type == "cuda":  # same seed, same metrics (and exact resume) on GPUs too
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        self.kind = model_kind(config.model)
        problems = loss_problems(config, self.kind, data.n_classes)  # the rules live in preflight
        if problems:
            raise UserError(problems[0])
        self.loss_name = default_loss(self.kind, data.n_classes) if config.loss == "auto" else config.loss
        self.loss_fn = make_loss(self.loss_name, **config.loss_params)
        self.model = build_model(config.model, data.in_shape, data.n_classes, config.model_params,
                                 binary_head=self.loss_name == "bce", batch_size=config.batch_size).to(device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.n_parameters = count_parameters(self.model)
        self.typed = TypedModel(self.model, self.kind)  # forward(x) -> ModelOutput
        self.net = self.typed
        if ctx.enabled:
            self.net = torch.nn.parallel.DistributedDataParallel(self.typed)
        # what the inputs go through, by what the model can use: shifts for a classifier,
        # corruption for a model that reconstructs
        self.shift = config.augment and self.kind.predicts_classes
        self.denoise = config.denoise if self.kind.has_decoder else ""
        self.gives_logits = "logits" in self.kind.output_fields  # accuracy is measured
        self.batch_size = max(1, config.batch_size // ctx.world_size)  # global batch stays the same
        n_local = math.ceil(len(data.y_train) / ctx.world_size)
        self.steps_per_epoch = max(1, math.ceil(n_local / self.batch_size))
        self.optimizer = _optimizer(config, self.model.parameters())
        self.scheduler = _scheduler(config, self.optimizer, self.steps_per_epoch)
        self.shuffle_gen = torch.Generator().manual_seed(config.seed)
        self.noise_gen = torch.Generator(device=device).manual_seed(config.seed + 1)
        self.epoch = 0  # completed epochs
        self.step = 0
        self.best_metric: float | None = None
        self.best_val_loss = float("inf")
        self.best_epoch = -1
        self.bad_epochs = 0
        self.monitor = self.kind.monitor
        self.partial_epoch: dict | None = None  # where a stopped epoch left off, for exact resume
        self.first_loss: float | None = None

    # -- one epoch ---------------------------------------------------------------
    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        if self.shift:
            x = random_shift(x, max(1, x.shape[-1] // 8), self.noise_gen)
        if self.denoise:
            kind, _, level = self.denoise.partition(":")
            x = corrupt(x, kind, float(level), self.noise_gen)
        return x

    def _autocast(self):
        """bfloat16 autocast for the forward and loss when asked (config.precision); the
        backward, optimizer and validation stay fp32, so metrics are comparable across runs."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16,
                              enabled=self.config.precision == "bf16")

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def _loss(self, out: ModelOutput, batch: Batch) -> torch.Tensor:
        return self.loss_fn(out, batch) + out.penalty()

    def train_one_epoch(self) -> dict:
        """Returns train_loss, train_acc (classifiers), images_per_s, and stop/diverged flags."""
        self.net.train()
        partial, self.partial_epoch = self.partial_epoch, None
        if partial:  # resuming a stopped epoch: same order, same running totals
            full_perm, begin = partial["perm"], partial["next"]
            total = torch.tensor(partial["total"], device=self.device)
            correct = torch.tensor(partial["correct"], device=self.device)
            seen, earlier_seconds = partial["seen"], partial["seconds"]
        else:
            full_perm = torch.randperm(len(self.data.y_train), generator=self.shuffle_gen)
            begin, seen, earlier_seconds = 0, 0, 0.0
            total = torch.zeros((), device=self.device)
            correct = torch.zeros((), dtype=torch.long, device=self.device)
        perm = full_perm
        if self.ctx.enabled:  # equal shards: every rank must run the same number of batches
            usable = len(full_perm) - len(full_perm) % self.ctx.world_size
            perm = full_perm[:usable][self.ctx.rank::self.ctx.world_size]
        stopped = diverged = False
        start = time.perf_counter()
        for first in range(begin, len(perm), self.batch_size):
            idx = perm[first:first + self.batch_size].to(self.device)
            if len(idx) < 2 and seen:  # batch norm cannot train on a single image
                continue
            x = self._layout(self.data.x_train[idx].float().div_(255.0))
            y = self.data.y_train[idx]
            with self._autocast():
                out = self.net(self._inputs(x))
                try:
                    loss = self._loss(out, Batch(x, y))
                except RuntimeError:  # e.g. binary_cross_entropy refusing NaN: the model blew up
                    if out.finite():
                        raise
                    diverged = True
                    break
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if self.scheduler is not None and self.config.schedule in ("cosine", "onecycle"):
                self.scheduler.step()
            self.step += 1
            total.add_(loss.detach(), alpha=len(idx))
            seen += len(idx)
            if out.logits is not None:
                # summed on the device, read once per epoch: a per-step int() costs ~4% of a step
                correct += (predicted_class(out.logits.detach()) == y).sum()
            # Step 1 too: a live chart gets its first point after one batch, not log_every.
            should_log = self.step % self.config.log_every == 0 or self.step == 1
            # Under DDP every rank joins the flag exchange at every step, or the collectives hang.
            if should_log or self.ctx.enabled or self.callbacks.should_stop:
                asked = bool(self.callbacks.should_stop and self.callbacks.should_stop())
                value = loss.item() if should_log else 0.0
                stopped, diverged = self.ctx.any_flag(asked, self._blew_up(value))
                if should_log and not diverged and self.callbacks.on_step:
                    self.callbacks.on_step({"type": RecordType.STEP, "step": self.step, "train_loss": value,
                                            "epoch": self.epoch + (first + len(idx)) / len(perm)})
                if stopped:
                    self.partial_epoch = {"perm": full_perm, "next": first + self.batch_size,
                                          "total": float(total), "correct": int(correct), "seen": seen,
                                          "seconds": earlier_seconds + time.perf_counter() - start}
                if stopped or diverged:
                    break
        seconds = earlier_seconds + time.perf_counter() - start
        train_loss = self.ctx.mean(float(total) / max(seen, 1))
        diverged = diverged or not math.isfinite(train_loss)
        result = {"train_loss": train_loss, "images_per_s": seen * self.ctx.world_size / seconds,
                  "seconds": seconds, "stopped": stopped, "diverged": diverged}
        if self.gives_logits:
            result["train_acc"] = self.ctx.mean(int(correct) / max(seen, 1))
        if self.scheduler is not None and self.config.schedule == "step":
            self.scheduler.step()
        return result

    def _blew_up(self, value: float) -> bool:
        if not math.isfinite(value):
            return True
        if self.first_loss is None and value > 0:
            self.first_loss = value
        return self.first_loss is not None and value > EXPLODED_FACTOR * self.first_loss

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Validation loss, plus accuracy (classifiers) or per-pixel MSE (autoencoders)."""
        self.model.eval()
        total, correct, sq_err, n = 0.0, 0, 0.0, len(self.data.y_val)
        for first in range(0, n, EVAL_BATCH):
            x = self.data.x_val[first:first + EVAL_BATCH].float().div_(255.0)
            y = self.data.y_val[first:first + EVAL_BATCH]
            out = self.typed(x)
            total += float(self._loss(out, Batch(x, y))) * len(y)
            if out.logits is not None:
                correct += int((predicted_class(out.logits) == y).sum())
            if out.recon is not None:
                sq_err += float(((out.recon - x) ** 2).mean(dim=(1, 2, 3)).sum())
        return {"val_loss": total / n, **({"val_acc": correct / n} if self.gives_logits
                                          else {"val_mse": sq_err / n})}

    # -- epochs ----------------------------------------------------------------
    def _improved(self, val: dict) -> bool:
        if self.best_metric is None:
            return True
        value = val[self.monitor]
        if self.monitor == "val_acc":
            # Small validation sets tie often (143 digits: 1.0 by epoch 5); on a tie the lower
            # validation loss wins, so best.pt is not stuck at an early, high-learning-rate epoch.
            return value > self.best_metric or (value == self.best_metric
                                                 and val["val_loss"] < self.best_val_loss)
        return value < self.best_metric

    def fit(self) -> RunState:
        """Train until the last epoch, early stopping, a stop request or divergence.

        Returns the final state: done, stopped or diverged.
        """
        while self.epoch < self.config.epochs:
            train = self.train_one_epoch()
            if train["diverged"]:
                return RunState.DIVERGED  # best.pt is left as it was: the last good weights
            if train["stopped"]:
                self._checkpoint("last")  # with partial_epoch: resuming finishes this epoch exactly
                return RunState.STOPPED
            val = self.evaluate()
            if not math.isfinite(val["val_loss"]):
                return RunState.DIVERGED
            self.epoch += 1
            improved = self._improved(val)
            if improved:
                self.best_metric, self.best_epoch, self.bad_epochs = val[self.monitor], self.epoch, 0
                self.best_val_loss = val["val_loss"]
            else:
                self.bad_epochs += 1
            record = {"type": RecordType.EPOCH, "epoch": self.epoch, "step": self.step,
                      **{k: v for k, v in train.items() if not isinstance(v, bool)},  # not the flags
                      **val, "lr": self.optimizer.param_groups[0]["lr"], "best": improved,
                      "threads": torch.get_num_threads()}
            if self.callbacks.on_epoch:
                self.callbacks.on_epoch(record)
            if improved:
                self._checkpoint("best")
            self._checkpoint("last")
            if self.config.patience and self.bad_epochs >= self.config.patience:
                break
        return RunState.DONE

    def _checkpoint(self, which: str) -> None:
        if self.callbacks.on_checkpoint and self.ctx.is_main:
            self.callbacks.on_checkpoint(which, self.state())

    # -- checkpoint state --------------------------------------------------------
    def state(self) -> dict:
        rng = {"torch": torch.get_rng_state(), "shuffle": self.shuffle_gen.get_state(),
               "noise": self.noise_gen.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "config": self.config.to_dict(), "epoch": self.epoch, "step": self.step,
            "best_metric": self.best_metric, "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "bad_epochs": self.bad_epochs, "monitor": self.monitor, "rng": rng,
            "in_shape": list(self.data.in_shape), "classes": list(self.data.classes),
            "loss": self.loss_name, "n_parameters": self.n_parameters,
            "partial_epoch": self.partial_epoch, "first_loss": self.first_loss,
        }

    def load_state(self, state: dict) -> None:
        check_epochs_change(state["config"]["epochs"], self.config)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.step = state["epoch"], state["step"]
        self.best_metric, self.best_epoch = state["best_metric"], state["best_epoch"]
        self.best_val_loss = state.get("best_val_loss", float("inf"))
        self.bad_epochs = state["bad_epochs"]
        self.partial_epoch = state.get("partial_epoch")
        self.first_loss = state.get("first_loss")
        torch.set_rng_state(state["rng"]["torch"].cpu())
        self.shuffle_gen.set_state(state["rng"]["shuffle"].cpu())
        self.noise_gen.set_state(state["rng"]["noise"].cpu())
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), self.device)


def check_epochs_change(planned: int, config: TrainConfig) -> None:
    """A schedule laid out over the planned epochs cannot be resumed for a different number."""
    if planned != config.epochs and config.schedule in ("cosine", "onecycle"):
        raise UserError(f"this run's {config.schedule} learning-rate schedule was planned "
                        f"for {planned} epochs; it cannot be resumed for {config.epochs}")


def _optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


def _scheduler(config: TrainConfig, optimizer, steps_per_epoch: int):
    total = config.epochs * steps_per_epoch
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, config.epochs // 3),
                                               gamma=0.1)
    return None
