"""Pure plotly figure builders (data in, Figure out) so tests can check them without a browser."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

SPLIT_COLORS = {"train": "#4C78A8", "val": "#F58518", "test": "#54A24B"}


def class_balance_figure(counts: dict[str, np.ndarray], classes: list[str] | tuple[str, ...]) -> go.Figure:
    """Grouped bars: images per class for each split."""
    fig = go.Figure()
    for split, n in counts.items():
        fig.add_bar(name=split, x=list(classes), y=np.asarray(n).tolist(),
                    marker_color=SPLIT_COLORS.get(split))
    fig.update_layout(barmode="group", xaxis_title="class", yaxis_title="images",
                      xaxis_type="category", legend_title="split",
                      margin=dict(l=10, r=10, t=30, b=10), height=360)
    return fig


def training_curves_figure(records: list[dict], smoothing: float = 0.6, log_y: bool = False,
                           max_points: int = 1500) -> go.Figure:
    """Loss (per logged step, smoothed, and per epoch) and accuracy or MSE per epoch, by step."""
    from plotly.subplots import make_subplots

    from core.curves import downsample, series, smooth_ema

    second = "val_acc" if any("val_acc" in r for r in records) else "val_mse"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy" if second == "val_acc"
                                                        else "validation MSE per pixel"))
    x, y = series(records, "train_loss", "step")
    if len(x):
        xs, raw = downsample(x, y, max_points)
        fig.add_scatter(x=xs, y=raw, name="train (each log)", mode="lines", opacity=0.3,
                        line=dict(color=SPLIT_COLORS["train"]), row=1, col=1)
        xs, smooth = downsample(x, smooth_ema(y, smoothing), max_points)
        fig.add_scatter(x=xs, y=smooth, name="train (smoothed)", mode="lines",
                        line=dict(color=SPLIT_COLORS["train"]), row=1, col=1)
    for key, split in (("train_loss", "train"), ("val_loss", "val")):
        x, y = series(records, key, "epoch")
        if len(x):
            fig.add_scatter(x=x, y=y, name=f"{split} per epoch", mode="lines+markers",
                            line=dict(color=SPLIT_COLORS[split], dash="dot" if split == "train"
                                      else "solid"), row=1, col=1)
    for key, split in (("train_acc", "train"), (second, "val")):
        x, y = series(records, key, "epoch")
        if len(x):
            fig.add_scatter(x=x, y=y, name=f"{split} {second.split('_')[1]}", mode="lines+markers",
                            line=dict(color=SPLIT_COLORS[split]), row=1, col=2, showlegend=False)
    fig.update_xaxes(title_text="step")
    if log_y:
        fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25), uirevision="keep")
    return fig


def compare_runs_figure(curves: dict[str, list[dict]], metric: str, log_y: bool = False) -> go.Figure:
    """One line per run: a per-epoch metric against epoch, for overlaying selected runs."""
    from core.curves import series

    fig = go.Figure()
    for name, records in curves.items():
        x, y = series(records, metric, "epoch", x_key="epoch")
        if len(x):
            fig.add_scatter(x=x, y=y, name=name, mode="lines+markers")
    fig.update_layout(xaxis_title="epoch", yaxis_title=metric, height=380,
                      margin=dict(l=10, r=10, t=30, b=10), yaxis_type="log" if log_y else None)
    return fig
