/**
 * A preload for a hub under a bench (never for production): reports the
 * process's memory on stderr, one line a second, and once more after a full
 * garbage collection when the process gets SIGUSR2 (the hub must run with
 * --expose-gc for that one; without it the line says `gc: false`).
 *
 *   node --expose-gc --import tsx --import <this file> server/main.ts
 *
 * Each line is `[memory-probe] {"at":…,"gc":…,"rss":…,"heapUsed":…,…}`
 * (bytes); bench/widgets.bench.ts reads them with `memoryLines`.
 */
const PREFIX = '[memory-probe] ';

function report(gc: boolean): void {
  const m = process.memoryUsage();
  process.stderr.write(`${PREFIX}${JSON.stringify({ at: Date.now(), gc, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
}

setInterval(() => report(false), 1000).unref();
process.on('SIGUSR2', () => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    // Twice: the first pass frees what finalizers then release.
    collect();
    collect();
  }
  report(Boolean(collect));
});

export {};
