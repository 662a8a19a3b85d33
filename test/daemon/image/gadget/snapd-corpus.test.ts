import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { reportGadgetYaml, type GadgetYamlReport } from '../../../../daemon/image/gadget/report.js';
import type { ModelTraits } from '../../../../daemon/image/gadget/types.js';

/**
 * Parity with snapd: every gadget.yaml of snapd-corpus.yaml (cases taken from
 * snapd's and ubuntu-image's own tests, see its header for the origins and
 * the format) goes through reportGadgetYaml, the code `gadget validate` runs,
 * and must give snapd's error or snapd's layout. The cases where coreforge
 * knowingly differs say so in the corpus ("differs", with the reason) and are
 * checked to give exactly what they say; they are:
 *   - connection-not-a-mapping: snapd's text is yaml.v2's type error (line and Go type); coreforge names the field
 *   - classic-defaults-only: a classic gadget may have no volumes in snapd; gadget validate checks a gadget
 *     for an Ubuntu Core image, and refuses it as ubuntu-image does ("no volume in the gadget.yaml")
 *   - emmc-structure-offset: snapd states the rule ("offset" not allowed for emmc volume structures) but its
 *     implicit values set every emmc offset to 0 before the rule runs; coreforge applies the rule
 * The pass rate counts them against coreforge.
 */

interface Case {
  id: string;
  from: string;
  model?: 'none' | 'uc16' | 'uc20' | 'classic' | 'classic-uc20';
  gadget: string;
  error?: string;
  contains?: string;
  layout?: Record<string, [string, number | null, number][]>;
  roles?: Record<string, string>;
  labels?: Record<string, string>;
  differs?: string;
  coreforge?: string;
}

const models: Record<string, ModelTraits | undefined> = {
  none: undefined,
  uc16: { uc20: false, classic: false },
  uc20: { uc20: true, classic: false },
  classic: { uc20: false, classic: true },
  'classic-uc20': { uc20: true, classic: true },
};

const corpus = (parse(readFileSync(new URL('./snapd-corpus.yaml', import.meta.url), 'utf8')) as { cases: Case[] }).cases;

type Outcome = { report: GadgetYamlReport } | { error: string };

function run(c: Case): Outcome {
  try {
    const model = models[c.model ?? 'none'];
    return { report: reportGadgetYaml(c.gadget, model ? { model } : {}).report };
  } catch (err) {
    if (isCoreforgeError(err)) return { error: err.message };
    throw err;
  }
}

const key = (s: { name: string; yamlIndex: number }) => (s.name !== '' ? s.name : `#${s.yamlIndex}`);

/** Why the outcome is not snapd's, or undefined when it is. */
function disagreement(c: Case, o: Outcome): string | undefined {
  if (c.error !== undefined || c.contains !== undefined) {
    if (!('error' in o)) return `snapd refuses it, coreforge accepts it`;
    if (c.error !== undefined && !o.error.startsWith(c.error)) return `coreforge says: ${o.error}`;
    if (c.contains !== undefined && !o.error.includes(c.contains)) return `coreforge says: ${o.error}`;
    return undefined;
  }
  if ('error' in o) return `snapd accepts it, coreforge says: ${o.error}`;
  const layout = c.layout ?? {};
  const names = o.report.volumes.map((v) => v.name).sort();
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(layout).sort())) return `volumes ${names.join(', ')}`;
  for (const v of o.report.volumes) {
    const got = v.structures.filter((s) => !s.implicit).map((s) => [key(s), s.offset, s.size]);
    if (JSON.stringify(got) !== JSON.stringify(layout[v.name])) return `volume ${v.name} is laid out as ${JSON.stringify(got)}`;
  }
  const all = o.report.volumes.flatMap((v) => v.structures);
  for (const [what, expected] of [['role', c.roles], ['label', c.labels]] as const) {
    for (const [name, value] of Object.entries(expected ?? {})) {
      const s = all.find((x) => key(x) === name);
      const got = what === 'role' ? s?.role : s?.label;
      if (got !== value) return `structure ${name} has ${what} "${got}", not "${value}"`;
    }
  }
  return undefined;
}

const outcomes = new Map(corpus.map((c) => [c.id, run(c)]));

describe('gadget validate agrees with snapd on its own test gadgets', () => {
  for (const c of corpus) {
    const o = outcomes.get(c.id)!;
    if (c.differs === undefined) {
      test(`${c.id}: ${c.error ?? c.contains ?? 'valid'}`, () => {
        assert.equal(disagreement(c, o), undefined, `${c.from}`);
      });
    } else {
      test(`${c.id} differs from snapd on purpose: ${c.differs}`, () => {
        assert.notEqual(disagreement(c, o), undefined, 'coreforge agrees now: drop "differs" from the case');
        if (c.coreforge === 'valid') assert.ok('report' in o, JSON.stringify(o));
        else assert.ok('error' in o && o.error.startsWith(c.coreforge!), JSON.stringify(o));
      });
    }
  }

  test('the corpus has at least 80 invalid and 25 valid gadgets and passes at 95% or more', (t) => {
    const ids = new Set(corpus.map((c) => c.id));
    assert.equal(ids.size, corpus.length, 'case ids are unique');
    const invalid = corpus.filter((c) => c.error !== undefined || c.contains !== undefined).length;
    const valid = corpus.filter((c) => c.layout !== undefined).length;
    assert.equal(invalid + valid, corpus.length, 'each case has an error or a layout');
    const agreeing = corpus.filter((c) => disagreement(c, outcomes.get(c.id)!) === undefined).length;
    const rate = agreeing / corpus.length;
    t.diagnostic(`snapd corpus: ${corpus.length} cases (${valid} valid, ${invalid} invalid), ${agreeing} agree: ${(rate * 100).toFixed(1)}%`);
    assert.ok(invalid >= 80, `${invalid} invalid cases`);
    assert.ok(valid >= 25, `${valid} valid cases`);
    assert.ok(rate >= 0.95, `pass rate ${(rate * 100).toFixed(1)}%`);
  });
});
