import { open, statfs, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isCoreforgeError } from '../../errors.js';
import type { ByteRange } from '../../flash/ranges.js';
import type { ByteWrite } from '../byte-write.js';
import type { ResolvedImage } from '../gadget/content-check.js';
import { offsetWrites, placeImages, type StructureLayout, type VolumeLayout } from '../gadget/index.js';
import { partitionTableFor, type PlannedPartition } from '../partition/table.js';
import { imageError } from '../errors.js';
import type { Exec } from './exec.js';
import { fatContentRanges } from '../fat-ranges.js';
import { buildExt4, buildVfat } from './filesystems.js';

/**
 * Edge module: assembles one volume image in place. The sparse file is
 * sized once; every filesystem is made at its offset inside it; raw images
 * and offset-write values are written at their places; the partition table
 * goes last. Every byte range written is returned for the block map.
 */

export interface VolumeBuild {
  layout: VolumeLayout;
  /** Where the image is written (the open output file, see daemon/caller/files.ts). */
  imagePath: string;
  /** The image's path as the caller knows it, for messages (default: imagePath). */
  displayPath?: string;
  /** Content trees of each filesystem structure, by yamlIndex, in copy order. */
  trees: ReadonlyMap<number, string[]>;
  /** Raw images of each bare structure, by yamlIndex. */
  images: ReadonlyMap<number, ResolvedImage[]>;
  /** Seed for GUIDs, UUIDs and ids: the same seed gives the same image. */
  seed: string;
  epoch: number;
  exec: Exec;
  signal?: AbortSignal;
  progress(phase: string, bytes: number, total: number): void;
}

export interface VolumeResult {
  written: ByteRange[];
  partitions: PlannedPartition[];
  diskId: string;
}

const copyChunk = 4 * 1024 * 1024;

function describe(s: StructureLayout, volume: string): string {
  return `structure #${s.yamlIndex}${s.name ? ` ("${s.name}")` : s.label ? ` ("${s.label}")` : ''} of volume "${volume}"`;
}

/**
 * Tools do not always say why a write failed (mkfs.vfat: "failed whilst
 * writing FAT"): when the image's filesystem is out of space, say so.
 */
async function explainToolFailure(err: unknown, imagePath: string, displayPath: string): Promise<unknown> {
  if (!isCoreforgeError(err) || err.kind !== 'build-tool-failed') return err;
  try {
    // statfs of the image file itself: the filesystem it is on, whatever path reaches it
    const fs = await statfs(imagePath);
    const free = fs.bavail * fs.bsize;
    if (free < 1024 * 1024) {
      const what = err.message.replace(/^cannot (.*?): .*$/s, '$1');
      return imageError('no-space', `cannot ${what}: no space left on device (${free} bytes free in ${dirname(displayPath)}); free space or choose another output directory`);
    }
  } catch {
    // keep the tool's own error
  }
  return err;
}

/** Converts a write failure into the build's error kinds (ENOSPC: no-space). */
export function writeError(err: unknown, what: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return imageError('no-space', `cannot ${what}: no space left on device; free space or choose another output directory`);
  if (e?.code === 'EACCES' || e?.code === 'EROFS' || e?.code === 'EPERM') {
    return imageError('output-not-writable', `cannot ${what}: ${e.message}; choose a writable output directory`);
  }
  return err as Error;
}

async function writeAll(file: FileHandle, writes: readonly ByteWrite[], written: ByteRange[], what: string): Promise<void> {
  for (const w of writes) {
    try {
      await file.write(w.data, 0, w.data.length, w.offset);
    } catch (err) {
      throw writeError(err, what);
    }
    written.push({ start: w.offset, end: w.offset + w.data.length });
  }
}

/** The FAT filesystem of structure `s`: its metadata and allocated clusters, as image byte ranges. */
async function fatRanges(file: FileHandle, s: StructureLayout): Promise<ByteRange[]> {
  const readAt = async (offset: number, length: number) => {
    const buf = Buffer.alloc(Math.max(0, Math.min(length, s.size - offset)));
    const { bytesRead } = await file.read(buf, 0, buf.length, s.offset + offset);
    return buf.subarray(0, bytesRead);
  };
  return (await fatContentRanges(readAt)).map((r) => ({ start: s.offset + r.start, end: s.offset + Math.min(r.end, s.size) }));
}

/** The file's data extents (FIEMAP through `filefrag`), unwritten ones left out; undefined where the filesystem cannot tell. */
async function fileExtents(exec: Exec, path: string, signal?: AbortSignal): Promise<ByteRange[] | undefined> {
  let text: string;
  try {
    text = (await exec('filefrag', ['-s', '-v', '-b1', path], { signal, what: `map the data of ${path}` })).stdout.toString('utf8');
  } catch {
    return undefined;
  }
  const out: ByteRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):.*?(?::\s*([a-z_,]*))?$/.exec(line);
    if (!m) continue;
    if (/unwritten|unknown_loc|delalloc/.test(line)) continue;
    const start = Number(m[1]);
    out.push({ start, end: Number(m[2]) + 1 });
  }
  return out;
}

/** The parts of `extents` inside [offset, offset+size). */
function clip(extents: readonly ByteRange[], offset: number, size: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const e of extents) {
    const start = Math.max(e.start, offset);
    const end = Math.min(e.end, offset + size);
    if (end > start) out.push({ start, end });
  }
  return out;
}

async function copyImage(file: FileHandle, src: string, offset: number, written: ByteRange[], what: string): Promise<void> {
  const input = await open(src, 'r');
  try {
    const buf = Buffer.alloc(copyChunk);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      try {
        await file.write(buf, 0, bytesRead, offset + pos);
      } catch (err) {
        throw writeError(err, what);
      }
      pos += bytesRead;
    }
    written.push({ start: offset, end: offset + pos });
  } finally {
    await input.close();
  }
}

/** Builds one volume image file at `imagePath` (created or truncated) and returns what was written. */
export async function buildVolume(b: VolumeBuild): Promise<VolumeResult> {
  const { layout } = b;
  const shown = b.displayPath ?? b.imagePath;
  const written: ByteRange[] = [];
  let file: FileHandle;
  try {
    file = await open(b.imagePath, 'w+');
    await file.truncate(layout.size);
  } catch (err) {
    throw writeError(err, `create image ${shown}`);
  }
  try {
    const inImage = layout.structures.filter((s) => s.inImage);
    const filesystems: StructureLayout[] = [];
    // Progress names the structure and counts structures, not bytes: the tools write a structure's data, not its
    // nominal size (a 3 GiB ext4 with 300 MiB in it), so a byte rate from the layout would be fiction.
    for (const [i, s] of inImage.entries()) {
      const where = describe(s, layout.name);
      b.progress(`write ${s.name || s.label || `structure #${s.yamlIndex}`} (${i + 1} of ${inImage.length})`, 0, 0);
      if (s.filesystem === 'vfat' || s.filesystem === 'vfat-32' || s.filesystem === 'vfat-16' || s.filesystem === 'ext4') {
        const spec = {
          imagePath: b.imagePath,
          offset: s.offset,
          size: s.size,
          label: s.label,
          trees: b.trees.get(s.yamlIndex) ?? [],
          seed: `${b.seed}\0${layout.name}\0${s.yamlIndex}`,
          epoch: b.epoch,
          exec: b.exec,
          signal: b.signal,
          where,
        };
        try {
          if (s.filesystem === 'ext4') await buildExt4(spec);
          else await buildVfat(spec, s.filesystem === 'vfat-16' ? 16 : 32);
        } catch (err) {
          throw await explainToolFailure(err, b.imagePath, shown);
        }
        filesystems.push(s);
      } else {
        const images = b.images.get(s.yamlIndex) ?? [];
        if (images.length > 0) {
          const placed = placeImages(s, new Map(images.map((i) => [i.image, i.size])));
          for (const p of placed) {
            const img = images.find((i) => i.image === p.image)!;
            await copyImage(file, img.path, p.offset, written, `write image ${p.image} into ${where}`);
          }
        }
      }
    }
    // What the filesystem tools wrote. FAT: read from the filesystem itself. ext4: the image file's data
    // extents where its filesystem reports them (FIEMAP flushes the file first), else all of the structure.
    const fats = filesystems.filter((s) => s.filesystem !== 'ext4');
    const others = filesystems.filter((s) => s.filesystem === 'ext4');
    for (const s of fats) written.push(...(await fatRanges(file, s)));
    const extents = others.length > 0 ? await fileExtents(b.exec, b.imagePath, b.signal) : undefined;
    for (const s of others) written.push(...(extents ? clip(extents, s.offset, s.size) : [{ start: s.offset, end: s.offset + s.size }]));
    await writeAll(file, offsetWrites(layout), written, `apply offset-write values in volume "${layout.name}"`);
    const table = partitionTableFor(layout, { seed: b.seed });
    await writeAll(file, table.writes, written, `write the partition table of volume "${layout.name}"`);
    // Not synced here: the caller writes the image back while it is built, and syncs it before it is renamed into place.
    return { written, partitions: table.partitions, diskId: table.diskId };
  } finally {
    await file.close().catch(() => {});
  }
}
