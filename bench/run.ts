/**
 * `npm run bench -- <name> [<name>…]`: runs the named benches in full;
 * `npm run bench` runs every one in its short version (under 5 minutes).
 * `--short` / `--full` force the version; `--results` writes bench/RESULTS.md
 * sections for the benches run (the reading stays as written).
 *
 * Each bench prints its tables with the core count and the store beside them
 * (bench/harness.ts). Standalone benches that predate the harness keep their
 * own scripts (bench:crash, bench:fanout, bench:kpis, bench:patients).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dropDatabases, environmentLine, markdownTable, newDatabaseName, openBenchStore, renderTable, type Bench, type BenchReport } from './harness.ts';
import { BENCHES } from './registry.ts';

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
if (unknown.length || args.includes('--help')) {
  if (unknown.length) console.error(`unknown bench: ${unknown.join(', ')}`);
  console.error(`npm run bench -- [${BENCHES.map((b) => b.name).join('|')}]… [--short|--full] [--results]`);
  for (const b of BENCHES) console.error(`  ${b.name.padEnd(10)} ${b.summary}`);
  process.exit(unknown.length ? 2 : 0);
}
const chosen = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES;
const short = args.includes('--short') || (!args.includes('--full') && names.length === 0);

const opened = await openBenchStore((line) => console.log(`  ${line}`));
const databases: string[] = [];
const reports: { bench: Bench; report: BenchReport; seconds: number }[] = [];
try {
  console.log(`CareThread benches (${short ? 'short' : 'full'}): ${environmentLine(opened.store)}\n`);
  for (const bench of chosen) {
    const started = Date.now();
    console.log(`== ${bench.name}: ${bench.summary}`);
    const report = await bench.run({
      short,
      store: opened.store,
      databaseName: (label) => {
        const name = newDatabaseName(`${bench.name}_${label}`);
        databases.push(name);
        return name;
      },
      log: (line) => console.log(`   ${line}`),
    });
    const seconds = (Date.now() - started) / 1000;
    for (const table of report.tables) console.log(`\n${renderTable(table)}`);
    for (const note of report.notes) console.log(`• ${note}`);
    console.log(`(${bench.name}: ${seconds.toFixed(0)} s)\n`);
    reports.push({ bench, report, seconds });
  }
  if (args.includes('--results')) await writeResults(reports, environmentLine(opened.store), short);
} finally {
  await dropDatabases(opened.store.uri, databases).catch(() => {});
  await opened.close();
}

/** Replaces each bench's generated section of bench/RESULTS.md (between its markers), keeping the rest. */
async function writeResults(done: typeof reports, environment: string, isShort: boolean): Promise<void> {
  const file = join(import.meta.dirname, 'RESULTS.md');
  let text = await readFile(file, 'utf8').catch(() => '# Bench results\n');
  for (const { bench, report, seconds } of done) {
    const begin = `<!-- bench:${bench.name}:begin -->`;
    const end = `<!-- bench:${bench.name}:end -->`;
    const body = [
      begin,
      `_${new Date().toISOString().slice(0, 10)}, \`npm run bench -- ${bench.name}${isShort ? ' --short' : ''}\`, ${environment}, ${seconds.toFixed(0)} s_`,
      '',
      ...report.tables.flatMap((t) => [markdownTable(t), '']),
      ...report.notes.map((n) => `- ${n}`),
      end,
    ].join('\n');
    const at = text.indexOf(begin);
    text = at >= 0 ? text.slice(0, at) + body + text.slice(text.indexOf(end) + end.length) : `${text.trimEnd()}\n\n## ${bench.name}\n\n${body}\n`;
  }
  await writeFile(file, text);
  console.log(`wrote ${file}`);
}
