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


def confusion_figure(matrix: np.ndarray, classes, normalized: bool,
                     selected: tuple[int, int] | None = None) -> go.Figure:
    """Heatmap with rows = true class, columns = predicted; the chosen cell outlined."""
    labels = [str(c) for c in classes]
    text = [[f"{v:.2f}" if normalized else f"{int(v)}" for v in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=text,
                               texttemplate="%{text}" if len(labels) <= 20 else None,
                               hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    if selected is not None:
        t, p = selected
        fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5,
                      line=dict(color="#E4572E", width=3))
    fig.update_layout(xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      xaxis_type="category", yaxis_type="category", height=min(700, 140 + 28 * len(labels)),
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def curves_figure(curves: dict[str, tuple], x_title: str, y_title: str, diagonal: bool,
                  extra: dict[str, tuple] | None = None, point: tuple[float, float] | None = None) -> go.Figure:
    """Lines named 'name (AUC 0.97)'; optional dashed averages, chance diagonal, operating point."""
    fig = go.Figure()
    for name, (x, y, area) in curves.items():
        fig.add_scatter(x=x, y=y, mode="lines", name=f"{name} ({area:.3f})")
    for name, (x, y, area) in (extra or {}).items():
        fig.add_scatter(x=x, y=y, mode="lines", name=f"{name} ({area:.3f})",
                        line=dict(dash="dash", width=3))
    if diagonal:
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                        line=dict(color="gray", dash="dot"), showlegend=False)
    if point is not None:
        fig.add_scatter(x=[point[0]], y=[point[1]], mode="markers", name="current threshold",
                        marker=dict(size=12, color="#E4572E", symbol="x"))
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, height=420,
                      xaxis_range=[-0.01, 1.01], yaxis_range=[-0.01, 1.02],
                      margin=dict(l=10, r=10, t=10, b=10), legend_title="AUC")
    return fig
