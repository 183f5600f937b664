/**
 * Reads a V8 .cpuprofile (`node --cpu-prof`) into self time per function and
 * per "package": our code (server/…, channels/…, by file), each node_modules
 * package (the innermost node_modules/<pkg>), Node's internals (node:…), V8
 * builtins and natives without a script, and V8's own buckets ((idle),
 * (garbage collector), (program)).
 *
 * Self time of a sample is the interval to the next sample (`timeDeltas[i+1]`),
 * as DevTools counts it.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface CostLine {
  name: string;
  /** Microseconds of self time. */
  selfUs: number;
  /** Share of the profile's total time (0–1). */
  share: number;
}

export interface ProfileSummary {
  totalUs: number;
  /** Total minus (idle): time the thread was doing something. */
  busyUs: number;
  functions: CostLine[];
  packages: CostLine[];
  /** our code, node_modules, node internals, V8 builtins/native, GC, (program), (idle). */
  kinds: CostLine[];
}

const V8_BUCKETS = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

/** Where a frame's code lives: `ours: server/timeline/append-message.ts`, `mongodb`, `node:internal/…`, … */
export function packageOf(url: string, functionName: string, repoRoot: string): { pkg: string; kind: string; file: string } {
  if (!url) {
    if (V8_BUCKETS.has(functionName)) return { pkg: functionName, kind: functionName === '(garbage collector)' ? 'GC' : functionName === '(idle)' ? 'idle' : 'program', file: '' };
    return { pkg: '(V8 builtins / native)', kind: 'V8 builtins / native', file: '' };
  }
  if (url.startsWith('node:')) return { pkg: `node internals (${url.replace(/^node:(internal\/)?/, '').split('/')[0]})`, kind: 'node internals', file: url };
  let path = url;
  try {
    if (url.startsWith('file://')) path = decodeURIComponent(new URL(url).pathname);
  } catch {
    // not a URL
  }
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const rest = path.slice(at + '/node_modules/'.length).split('/');
    const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    return { pkg, kind: 'node_modules', file: `${pkg}/${rest.slice(pkg.split('/').length).join('/')}` };
  }
  const rel = relative(repoRoot, path);
  if (!rel.startsWith('..')) return { pkg: `ours: ${rel}`, kind: 'our code', file: rel };
  return { pkg: path, kind: 'other', file: path };
}

/**
 * A window of the profile: the `durationUs` that ended `endGapUs` before the profile's end (the run measured, without
 * the process's start-up and shutdown). Whole profile when absent.
 */
export interface ProfileWindow {
  durationUs: number;
  endGapUs: number;
}

export function summarizeProfile(profile: CpuProfile, repoRoot: string, window?: ProfileWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfById = new Map<number, number>();
  const to = window ? profile.endTime - window.endGapUs : Infinity;
  const from = window ? to - window.durationUs : -Infinity;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfById.set(profile.samples[i]!, (selfById.get(profile.samples[i]!) ?? 0) + Math.max(0, delta));
  }
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  const kinds = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfById) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += us;
    const { pkg, kind, file } = packageOf(frame.url, frame.functionName, repoRoot);
    if (kind === 'idle') idle += us;
    const fn = file ? `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}` : frame.functionName || '(anonymous)';
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
  }
  const lines = (m: Map<string, number>) =>
    [...m].map(([name, selfUs]) => ({ name, selfUs, share: total ? selfUs / total : 0 })).sort((a, b) => b.selfUs - a.selfUs);
  return { totalUs: total, busyUs: total - idle, functions: lines(functions), packages: lines(packages), kinds: lines(kinds) };
}

export async function readProfile(file: string, repoRoot: string, window?: ProfileWindow): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, repoRoot, window);
}
