import { buildAllFixtures } from '/work/main/test/fixtures/snaps.ts';
const r = await buildAllFixtures('/tmp/cf-fx', { ids: ['bad-not-squashfs','bad-no-snap-yaml','bad-snap-yaml-syntax','bad-snap-yaml-fields','bad-wrong-arch'] });
for (const [k,v] of Object.entries(r)) console.log(k, v.path, v.name, v.architectures, v.size);
