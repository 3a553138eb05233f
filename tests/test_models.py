"""Models, losses and corruption: shapes on every size, losses against hand computations, training."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from core.errors import UserError
from core.models import MODELS, Kind, build_model, count_parameters, model_kind
from core.models.losses import (
    LOSS_NAMES,
    check_loss,
    class_probabilities,
    default_loss,
    make_loss,
    per_image_reconstruction_error,
)
from core.models.output import Batch, coded, typed
from core.models.output import ModelOutput as Out
from core.training.augment import corrupt

SHAPES = [(1, 8, 8), (3, 32, 32), (1, 28, 28), (1, 64, 64), (1, 16, 20)]
N_CLASSES = 5


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return torch.tensor(bunch.images / 16.0, dtype=torch.float32)[:, None], torch.tensor(bunch.target)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_runs_forward_and_backward(name: str, shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    model = build_model(name, shape, N_CLASSES)
    x = torch.rand(2, *shape)
    out = model(x)
    kind = model_kind(name)
    if kind == "classifier":
        assert out.shape == (2, N_CLASSES)
        features = model.features(x)
        assert features.ndim == 2 and features.shape == (2, model.feature_dim)
        loss = F.cross_entropy(out, torch.tensor([0, 1]))
    else:
        recon = out[0] if kind == "vae" else out
        assert recon.shape == x.shape
        assert 0 <= recon.min() and recon.max() <= 1
        code = model.encode(x)
        assert code.shape == (2, model.code_dim)
        assert torch.equal(model.features(x), code)
        assert model.decode(code).shape == x.shape
        loss = F.mse_loss(recon, x)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", [n for n, info in MODELS.items() if info.kind == "classifier"])
def test_classifier_features_are_the_penultimate_layer(name: str) -> None:
    model = build_model(name, (1, 16, 16), 3).eval()
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model.output(model.features(x)), model(x))
    assert build_model(name, (1, 16, 16), 2, binary_head=True)(x).shape == (4, 1)


def test_registry_entries_are_complete_and_params_survive_json() -> None:
    assert {"mlp", "cnn", "default_cnn", "lenet", "clocks_cnn", "mlp_ae", "conv_ae", "vae"} <= set(MODELS)
    for prefix in ("NN", "CNN"):
        assert {f"{prefix}_1", f"{prefix}_2", f"{prefix}_dense", f"{prefix}_dense_batchnorm"} <= set(MODELS)
    for name, info in MODELS.items():
        assert info.name == name and info.kind in ("classifier", "autoencoder", "vae")
        assert info.title and info.description and "\n" not in info.description
        params = json.loads(json.dumps(info.default_params))  # tuples come back as lists
        rebuilt = build_model(name, (1, 28, 28), 10, params)
        assert count_parameters(rebuilt) == count_parameters(build_model(name, (1, 28, 28), 10))
    assert MODELS["NN_dense_batchnorm"].default_params["batchnorm"] is True
    assert MODELS["lenet"].default_params["kernel"] == 5
    assert MODELS["conv_ae"].default_params["code_dim"] == 128


def test_count_parameters_on_a_model_counted_by_hand() -> None:
    # Linear(4 -> 5): 4*5 + 5 = 25; Linear(5 -> 3): 5*3 + 3 = 18.
    model = build_model("mlp", (1, 2, 2), 3, {"hidden": [5]})
    assert count_parameters(model) == 43
    model.output[-1].bias.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 40 and count_parameters(model) == 43
    assert count_parameters(build_model("default_cnn", (1, 8, 8), 10)) < 300_000


def test_vae_samples_repeatably_and_is_deterministic_in_eval() -> None:
    vae = build_model("vae", (1, 16, 20), 0)
    x = torch.rand(3, 1, 16, 20)
    a = vae.sample(4, generator=torch.Generator().manual_seed(1))
    b = vae.sample(4, generator=torch.Generator().manual_seed(1))
    assert a.shape == (4, 1, 16, 20) and torch.equal(a, b)
    vae.eval()
    recon, mu, logvar = vae(x)
    assert torch.equal(recon, vae.decode(mu)) and logvar.shape == mu.shape == (3, vae.code_dim)
    vae.train()
    assert not torch.equal(vae(x)[0], recon)


@pytest.mark.parametrize("name", [n for n in MODELS if model_kind(n).has_decoder])
def test_coded_gives_the_reconstruction_and_the_code_of_every_decoder_model(name: str) -> None:
    """What anomaly scoring reads, with no branch on the kind: forward's reconstruction and the
    code encode gives (a VAE: its mean, and forward's logvar)."""
    torch.manual_seed(0)
    model = build_model(name, (1, 8, 8), N_CLASSES).eval()
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        out, plain = coded(model, x, model_kind(name)), typed(model(x), model_kind(name))
        torch.testing.assert_close(out.recon, plain.recon)
        torch.testing.assert_close(out.code, model.encode(x))
    assert (out.logvar is not None) == (plain.logvar is not None)


def test_classification_losses_match_functional() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    targets = torch.tensor([0, 2])
    assert torch.allclose(make_loss("cross_entropy")(Out(logits=logits), Batch(None, targets)),
                          F.cross_entropy(logits, targets))
    smoothed = make_loss("cross_entropy", label_smoothing=0.1)(Out(logits=logits), Batch(None, targets))
    assert torch.allclose(smoothed, F.cross_entropy(logits, targets, label_smoothing=0.1))
    head = torch.tensor([[1.5], [-0.5]])
    p = torch.sigmoid(head[:, 0])
    expected = -(torch.log(1 - p[0]) + torch.log(p[1])) / 2  # targets 0 then 1
    assert torch.allclose(make_loss("bce")(Out(logits=head), Batch(None, torch.tensor([0, 1]))), expected)


def test_reconstruction_losses_match_hand_computation() -> None:
    recon = torch.tensor([[[[0.2, 0.9], [0.4, 0.0]]]])
    x = torch.tensor([[[[0.0, 1.0], [0.5, 0.5]]]])
    diff = torch.tensor([0.2, -0.1, -0.1, -0.5])
    mse, l1 = (diff**2).mean(), diff.abs().mean()
    assert torch.allclose(make_loss("mse")(Out(recon=recon), Batch(x, None)), mse)
    assert torch.allclose(make_loss("l1")(Out(recon=recon), Batch(x, None)), l1)
    assert torch.allclose(make_loss("mse_l1")(Out(recon=recon), Batch(x, None)), 0.8 * mse + 0.2 * l1)
    assert torch.allclose(make_loss("mse_l1", mse_weight=0.5, l1_weight=0.5)(Out(recon=recon), Batch(x, None)),
                          0.5 * mse + 0.5 * l1)


def test_elbo_matches_hand_computation() -> None:
    torch.manual_seed(0)
    recon, x = torch.rand(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    mu, logvar = torch.randn(3, 2), torch.randn(3, 2)
    kl = torch.stack([
        sum(0.5 * (m**2 + torch.exp(lv) - 1 - lv) for m, lv in zip(mu[i], logvar[i])) for i in range(3)
    ])
    sse = ((recon - x) ** 2).sum(dim=(1, 2, 3))
    sse_loss = make_loss("elbo", reconstruction="sse")
    assert torch.allclose(sse_loss(Out(recon=recon, mu=mu, logvar=logvar), Batch(x, None)), (sse + kl).mean())
    assert torch.allclose(make_loss("elbo", beta=0.25, reconstruction="sse")(
        Out(recon=recon, mu=mu, logvar=logvar), Batch(x, None)),
                          (sse + 0.25 * kl).mean())
    bce = F.binary_cross_entropy(recon, x, reduction="sum") / 3
    assert torch.allclose(make_loss("elbo")(Out(recon=recon, mu=mu, logvar=logvar), Batch(x, None)),
                          bce + kl.mean())  # the default


def test_per_image_error_and_class_probabilities() -> None:
    torch.manual_seed(0)
    recon, x = torch.rand(4, 3, 5, 6), torch.rand(4, 3, 5, 6)
    rows = [(recon[i] - x[i]).flatten() for i in range(4)]
    mse = torch.stack([(r**2).mean() for r in rows])
    l1 = torch.stack([r.abs().mean() for r in rows])
    assert torch.allclose(per_image_reconstruction_error(recon, x), mse)
    assert torch.allclose(per_image_reconstruction_error(recon, x, "l1"), l1)
    assert torch.allclose(per_image_reconstruction_error(recon, x, "mse_l1"), 0.8 * mse + 0.2 * l1)

    probs = class_probabilities(torch.randn(6, 4))
    assert probs.shape == (6, 4) and torch.allclose(probs.sum(1), torch.ones(6))
    head = torch.randn(6, 1)
    binary = class_probabilities(head)
    assert torch.allclose(binary.sum(1), torch.ones(6))
    assert torch.allclose(binary[:, 1], torch.sigmoid(head[:, 0]))


def test_loss_checks_and_defaults() -> None:
    assert default_loss("classifier", 10) == "cross_entropy"
    assert default_loss("autoencoder", 0) == "mse" and default_loss("vae", 0) == "elbo"
    for name in LOSS_NAMES:
        make_loss(name)
    check_loss("mse_l1", "autoencoder")
    with pytest.raises(UserError, match="huber"):
        make_loss("huber")
    with pytest.raises(UserError, match="huber"):
        check_loss("huber", "classifier")
    with pytest.raises(UserError, match="mse.*classifier"):
        check_loss("mse", "classifier")
    with pytest.raises(UserError, match="gamma"):
        make_loss("cross_entropy", gamma=2.0)
    with pytest.raises(UserError, match="binary head"):
        make_loss("bce")(Out(logits=torch.randn(2, 3)), Batch(None, torch.tensor([0, 1])))


def test_corrupt_noise_levels_and_repeatability() -> None:
    x = torch.full((64, 1, 32, 32), 0.5)
    noisy = corrupt(x, "gaussian", 0.1, torch.Generator().manual_seed(0))
    assert abs((noisy - x).std().item() - 0.1) < 0.005 and abs((noisy - x).mean().item()) < 0.005
    assert torch.equal(noisy, corrupt(x, "gaussian", 0.1, torch.Generator().manual_seed(0)))
    assert torch.equal(x, torch.full_like(x, 0.5))  # the input is untouched
    clamped = corrupt(torch.rand(8, 1, 8, 8), "gaussian", 2.0)
    assert clamped.min() >= 0 and clamped.max() <= 1

    rgb = torch.full((64, 3, 32, 32), 0.5)
    masked = corrupt(rgb, "mask", 0.3, torch.Generator().manual_seed(0))
    zeroed = masked == 0
    assert abs(zeroed.float().mean().item() - 0.3) < 0.01
    assert torch.equal(zeroed.all(1), zeroed.any(1))  # a pixel loses all its channels or none
    assert torch.equal(masked[~zeroed], rgb[~zeroed])
    assert torch.equal(masked, corrupt(rgb, "mask", 0.3, torch.Generator().manual_seed(0)))
    assert not torch.equal(masked, corrupt(rgb, "mask", 0.3, torch.Generator().manual_seed(1)))
    with pytest.raises(UserError, match="salt"):
        corrupt(x, "salt", 0.1)
    with pytest.raises(UserError, match="probability"):
        corrupt(x, "mask", 1.5)


def test_bad_model_names_and_params_raise_user_error() -> None:
    with pytest.raises(UserError, match="resnet50.*default_cnn"):
        build_model("resnet50", (1, 8, 8), 10)
    with pytest.raises(UserError, match="did you mean 'lenet'"):
        build_model("LeNet", (1, 8, 8), 10)
    with pytest.raises(UserError, match="resnet50"):
        model_kind("resnet50")
    with pytest.raises(UserError, match="'width'.*hidden"):
        build_model("mlp", (1, 8, 8), 10, {"width": 3})
    bad_values = [("mlp", {"hidden": "abc"}), ("cnn", {"dropout": 1.5}), ("cnn", {"pool": "median"}),
                  ("conv_ae", {"channels": []}), ("vae", {"code_dim": 0})]
    for name, params in bad_values:
        with pytest.raises(UserError, match=name):
            build_model(name, (1, 8, 8), 10, params)
    with pytest.raises(UserError, match="in_shape"):
        build_model("cnn", (8, 8), 10)
    with pytest.raises(UserError, match="exactly 2 classes"):
        build_model("default_cnn", (1, 8, 8), 3, binary_head=True)


def test_default_cnn_learns_digits_in_40_steps() -> None:
    torch.manual_seed(0)
    images, labels = digits()
    model = build_model("default_cnn", (1, 8, 8), 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    correct = []
    for _ in range(40):
        batch = torch.randint(0, len(labels), (64,), generator=generator)
        logits = model(images[batch])
        loss = F.cross_entropy(logits, labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        correct.append((logits.argmax(1) == labels[batch]).float().mean().item())
    assert sum(correct[-5:]) / 5 > 0.9


def test_conv_autoencoder_halves_its_error_in_60_steps() -> None:
    torch.manual_seed(0)
    images = digits()[0]
    model = build_model("conv_ae", (1, 8, 8), 0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    mse = make_loss("mse")
    loss_fn = lambda out, x: mse(typed(out, Kind.AUTOENCODER), Batch(x, None))
    with torch.no_grad():
        start = loss_fn(model(images), images).item()
    for step in range(60):
        batch = images[(step * 64) % 1728:][:64]
        loss = loss_fn(model(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        assert loss_fn(model(images), images).item() < start / 2
