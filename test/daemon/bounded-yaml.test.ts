import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBoundedYaml, YamlLimitError, yamlLimits } from '../../daemon/bounded-yaml.js';
import { aliasBomb } from '../helpers/yaml-bomb.js';

/** Runs a parse and returns how long it took and what it threw. */
function timed(fn: () => unknown): { ms: number; err: unknown } {
  const started = performance.now();
  try {
    fn();
    return { ms: performance.now() - started, err: undefined };
  } catch (err) {
    return { ms: performance.now() - started, err };
  }
}

describe('bounded YAML parsing', () => {
  it('refuses alias bombs before expanding them, naming the file, the rule and the fix', () => {
    for (const levels of [5, 6, 9, 30]) {
      const { ms, err } = timed(() => parseBoundedYaml(aliasBomb(levels), 'meta/snap.yaml'));
      assert.ok(err instanceof YamlLimitError, `level ${levels}: ${String(err)}`);
      assert.equal(
        err.message,
        'meta/snap.yaml has aliases that expand it by more than 10000 nodes (a YAML alias bomb?); write the repeated parts out instead of nesting aliases',
      );
      assert.ok(ms < 500, `level ${levels} took ${ms} ms`);
    }
  });

  it('accepts aliases that expand within the limit, with the values they stand for', () => {
    // level 4: 6561 strings in 7381 nodes under l3, under 10000 added nodes (level 5 is over)
    const value = parseBoundedYaml(aliasBomb(4), 'x.yaml') as Record<string, unknown[]>;
    assert.equal(value.l3!.flat(3).length, 6561);
    assert.deepEqual(parseBoundedYaml('base: &b {a: 1}\nother: *b\n', 'x.yaml'), { base: { a: 1 }, other: { a: 1 } });
  });

  it('counts expansion exactly: one node under the limit passes, one over fails', () => {
    // an anchored list of n scalars (n + 1 nodes) aliased k times adds k * (n + 1) nodes
    const doc = (k: number) => `a: &a [${Array(99).fill('x').join(', ')}]\n${Array.from({ length: k }, (_, i) => `b${i}: *a`).join('\n')}\n`;
    assert.doesNotThrow(() => parseBoundedYaml(doc(100), 'x.yaml'));
    assert.throws(() => parseBoundedYaml(doc(101), 'x.yaml'), YamlLimitError);
  });

  it('refuses text over the size limit before parsing it, counting bytes', () => {
    const comment = `# ${'é'.repeat(yamlLimits.maxBytes / 2)}\n`;
    assert.throws(() => parseBoundedYaml(`a: 1\n${comment}`, 'gadget.yaml'), {
      name: 'YamlLimitError',
      message: `gadget.yaml is larger than 256 KiB (${Buffer.byteLength(comment) + 5} bytes); shorten it, such files are a few KiB`,
    });
    assert.deepEqual(parseBoundedYaml(`a: 1\n# ${'x'.repeat(yamlLimits.maxBytes - 10)}\n`, 'gadget.yaml'), { a: 1 });
  });

  it('refuses nesting deeper than the limit, aliases expanded', () => {
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    assert.doesNotThrow(() => parseBoundedYaml(nested(64), 'x.yaml'));
    const message = 'x.yaml nests mappings and lists more than 64 levels deep (aliases expanded); flatten it';
    assert.throws(() => parseBoundedYaml(nested(65), 'x.yaml'), { name: 'YamlLimitError', message });
    // two halves of 40 levels, each fine, joined by an alias
    assert.throws(() => parseBoundedYaml(`a: &a ${nested(40)}\nb: ${'['.repeat(40)}*a${']'.repeat(40)}\n`, 'x.yaml'), { name: 'YamlLimitError', message });
  });

  it('refuses an alias inside the node it names', () => {
    assert.throws(() => parseBoundedYaml('a: &loop [1, *loop]\n', 'x.yaml'), {
      name: 'YamlLimitError',
      message: 'x.yaml has an alias *loop inside the node it names, which never ends; remove that alias',
    });
  });

  it('still reports plain syntax errors as the parser does', () => {
    const { err } = timed(() => parseBoundedYaml('a: [1, 2\n', 'x.yaml'));
    assert.ok(err instanceof Error && !(err instanceof YamlLimitError), String(err));
    assert.equal(err.name, 'YAMLParseError');
  });
});
