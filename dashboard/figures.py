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
