import { cleanPath } from './paths.js';

/** A `$kernel:ASSET/CONTENT` reference from a content source. */
export interface KernelRef {
  asset: string;
  content: string;
}

export const kernelRefPrefix = '$kernel:';

const validAssetName = /^[a-zA-Z0-9][a-zA-Z0-9-]*$/;

/** True when a content source points into the kernel snap instead of the gadget. */
export function isKernelRef(source: string): boolean {
  return source.startsWith(kernelRefPrefix);
}

/** Splits and checks a `$kernel:` reference's format (snapd's splitKernelRef); returns the problem text on failure. */
export function parseKernelRef(ref: string): KernelRef | string {
  const rest = ref.slice(kernelRefPrefix.length);
  const slash = rest.indexOf('/');
  if (!isKernelRef(ref) || slash === -1) return `invalid asset and content in kernel ref "${ref}"`;
  const asset = rest.slice(0, slash);
  const content = rest.slice(slash + 1);
  const nonDir = content.endsWith('/') ? content.slice(0, -1) : content;
  if (asset === '' || content === '') return `missing asset name or content in kernel ref "${ref}"`;
  if (cleanPath(nonDir) !== nonDir || content.includes('..') || nonDir === '/') {
    return `invalid content in kernel ref "${ref}"`;
  }
  if (!validAssetName.test(asset)) return `invalid asset name in kernel ref "${ref}"`;
  return { asset, content };
}
