// Types for the `macaroon` npm package (juju/js-macaroon, no bundled types):
// only the parts coreforge uses.
declare module 'macaroon' {
  export interface Caveat {
    identifier: Uint8Array;
    location?: string;
    vid?: Uint8Array;
  }
  export interface Macaroon {
    readonly caveats: Caveat[];
    readonly location: string;
    readonly identifier: Uint8Array;
    readonly signature: Uint8Array;
    addThirdPartyCaveat(rootKey: Uint8Array, caveatId: Uint8Array | string, location?: string): void;
    addFirstPartyCaveat(condition: Uint8Array | string): void;
    bindToRoot(rootSig: Uint8Array): void;
    clone(): Macaroon;
    verify(rootKey: Uint8Array, check: (condition: string) => string | null | undefined, discharges?: Macaroon[]): void;
    exportBinary(): Uint8Array;
  }
  export function newMacaroon(params: { identifier: Uint8Array | string; location?: string; rootKey: Uint8Array; version?: 1 | 2 }): Macaroon;
  export function importMacaroon(obj: Uint8Array | string | object): Macaroon;
  const _default: { newMacaroon: typeof newMacaroon; importMacaroon: typeof importMacaroon };
  export default _default;
}
