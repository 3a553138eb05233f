// In box or lasso mode, a click on a point of a st.plotly_chart selects that one point, as it does
// in pan mode: Streamlit sets plotly's clickmode to "event" in those modes and hears no click on a
// scatter, so this hands the clicked point to the chart's own selection handler ("plotly_selected"),
// which sends it to Python like any box selection. No DOM of its own; it finds the chart by its key.

const watched = new WeakSet();  // graph divs already listened to

function plainPoint(pt) {  // what a box selection reports; no axis objects (they hold the graph)
  return {curveNumber: pt.curveNumber, pointNumber: pt.pointNumber, pointIndex: pt.pointIndex,
          x: pt.x, y: pt.y, customdata: pt.customdata, data: pt.data, fullData: pt.fullData};
}

function attach(chartKey) {
  const gd = document.querySelector(`.st-key-${chartKey} .js-plotly-plot`);
  if (!gd || watched.has(gd) || typeof gd.on !== "function") return;
  watched.add(gd);
  gd.on("plotly_click", (event) => {
    const mode = gd._fullLayout && gd._fullLayout.dragmode;
    const points = (event && event.points) || [];
    if ((mode !== "select" && mode !== "lasso") || !points.length) return;
    gd.emit("plotly_selected", {points: [plainPoint(points[0])], selections: []});
  });
}

export default function (component) {
  const chartKey = String((component.data || {}).chart || "").replace(/[^A-Za-z0-9_-]/g, "");
  if (!chartKey) return undefined;
  attach(chartKey);
  const timer = setInterval(() => attach(chartKey), 250);  // the chart may be drawn (or redrawn) later
  return () => clearInterval(timer);
}
