// A plotly Parcoords drawn in the page (not through st.plotly_chart, which reports no brushing),
// with plotly.js from the installed plotly package: Python sends its source once per session and
// this page runs it from a blob (nothing is fetched from the internet). A brush released on an
// axis (plotly's "plotly_restyle" with dimensions[i].constraintrange) sends every axis's ranges
// back as the "ranges" trigger: {axis name: [lo, hi] or [[lo, hi], ...]}.

const GLOBAL = "__smalldlPlotly";  // {version: Promise of the Plotly object}, kept on window
const plots = new WeakMap();  // parentElement -> {gd, figure, names}

function plotly(version, source) {
  const loads = (window[GLOBAL] = window[GLOBAL] || {});
  if (loads[version]) return loads[version];
  if (!source) return null;
  loads[version] = new Promise((resolve, reject) => {
    const before = window.Plotly;  // whatever else the page holds there stays as it was
    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => {
      const ours = window.Plotly;
      if (before === undefined) delete window.Plotly; else window.Plotly = before;
      URL.revokeObjectURL(url);
      resolve(ours);
    };
    script.onerror = () => { delete loads[version]; reject(new Error("plotly.js did not load")); };
    document.head.appendChild(script);
  });
  return loads[version];
}

function ranges(gd, names) {
  const out = {};
  (gd.data[0].dimensions || []).forEach((d, i) => {
    if (d.constraintrange && names[i] !== undefined) out[names[i]] = d.constraintrange;
  });
  return out;
}

export default function (component) {
  const {data, parentElement, setTriggerValue} = component;
  if (!data) return;
  let plot = plots.get(parentElement);
  if (!plot) {
    plot = {gd: parentElement.querySelector(".pb-plot"), figure: null, names: []};
    plots.set(parentElement, plot);
  }
  plot.names = data.names;
  const loading = plotly(data.plotly, data.source);
  if (!loading) {  // Python believes this page has plotly.js: ask for it again
    if (plot.asked !== data.plotly) { plot.asked = data.plotly; setTriggerValue("missing", data.plotly); }
    return;
  }
  const figure = JSON.stringify(data.figure);
  loading.then((Plotly) => {
    if (figure === plot.figure) return;
    plot.figure = figure;
    const {data: traces, layout} = data.figure;
    return Plotly.react(plot.gd, traces, layout, {displayModeBar: false, responsive: true}).then(() => {
      if (plot.listening) return;
      plot.listening = true;
      plot.gd.on("plotly_restyle", () => setTriggerValue("ranges", ranges(plot.gd, plot.names)));
    });
  }).catch((error) => { plot.gd.textContent = String(error); });
  return () => { plots.delete(parentElement); };
}
