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

/** The parts of a schema we need: zod's safeParse result shape, without tying this file to zod's types. */
interface SafeParser<T> {
  safeParse(raw: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { message: string; path: readonly PropertyKey[] }[] } };
}

/** Validate data at a boundary; the first schema issue becomes an InputError naming the file and the field. */
export function parseWith<T>(schema: SafeParser<T>, raw: unknown, file?: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InputError(issue.message, { file, field: issue.path.map(String).join('.') || '(root)' });
}

/** An output file or folder that cannot be written: names it and says why in words (`disk full (ENOSPC)`). */
export class OutputError extends BmruError {
  constructor(
    readonly file: string,
    /** The errno code (`ENOSPC`, `EROFS`, ...), when the system gave one. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message, 'unwritable');
    this.name = 'OutputError';
  }
}
