import { createHash } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blockRangeBytes, toBlockRanges } from '../../bmap-ranges.js';
import { rangesBytes } from '../../../flash/ranges.js';
import { unassertedSnapSha256 } from '../local-snaps.js';
import { volumeImageName, type BuildArtifact } from '../params.js';
import { seedManifest, type SeedSnap } from '../seed.js';
import { outputFile, writeOutputText } from './outputs.js';
import { need, type BuildStep } from './step.js';

/** Writes the manifests and build.json, then gives every output its name at once, build.json last. */
export const finish: BuildStep = {
  name: 'finish',
  async run(ctx) {
    const seed = need(ctx.state.seed, 'snap set');
    for (const s of seed) if (s.sourced.snapId === '') s.sourced.sha256 = await unassertedSnapSha256(s.sourced, ctx.env.signal);
    const manifest = seedManifest(seed as SeedSnap[]);
    const out = ctx.params.outputDir;
    const artifacts: BuildArtifact[] = [];
    for (const v of need(ctx.state.volumes, 'volume images')) {
      const image = outputFile(ctx, volumeImageName(ctx.params, v.name));
      const size = fstatSync(image.fd).size;
      image.close();
      const data = rangesBytes(toBlockRanges(v.written, 4096, size).map((r) => blockRangeBytes(r, 4096, size)));
      artifacts.push({ name: image.name, path: join(out, image.name), size, sha256: null, data });
      const bmap = `${volumeImageName(ctx.params, v.name)}.bmap`;
      const b = outputFile(ctx, bmap);
      const text = await readFile(b.path);
      b.close();
      artifacts.push({ name: bmap, path: join(out, bmap), size: text.length, sha256: createHash('sha256').update(text).digest('hex') });
    }
    for (const name of ['seed.manifest', 'snaps.manifest']) artifacts.push({ name, path: join(out, name), ...(await writeOutputText(ctx, name, manifest)) });
    ctx.state.artifacts = artifacts;
    const report = {
      model: { name: ctx.state.model?.name, brand: ctx.state.model?.brand, grade: ctx.state.model?.grade, source: ctx.params.modelSource },
      inputs: { ...ctx.params, model: undefined, firstBoot: ctx.params.firstBoot !== undefined, cloudInit: ctx.params.cloudInit !== undefined },
      snaps: seed.map((s) => ({
        name: s.sourced.info.name,
        type: s.sourced.info.type,
        version: s.sourced.info.version,
        revision: s.sourced.revision,
        channel: s.planned.channel,
        file: s.sourced.origin ?? s.sourced.path,
        ...(s.sourced.snapId === '' ? { sha256: s.sourced.sha256 } : { 'sha3-384': s.sourced.sha3_384 }),
        size: s.sourced.size,
        unasserted: s.sourced.snapId === '',
        ...(s.sourced.downloaded !== undefined ? { downloaded: s.sourced.downloaded } : {}),
      })),
      volumes: ctx.state.volumes?.map((v) => ({ name: v.name, size: v.size, 'disk-id': v.diskId, partitions: v.partitions })),
      artifacts,
      warnings: ctx.state.warnings,
      timings: ctx.state.timings,
    };
    await writeOutputText(ctx, 'build.json', `${JSON.stringify(report, null, 2)}\n`);
    // Everything appears at once, build.json last: a set of outputs without it is not a finished build.
    const order = [...ctx.state.outputs].sort((a, b) => Number(a.name === 'build.json') - Number(b.name === 'build.json'));
    for (const o of order) {
      const file = outputFile(ctx, o.name);
      try {
        ctx.places.output.commit(file);
      } finally {
        file.close();
      }
    }
    ctx.state.outputs = [];
  },
};
