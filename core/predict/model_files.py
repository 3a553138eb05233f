"""A bundle's model on disk, in one of two formats, holding the methods predict calls: an
autoencoder's encode and decode, else forward (a VAE's (reconstruction, mu, logvar), a
classifier's logits).

    torchscript   model.pt, one TorchScript module traced with those methods (torch.jit.load)
    onnx          one <method>.onnx per method, weights inline, run with onnxruntime
                  (optional: pip install smalldl[onnx])

Writing reads the files back with the same reader predict uses and compares them with the run's
model on another batch size; neither reader unpickles anything."""
from __future__ import annotations

import io
import warnings
from enum import StrEnum
from pathlib import Path

from core.errors import UserError
from core.models import Kind

TOLERANCE = 1e-4  # largest difference allowed between a written model's outputs and the run's


class ModelFormat(StrEnum):
    TORCHSCRIPT = "torchscript"
    ONNX = "onnx"


def methods(kind: Kind) -> tuple[str, ...]:
    """What Scorer (autoencoders: encode, decode; VAE: forward) or a classifier calls."""
    return ("encode", "decode") if kind.has_decoder and not kind.has_elbo else ("forward",)


def _inputs(model, method: str, x):
    return model.encode(x) if method == "decode" else x


def write_model(model, kind: Kind, in_shape, folder: Path, fmt: ModelFormat) -> dict[str, str]:
    """Write the model's methods into folder; {method: file name}. Checked before returning."""
    import torch

    x = torch.rand(2, *in_shape, generator=torch.Generator().manual_seed(0))
    wanted = methods(kind)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings on shape checks; jit's deprecation
        if fmt == ModelFormat.TORCHSCRIPT:
            traced = torch.jit.trace_module(model, {m: _inputs(model, m, x) for m in wanted},
                                            check_trace=False)  # checked below, on the file
            buffer = io.BytesIO()  # written by Python: a full disk is an OSError, not a C++ abort
            torch.jit.save(traced, buffer)
            (folder / "model.pt").write_bytes(buffer.getbuffer())
            files = {m: "model.pt" for m in wanted}
        else:
            files = {m: f"{m}.onnx" for m in wanted}
            for m in wanted:
                _export_onnx(model, m, _inputs(model, m, x), folder / files[m])
    _check(model, read_model(folder, fmt, files, "cpu"), wanted, in_shape)
    return files


def _export_onnx(model, method: str, example, path: Path) -> None:
    import torch

    try:
        import onnxscript  # noqa: F401  (torch's ONNX exporter needs it)
    except ImportError:
        raise UserError("ONNX export needs the onnx extra: pip install smalldl[onnx]") from None

    class Method(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, value):
            return getattr(self.model, method)(value)

    torch.onnx.export(Method(), (example,), str(path), dynamo=True, external_data=False,
                      dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)


def _check(model, written, wanted: tuple[str, ...], in_shape) -> None:
    import torch

    x = torch.rand(3, *in_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for m in wanted:
            value = _inputs(model, m, x)
            eager = model(value) if m == "forward" else getattr(model, m)(value)
            mine = written(value) if m == "forward" else getattr(written, m)(value)
            eager = eager if isinstance(eager, tuple) else (eager,)
            mine = mine if isinstance(mine, tuple) else (mine,)
            worst = max(float((a - b).abs().max()) for a, b in zip(eager, mine))
            if worst > TOLERANCE:
                raise UserError(f"the written model's {m} differs from the run's by {worst:.2g}; "
                                "this model cannot be exported in this format")


def read_model(folder: Path, fmt: ModelFormat, files: dict[str, str], device: str):
    """The model's methods, called like the torch model's (tensors in, tensors out)."""
    if fmt == ModelFormat.TORCHSCRIPT:
        import torch

        (name,) = set(files.values())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated (torch 2.10+)
            try:
                return torch.jit.load(str(folder / name), map_location=device).eval()
            except Exception as exc:
                raise UserError(f"{name} is not a loadable TorchScript model: {exc}") from None
    return OnnxModel(folder, files)


class OnnxModel:
    """ONNX files, one per method, behind the torch model's call, encode and decode."""

    def __init__(self, folder: Path, files: dict[str, str]):
        try:
            import onnxruntime as ort
        except ImportError:
            raise UserError("this bundle's model is ONNX: pip install smalldl[onnx] to use it") \
                from None
        try:
            self.sessions = {m: ort.InferenceSession(str(folder / f),
                                                     providers=["CPUExecutionProvider"])
                             for m, f in files.items()}
        except Exception as exc:
            raise UserError(f"the bundle's ONNX model cannot be loaded: {exc}") from None

    def _run(self, method: str, x):
        import torch

        if method not in self.sessions:
            raise UserError(f"the bundle's ONNX model has no {method}")
        session = self.sessions[method]
        out = session.run(None, {session.get_inputs()[0].name: x.detach().cpu().float().numpy()})
        tensors = tuple(torch.from_numpy(o).to(x.device) for o in out)
        return tensors[0] if len(tensors) == 1 else tensors

    def __call__(self, x):
        return self._run("forward", x)

    def encode(self, x):
        return self._run("encode", x)

    def decode(self, code):
        return self._run("decode", code)
