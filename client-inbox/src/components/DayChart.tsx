/**
 * A chart of figures per day (Chart.js, only the parts used: bars, lines,
 * two scales, tooltips, the legend), with its text alternatives: the canvas
 * is an image whose label summarises the series, and the same figures are a
 * data table, visually hidden until "Show as a table" (screen readers read it
 * either way). Series differ by more than colour (bars, solid and dashed lines).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
} from 'chart.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { chartSummary, type DaySeries } from '../reports.ts';

export type { DaySeries };

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

export function DayChart(props: { id: string; title: string; unit: string; days: string[]; labels: string[]; series: DaySeries[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const [tableShown, setTableShown] = useState(false);

  useEffect(() => {
    if (!canvas.current) return;
    const created = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        // Live figures redraw often: no motion (and none for those who asked for less).
        animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { ticks: { color: '#4a5a6a' }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: '#4a5a6a', precision: 0 }, title: { display: true, text: props.unit, color: '#4a5a6a' } },
        },
        plugins: { legend: { labels: { color: '#1b2733', usePointStyle: true } } },
      },
    });
    chart.current = created;
    return () => {
      created.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = props.labels;
    c.data.datasets = props.series.map(
      (s): ChartDataset<'bar' | 'line', (number | null)[]> =>
        s.kind === 'bar'
          ? { type: 'bar', label: s.label, data: s.values, backgroundColor: s.color, borderColor: s.color, borderWidth: 1, maxBarThickness: 56 }
          : {
              type: 'line', label: s.label, data: s.values, borderColor: s.color, backgroundColor: s.color, borderWidth: 2,
              borderDash: s.dashed ? [6, 4] : [], pointStyle: s.dashed ? 'rectRot' : 'circle', pointRadius: 4, spanGaps: false,
            },
    ) as typeof c.data.datasets;
    c.update();
  }, [props.labels, props.series]);

  const summary = chartSummary(props.title, props.labels, props.series);
  const tableId = `${props.id}-table`;
  return (
    <figure class="chart" aria-labelledby={`${props.id}-title`}>
      <figcaption class="chart-head">
        <h3 id={`${props.id}-title`}>{props.title}</h3>
        <button type="button" class="link" aria-expanded={tableShown} aria-controls={tableId} onClick={() => setTableShown((v) => !v)}>
          {tableShown ? 'Hide the table' : 'Show as a table'}
        </button>
      </figcaption>
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={summary} data-testid={`${props.id}-canvas`}>
          {summary}
        </canvas>
      </div>
      {/* Hidden in a clipped box: a table ignores the 1px width of .sr-only and would widen the page. */}
      <div id={tableId} class={tableShown ? 'chart-table-box' : 'chart-table-box sr-only'}>
        <table class="chart-table">
          <caption>{props.title}, as a table</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {props.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.days.map((day, i) => (
              <tr key={day}>
                <th scope="row">{props.labels[i]}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.format(s.values[i] ?? null)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
