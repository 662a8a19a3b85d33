/**
 * Page-aligned buffers for O_DIRECT I/O. Node's Buffers sit 16 bytes past a
 * malloc'd address, which O_DIRECT refuses with EINVAL; a WebAssembly.Memory is
 * mapped by V8 at a page boundary, so views into it at multiples of 4096 are
 * aligned for any drive's logical block size.
 */

// The ES2023 lib has no WebAssembly types (they ship with the DOM lib); this is the one constructor used.
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => { readonly buffer: ArrayBuffer } };

/** Bytes per WebAssembly page. */
const wasmPage = 65536;

/** The alignment every buffer from this module has. */
export const bufferAlignment = 4096;

/** Allocates `count` zero-filled, 4096-aligned buffers of `size` bytes each (size a multiple of 4096) in one mapping. */
export function alignedBuffers(count: number, size: number): Buffer[] {
  if (size <= 0 || size % bufferAlignment !== 0) throw new RangeError(`aligned buffer size ${size} must be a positive multiple of ${bufferAlignment}`);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((count * size) / wasmPage) });
  return Array.from({ length: count }, (_, i) => Buffer.from(memory.buffer, i * size, size));
}

/**
 * Like alignedBuffers, in memory shared with worker threads (a shared
 * WebAssembly.Memory is a SharedArrayBuffer, page-aligned as well): pass
 * `memory` to a worker, which sees the same bytes at each buffer's byteOffset.
 */
export function sharedAlignedBuffers(count: number, size: number): { memory: SharedArrayBuffer; buffers: Buffer[] } {
  if (size <= 0 || size % bufferAlignment !== 0) throw new RangeError(`aligned buffer size ${size} must be a positive multiple of ${bufferAlignment}`);
  const pages = Math.ceil((count * size) / wasmPage);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
  return { memory, buffers: Array.from({ length: count }, (_, i) => Buffer.from(memory, i * size, size)) };
}

/** One zero-filled, 4096-aligned buffer of at least `size` bytes (rounded up to 4096). */
export function alignedBuffer(size: number): Buffer {
  const rounded = Math.max(bufferAlignment, Math.ceil(size / bufferAlignment) * bufferAlignment);
  return alignedBuffers(1, rounded)[0]!;
}
