import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRFC3339 } from '../../../daemon/asserts/rfc3339.js';

test('RFC3339 dates parse as Go does, with offsets and fractional seconds', () => {
  const ok: [string, string][] = [
    ['2016-04-01T00:00:00.0Z', '2016-04-01T00:00:00.000Z'],
    ['2016-08-11T18:46:02+02:00', '2016-08-11T16:46:02.000Z'],
    ['2017-01-04T10:39:56.778769Z', '2017-01-04T10:39:56.778Z'],
    ['2020-02-29T23:59:59-01:30', '2020-03-01T01:29:59.000Z'],
    ['2020-01-01T1:02:03Z', '2020-01-01T01:02:03.000Z'],
  ];
  for (const [input, iso] of ok) {
    const r = parseRFC3339(input);
    assert.ok(r.ok, input);
    assert.equal(r.date.toISOString(), iso);
  }
});

test('bad dates get Go\'s parse error text', () => {
  const layout = '"2006-01-02T15:04:05Z07:00"';
  const cases: [string, string][] = [
    ['2016-13-01T00:00:00Z', 'parsing time "2016-13-01T00:00:00Z": month out of range'],
    ['2019-02-29T00:00:00Z', 'parsing time "2019-02-29T00:00:00Z": day out of range'],
    ['2016-01-01T24:00:00Z', 'parsing time "2016-01-01T24:00:00Z": hour out of range'],
    ['2016-01-01T00:00:00', `parsing time "2016-01-01T00:00:00" as ${layout}: cannot parse "" as "Z07:00"`],
    ['2016-01-01T00:00:00Zjunk', 'parsing time "2016-01-01T00:00:00Zjunk": extra text: "junk"'],
    ['2016-1-01T00:00:00Z', `parsing time "2016-1-01T00:00:00Z" as ${layout}: cannot parse "1-01T00:00:00Z" as "01"`],
  ];
  for (const [input, want] of cases) {
    const r = parseRFC3339(input);
    assert.ok(!r.ok);
    assert.equal(r.error, want);
  }
});
