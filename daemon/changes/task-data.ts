import { CoreforgeError } from '../errors.js';

/**
 * Helpers for task kinds' data parsers. A parser turns the JSON a change keeps
 * in state.db into its kind's typed data, both when the change is created and
 * whenever it is read back, so a task never runs on a shape it did not expect.
 * A parser names the field that broke and what it must be; the engine adds
 * which change and task kind it was.
 */

/** The error a data parser throws: `field` is the path of the bad field ("targets[0].size"), `rule` what it must be. */
export function badTaskData(field: string, rule: string): CoreforgeError<'bad-task-data'> {
  return new CoreforgeError('bad-task-data', `"${field}" ${rule}`, { field });
}

/** The data as a JSON object, or the error naming `what` (the whole data, or a nested field). */
export function dataObject(data: unknown, what = 'data'): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw badTaskData(what, 'must be a JSON object');
  return data as Record<string, unknown>;
}

/** A string field that must not be empty. */
export function stringField(data: Record<string, unknown>, field: string, path = field): string {
  const v = data[field];
  if (typeof v !== 'string' || v === '') throw badTaskData(path, 'must be a non-empty string');
  return v;
}

/** A string field that may be absent (undefined). */
export function optionalStringField(data: Record<string, unknown>, field: string, path = field): string | undefined {
  return data[field] === undefined ? undefined : stringField(data, field, path);
}

/** A true/false field; `fallback` when absent. */
export function booleanField(data: Record<string, unknown>, field: string, fallback: boolean, path = field): boolean {
  const v = data[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw badTaskData(path, 'must be true or false');
  return v;
}

/** A list field whose items are each checked by `item` (given the item and its path, "targets[2]"). */
export function listField<T>(data: Record<string, unknown>, field: string, item: (value: unknown, path: string) => T, path = field): T[] {
  const v = data[field];
  if (!Array.isArray(v)) throw badTaskData(path, 'must be a list');
  return v.map((x, i) => item(x, `${path}[${i}]`));
}
