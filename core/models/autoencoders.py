"""Autoencoders (MLP, conv, VAE) and the input corruption that makes any of them denoising.

All share one interface: `encode(x) -> (B, code_dim)`, `decode(code) -> (B, C, H, W)` in [0, 1],
`features(x) = encode(x)` for the latent pages. Images may be any size; the conv decoders resize
their last map to exactly (H, W).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from core.models.layers import check_in_shape, positive_int, positive_ints


class MLPAutoencoder(nn.Module):
    """Flattened pixels -> hidden ReLU layers -> code, mirrored back (the leaks project, seed 003)."""

    def __init__(
        self, in_shape: tuple[int, int, int], hidden: Sequence[int] = (512, 256), code_dim: int = 128
    ) -> None:
        super().__init__()
        self.in_shape = check_in_shape(in_shape)
        hidden = positive_ints(hidden, "hidden")
        self.code_dim = positive_int(code_dim, "code_dim")
        n_pixels = math.prod(self.in_shape)
        sizes = (n_pixels, *hidden)
        down: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes, sizes[1:]):
            down += [nn.Linear(a, b), nn.ReLU(inplace=True)]
        # The code stays linear: a ReLU code has dead dimensions that flatten the latent plots.
        self.encoder = nn.Sequential(*down, nn.Linear(sizes[-1], self.code_dim))
        up: list[nn.Module] = []
        mirrored = (self.code_dim, *hidden[::-1])
        for a, b in zip(mirrored, mirrored[1:]):
            up += [nn.Linear(a, b), nn.ReLU(inplace=True)]
        self.decoder = nn.Sequential(*up, nn.Linear(mirrored[-1], n_pixels), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code).view(-1, *self.in_shape)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class _ConvBody(nn.Module):
    """Stride-2 conv encoder to a flat vector and the matching transposed-conv decoder."""

    def __init__(self, in_shape: tuple[int, int, int], channels: Sequence[int]) -> None:
        super().__init__()
        self.in_shape = check_in_shape(in_shape)
        channels = positive_ints(channels, "channels", allow_empty=False)
        in_channels, height, width = self.in_shape
        down: list[nn.Module] = []
        for c_in, c_out in zip((in_channels, *channels), channels):
            down += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
            height, width = (height + 1) // 2, (width + 1) // 2
        self.down = nn.Sequential(*down, nn.Flatten())
        self.map_shape = (channels[-1], height, width)
        self.flat_dim = math.prod(self.map_shape)

        up: list[nn.Module] = []
        reversed_channels = (*channels[::-1], in_channels)
        for c_in, c_out in zip(reversed_channels, reversed_channels[1:]):
            up += [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
            up.append(nn.ReLU(inplace=True))
        self.up = nn.Sequential(*up[:-1])  # the last layer gives logits; sigmoid comes after resizing

    def decode_flat(self, flat: torch.Tensor) -> torch.Tensor:
        logits = self.up(flat.view(-1, *self.map_shape))
        if logits.shape[-2:] != self.in_shape[1:]:
            # Each transposed conv doubles, so odd or non-power-of-two sizes overshoot: resize back.
            logits = F.interpolate(logits, size=self.in_shape[1:], mode="bilinear", align_corners=False)
        return torch.sigmoid(logits)


class ConvAutoencoder(nn.Module):
    """Strided convs -> Linear to the code -> Linear back -> transposed convs (cracks, seed 004)."""

    def __init__(
        self, in_shape: tuple[int, int, int], channels: Sequence[int] = (32, 64), code_dim: int = 128
    ) -> None:
        super().__init__()
        self.body = _ConvBody(in_shape, channels)
        self.in_shape = self.body.in_shape
        self.code_dim = positive_int(code_dim, "code_dim")
        self.to_code = nn.Linear(self.body.flat_dim, self.code_dim)
        self.from_code = nn.Sequential(nn.Linear(self.code_dim, self.body.flat_dim), nn.ReLU(inplace=True))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_code(self.body.down(x))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.body.decode_flat(self.from_code(code))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """Conv variational autoencoder (the letters anomaly detector, seed 000).

    `forward` returns (reconstruction, mu, logvar): sampled z while training, z = mu in eval mode,
    so evaluation scores are deterministic. `encode` returns mu.
    """

    def __init__(
        self, in_shape: tuple[int, int, int], channels: Sequence[int] = (32, 64), code_dim: int = 16
    ) -> None:
        super().__init__()
        self.body = _ConvBody(in_shape, channels)
        self.in_shape = self.body.in_shape
        self.code_dim = positive_int(code_dim, "code_dim")
        self.to_mu = nn.Linear(self.body.flat_dim, self.code_dim)
        self.to_logvar = nn.Linear(self.body.flat_dim, self.code_dim)
        self.from_code = nn.Sequential(nn.Linear(self.code_dim, self.body.flat_dim), nn.ReLU(inplace=True))

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = self.body.down(x)
        return self.to_mu(flat), self.to_logvar(flat)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_distribution(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.body.decode_flat(self.from_code(z))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode_distribution(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n draws from the N(0, I) prior: (n, C, H, W) images."""
        device = next(self.parameters()).device
        noise_device = generator.device if generator is not None else device
        z = torch.randn(n, self.code_dim, generator=generator, device=noise_device)
        return self.decode(z.to(device))
