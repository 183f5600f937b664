/**
 * Builds the embedded FerretDB binary once into a project-local cache.
 *
 * `go install …@v1.24.2` is tried first, as FerretDB documents. On machines
 * where it fails (seen here: proxy.golang.org answers 403 to the module's
 * `@v/list`, which `go install pkg@version` consults) or where the installed
 * binary cannot start (the module zip lacks build/version/version.txt, and
 * FerretDB panics without it), the same tagged module source is fetched with
 * `go mod download`, the missing version file is written, and it is built
 * with `go build`. Either way the result is FerretDB v1.24.2 from the Go
 * module proxy, nothing prebuilt.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FERRETDB_VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';

/** Where the binary lives: `<project>/.cache/ferretdb/<version>/ferretdb`. */
export function ferretDbBinaryPath(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'ferretdb', FERRETDB_VERSION, 'ferretdb');
}

export function defaultCacheDir(): string {
  return resolve(import.meta.dirname, '..', '..', '..', '.cache');
}

/** True when the cached binary exists and reports the pinned version. */
export async function isBinaryUsable(binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 10_000 });
    return new RegExp(`^version: ${FERRETDB_VERSION}$`, 'im').test(stdout);
  } catch {
    return false;
  }
}

type Log = (line: string) => void;

/**
 * Returns the path of a working FerretDB binary, building it if needed.
 * Safe to call from several processes at once: one builds, the others wait.
 */
export async function ensureFerretDbBinary(log: Log = () => {}, cacheDir = defaultCacheDir()): Promise<string> {
  const binary = ferretDbBinaryPath(cacheDir);
  if (await isBinaryUsable(binary)) return binary;
  const versionDir = join(cacheDir, 'ferretdb', FERRETDB_VERSION);
  await mkdir(versionDir, { recursive: true });
  const lock = join(versionDir, '.build-lock');
  await acquireLock(lock);
  try {
    if (await isBinaryUsable(binary)) return binary;
    log(`building FerretDB ${FERRETDB_VERSION} with Go (once; takes a few minutes)`);
    const goEnv = { ...process.env, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
    const staged = join(versionDir, `ferretdb.${process.pid}.tmp`);
    const installError = await tryGoInstall(versionDir, staged, goEnv);
    if (installError) {
      log(`go install failed or gave an unusable binary (${installError}); building the same module source with go build`);
      await buildFromModuleSource(staged, goEnv);
    }
    await rename(staged, binary);
    if (!(await isBinaryUsable(binary))) throw new Error(`FerretDB build produced ${binary}, but it does not report ${FERRETDB_VERSION}`);
    log(`FerretDB ready at ${binary}`);
    return binary;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function tryGoInstall(versionDir: string, staged: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const gobin = join(versionDir, 'gobin');
  try {
    await run('go', ['install', `${MODULE}/cmd/ferretdb@${FERRETDB_VERSION}`], {
      env: { ...env, GOBIN: gobin },
      maxBuffer: 16 * 1024 * 1024,
    });
    await rename(join(gobin, 'ferretdb'), staged);
    if (await isBinaryUsable(staged)) return null;
    return 'the installed binary does not start: build/version/version.txt is not in the module zip';
  } catch (error) {
    return summarize(error);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
}

async function buildFromModuleSource(staged: string, env: NodeJS.ProcessEnv): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ferretdb-build-'));
  try {
    // `go mod download` needs a module context; a throwaway go.mod gives it one.
    await writeFile(join(work, 'go.mod'), 'module carethread.local/ferretdb-build\n\ngo 1.21\n');
    const { stdout } = await run('go', ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`], { cwd: work, env });
    const { Dir } = JSON.parse(stdout) as { Dir?: string };
    if (!Dir) throw new Error(`go mod download gave no source directory for ${MODULE}@${FERRETDB_VERSION}`);
    const src = join(work, 'src');
    await cp(Dir, src, { recursive: true });
    await chmodTree(src);
    await writeFile(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    await run('go', ['build', '-trimpath', '-o', staged, './cmd/ferretdb'], { cwd: src, env, maxBuffer: 16 * 1024 * 1024 });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function chmodTree(dir: string): Promise<void> {
  // The module cache is read-only; the copy must be writable to add the version file.
  await run('chmod', ['-R', 'u+w', dir]);
  await chmod(dir, 0o755);
}

async function acquireLock(lock: string): Promise<void> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      return;
    } catch {
      // A build killed half-way leaves its lock behind; a real build takes minutes, not half an hour.
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 30 * 60_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another FerretDB build (lock ${lock})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function summarize(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  const text = (e.stderr || e.message || String(error)).trim();
  return text.replace(/\s+/g, ' ').slice(0, 400);
}
