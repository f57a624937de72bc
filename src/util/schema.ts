/** zod helpers shared by the input-file schemas. */
import { z } from 'zod';

/**
 * An object schema that rejects unknown keys and names the keys it expects. A misspelt optional key
 * (`minStateAgrement`) would otherwise be dropped silently and its default used in its place.
 */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const expected = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}: expected ${expected}`
        : undefined,
  });
}
