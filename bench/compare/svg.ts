/**
 * A small SVG line-chart writer (no dependency): panels in a grid, each
 * with a log-scale y axis and categorical x positions, one line per series,
 * and one legend below for all panels.
 *
 * @module
 */

/** One chart panel. */
export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  /** The x values (categorical), the same for every series. */
  readonly xs: readonly number[];
  readonly yLabel: string;
  /** Values per series, one per x; NaN, 0 or negative leave a gap. */
  readonly values: readonly (readonly number[])[];
  /** Optional dashed reference line. */
  readonly reference?: { readonly value: number; readonly label: string };
}

/** The whole chart. */
export interface Chart {
  readonly title: string;
  readonly series: readonly string[];
  readonly panels: readonly Panel[];
  /** Panels per row (all in one row by default). */
  readonly columns?: number;
}

const COLORS = [
  "#000000",
  "#777777",
  "#1f77b4",
  "#6baed6",
  "#17becf",
  "#2ca02c",
  "#98df8a",
  "#d62728",
  "#ff9896",
  "#9467bd",
  "#c5b0d5",
  "#8c564b",
  "#e377c2",
];
const PANEL_W = 420;
const PANEL_H = 280;
const LEFT = 80;
const GAP = 110;
const TOP = 70;
const ROW_H = PANEL_H + 110;

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const text = (x: number, y: number, s: string, attrs = "") =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

function tickLabel(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return `${v}`;
}

function panelSvg(panel: Panel, x0: number, top: number): string[] {
  const finite = [...panel.values.flat(), panel.reference?.value ?? NaN]
    .filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.floor(Math.log10(finite.length > 0 ? Math.min(...finite) : 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(finite.length > 0 ? Math.max(...finite) : 10)));
  const y = (v: number) => top + PANEL_H - ((Math.log10(v) - lo) / (hi - lo)) * PANEL_H;
  const x = (i: number) => x0 + ((i + 0.5) / panel.xs.length) * PANEL_W;
  const out: string[] = [
    `<rect x="${x0}" y="${top}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`,
    text(x0 + PANEL_W / 2, top - 12, panel.title, 'text-anchor="middle" font-weight="bold"'),
    text(
      x0 - 55,
      top + PANEL_H / 2,
      panel.yLabel,
      `text-anchor="middle" transform="rotate(-90 ${x0 - 55} ${top + PANEL_H / 2})"`,
    ),
    text(x0 + PANEL_W / 2, top + PANEL_H + 38, panel.xLabel, 'text-anchor="middle"'),
  ];
  for (let e = lo; e <= hi; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) > hi + 1e-9) break;
      const yy = y(v).toFixed(1);
      const major = m === 1;
      out.push(
        `<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${yy}" y2="${yy}" stroke="${
          major ? "#ccc" : "#eee"
        }"/>`,
        text(
          x0 - 6,
          y(v) + 4,
          tickLabel(Number(v.toPrecision(3))),
          `text-anchor="end" fill="${major ? "#000" : "#888"}"`,
        ),
      );
    }
  }
  panel.xs.forEach((v, i) =>
    out.push(text(x(i), top + PANEL_H + 18, `${v}`, 'text-anchor="middle"'))
  );
  if (panel.reference) {
    const yy = y(panel.reference.value).toFixed(1);
    out.push(
      `<line x1="${x0}" x2="${
        x0 + PANEL_W
      }" y1="${yy}" y2="${yy}" stroke="#555" stroke-dasharray="6 4"/>`,
      text(
        x0 + PANEL_W - 4,
        Number(yy) - 5,
        panel.reference.label,
        'text-anchor="end" fill="#555"',
      ),
    );
  }
  panel.values.forEach((vals, s) => {
    const color = COLORS[s % COLORS.length];
    const dash = s % 2 === 1 ? ' stroke-dasharray="5 3"' : "";
    let path = "";
    let pen = "M";
    vals.forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0)) return void (pen = "M");
      path += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      pen = "L";
      out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`);
    });
    if (path) {
      out.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
  });
  return out;
}

/** Renders `chart` as a standalone SVG document. */
export function chartSvg(chart: Chart): string {
  const columns = chart.columns ?? chart.panels.length;
  const rows = Math.ceil(chart.panels.length / columns);
  const width = LEFT + columns * (PANEL_W + GAP) - GAP + 30;
  const legendTop = TOP + (rows - 1) * ROW_H + PANEL_H + 65;
  const perColumn = Math.ceil(chart.series.length / 2);
  const height = legendTop + perColumn * 20 + 20;
  const body = chart.panels.flatMap((p, i) =>
    panelSvg(p, LEFT + (i % columns) * (PANEL_W + GAP), TOP + Math.floor(i / columns) * ROW_H)
  );
  chart.series.forEach((label, s) => {
    const lx = LEFT + Math.floor(s / perColumn) * (PANEL_W + GAP);
    const ly = legendTop + (s % perColumn) * 20;
    const dash = s % 2 === 1 ? ' stroke-dasharray="5 3"' : "";
    body.push(
      `<line x1="${lx}" x2="${lx + 30}" y1="${ly}" y2="${ly}" stroke="${
        COLORS[s % COLORS.length]
      }" stroke-width="2"${dash}/>`,
      text(lx + 38, ly + 4, label),
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(width / 2, 28, chart.title, 'text-anchor="middle" font-size="15" font-weight="bold"'),
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
