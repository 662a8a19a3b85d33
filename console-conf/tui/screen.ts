/** What a screen shows; themes turn it into text. */
export interface Screen {
  title: string;
  /** paragraphs or list lines; long lines are wrapped by the theme */
  body: string[];
  /** shown highlighted under the body: what went wrong and how to fix it */
  problem?: string;
}

/** Splits `text` into lines of at most `width` columns, breaking at spaces where possible. */
export function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const indent = /^\s*/.exec(text)![0];
  const out: string[] = [];
  let line = '';
  for (const word of text.trim().split(/ +/)) {
    const cand = line === '' ? indent + word : `${line} ${word}`;
    if (cand.length <= width) line = cand;
    else {
      if (line !== '') out.push(line);
      let w = indent + word;
      while (w.length > width) {
        out.push(w.slice(0, width));
        w = indent + w.slice(width);
      }
      line = w;
    }
  }
  out.push(line);
  return out;
}
