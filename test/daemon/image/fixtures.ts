import { readFileSync } from 'node:fs';

/** Reads a gadget.yaml fixture (real gadgets: pc-uc18, pc-uc20, pi-uc18, pi-uc22) from test/daemon/image/fixtures. */
export function gadgetFixture(name: 'pc-uc18' | 'pc-uc20' | 'pi-uc18' | 'pi-uc22'): string {
  return readFileSync(new URL(`./fixtures/${name}.yaml`, import.meta.url), 'utf8');
}
