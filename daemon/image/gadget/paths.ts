/**
 * Path rules for gadget content: sources and images must stay inside the
 * gadget snap, targets inside the structure's filesystem.
 */

/** Lexically cleans a slash-separated path the way Go's path.Clean does (snapd compares against it). */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** True when a path has a `..` element anywhere. */
export function hasDotDot(path: string): boolean {
  return path.split('/').includes('..');
}

/** Checks a path that names something in the gadget snap; returns the problem or undefined. */
export function checkSnapPath(what: string, path: string): string | undefined {
  if (path.startsWith('/')) {
    return `${what} "${path}" is absolute; use a path relative to the root of the gadget snap`;
  }
  if (hasDotDot(path)) {
    // ubuntu-image's words first ("... contains "../". This is disallowed for security purposes")
    return `${what} "${path}" contains "../", which is disallowed for security purposes: it could reach outside the gadget snap; use a path inside the snap`;
  }
  return undefined;
}

/** Checks a path inside a structure's filesystem; returns the problem or undefined. */
export function checkTargetPath(path: string): string | undefined {
  if (hasDotDot(path)) {
    return `filesystem content target "${path}" contains "../", which could reach outside the filesystem; use a path inside it`;
  }
  return undefined;
}
