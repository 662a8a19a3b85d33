// meta/snap.yaml: the one parse and check of a snap's metadata, for the store
// (`coreforge store add`, store downloads) and the image build (local snaps).
// Pure apart from the YAML bounds; reading the file out of the squashfs is the
// caller's (it runs unsquashfs its own way).
import { parseBoundedYaml, YamlLimitError } from '../bounded-yaml.js';
import { isValidSnapName, snapNameRule } from './name.js';

/** Snap types as snapd knows them (snap.yaml `type:`, app when absent). */
export const snapTypes = ['app', 'gadget', 'kernel', 'base', 'os', 'snapd'] as const;

/** What coreforge uses of a snap's meta/snap.yaml. */
export interface SnapInfo {
  name: string;
  version: string;
  /** one of snapTypes */
  type: string;
  /** ['all'] when snap.yaml names none */
  architectures: string[];
  /** '' when none */
  base: string;
  /** 'strict' when absent */
  confinement: string;
  /** 'stable' when absent */
  grade: string;
  /** '' when absent */
  summary: string;
}

// snapd's snap.ValidateVersion
const versionPattern = /^[a-zA-Z0-9](?:[a-zA-Z0-9:.+~-]{0,30}[a-zA-Z0-9+~])?$/;
const rebuild = 'fix it in snapcraft.yaml and rebuild the snap';

/**
 * Parses and checks meta/snap.yaml text against snapd's rules for the fields
 * coreforge uses; gives the snap's info, or the first problem (which names
 * the field, the rule and the fix; the caller says which file it was).
 */
export function parseSnapYaml(text: string): SnapInfo | string {
  let y: unknown;
  try {
    y = parseBoundedYaml(text, 'meta/snap.yaml');
  } catch (err) {
    if (err instanceof YamlLimitError) return err.message;
    return `meta/snap.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}; ${rebuild}`;
  }
  return checkSnapYaml(y);
}

/** Checks parsed meta/snap.yaml; gives the snap's info, or the first problem. */
export function checkSnapYaml(y: unknown): SnapInfo | string {
  if (y === null || typeof y !== 'object' || Array.isArray(y)) return `meta/snap.yaml is not a map of fields; ${rebuild}`;
  const m = y as Record<string, unknown>;
  if (typeof m.name !== 'string' || !isValidSnapName(m.name)) return `meta/snap.yaml: invalid snap name: ${JSON.stringify(m.name ?? '')}; a name is ${snapNameRule}; ${rebuild}`;
  if (m.version === undefined || m.version === null || m.version === '') return `meta/snap.yaml: invalid snap version: cannot be empty; ${rebuild}`;
  const version = String(m.version);
  if (!versionPattern.test(version)) {
    return `meta/snap.yaml: invalid snap version ${JSON.stringify(version)}: must be at most 32 letters, digits and ":.+~-", not starting or ending with ":.-"; ${rebuild}`;
  }
  const type = m.type === undefined ? 'app' : m.type;
  if (typeof type !== 'string' || !(snapTypes as readonly string[]).includes(type)) {
    return `meta/snap.yaml: invalid snap type ${JSON.stringify(type)}: must be one of ${snapTypes.join(', ')}; ${rebuild}`;
  }
  let architectures = ['all'];
  if (m.architectures !== undefined) {
    if (!Array.isArray(m.architectures) || m.architectures.length === 0 || !m.architectures.every((a) => typeof a === 'string' && /^[a-z0-9]+$/.test(a))) {
      return `meta/snap.yaml: "architectures" must be a non-empty list of architecture names such as amd64; ${rebuild}`;
    }
    architectures = m.architectures as string[];
  }
  const str = (v: unknown, dflt: string) => (typeof v === 'string' ? v : dflt);
  return {
    name: m.name,
    version,
    type,
    architectures,
    base: str(m.base, ''),
    confinement: str(m.confinement, 'strict'),
    grade: str(m.grade, 'stable'),
    summary: str(m.summary, ''),
  };
}
