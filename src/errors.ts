/** Base class of every error the toolkit raises on purpose; `kind` is a stable code for scripts. */
export class BmruError extends Error {
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message);
    this.name = 'BmruError';
  }
}

/** Where in an input file a problem sits: the file, the field (tensor, column, key) and the index. */
export interface InputLocation {
  readonly file?: string;
  readonly field?: string;
  readonly index?: number | readonly number[];
}

/** Bad user input (model, inputs, tolerance file): names the file, the field, the index and the rule broken. */
export class InputError extends BmruError {
  readonly file?: string;
  readonly field?: string;
  readonly index?: number | readonly number[];
  constructor(
    readonly rule: string,
    where: InputLocation = {},
  ) {
    super(formatInputMessage(rule, where), 'bad-input');
    this.name = 'InputError';
    this.file = where.file;
    this.field = where.field;
    this.index = where.index;
  }
}

function formatInputMessage(rule: string, where: InputLocation): string {
  const parts: string[] = [];
  if (where.file) parts.push(where.file);
  if (where.field) parts.push(`'${where.field}'`);
  if (where.index !== undefined) {
    parts.push(`at index ${Array.isArray(where.index) ? `[${where.index.join(', ')}]` : String(where.index)}`);
  }
  return parts.length > 0 ? `${parts.join(' ')}: ${rule}` : rule;
}
