/**
 * A strict little XML reader for the plot tests: it throws on unbalanced or malformed tags, unquoted or
 * unescaped attribute values and bare '<' or '&' in text, and returns a tree to query. No XML parser is a
 * dependency, and one is not worth adding for tests of our own, simply shaped output.
 */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: (XmlElement | string)[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const TOKEN = /<!--[\s\S]*?-->|<!DOCTYPE[^<>]*>|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
const ATTR = /([\w:.-]+)="([^"]*)"/g;
const ENTITY = /&(#\d+|#x[0-9a-fA-F]+|[a-z]+);/g;

/** Decodes entities; throws on a '<' or on an '&' that does not start a known entity. */
function decode(text: string, where: string): string {
  if (text.includes('<')) throw new Error(`bare '<' in ${where}: ${text.slice(0, 80)}`);
  const bare = text.replace(ENTITY, (m, e: string) => (e.startsWith('#') || e in ENTITIES ? '' : m));
  if (bare.includes('&')) throw new Error(`bare '&' in ${where}: ${text.slice(0, 80)}`);
  return text.replace(ENTITY, (_, e: string) =>
    e.startsWith('#x')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : ENTITIES[e],
  );
}

/** Parses one document (an optional doctype, then a single root element); throws if it is not well-formed. */
export function parseXml(xml: string, voidElements: readonly string[] = []): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  let last = 0;
  const addText = (text: string): void => {
    const t = decode(text, `text after offset ${last}`);
    if (t.trim() === '') return;
    if (stack.length === 1) throw new Error(`text outside the root element: ${t.slice(0, 80)}`);
    stack[stack.length - 1].children.push(t);
  };
  for (const m of xml.matchAll(TOKEN)) {
    addText(xml.slice(last, m.index));
    last = m.index + m[0].length;
    const [, close, name, attrText, selfClose] = m;
    if (name === undefined) continue; // comment or doctype
    const top = stack[stack.length - 1];
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}> at offset ${m.index}`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(ATTR)) {
      if (a[1] in attrs) throw new Error(`attribute ${a[1]} repeated on <${name}>`);
      attrs[a[1]] = decode(a[2], `attribute ${a[1]} of <${name}>`);
    }
    const el: XmlElement = { name, attrs, children: [] };
    if (stack.length === 1 && root.children.length > 0) throw new Error(`second root element <${name}>`);
    top.children.push(el);
    if (!selfClose && !voidElements.includes(name)) stack.push(el);
  }
  addText(xml.slice(last));
  if (stack.length > 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  const [doc] = root.children;
  if (doc === undefined || typeof doc === 'string') throw new Error('no root element');
  return doc;
}

/** All elements below `el` (itself included) that satisfy `pred`, in document order. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out = pred(el) ? [el] : [];
  for (const c of el.children) if (typeof c !== 'string') out.push(...findAll(c, pred));
  return out;
}

/** Elements whose class attribute lists `cls`. */
export function byClass(el: XmlElement, cls: string): XmlElement[] {
  return findAll(el, (e) => (e.attrs.class ?? '').split(/\s+/).includes(cls));
}

/** The concatenated text content of an element. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}
