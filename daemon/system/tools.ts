import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** One external program coreforge relies on, as `GET /v1/system-info` reports it (the API types re-export it). */
export interface ToolInfo {
  name: string;
  /** Debian package that provides it. */
  package: string;
  required: boolean;
  /** What coreforge uses it for. */
  purpose: string;
  present: boolean;
  path: string | null;
  version: string | null;
}

/** An external program coreforge runs, and how to ask it for its version. */
export interface ToolSpec {
  name: string;
  package: string;
  required: boolean;
  purpose: string;
  versionArgs: string[];
  versionPattern: RegExp;
}

/** The programs ubuntu-image relies on too, plus the ones flashing and key import use. */
export const toolSpecs: ToolSpec[] = [
  { name: 'unsquashfs', package: 'squashfs-tools', required: true, purpose: 'read snap contents', versionArgs: ['-version'], versionPattern: /unsquashfs version ([\d.]+)/ },
  { name: 'mksquashfs', package: 'squashfs-tools', required: true, purpose: 'make snaps (local store, fixtures)', versionArgs: ['-version'], versionPattern: /mksquashfs version ([\d.]+)/ },
  { name: 'mkfs.ext4', package: 'e2fsprogs', required: true, purpose: 'build ext4 partitions', versionArgs: ['-V'], versionPattern: /mke2fs ([\d.]+)/ },
  { name: 'mkfs.vfat', package: 'dosfstools', required: true, purpose: 'build vfat partitions', versionArgs: ['--help'], versionPattern: /mkfs\.fat ([\d.]+)/ },
  { name: 'mcopy', package: 'mtools', required: true, purpose: 'copy files into vfat partitions', versionArgs: ['--version'], versionPattern: /mtools\)? ([\d.]+)/ },
  { name: 'fakeroot', package: 'fakeroot', required: true, purpose: 'root-owned files in ext4 without root', versionArgs: ['--version'], versionPattern: /fakeroot version ([\d.]+)/ },
  { name: 'sfdisk', package: 'fdisk', required: true, purpose: 'check partition tables', versionArgs: ['--version'], versionPattern: /util-linux ([\d.]+)/ },
  { name: 'xz', package: 'xz-utils', required: false, purpose: 'flash .xz images', versionArgs: ['--version'], versionPattern: /xz \(XZ Utils\) ([\d.]+)/ },
  { name: 'zstd', package: 'zstd', required: false, purpose: 'flash .zst images', versionArgs: ['--version'], versionPattern: /v([\d.]+)/ },
  { name: 'gpg', package: 'gnupg', required: false, purpose: 'import keys from ~/.snap/gnupg', versionArgs: ['--version'], versionPattern: /gpg \(GnuPG\) ([\d.]+)/ },
];

/**
 * Where to look for tools: COREFORGE_TOOL_PATH alone when set (a bundle that
 * ships its own tools), else PATH plus the sbin directories, where the mkfs
 * tools live but a user's PATH may not reach.
 */
export function toolSearchDirs(env: NodeJS.ProcessEnv): string[] {
  if (env.COREFORGE_TOOL_PATH) return env.COREFORGE_TOOL_PATH.split(delimiter).filter(Boolean);
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (!dirs.includes(extra)) dirs.push(extra);
  return dirs;
}

async function findExecutable(name: string, dirs: string[]): Promise<string | null> {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

function runForVersion(path: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    // Some tools print their version on stderr, some exit non-zero for --help: read both, ignore the code.
    execFile(path, args, { timeout: 5000, env: { ...process.env, LC_ALL: 'C' } }, (_err, stdout, stderr) =>
      resolve(`${stdout}\n${stderr}`),
    );
  });
}

/** Finds each tool and reads its version; slow (spawns processes), so the daemon runs it in the background. */
export async function probeTools(specs: ToolSpec[], dirs: string[]): Promise<ToolInfo[]> {
  return Promise.all(
    specs.map(async (spec): Promise<ToolInfo> => {
      const path = await findExecutable(spec.name, dirs);
      const version = path ? (spec.versionPattern.exec(await runForVersion(path, spec.versionArgs))?.[1] ?? null) : null;
      return { name: spec.name, package: spec.package, required: spec.required, purpose: spec.purpose, present: path !== null, path, version };
    }),
  );
}
