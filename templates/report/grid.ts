import type { Cell, CellObject } from "./data.ts";

/**
 * The HTML table model, computed ahead of the browser: where each cell lands in the column grid once
 * the rowspans of the rows above take their slots. rules.ts uses it to refuse tables whose cells do
 * not fit the header; view.ts to give each cell its column's alignment and number format.
 */
export interface PlacedCell {
  /** Index of the cell in its row of the input. */
  index: number;
  /** First grid column the cell covers. */
  column: number;
  colspan: number;
  rowspan: number;
}

export interface GridProblem {
  kind: "colspan" | "rowspan" | "width";
  row: number;
  /** The cell at fault (absent for a row that is too short). */
  cell?: number;
  expected: number;
  actual: number;
}

export interface SectionLayout {
  rows: PlacedCell[][];
  /** For each row, the last row its rowspans reach (≥ the row itself): rows up to it stay together. */
  reach: number[];
  problems: GridProblem[];
}

/** The widest table the schema allows (100 columns of cells, or fewer cells spanning as many). */
export const MAX_COLUMNS = 100;

export function asCellObject(cell: Cell): CellObject {
  return cell !== null && typeof cell === "object" ? cell : { text: cell };
}

function span(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 ? value : 1;
}

/** The width of a row that has nothing spanning into it: the sum of its colspans. */
function rowWidth(row: readonly Cell[]): number {
  return row.reduce<number>((sum, cell) => sum + span(asCellObject(cell).colspan), 0);
}

/**
 * Lay out one section (header or body) on a grid `width` columns wide. Rowspans end with their
 * section, as in HTML's <thead>/<tbody>.
 */
export function layoutSection(rows: readonly (readonly Cell[])[], width: number): SectionLayout {
  // busy[c]: the last row index still covered by a rowspan in column c (-1: free).
  const busy = new Array<number>(width).fill(-1);
  const placed: PlacedCell[][] = [];
  const reach: number[] = [];
  const problems: GridProblem[] = [];
  const open: { row: number; cell: number; until: number; rowspan: number }[] = [];

  rows.forEach((row, r) => {
    const out: PlacedCell[] = [];
    let column = 0;
    let rowReach = r;
    let overran = false;
    row.forEach((raw, index) => {
      const cell = asCellObject(raw);
      while (column < width && (busy[column] ?? -1) >= r) column++;
      const colspan = span(cell.colspan);
      const rowspan = span(cell.rowspan);
      if (!overran && column + colspan > width) {
        overran = true;
        problems.push({ kind: "colspan", row: r, cell: index, expected: width, actual: column + colspan });
      }
      out.push({ index, column, colspan, rowspan });
      for (let c = column; c < Math.min(width, column + colspan); c++) busy[c] = r + rowspan - 1;
      if (rowspan > 1) open.push({ row: r, cell: index, until: r + rowspan - 1, rowspan });
      rowReach = Math.max(rowReach, r + rowspan - 1);
      column += colspan;
    });
    if (!overran) {
      const filled = busy.filter((until) => until >= r).length;
      if (filled < width) problems.push({ kind: "width", row: r, expected: width, actual: filled });
    }
    placed.push(out);
    reach.push(Math.min(rowReach, rows.length - 1));
  });
  for (const o of open) {
    if (o.until >= rows.length) {
      problems.push({ kind: "rowspan", row: o.row, cell: o.cell, expected: rows.length - o.row, actual: o.rowspan });
    }
  }
  return { rows: placed, reach, problems };
}

/** The number of grid columns: the header's first row, else the columns given, else the first row. */
export function tableWidth(table: {
  header?: readonly (readonly Cell[])[];
  columns?: readonly unknown[];
  rows: readonly (readonly Cell[])[];
}): number {
  const first = table.header?.[0];
  if (first) return rowWidth(first);
  if (table.columns?.length) return table.columns.length;
  return table.rows[0] ? rowWidth(table.rows[0]) : 0;
}
