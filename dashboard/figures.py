"""Pure plotly figure builders (data in, Figure out) so tests can check them without a browser."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.text import plot_text

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D",
           "#BAB0AC", "#EECA3B"]
SPLIT_COLORS = {"train": "#4C78A8", "val": "#F58518", "test": "#54A24B"}
# Plotly labels a log axis's in-between ticks with their first digit only ("2, 0.1, 9, 8, 7");
# a number format gives every tick its full value.
LOG_TICKS = dict(tickformat=".2~g")


def class_balance_figure(counts: dict[str, np.ndarray], classes: list[str] | tuple[str, ...]) -> go.Figure:
    """Grouped bars: images per class for each split."""
    fig = go.Figure()
    for split, n in counts.items():
        fig.add_bar(name=split, x=[plot_text(c) for c in classes], y=np.asarray(n).tolist(),
                    marker_color=SPLIT_COLORS.get(split))
    fig.update_layout(barmode="group", xaxis_title="class", yaxis_title="images",
                      xaxis_type="category", legend_title="split",
                      margin=dict(l=10, r=10, t=30, b=10), height=360)
    return fig


def training_curves_figure(records: list[dict], smoothing: float = 0.6, log_y: bool = False,
                           quality_metric: str | None = None, max_points: int = 1500) -> go.Figure:
    """Loss (per logged step, smoothed, and per epoch) and the second validation number per epoch
    (accuracy for a classifier, MSE per pixel for an autoencoder: the run's kind says which)."""
    from plotly.subplots import make_subplots

    from core.runs.curves import downsample, series, smooth_ema

    second = quality_metric or ("val_acc" if any("val_acc" in r for r in records) else "val_mse")
    name = second.split("_", 1)[1]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "loss", "accuracy" if second == "val_acc" else "validation MSE per pixel"))
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
    for key, split in ((f"train_{name}", "train"), (second, "val")):
        x, y = series(records, key, "epoch")
        if len(x):
            fig.add_scatter(x=x, y=y, name=f"{split} {name}", mode="lines+markers",
                            line=dict(color=SPLIT_COLORS[split]), row=1, col=2, showlegend=False)
    fig.update_xaxes(title_text="step")
    if log_y:
        fig.update_yaxes(type="log", row=1, col=1, **LOG_TICKS)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25), uirevision="keep")
    return fig


def compare_runs_figure(curves: dict[str, list[dict]], metric: str, log_y: bool = False) -> go.Figure:
    """One line per run: a per-epoch metric against epoch, for overlaying selected runs."""
    from core.runs.curves import series

    fig = go.Figure()
    for name, records in curves.items():
        x, y = series(records, metric, "epoch", x_key="epoch")
        if len(x):
            fig.add_scatter(x=x, y=y, name=plot_text(name), mode="lines+markers")
    fig.update_layout(xaxis_title="epoch", yaxis_title=metric, height=380,
                      margin=dict(l=10, r=10, t=30, b=10))
    if log_y:
        fig.update_yaxes(type="log", **LOG_TICKS)
    return fig


def confusion_figure(matrix: np.ndarray, classes, normalized: bool,
                     selected: list[tuple[int, int]] = ()) -> go.Figure:
    """Rows = true class, columns = predicted; the chosen cells outlined. A heatmap draws the
    cells, and an invisible square marker on each carries (true, predicted) in customdata: plotly
    heatmaps give Streamlit no selection events, scatter points do, so a click selects a cell."""
    n = len(classes)
    labels = [plot_text(c) for c in classes]
    matrix = np.asarray(matrix, dtype=float)
    text = [[f"{v:.2f}" if normalized else f"{int(v)}" for v in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=matrix, x=list(range(n)), y=list(range(n)), colorscale="Blues",
                               text=text, texttemplate="%{text}" if n <= 20 else None,
                               hoverinfo="skip", showscale=False))
    height = min(700, 140 + 28 * n)
    t, p = (a.tolist() for a in np.divmod(np.arange(n * n), n))
    fig.add_trace(go.Scatter(  # plain lists: a 2-D typed array reaches the browser flattened
        x=p, y=t, mode="markers", customdata=[[i, j] for i, j in zip(t, p)], showlegend=False,
        marker=dict(symbol="square", size=max(6, (height - 120) / n), opacity=0.01,
                    color="#000"),
        selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)),
        text=[f"true {labels[i]}, predicted {labels[j]}: {text[i][j]}" for i, j in zip(t, p)],
        hovertemplate="%{text}<extra>click to see these images</extra>"))
    for i, j in selected:
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line=dict(color="#E4572E", width=3))
    ticks = dict(tickmode="array", tickvals=list(range(n)), ticktext=labels)
    fig.update_layout(xaxis=dict(title="predicted", range=[-0.5, n - 0.5], **ticks),
                      yaxis=dict(title="true", range=[n - 0.5, -0.5], **ticks),
                      height=height, margin=dict(l=10, r=10, t=10, b=10), uirevision="confusion",
                      dragmode=False)  # Streamlit lets a click select only when drag does not
    return fig


def curves_figure(curves: dict[str, tuple], x_title: str, y_title: str, diagonal: bool,
                  extra: dict[str, tuple] | None = None,
                  point: tuple[float, float] | None = None,
                  area_title: str = "AUC") -> go.Figure:
    """Lines named 'name (0.97)' under a legend titled by what the number is (ROC AUC, average
    precision); optional dashed averages, chance diagonal, operating point."""
    fig = go.Figure()
    for name, (x, y, area) in curves.items():
        fig.add_scatter(x=x, y=y, mode="lines", name=f"{plot_text(name)} ({area:.3f})")
    for name, (x, y, area) in (extra or {}).items():
        fig.add_scatter(x=x, y=y, mode="lines", name=f"{plot_text(name)} ({area:.3f})",
                        line=dict(dash="dash", width=3))
    if diagonal:
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                        line=dict(color="gray", dash="dot"), showlegend=False)
    if point is not None:
        fig.add_scatter(x=[point[0]], y=[point[1]], mode="markers", name="current threshold",
                        marker=dict(size=12, color="#E4572E", symbol="x"))
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, height=420,
                      xaxis_range=[-0.01, 1.01], yaxis_range=[-0.01, 1.02],
                      margin=dict(l=10, r=10, t=10, b=10), legend_title=area_title)
    return fig


def latent_scatter_figure(xy: np.ndarray, ids: np.ndarray, colour, colour_title: str,
                          continuous: bool = False, order: list | None = None, hover=None,
                          centres: dict[str, tuple[float, float]] | None = None,
                          axis_title: str = "", height: int = 560) -> go.Figure:
    """A 2-D map of codes: one Scattergl trace per category (or one with a colour scale), every
    point carrying its dataset row in customdata, so a box/lasso selection maps back to images
    whatever trace it lands on. Centres are text-labelled markers without customdata."""
    xy = np.asarray(xy, dtype=np.float32)
    ids = np.asarray(ids)
    colour = np.asarray(colour)
    hover = np.asarray(hover if hover is not None else [f"#{i}" for i in ids], dtype=object)
    marker = dict(size=5, opacity=0.8)
    fig = go.Figure()
    if continuous:
        fig.add_trace(go.Scattergl(
            x=xy[:, 0], y=xy[:, 1], mode="markers", name=colour_title, customdata=ids,
            text=hover, hovertemplate="%{text}<extra></extra>", showlegend=False,
            marker=dict(**marker, color=colour.astype(np.float32), colorscale="Viridis",
                        colorbar=dict(title=dict(text=colour_title, side="right"), thickness=12))))
    else:
        for value in (order if order is not None else sorted(set(colour.tolist()), key=str)):
            mask = colour == value
            if not mask.any():
                continue
            fig.add_trace(go.Scattergl(
                x=xy[mask, 0], y=xy[mask, 1], mode="markers", name=str(value), customdata=ids[mask],
                text=hover[mask], hovertemplate="%{text}<extra></extra>", marker=marker))
    if centres:
        names = list(centres)
        fig.add_trace(go.Scatter(
            x=[centres[n][0] for n in names], y=[centres[n][1] for n in names], mode="markers+text",
            text=names, textposition="top center", name="class centres", showlegend=False,
            textfont=dict(size=15, color="black"),
            marker=dict(symbol="x", size=11, color="black", line=dict(width=1, color="white")),
            unselected=dict(marker=dict(opacity=1), textfont=dict(color="black")),
            hovertemplate="centre of class %{text}: mean map position of its points<extra></extra>"))
    fig.update_layout(dragmode="select", height=height, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=f"{axis_title} 1", yaxis_title=f"{axis_title} 2",
                      legend=dict(title=colour_title, itemsizing="constant"), uirevision="latent")
    return fig


def interpolation_figure(t, proba_a, proba_b, name_a: str, name_b: str,
                         highlight=()) -> go.Figure:
    """A classifier's probability of each of two classes along the line between their centres;
    the most ambiguous steps ringed."""
    t = np.asarray(t, dtype=float)
    fig = go.Figure()
    for name, p, colour in ((name_a, proba_a, "#4C78A8"), (name_b, proba_b, "#E4572E")):
        fig.add_scatter(x=t.tolist(), y=np.asarray(p, dtype=float).tolist(), mode="lines+markers",
                        name=f"P({name})", line=dict(color=colour))
    rows = np.asarray(highlight, dtype=int)
    if len(rows):
        fig.add_scatter(x=t[rows].tolist(), y=np.asarray(proba_a, dtype=float)[rows].tolist(),
                        mode="markers", name="most ambiguous",
                        marker=dict(size=16, symbol="circle-open", color="black", line=dict(width=2)))
    fig.update_layout(xaxis_title=f"position on the line (0 = centre of {name_a}, 1 = centre of "
                                  f"{name_b})", yaxis_title="probability", yaxis_range=[-0.02, 1.02],
                      height=300, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def bic_figure(bic: dict[int, float], chosen: int) -> go.Figure:
    """BIC of the Gaussian mixture per number of components (lower is better), the choice marked."""
    ks = sorted(bic)
    fig = go.Figure(go.Scatter(x=ks, y=[bic[k] for k in ks], mode="lines+markers", name="BIC"))
    fig.add_scatter(x=[chosen], y=[bic[chosen]], mode="markers", name=f"chosen: {chosen}",
                    marker=dict(size=14, color="#E4572E", symbol="star"))
    fig.update_layout(xaxis_title="components", yaxis_title="BIC (lower is better)", height=260,
                      margin=dict(l=10, r=10, t=10, b=10), showlegend=False)
    return fig


def drift_histogram_figure(reference: dict[str, np.ndarray], new_scores, threshold: float | None,
                           score_label: str, bins: int = 40) -> go.Figure:
    """New images' scores next to the reference splits' (each a share of its own images, on
    shared bins), the threshold a dashed line: a batch unlike the tuning data shows at a glance."""
    new = np.asarray(new_scores, dtype=float)
    new = new[np.isfinite(new)]
    groups = {**{k: np.asarray(v, dtype=float) for k, v in reference.items()}, "new images": new}
    every = np.concatenate(list(groups.values()))
    fig = go.Figure()
    if len(every):
        lo, hi = float(every.min()), float(every.max())
        size = (hi - lo) / bins if hi > lo else 1.0
        xbins = dict(start=lo, end=hi + size, size=size)
        colours = ["#4C78A8", "#E4572E", "#54A24B", "#B279A2"]
        for (name, values), colour in zip(groups.items(), colours):
            new_one = name == "new images"
            fig.add_histogram(x=values.tolist(), name=f"{name} ({len(values):,})", xbins=xbins,
                              histnorm="probability", opacity=0.85 if new_one else 0.45,
                              marker=dict(color="rgba(0,0,0,0)" if new_one else colour,
                                          line=dict(color="#222222" if new_one else colour,
                                                    width=2 if new_one else 0)))
    if threshold is not None:
        line = dict(color="black", dash="dash", width=2)
        fig.add_vline(x=float(threshold), line=line)
        fig.add_scatter(x=[None], y=[None], mode="lines", line=line,
                        name=f"threshold {float(threshold):.4g}")
    fig.update_layout(barmode="overlay", xaxis_title=score_label, yaxis_title="share of images",
                      height=320, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


# -- presentation mode: one place for the sizes a class reads from the back of the room ---------
PRESENT_FONT = 18  # px: ticks, legends, cell numbers, hover text
PRESENT_TITLE = 20  # px: axis and subplot titles


def presentable(fig: go.Figure) -> go.Figure:
    """The figure restyled for a projector: every text at least PRESENT_FONT px, the legend as a
    row under the plot (it no longer squeezes the plot's width) and more height for it."""
    fig.update_layout(font=dict(size=PRESENT_FONT), hoverlabel=dict(font=dict(size=PRESENT_FONT)),
                      legend=dict(orientation="h", yanchor="top", y=-0.3, x=0, xanchor="left",
                                  font=dict(size=PRESENT_FONT),
                                  title=dict(font=dict(size=PRESENT_FONT))),
                      title=dict(font=dict(size=PRESENT_TITLE)))
    fig.update_xaxes(tickfont=dict(size=PRESENT_FONT), title=dict(font=dict(size=PRESENT_TITLE)),
                     automargin=True)
    fig.update_yaxes(tickfont=dict(size=PRESENT_FONT), title=dict(font=dict(size=PRESENT_TITLE)),
                     automargin=True)
    fig.update_annotations(font=dict(size=PRESENT_TITLE))  # subplot titles
    fig.update_traces(textfont=dict(size=PRESENT_FONT), selector=dict(type="heatmap"))
    fig.update_traces(textfont=dict(size=PRESENT_FONT), selector=dict(mode="markers+text"))
    legend = [t for t in fig.data if t.showlegend is not False and t.name]
    if fig.layout.height and fig.layout.showlegend is not False and len(legend) > 1:
        fig.update_layout(height=int(fig.layout.height) + 30 * (1 + len(legend) // 4))
    return fig


def smallest_font(fig: go.Figure) -> float:
    """The smallest font size a figure sets anywhere (its layout font, plotly's 12 unless set,
    counts too): what a test of presentation mode checks without a browser."""
    sizes: list[float] = []

    def walk(node, parent: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "size" and "font" in parent and isinstance(value, (int, float)):
                    sizes.append(float(value))
                walk(value, key)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item, parent)

    plotly_json = fig.to_plotly_json()
    walk(plotly_json, "")
    return min(sizes + [float(((plotly_json.get("layout") or {}).get("font") or {}).get("size", 12))])


def film_figure(xy: np.ndarray, labels, classes, n_probe: int, epoch: int,
                ranges: tuple[tuple[float, float], tuple[float, float]]) -> go.Figure:
    """One epoch of the latent film strip: the codes on the final epoch's PCA plane, coloured by
    class, the probe images as larger outlined markers; fixed axis ranges over every epoch, so
    scrubbing moves the points instead of rescaling the map."""
    xy, labels = np.asarray(xy, dtype=float), np.asarray(labels)
    fig = go.Figure()
    probe = np.arange(len(xy)) < n_probe
    for c, name in enumerate(classes):
        for is_probe in (False, True):
            mask = (labels == c) & (probe == is_probe)
            if not mask.any():
                continue
            fig.add_scatter(x=xy[mask, 0].tolist(), y=xy[mask, 1].tolist(), mode="markers",
                            name=plot_text(name), legendgroup=str(c), showlegend=not is_probe,
                            marker=dict(size=12 if is_probe else 6, opacity=1.0 if is_probe else 0.55,
                                        color=PALETTE[c % len(PALETTE)],
                                        line=dict(width=1.5 if is_probe else 0, color="black")),
                            hovertemplate=f"{plot_text(name)}{' (probe)' if is_probe else ''}"
                                          "<extra></extra>")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), title=f"epoch {epoch}",
                      xaxis=dict(range=list(ranges[0]), title="PC 1 (final epoch)"),
                      yaxis=dict(range=list(ranges[1]), title="PC 2"), uirevision="film",
                      legend=dict(itemsizing="constant"))
    return fig
