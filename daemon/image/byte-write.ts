/** Bytes to put at an absolute offset of a volume image: what table encoders and offset-write produce. */
export interface ByteWrite {
  offset: number;
  data: Uint8Array;
}
