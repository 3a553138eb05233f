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

import numpy as np

from core.errors import UserError
from core.io.files import open_regular, read_regular
from core.models import Kind

TOLERANCE = 1e-4  # largest difference allowed between a written model's outputs and the run's
MAX_MODEL_BYTES = 1 << 30  # one model file
# What one image may make an ONNX graph compute (every intermediate tensor, summed, as shape
# inference sees them before anything runs; the same limit as for a model the app builds,
# core.models.registry.MAX_ACTIVATIONS_PER_IMAGE), and the values one run call may compute
# (batches are cut to fit).
MAX_ONNX_VALUES_PER_IMAGE = 8_000_000
MAX_ONNX_VALUES_PER_CALL = 1 << 28  # 1 GiB of float32
MAX_ONNX_WEIGHTS = 64_000_000  # core.models.registry.MAX_PARAMETERS


class ModelFormat(StrEnum):
    TORCHSCRIPT = "torchscript"
    ONNX = "onnx"


def methods(kind: Kind) -> tuple[str, ...]:
    """What Scorer (core.models.output.coded) or a classifier calls: Kind.coded_methods."""
    return kind.coded_methods


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
    _check(model, read_model(folder, fmt, files, "cpu", in_shape), wanted, in_shape)
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


def read_model(folder: Path, fmt: ModelFormat, files: dict[str, str], device: str,
               in_shape: tuple[int, int, int] | None = None):
    """The model's methods, called like the torch model's (tensors in, tensors out). Files are
    opened only when regular and at most MAX_MODEL_BYTES; an ONNX graph is checked against
    in_shape and bounded in what it computes before it runs (check_onnx)."""
    if fmt == ModelFormat.TORCHSCRIPT:
        import torch

        (name,) = set(files.values())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated (torch 2.10+)
            with open_regular(folder / name, MAX_MODEL_BYTES) as f:
                try:
                    return torch.jit.load(f, map_location=device).eval()
                except Exception as exc:
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                    raise UserError(f"{name} is not a loadable TorchScript model: {first}") from None
    return OnnxModel(folder, files, in_shape)


class OnnxModel:
    """ONNX files, one per method, behind the torch model's call, encode and decode."""

    def __init__(self, folder: Path, files: dict[str, str], in_shape=None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise UserError("this bundle's model is ONNX: pip install smalldl[onnx] to use it") \
                from None
        options = ort.SessionOptions()
        options.enable_cpu_mem_arena = False  # memory goes back after each call, not kept pooled
        self.sessions, self.per_image, self.input_shape = {}, {}, {}
        for m, f in files.items():
            data = read_regular(folder / f, MAX_MODEL_BYTES, name=f)
            # encode and forward take images of in_shape; decode takes what encode gives
            shape, values = check_onnx(data, f, in_shape if m != "decode" else None)
            self.input_shape[m], self.per_image[m] = shape, values
            try:
                self.sessions[m] = ort.InferenceSession(data, options,
                                                        providers=["CPUExecutionProvider"])
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                raise UserError(f"the bundle's ONNX model {f} cannot be loaded: {first}") from None

    def _run(self, method: str, x):
        import torch

        if method not in self.sessions:
            raise UserError(f"the bundle's ONNX model has no {method}")
        session = self.sessions[method]
        if tuple(x.shape[1:]) != self.input_shape[method]:
            raise UserError(f"the bundle's ONNX {method} takes inputs of shape "
                            f"{list(self.input_shape[method])}, not {list(x.shape[1:])}")
        step = max(1, MAX_ONNX_VALUES_PER_CALL // max(1, self.per_image[method]))
        name, values = session.get_inputs()[0].name, x.detach().cpu().float().numpy()
        parts = [session.run(None, {name: values[i:i + step]}) for i in range(0, len(values), step)]
        outs = [np.concatenate([p[k] for p in parts]) if len(parts) > 1 else parts[0][k]
                for k in range(len(parts[0]))] if parts else []
        tensors = tuple(torch.from_numpy(o).to(x.device) for o in outs)
        return tensors[0] if len(tensors) == 1 else tensors

    def __call__(self, x):
        return self._run("forward", x)

    def encode(self, x):
        return self._run("encode", x)

    def decode(self, code):
        return self._run("decode", code)


def check_onnx(data: bytes, name: str, in_shape=None) -> tuple[tuple[int, ...], int]:
    """(input shape without the batch, values computed per image) of an ONNX graph, read and
    shape-inferred for one image before anything runs. Refused in one line: more than one input,
    an input other than in_shape, control flow or any tensor whose size is not known in advance
    (a graph could size it from the data), more than MAX_ONNX_VALUES_PER_IMAGE values per image
    or MAX_ONNX_WEIGHTS weights."""
    try:
        import onnx
    except ImportError:
        raise UserError("this bundle's model is ONNX: pip install smalldl[onnx] to use it") from None
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:
        raise UserError(f"{name} is not an ONNX model: {str(exc)[:120]}") from None
    graph = model.graph
    weights = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise UserError(f"{name} takes {len(inputs)} inputs; a bundle's model takes one batch")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims[1:])
    if not dims or None in shape:
        raise UserError(f"{name}: its input has no fixed shape apart from the batch")
    if in_shape is not None and shape != tuple(in_shape):
        raise UserError(f"{name} takes inputs of shape {list(shape)}, but the manifest says "
                        f"{list(in_shape)}")
    n_weights = sum(int(np.prod(t.dims)) for t in graph.initializer)
    if n_weights > MAX_ONNX_WEIGHTS:
        raise UserError(f"{name} holds {n_weights:,} weights; the limit is {MAX_ONNX_WEIGHTS:,}")
    for node in _all_nodes(graph, model):
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            raise UserError(f"{name} has control flow ({node.op_type}); a bundle's model may not")
    dims[0].Clear()
    dims[0].dim_value = 1
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise UserError(f"{name}: the sizes of its tensors cannot be worked out before running "
                        f"it ({' '.join(str(exc).split())[:120]})") from None
    total = 0
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        t = value.type.tensor_type
        sizes = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if not t.HasField("shape") or None in sizes:
            raise UserError(f"{name}: the size of {value.name[:40]} is not known before running it; "
                            "refused")
        total += int(np.prod(sizes, dtype=np.int64))
        if total > MAX_ONNX_VALUES_PER_IMAGE:
            raise UserError(f"{name} would compute more than {MAX_ONNX_VALUES_PER_IMAGE:,} values per "
                            "image; refused before running it")
    return shape, max(total, 1)


def _all_nodes(graph, model):
    yield from graph.node
    for function in model.functions:
        yield from function.node
