/**
 * Rendering of untrusted values into error messages. A weights file or an image header is
 * attacker data: a name can be megabytes long, a pickled key can nest millions of lists deep or
 * share one list by reference so that printing it doubles at every level. Everything quoted into
 * a message goes through here, which does a bounded amount of work whatever the value.
 */

/** Longest piece of a string (a tensor name, a key, a dtype) quoted in a message, in characters. */
export const MAX_QUOTED_CHARS = 120;

/** Most items of one container shown when a value is described (`[1, 2, 3, ... 997 more]`). */
const MAX_ITEMS_SHOWN = 6;

/** Deepest nesting shown when a value is described; deeper containers show as `[...]`. */
const MAX_DEPTH_SHOWN = 3;

/** `"text"`, or its first `max` characters and how many more there were. Never longer than `max + 40`. */
export function quoteText(text: string, max = MAX_QUOTED_CHARS): string {
  const shown = text.length > max ? text.slice(0, max) : text;
  const quoted = JSON.stringify(shown);
  return text.length > max ? `${quoted.slice(0, -1)}..." (${text.length} characters)` : quoted;
}

/**
 * A short, Python-like description of any value (what a pickle or a JSON header holds): strings
 * quoted and cut, at most a few items per container and three levels of nesting, byte strings by
 * length. Cycles and shared references cost nothing extra: the walk never goes deeper than
 * three levels or wider than a few items, so at most a few hundred nodes are visited.
 */
export function describeValue(value: unknown, max = MAX_QUOTED_CHARS): string {
  const text = render(value, 0);
  return text.length > max * 2 ? `${text.slice(0, max * 2)}...` : text;
}

function render(value: unknown, depth: number): string {
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'string':
      return quoteText(value, 40);
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'True' : 'False';
    case 'object':
      break;
    default:
      return typeof value;
  }
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  let open = '[';
  let close = ']';
  let items: Iterable<unknown>;
  let size: number;
  if (Array.isArray(value)) {
    if (Object.isFrozen(value)) [open, close] = ['(', ')'];
    items = value;
    size = value.length;
  } else if (value instanceof Map) {
    [open, close] = ['{', '}'];
    items = value.keys();
    size = value.size;
  } else if (value instanceof Set) {
    [open, close] = ['{', '}'];
    items = value;
    size = value.size;
  } else {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `<${typeof name === 'string' ? name.slice(0, 40) : 'object'}>`;
  }
  if (size === 0) return `${open}${close}`;
  if (depth >= MAX_DEPTH_SHOWN) return `${open}...${close}`;
  const shown: string[] = [];
  for (const item of items) {
    if (shown.length === MAX_ITEMS_SHOWN) break;
    shown.push(render(item, depth + 1));
  }
  const more = size > shown.length ? `, ... ${size - shown.length} more` : '';
  return `${open}${shown.join(', ')}${more}${close}`;
}
