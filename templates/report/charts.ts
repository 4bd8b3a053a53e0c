import type { ChartBlock } from "./data.ts";

/**
 * Charts drawn on the server as SVG with Apache ECharts' SSR renderer and placed in the document
 * as vector graphics: no script runs in the page. ECharts escapes every text it writes (titles,
 * labels, legend) as XML, so the SVG can be inserted unescaped; it is the only markup that is.
 */

/** The families served to the page (functions/core/fonts.ts). ECharts writes them into a style="…"
 * attribute without escaping, so the names are single-quoted. */
const SANS = `'Noto Sans SC', 'Noto Serif SC', HanaMin`;

/** Print-friendly colours: distinct in colour and still distinct in greyscale. */
const PALETTE = [
  "#2f5d8a",
  "#e07b39",
  "#4f9a6a",
  "#c2484d",
  "#7d6bb0",
  "#8f7358",
  "#d07fb4",
  "#7f7f7f",
  "#b8a93f",
  "#4aa3bf",
];
const INK = "#222";
const MUTED = "#555";
const RULE = "#d9d9d9";

type ECharts = typeof import("echarts");
let echartsModule: Promise<ECharts> | undefined;

/** ECharts is loaded on first use: reports without charts (and the other templates) never pay for it. */
function loadECharts(): Promise<ECharts> {
  echartsModule ??= import("echarts");
  return echartsModule;
}

export interface ChartSize {
  width: number;
  height: number;
}

/** Chart SVGs by block and size: a paginated render builds its view twice and draws each chart once. */
const drawn = new WeakMap<ChartBlock, Map<string, string>>();

/**
 * The chart as an SVG element. `id` names the SVG's internal ids (clip paths): unique within the
 * document, and the same from one render to the next (ECharts numbers them per process).
 */
export async function chartSvg(chart: ChartBlock, size: ChartSize, lang: string, id = "chart"): Promise<string> {
  const key = `${size.width}x${size.height}:${lang}:${id}`;
  const cached = drawn.get(chart)?.get(key);
  if (cached) return cached;
  const echarts = await loadECharts();
  const instance = echarts.init(null, null, { renderer: "svg", ssr: true, width: size.width, height: size.height });
  let svg: string;
  try {
    instance.setOption(chartOption(chart, size, lang));
    svg = tidy(instance.renderToSVGString(), id);
  } finally {
    instance.dispose();
  }
  const byKey = drawn.get(chart) ?? new Map<string, string>();
  byKey.set(key, svg);
  drawn.set(chart, byKey);
  return svg;
}

/**
 * Drop what only matters on screen: hover styles (a <style> whose class names would be shared by
 * every chart of the document), their class attributes and ECharts' event metadata; give the ids a
 * stable name. User text cannot match these patterns: in ECharts' output it never contains a raw
 * `<`, `>` or `"`.
 */
function tidy(svg: string, id: string): string {
  return (
    svg
      .replace(/<style\s*>[\s\S]*?<\/style>/g, "")
      // Inside tags only (text never contains "<" or ">"): zr7-c0 → chart3-c0.
      .replace(/<[^<>]+>/g, (tag) => tag.replace(/\bzr\d+-(?!cls-)/g, `${id}-`))
      .replace(/ class="zr\d+-cls-\d+"/g, "")
      .replace(/ (?:ecmeta_[a-z_]+|pointer-events)="[^"]*"/g, "")
      .replace(/\n+/g, "\n")
  );
}

function numberFormat(lang: string): (v: number) => string {
  const f = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  return (v) => f.format(v);
}

/** Rough width of a label in px at `fontSize` (CJK ≈ 1 em, Latin ≈ 0.55 em): enough to choose a layout. */
function textWidth(text: string, fontSize: number): number {
  let w = 0;
  for (const ch of text) w += /[\u2e80-\uffff]/u.test(ch) || (ch.codePointAt(0) ?? 0) > 0xffff ? 1 : 0.58;
  return w * fontSize;
}

function chartOption(chart: ChartBlock, size: ChartSize, lang: string): Record<string, unknown> {
  const fmt = numberFormat(lang);
  const title = chart.title?.trim() ?? "";
  const base = {
    animation: false,
    aria: { enabled: false },
    color: PALETTE,
    backgroundColor: "transparent",
    textStyle: { fontFamily: SANS, fontWeight: 500, color: INK },
    title: title
      ? {
          text: title,
          left: "center",
          top: 4,
          textStyle: {
            fontFamily: SANS,
            fontWeight: 500,
            fontSize: 14,
            color: INK,
            width: size.width - 24,
            overflow: "break",
          },
        }
      : { show: false },
  };
  const top = title ? 34 : 8;
  const categories = chart.categories.map((c) => String(c));

  if (chart.kind === "pie") {
    const series = chart.series[0];
    const data = categories.map((name, i) => ({ name, value: series?.data[i] ?? 0 }));
    const legendWidth = Math.min(size.width * 0.36, Math.max(...categories.map((c) => textWidth(c, 11))) + 34);
    const plotWidth = size.width - legendWidth - size.width * 0.06 - 16;
    const plotHeight = size.height - top - 8;
    const radius = Math.max(40, Math.min(plotWidth * 0.28, plotHeight * 0.36));
    const center = [8 + plotWidth / 2, top + plotHeight / 2] as const;
    const total = data.reduce((sum, d) => sum + (typeof d.value === "number" ? d.value : 0), 0);
    return {
      ...base,
      // The series' name and its total in the hole of the ring.
      graphic: [
        {
          type: "text",
          x: center[0],
          y: center[1],
          silent: true,
          style: {
            text: [series?.name.trim(), fmt(total)].filter(Boolean).join("\n"),
            align: "center",
            verticalAlign: "middle",
            fontFamily: SANS,
            fontWeight: 500,
            fontSize: 12,
            lineHeight: 17,
            fill: MUTED,
            width: radius * 0.95,
            overflow: "truncate",
          },
        },
      ],
      legend: {
        orient: "vertical",
        right: Math.round(size.width * 0.06),
        top: "middle",
        icon: "circle",
        itemWidth: 9,
        itemHeight: 9,
        itemGap: 9,
        textStyle: { fontFamily: SANS, fontWeight: 500, fontSize: 11, color: MUTED },
        formatter: (name: string) => name,
      },
      series: [
        {
          type: "pie",
          name: series?.name ?? "",
          center: [...center],
          radius: [radius * 0.52, radius],
          avoidLabelOverlap: true,
          startAngle: 90,
          itemStyle: { borderColor: "#fff", borderWidth: 1.5 },
          label: {
            show: true,
            fontFamily: SANS,
            fontWeight: 500,
            fontSize: 11,
            color: INK,
            formatter: (p: { name: string; value: number; percent: number }) =>
              `${p.name}\n${fmt(p.value)} · ${fmt(p.percent)}%`,
            lineHeight: 15,
          },
          labelLine: { length: 10, length2: 10, lineStyle: { color: "#999" } },
          data,
        },
      ],
    };
  }

  // bar and line: a value axis, a category axis, a legend when there is more than one series.
  const many = chart.series.length > 1;
  const points = categories.length * chart.series.length;
  const showLabels = chart.kind === "bar" ? points <= 24 && !chart.stacked : points <= 16;
  const plotWidth = size.width - 80;
  const slot = plotWidth / categories.length;
  const longest = Math.max(...categories.map((c) => textWidth(c, 11)));
  const rotate = longest > slot - 6 ? (longest * 0.7 > slot * 2 ? 90 : 35) : 0;
  const legendHeight = many ? 26 : 0;
  const stack = chart.stacked ? "total" : undefined;
  return {
    ...base,
    legend: many
      ? {
          top: top - 4,
          left: "center",
          itemWidth: 14,
          itemHeight: 9,
          itemGap: 16,
          textStyle: { fontFamily: SANS, fontWeight: 500, fontSize: 11, color: MUTED },
        }
      : { show: false },
    grid: {
      left: 12,
      right: 18,
      top: top + legendHeight + (chart.unit ? 22 : 12),
      bottom: 10,
      containLabel: true,
    },
    xAxis: {
      type: "category",
      data: categories,
      boundaryGap: chart.kind === "bar",
      axisTick: { show: chart.kind === "bar", alignWithLabel: true, lineStyle: { color: "#888" } },
      axisLine: { lineStyle: { color: "#888" } },
      axisLabel: {
        interval: 0,
        rotate,
        fontFamily: SANS,
        fontWeight: 500,
        fontSize: 11,
        color: MUTED,
        hideOverlap: true,
        width: rotate ? Math.max(60, size.height * 0.3) : Math.max(24, slot - 4),
        overflow: rotate ? "truncate" : "break",
      },
    },
    yAxis: {
      type: "value",
      name: chart.unit ?? "",
      nameLocation: "end",
      nameGap: 10,
      nameTextStyle: { fontFamily: SANS, fontWeight: 500, fontSize: 11, color: MUTED, align: "left" },
      axisLine: { show: false },
      axisTick: { show: false },
      splitLine: { lineStyle: { color: RULE, type: [3, 3] } },
      axisLabel: { fontFamily: SANS, fontWeight: 500, fontSize: 11, color: MUTED, formatter: fmt },
    },
    series: chart.series.map((s) => ({
      type: chart.kind,
      name: s.name,
      data: s.data,
      stack,
      connectNulls: false,
      ...(chart.kind === "bar"
        ? {
            barMaxWidth: 36,
            barGap: "12%",
            itemStyle: chart.stacked ? { borderColor: "#fff", borderWidth: 0.5 } : {},
          }
        : {
            symbol: "circle",
            symbolSize: 6,
            lineStyle: { width: 2 },
            areaStyle: chart.stacked ? { opacity: 0.25 } : undefined,
          }),
      label: {
        show: showLabels,
        position: "top",
        distance: 4,
        fontFamily: SANS,
        fontWeight: 500,
        fontSize: 10,
        color: INK,
        formatter: (p: { value: number | null }) => (typeof p.value === "number" ? fmt(p.value) : ""),
      },
    })),
  };
}
