/** `npx tsx scripts/widget-size.ts`: the size of /widget.js, raw and gzipped (the budget is 40 KB gzipped). */
import { buildWidget } from '../client-widget/build.ts';

const BUDGET = 40 * 1024;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const { bytes, gzipBytes } = await buildWidget();
console.log(`widget.js: ${kb(bytes)} raw (${bytes} bytes), ${kb(gzipBytes)} gzipped (${gzipBytes} bytes); budget ${kb(BUDGET)} gzipped`);
if (gzipBytes > BUDGET) {
  console.error('widget.js is over its size budget');
  process.exitCode = 1;
}
