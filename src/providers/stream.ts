// Pieces shared by the adapters' stream parsers: decoding one SSE event's JSON, and collecting the answer text
// while noting the first content delta (time to first token).
import { isObject, tryParseJson } from './errors.ts';

/** One SSE event's data as a JSON object; undefined for a blank event (keep-alive), null for anything else. */
export function eventObject(data: string): Record<string, unknown> | null | undefined {
  const d = data.trim();
  if (d === '') return undefined;
  const parsed = tryParseJson(d);
  return parsed.ok && isObject(parsed.value) ? parsed.value : null;
}

/** The answer text of a response; append() says whether this was its first non-empty piece. */
export class AnswerText {
  text = '';
  private started = false;

  append(piece: unknown): boolean {
    if (typeof piece !== 'string' || piece === '') return false;
    this.text += piece;
    if (this.started) return false;
    this.started = true;
    return true;
  }
}
